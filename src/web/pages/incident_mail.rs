//! The original of an incoming mail filed on an incident, as received, for staff: whatever
//! the parser made of it, the message itself is never lost.

use crate::domain::incident::{key, parse_key};
use crate::error::AppError;
use crate::service::AppState;
use crate::web::ctx::CurrentUser;
use crate::web::run;
use actix_web::http::header::{CacheControl, CacheDirective, ContentDisposition, DispositionParam, DispositionType};
use actix_web::{HttpResponse, web};

pub async fn original(
    state: web::Data<AppState>,
    cu: CurrentUser,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    let (k, message) = path.into_inner();
    let id = parse_key(&k).ok_or(AppError::NotFound)?;
    let (_, raw) = run(move || crate::service::inbound::original(&state, &cu.user, id, message)).await?;
    let disposition = ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![DispositionParam::Filename(format!("{}-mail-{message}.eml", key(id)))],
    };
    Ok(HttpResponse::Ok()
        .content_type("message/rfc822")
        .insert_header(disposition)
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Content-Security-Policy", "sandbox; default-src 'none'"))
        .insert_header(CacheControl(vec![CacheDirective::Private, CacheDirective::NoStore]))
        .body(raw))
}
