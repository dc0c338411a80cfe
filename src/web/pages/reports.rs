//! `/reports`: the management reports. Every figure follows the written definitions served at
//! `/reports/definitions` (and in the README); the arithmetic is in `domain::report`.

use crate::error::AppError;
use crate::web::ctx::{CurrentUser, PageCtx, page};
use actix_web::HttpResponse;
use askama::Template;

#[derive(Template)]
#[template(path = "reports/definitions.html")]
struct DefinitionsPage {
    ctx: PageCtx,
    tz: String,
}

pub async fn definitions(ctx: PageCtx, cu: CurrentUser) -> Result<HttpResponse, AppError> {
    page(&DefinitionsPage { ctx, tz: cu.user.time_zone.clone() })
}
