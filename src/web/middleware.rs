//! Middleware, outermost first:
//! - `frame`: request id, panic catching, error pages, security headers, one log line per request;
//! - `session`: cookie → CurrentUser, CSRF token, and the CSRF checks on unsafe methods;
//! - `gate` (per route): the route's policy gate.

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

/// Routes that also accept `multipart/form-data` (file uploads): the CSRF token is read from
/// the multipart body, with the same constant-time check; the form read is handed to the
/// handler as a `multipart::Upload` in the request's extensions.
pub fn takes_upload(path: &str) -> bool {
    path.strip_prefix("/help/manage/articles/")
        .and_then(|rest| rest.strip_suffix("/images"))
        .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
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
    let path = clean(req.path());

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
    mut req: ServiceRequest,
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
    let csrf = hmac_hex(&state.secret, &format!("csrf|{seed}"));
    req.extensions_mut().insert(CsrfToken(csrf.clone()));

    if is_unsafe(req.method()) && !CSRF_EXEMPT.contains(&req.path()) {
        if !same_origin(&req, &state.config.base_origin()) {
            tracing::warn!(path = %clean(req.path()), "CSRF: cross-origin request refused");
            return Ok(fail(req, AppError::Csrf("cross-origin")));
        }
        let content_type =
            req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        let is_form = content_type.starts_with("application/x-www-form-urlencoded");
        let multipart = if takes_upload(req.path()) { super::multipart::boundary(&content_type) } else { None };
        if !is_form && multipart.is_none() {
            return Ok(fail(req, AppError::Csrf("not a form post")));
        }
        let mut payload = req.take_payload();
        let mut body = web::BytesMut::new();
        let mut reader = multipart.as_deref().map(|b| {
            super::multipart::Reader::new(
                b,
                super::multipart::Limits {
                    file_keep: crate::domain::help::IMAGE_MAX_BYTES + 1,
                    text_total: MAX_UPLOAD_TEXT,
                },
            )
        });
        let limit = body_limit(req.path());
        let mut read = 0usize;
        let mut cut_short = false;
        while let Some(chunk) = payload.next().await {
            let Ok(chunk) = chunk else {
                return Ok(fail(req, AppError::BadRequest("The request body could not be read.".into())));
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
                    return Ok(fail(
                        req,
                        AppError::BadRequest("What you sent is larger than this form accepts.".into()),
                    ));
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
            tracing::warn!(path = %clean(req.path()), "CSRF: missing or wrong token");
            return Ok(fail(req, AppError::Csrf("token")));
        }
        if let Some(u) = upload {
            // The handler takes the form from here; the body has been read.
            req.extensions_mut().insert(u);
        }
        let (_, mut replay) = actix_http::h1::Payload::create(true);
        replay.unread_data(body.freeze());
        req.set_payload(replay.into());
    }

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
    if had_flash && !res.status().is_redirection() {
        res.response_mut().add_cookie(&expired_cookie(FLASH_COOKIE, false)).ok();
    }
    Ok(res)
}

/// The per-route gate: anonymous visitors of a signed-in route go to the login page; signed-in
/// users whose role may not take the route's action get the 403 page.
pub async fn check_gate(g: Gate, req: ServiceRequest, next: Next<BoxBody>) -> Result<ServiceResponse<BoxBody>, Error> {
    let Gate::Signed(action) = g else {
        return call_catching_panics(req, next).await;
    };
    let current = req.extensions().get::<CurrentUser>().cloned();
    match current {
        None => {
            let target = match req.query_string() {
                "" => req.path().to_string(),
                q => format!("{}?{}", req.path(), q),
            };
            let next_param: String = url::form_urlencoded::byte_serialize(target.as_bytes()).collect();
            let to = if target == "/" { "/login".to_string() } else { format!("/login?next={next_param}") };
            Ok(req.into_response(redirect(&to, None)))
        }
        Some(cu) if policy::role_may(cu.role(), action) => call_catching_panics(req, next).await,
        Some(cu) => {
            tracing::warn!(user_id = cu.user.id, path = %clean(req.path()), action = ?action, "access denied");
            Ok(req.into_response(AppError::Forbidden.error_response()))
        }
    }
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
