use crate::error::AppError;
use crate::service::AppState;
use crate::web::ctx::{CurrentUser, PageCtx, page, redirect};
use crate::web::run;
use actix_web::{HttpResponse, web};
use askama::Template;

pub struct PrefRow {
    pub kind: &'static str,
    pub label: &'static str,
    pub mode: String,
}

#[derive(Template)]
#[template(path = "account/notifications.html")]
struct PrefsPage {
    ctx: PageCtx,
    rows: Vec<PrefRow>,
    /// Offered to those who read reports: (offered, chosen).
    weekly: (bool, bool),
}

pub async fn show(state: web::Data<AppState>, ctx: PageCtx, cu: CurrentUser) -> Result<HttpResponse, AppError> {
    let p = run(move || crate::service::mail::preferences(&state, &cu.user)).await?;
    let rows = p.kinds.into_iter().map(|(kind, label, mode)| PrefRow { kind, label, mode }).collect();
    page(&PrefsPage { ctx, rows, weekly: p.weekly })
}

/// One radio group per kind.
pub async fn update(state: web::Data<AppState>, cu: CurrentUser, body: web::Bytes) -> Result<HttpResponse, AppError> {
    let choices: Vec<(String, String)> =
        url::form_urlencoded::parse(&body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    run(move || crate::service::mail::set_preferences(&state, &cu.user, &choices)).await?;
    Ok(redirect("/account/notifications", Some("Your notification settings are saved.")))
}
