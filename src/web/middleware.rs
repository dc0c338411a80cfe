//! Middleware, outermost first:
//! - `frame`: request id, panic catching, error pages, security headers, one log line per request;
//! - `session`: cookie → CurrentUser and the CSRF token;
//! - `gate` (per route): the route's policy gate, then the CSRF checks on unsafe methods (the
//!   only place a request body is read before the handler).

use super::ctx::{CsrfToken, CurrentUser, FLASH_COOKIE, PageCtx, RequestId, redirect};
use super::routes::Gate;
use crate::crypto::{ct_eq, hmac_hex, random_token};
use crate::domain::policy;
use crate::error::{AppError, ErrorPage};
use crate::service::{AppState, auth};
use crate::telemetry::clean;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpResponse, ResponseError, web};
use askama::Template;
use futures_util::{FutureExt, StreamExt};
use std::panic::AssertUnwindSafe;
use std::time::Instant;

/// The largest request body accepted (forms; attachments get their own limit later).
pub const MAX_BODY: usize = 1024 * 1024;

/// The largest body of the help article editor's form: an article may hold 200,000 characters,
/// which URL-encoding can make several times as many bytes (`%E6%97%A5` for one character).
pub const MAX_EDITOR_BODY: usize = 4 * 1024 * 1024;

/// The body limit of a form post to `path`.
pub fn body_limit(path: &str) -> usize {
    let editor = path == "/help/manage/articles"
        || path
            .strip_prefix("/help/manage/articles/")
            .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()));
    if editor { MAX_EDITOR_BODY } else { MAX_BODY }
}

/// Machine endpoints that authenticate by their own token instead of a browser session.
/// `/status/unsubscribe` takes the one-click POST of mail clients (RFC 8058), which carries no
/// cookie; its secret token is the authority.
const CSRF_EXEMPT: &[&str] = &["/mail/inbound", "/status/unsubscribe"];

/// How much of an upload the routes that take files read at all. A file over its own limit
/// (`domain::help::IMAGE_MAX_BYTES`) is still read to the end, up to this, but only its first
/// bytes are kept, so the form comes back saying so with everything else as typed; a body over
/// this is cut short there (what came before the file, the whole editor, is still kept).
pub const MAX_UPLOAD: usize = 64 * 1024 * 1024;

/// What an upload form's fields may hold together (text, not files).
pub const MAX_UPLOAD_TEXT: usize = 4 * 1024 * 1024;

/// What a route that takes files accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadKind {
    /// An image for a help article (`domain::help::IMAGE_MAX_BYTES`).
    HelpImage,
    /// Files attached to a new incident or a reply (the configured attachment size).
    IncidentFiles,
}

/// Routes that also accept `multipart/form-data` (file uploads): the CSRF token is read from
/// the multipart body, with the same constant-time check; the form read is handed to the
/// handler as a `multipart::Upload` in the request's extensions.
pub fn takes_upload(path: &str) -> Option<UploadKind> {
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if path.strip_prefix("/help/manage/articles/").and_then(|rest| rest.strip_suffix("/images")).is_some_and(numeric) {
        return Some(UploadKind::HelpImage);
    }
    if path == "/incidents"
        || path
            .strip_prefix("/incidents/")
            .and_then(|rest| rest.strip_suffix("/comments"))
            .is_some_and(|k| k.strip_prefix("INC-").is_some_and(numeric))
    {
        return Some(UploadKind::IncidentFiles);
    }
    None
}

#[derive(Template)]
#[template(path = "errors/error.html")]
struct ErrorTpl {
    ctx: PageCtx,
    status: u16,
    title: &'static str,
    message: String,
}

fn title_for(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "Bad request",
        403 => "Not allowed",
        404 => "Not found",
        405 => "Method not allowed",
        409 => "Conflict",
        413 => "Too large",
        422 => "Please check the form",
        _ => "Something went wrong",
    }
}

pub async fn frame(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let started = Instant::now();
    let request_id = random_token(8);
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let method = req.method().clone();
    let path = loggable_path(req.path());

    // The request must not be cloned before routing (actix needs it unshared to fill in path
    // parameters), so errors and panics are turned into responses further in: handler errors
    // by actix, panics by `check_gate`.
    let mut res = next.call(req).await?.map_into_boxed_body();
    let http_req = res.request().clone();
    let status = res.status();
    let error_page = res.response().extensions().get::<ErrorPage>().cloned();
    let error_page = error_page.or_else(|| {
        // Errors raised by actix itself (405, bad form encoding, payload too large) get the page too.
        let is_bare = status.is_client_error() || status.is_server_error();
        let has_body = res.response().headers().contains_key(header::CONTENT_TYPE)
            && res
                .response()
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("text/html") || v.starts_with("application/json"));
        (is_bare && !has_body).then(|| ErrorPage {
            message: match status.as_u16() {
                405 => "This address does not accept that kind of request.".to_string(),
                413 => "What you sent is larger than this form accepts.".to_string(),
                400 => "The request could not be understood.".to_string(),
                _ => "Something went wrong on our side.".to_string(),
            },
            detail: status.to_string(),
        })
    });
    if let Some(ep) = error_page {
        if status.is_server_error() {
            tracing::error!(request_id = %request_id, detail = %clean(&ep.detail), "request failed");
        }
        let tpl = ErrorTpl {
            ctx: PageCtx::from_request(&http_req),
            status: status.as_u16(),
            title: title_for(status),
            message: if status.is_server_error() {
                "Something went wrong on our side. It has been logged; if you contact support, quote the request id below."
                    .to_string()
            } else {
                ep.message
            },
        };
        let body = tpl.render().unwrap_or_else(|_| format!("Error {} (request {request_id})", status.as_u16()));
        let mut new = HttpResponse::build(status);
        new.content_type("text/html; charset=utf-8");
        for (name, value) in res.response().headers() {
            if name == header::SET_COOKIE || name == header::ALLOW {
                new.append_header((name.clone(), value.clone()));
            }
        }
        res = ServiceResponse::new(http_req.clone(), new.body(body));
    }

    let signed_in = http_req.extensions().get::<CurrentUser>().map(|c| c.user.id);
    let https = http_req.app_data::<web::Data<AppState>>().is_some_and(|s| s.config.is_https());
    let is_static = http_req.path().starts_with("/static/");
    let h = res.headers_mut();
    let set = |h: &mut header::HeaderMap, k: &'static str, v: &'static str| {
        h.insert(header::HeaderName::from_static(k), header::HeaderValue::from_static(v));
    };
    // A download's own stricter policy (`sandbox; default-src 'none'`) stays.
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        set(
            h,
            "content-security-policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        );
    }
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    set(h, "referrer-policy", "same-origin");
    set(h, "cross-origin-opener-policy", "same-origin");
    set(h, "permissions-policy", "camera=(), microphone=(), geolocation=()");
    if https {
        set(h, "strict-transport-security", "max-age=31536000; includeSubDomains");
    }
    if !is_static && (signed_in.is_some() || !h.contains_key(header::CACHE_CONTROL)) {
        set(h, "cache-control", "no-store");
    }

    tracing::info!(
        request_id = %request_id,
        method = %method,
        path = %path,
        status = res.status().as_u16(),
        latency_ms = started.elapsed().as_secs_f64() * 1000.0,
        user_id = signed_in.unwrap_or(0),
        "request"
    );
    Ok(res)
}

/// The marker that stands for a secret in the log.
pub const REDACTED: &str = "[redacted]";

/// A path segment this long made only of hex digits is taken for a token (ours are 32 or 64
/// characters), whatever route it is on, or on none.
const HEX_TOKEN_MIN: usize = 32;

/// The path prefixes after which a route takes a one-time secret (`…/{token}`), from the route
/// table itself so that a new route of that shape is covered too.
fn secret_prefixes() -> &'static [String] {
    static PREFIXES: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
        let mut v: Vec<String> = super::routes::table()
            .iter()
            .filter_map(|r| r.path.find("/{token}").map(|i| r.path[..=i].to_ascii_lowercase()))
            .collect();
        v.sort();
        v.dedup();
        v
    });
    &PREFIXES
}

/// The request path as it may be written to the log: the secret segment of a one-time link
/// (`/password-reset/{token}`, `/status/confirm/{token}`) and any token-like segment replaced by
/// `[redacted]`, control characters neutralized. A log is read by more people than the links
/// were sent to, and kept longer than the links live.
pub fn loggable_path(path: &str) -> String {
    let lower = path.to_ascii_lowercase();
    let after_prefix = secret_prefixes().iter().find(|p| lower.starts_with(p.as_str())).map(|p| p.len());
    let mut out = String::with_capacity(path.len());
    let mut offset = 0;
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        let secret = after_prefix == Some(offset)
            || (segment.len() >= HEX_TOKEN_MIN && segment.bytes().all(|b| b.is_ascii_hexdigit()));
        out.push_str(if secret && !segment.is_empty() { REDACTED } else { segment });
        offset += segment.len() + 1;
    }
    clean(&out)
}

fn is_unsafe(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE)
}

/// Browser same-origin check: Sec-Fetch-Site when present, else Origin when present. A request
/// with neither (an old client or a script) must still present the form token.
fn same_origin(req: &ServiceRequest, base_origin: &str) -> bool {
    let headers = req.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let info = req.connection_info();
        let own = format!("{}://{}", info.scheme(), info.host());
        return origin == base_origin || origin == own;
    }
    true
}

fn cookie(name: &'static str, value: String, https: bool) -> Cookie<'static> {
    Cookie::build(name, value).path("/").http_only(true).secure(https).same_site(SameSite::Lax).finish()
}

pub fn session_cookie(state: &AppState, token: String) -> Cookie<'static> {
    cookie(state.config.session_cookie_name(), token, state.config.is_https())
}

pub fn expired_cookie(name: &'static str, https: bool) -> Cookie<'static> {
    let mut c = cookie(name, String::new(), https);
    c.make_removal();
    c
}

/// Ends the request here with an error page (the frame renders it).
fn fail(req: ServiceRequest, e: AppError) -> ServiceResponse<BoxBody> {
    req.into_response(e.error_response())
}

pub async fn session(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(fail(req, AppError::Internal("application state missing".into())));
    };
    let https = state.config.is_https();
    let session_name = state.config.session_cookie_name();
    let anon_name = state.config.anon_cookie_name();

    let mut drop_session_cookie = false;
    let mut csrf_seed = None;
    if let Some(c) = req.cookie(session_name) {
        let token = c.value().to_string();
        let st = state.clone();
        let t = token.clone();
        match web::block(move || auth::resolve_session(&st, &t)).await {
            Ok(Ok(Some((session, user)))) => {
                req.extensions_mut().insert(CurrentUser { user, session_id: session.id });
                csrf_seed = Some(format!("session:{token}"));
            }
            Ok(Ok(None)) => drop_session_cookie = true,
            Ok(Err(e)) => return Ok(fail(req, AppError::from(e))),
            Err(e) => return Ok(fail(req, AppError::from(e))),
        }
    }
    let mut new_anon = None;
    let seed = match csrf_seed {
        Some(s) => s,
        None => {
            let anon = match req.cookie(anon_name) {
                Some(c) if c.value().len() == 32 => c.value().to_string(),
                _ => {
                    let t = random_token(16);
                    new_anon = Some(t.clone());
                    t
                }
            };
            format!("anon:{anon}")
        }
    };
    req.extensions_mut().insert(CsrfToken(hmac_hex(&state.secret, &format!("csrf|{seed}"))));

    let had_flash = req.cookie(FLASH_COOKIE).is_some();
    let mut res = next.call(req).await?.map_into_boxed_body();
    // A response any visitor may be given from a shared cache must not hand out a cookie.
    let shared =
        res.headers().get(header::CACHE_CONTROL).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("public"));
    if let Some(anon) = new_anon.filter(|_| !shared) {
        res.response_mut().add_cookie(&cookie(anon_name, anon, https)).ok();
    }
    if drop_session_cookie && !res.response().headers().contains_key(header::SET_COOKIE) {
        res.response_mut().add_cookie(&expired_cookie(session_name, https)).ok();
    }
    if https {
        secure_flash(&mut res);
    }
    if had_flash && !res.status().is_redirection() {
        res.response_mut().add_cookie(&expired_cookie(FLASH_COOKIE, https)).ok();
    }
    Ok(res)
}

/// Under https the flash cookie a handler set (`ctx::redirect`, which does not know the scheme)
/// is sent as `Secure`, like the session cookie.
fn secure_flash(res: &mut ServiceResponse<BoxBody>) {
    let flashes: Vec<Cookie<'static>> = res
        .response()
        .cookies()
        .filter(|c| c.name() == FLASH_COOKIE && c.secure() != Some(true))
        .map(|c| c.into_owned())
        .collect();
    if flashes.is_empty() {
        return;
    }
    let r = res.response_mut();
    r.del_cookie(FLASH_COOKIE);
    for mut c in flashes {
        c.set_secure(true);
        r.add_cookie(&c).ok();
    }
}

/// The per-route gate: anonymous visitors of a signed-in route go to the login page; signed-in
/// users whose role may not take the route's action get the 403 page; then the CSRF check of an
/// unsafe method, which reads the body. In that order, so that a request the route refuses anyway
/// is answered without reading (or waiting for) its body.
pub async fn check_gate(g: Gate, req: ServiceRequest, next: Next<BoxBody>) -> Result<ServiceResponse<BoxBody>, Error> {
    if let Gate::Signed(action) = g {
        let current = req.extensions().get::<CurrentUser>().cloned();
        match current {
            None => {
                let target = match req.query_string() {
                    "" => req.path().to_string(),
                    q => format!("{}?{}", req.path(), q),
                };
                let next_param: String = url::form_urlencoded::byte_serialize(target.as_bytes()).collect();
                let to = if target == "/" { "/login".to_string() } else { format!("/login?next={next_param}") };
                return Ok(req.into_response(redirect(&to, None)));
            }
            Some(cu) if policy::role_may(cu.role(), action) => {}
            Some(cu) => {
                tracing::warn!(user_id = cu.user.id, path = %loggable_path(req.path()), action = ?action, "access denied");
                return Ok(req.into_response(AppError::Forbidden.error_response()));
            }
        }
    }
    match csrf_check(req).await {
        Ok(req) => call_catching_panics(req, next).await,
        Err(refused) => Ok(refused),
    }
}

/// The CSRF checks of an unsafe method (see the module list): same origin, a form body, and the
/// session's token in it. The body read is replayed for the handler (or, for an upload, handed
/// over parsed in the request's extensions).
async fn csrf_check(mut req: ServiceRequest) -> Result<ServiceRequest, ServiceResponse<BoxBody>> {
    if !is_unsafe(req.method()) || CSRF_EXEMPT.contains(&req.path()) {
        return Ok(req);
    }
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Err(fail(req, AppError::Internal("application state missing".into())));
    };
    // Set by `session`, which wraps every route.
    let Some(CsrfToken(csrf)) = req.extensions().get::<CsrfToken>().cloned() else {
        return Err(fail(req, AppError::Csrf("token")));
    };
    if !same_origin(&req, &state.config.base_origin()) {
        tracing::warn!(path = %loggable_path(req.path()), "CSRF: cross-origin request refused");
        return Err(fail(req, AppError::Csrf("cross-origin")));
    }
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let is_form = content_type.starts_with("application/x-www-form-urlencoded");
    let kind = takes_upload(req.path());
    let multipart = if kind.is_some() { super::multipart::boundary(&content_type) } else { None };
    let file_keep = match kind {
        Some(UploadKind::IncidentFiles) => usize::try_from(state.config.attachment_max_bytes).unwrap_or(usize::MAX),
        _ => crate::domain::help::IMAGE_MAX_BYTES,
    };
    if !is_form && multipart.is_none() {
        return Err(fail(req, AppError::Csrf("not a form post")));
    }
    let mut payload = req.take_payload();
    let mut body = web::BytesMut::new();
    let mut reader = multipart.as_deref().map(|b| {
        super::multipart::Reader::new(
            b,
            super::multipart::Limits { file_keep: file_keep.saturating_add(1), text_total: MAX_UPLOAD_TEXT },
        )
    });
    let limit = body_limit(req.path());
    let mut read = 0usize;
    let mut cut_short = false;
    while let Some(chunk) = payload.next().await {
        let Ok(chunk) = chunk else {
            return Err(fail(req, AppError::BadRequest("The request body could not be read.".into())));
        };
        read += chunk.len();
        match reader.as_mut() {
            Some(r) if read > MAX_UPLOAD => {
                cut_short = true;
                r.feed(&chunk[..chunk.len().saturating_sub(read - MAX_UPLOAD)]);
                break;
            }
            Some(r) => r.feed(&chunk),
            None if read > limit => {
                return Err(fail(req, AppError::BadRequest("What you sent is larger than this form accepts.".into())));
            }
            None => body.extend_from_slice(&chunk),
        }
    }
    let upload = reader.and_then(|r| r.finish(cut_short));
    let sent = match (&multipart, &upload) {
        (Some(_), Some(u)) => super::multipart::field(&u.parts, "csrf_token"),
        (Some(_), None) => String::new(),
        (None, _) => url::form_urlencoded::parse(&body)
            .find(|(k, _)| k == "csrf_token")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default(),
    };
    if !ct_eq(&sent, &csrf) {
        tracing::warn!(path = %loggable_path(req.path()), "CSRF: missing or wrong token");
        return Err(fail(req, AppError::Csrf("token")));
    }
    if let Some(u) = upload {
        // The handler takes the form from here; the body has been read.
        req.extensions_mut().insert(u);
    }
    let (_, mut replay) = actix_http::h1::Payload::create(true);
    replay.unread_data(body.freeze());
    req.set_payload(replay.into());
    Ok(req)
}

/// Calls the handler; a panic becomes the 500 page (with the request id in the log) and the
/// worker keeps serving.
async fn call_catching_panics(req: ServiceRequest, next: Next<BoxBody>) -> Result<ServiceResponse<BoxBody>, Error> {
    // Routing is done by now, so the request may be shared.
    let http_req = req.request().clone();
    match AssertUnwindSafe(next.call(req)).catch_unwind().await {
        Ok(res) => res,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            let request_id = http_req.extensions().get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default();
            tracing::error!(request_id = %request_id, panic = %clean(&what), "handler panicked");
            Ok(ServiceResponse::new(http_req, AppError::Internal("panic".into()).error_response()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_time_tokens_never_reach_the_log() {
        let t = "0123456789abcdef0123456789abcdef";
        assert_eq!(loggable_path(&format!("/password-reset/{t}")), "/password-reset/[redacted]");
        assert_eq!(loggable_path(&format!("/status/confirm/{t}")), "/status/confirm/[redacted]");
        // Whatever the token looks like, and however the rest of the path is mistyped.
        assert_eq!(loggable_path("/password-reset/not-hex-at-all"), "/password-reset/[redacted]");
        assert_eq!(loggable_path("/Password-Reset/abc/extra"), "/Password-Reset/[redacted]/extra");
        assert_eq!(loggable_path("/status/confirm/abc/"), "/status/confirm/[redacted]/");
        // A token-shaped segment anywhere else.
        assert_eq!(loggable_path(&format!("/anything/{t}/x")), "/anything/[redacted]/x");
        // Ordinary paths stay as they are.
        for p in ["/", "/password-reset/", "/incidents/INC-42", "/help/articles/reset-your-password", "/status"] {
            assert_eq!(loggable_path(p), p);
        }
        assert_eq!(loggable_path("/a\nb"), "/a\u{fffd}b");
    }

    #[test]
    fn every_route_with_a_token_segment_is_redacted() {
        let routes = crate::web::routes::table();
        let secret: Vec<&str> = routes.iter().map(|r| r.path).filter(|p| p.contains("{token}")).collect();
        assert!(secret.contains(&"/password-reset/{token}") && secret.contains(&"/status/confirm/{token}"));
        for p in secret {
            let logged = loggable_path(&p.replace("{token}", "s3cret-value"));
            assert!(!logged.contains("s3cret-value") && logged.contains(REDACTED), "{p}: {logged}");
        }
        // Other parameters are no secret.
        for r in routes.iter().filter(|r| !r.path.contains("{token}")) {
            let p = r.path.replace("{key}", "INC-7").replace("{slug}", "printing").replace("{id}", "12");
            assert!(!loggable_path(&p).contains(REDACTED), "{}", r.path);
        }
    }
}
