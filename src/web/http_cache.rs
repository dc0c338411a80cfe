//! HTTP caching of public pages: an answer anonymous visitors share carries ETag and
//! Last-Modified and answers conditional requests with 304; anything personal is private.

use crate::crypto::sha256_hex;
use crate::error::AppError;
use crate::web::ctx::{CurrentUser, FLASH_COOKIE};
use actix_web::http::header::{self, HttpDate};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, HttpResponseBuilder};
use askama::Template;
use chrono::NaiveDateTime;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Whether any cache may keep this answer for any visitor: only for anonymous visitors (the
/// page then holds nothing of theirs: no token, no message), and not when the answer will
/// remove a stale session cookie.
pub(crate) fn shareable(req: &HttpRequest) -> bool {
    let session_cookie = crate::web::ctx::state(req).map(|s| s.config.session_cookie_name()).unwrap_or("fw_session");
    req.extensions().get::<CurrentUser>().is_none()
        && req.cookie(FLASH_COOKIE).is_none()
        && req.cookie(session_cookie).is_none()
}

pub(crate) fn etag_matches(header_value: &str, etag: &str) -> bool {
    header_value.split(',').map(str::trim).any(|t| t == "*" || t.trim_start_matches("W/") == etag)
}

/// Answers a GET with `body`. Anonymous visitors get `Cache-Control: public, max-age=0,
/// must-revalidate`, an ETag of the body, `Last-Modified` and `Vary: Cookie`, and a 304 when
/// their If-None-Match (or, without one, If-Modified-Since) says they have it. Signed-in
/// users' pages are theirs alone: `private, no-store`.
pub fn cached(req: &HttpRequest, content_type: &str, body: String, last_modified: NaiveDateTime) -> HttpResponse {
    if !shareable(req) {
        return HttpResponse::Ok()
            .content_type(content_type.to_string())
            .insert_header((header::CACHE_CONTROL, "private, no-store"))
            .body(body);
    }
    let etag = format!("\"{}\"", &sha256_hex(&body)[..32]);
    let (fresh, mut b) = shared_answer(req, &etag, last_modified);
    if fresh { b.finish() } else { b.content_type(content_type.to_string()).body(body) }
}

pub(crate) fn http_time(t: NaiveDateTime) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(u64::try_from(t.and_utc().timestamp()).unwrap_or(0))
}

/// Whether the client's copy is current (If-None-Match, or without it If-Modified-Since), and
/// the answer's builder (200 or 304) with the shared-cache headers: `public, max-age=0,
/// must-revalidate`, the ETag, Last-Modified and `Vary: Cookie`.
pub(crate) fn shared_answer(
    req: &HttpRequest,
    etag: &str,
    last_modified: NaiveDateTime,
) -> (bool, HttpResponseBuilder) {
    let modified = http_time(last_modified);
    let headers = req.headers();
    let fresh = match headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) {
        Some(v) => etag_matches(v, etag),
        None => headers
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<HttpDate>().ok())
            .is_some_and(|since| modified <= SystemTime::from(since)),
    };
    let mut b = if fresh { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    b.insert_header((header::CACHE_CONTROL, "public, max-age=0, must-revalidate"))
        .insert_header((header::ETAG, etag.to_string()))
        .insert_header((header::LAST_MODIFIED, HttpDate::from(modified)))
        .insert_header((header::VARY, "Cookie"));
    (fresh, b)
}

/// A 301 to where a page lives now (its address changed).
pub(crate) fn moved_to(path: &str) -> HttpResponse {
    HttpResponse::MovedPermanently().insert_header((header::LOCATION, path.to_string())).finish()
}

pub(crate) fn html_page(
    req: &HttpRequest,
    tpl: &impl Template,
    last_modified: NaiveDateTime,
) -> Result<HttpResponse, AppError> {
    Ok(cached(req, "text/html; charset=utf-8", tpl.render()?, last_modified))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_match_strong_weak_and_star() {
        assert!(etag_matches("\"abc\"", "\"abc\""));
        assert!(etag_matches("W/\"abc\"", "\"abc\""));
        assert!(etag_matches("\"x\", \"abc\"", "\"abc\""));
        assert!(etag_matches("*", "\"abc\""));
        assert!(!etag_matches("\"abd\"", "\"abc\""));
    }
}
