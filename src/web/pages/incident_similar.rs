//! The similar-incidents fragment of an incident page. Matching by title and description costs
//! as much as the rest of the page, so the page links here; its script fetches the fragment
//! (`?fragment=1`) and puts it in place, and without scripts the link opens it as a page.

use crate::error::AppError;
use crate::service::AppState;
use crate::service::incidents::{SimilarPanel, similar_panel};
use crate::web::ctx::{CurrentUser, PageCtx, page};
use crate::web::run;
use crate::web::view::id_of;
use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{HttpResponse, web};
use askama::Template;

#[derive(Template)]
#[template(path = "incidents/similar.html")]
pub struct SimilarPage {
    pub ctx: PageCtx,
    pub panel: SimilarPanel,
}

#[derive(Template)]
#[template(path = "incidents/_similar.html")]
pub struct SimilarFragment {
    pub ctx: PageCtx,
    pub panel: SimilarPanel,
}

#[derive(serde::Deserialize)]
pub struct Params {
    #[serde(default)]
    fragment: Option<String>,
}

pub async fn show(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    key_text: web::Path<String>,
    params: web::Query<Params>,
) -> Result<HttpResponse, AppError> {
    let id = id_of(&key_text)?;
    let panel = run(move || similar_panel(&state, &cu.user, id)).await?;
    if params.fragment.as_deref() == Some("1") {
        let body = SimilarFragment { ctx, panel }.render()?;
        return Ok(HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .insert_header(CacheControl(vec![CacheDirective::Private, CacheDirective::NoStore]))
            .body(body));
    }
    page(&SimilarPage { ctx, panel })
}
