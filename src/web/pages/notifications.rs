use crate::db::outbox;
use crate::error::AppError;
use crate::mail::compose::KINDS;
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
    let uid = cu.user.id;
    let prefs = run(move || Ok(outbox::prefs_for(&mut *state.conn()?, &[uid])?)).await?;
    let rows = KINDS
        .iter()
        .map(|(kind, label)| PrefRow {
            kind,
            label,
            mode: prefs
                .iter()
                .find(|(_, k, _)| k == kind)
                .map(|(_, _, m)| m.clone())
                .unwrap_or_else(|| "immediate".into()),
        })
        .collect();
    let (kind, on) = crate::service::reports::WEEKLY_PREF;
    let chosen = prefs.iter().any(|(_, k, m)| k == kind && m == on);
    let weekly = (crate::service::reports::may_get_weekly(&cu.user), chosen);
    page(&PrefsPage { ctx, rows, weekly })
}

/// One radio group per kind.
pub async fn update(state: web::Data<AppState>, cu: CurrentUser, body: web::Bytes) -> Result<HttpResponse, AppError> {
    let choices: Vec<(String, String)> =
        url::form_urlencoded::parse(&body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    run(move || crate::service::mail::set_preferences(&state, &cu.user, &choices)).await?;
    Ok(redirect("/account/notifications", Some("Your notification settings are saved.")))
}
