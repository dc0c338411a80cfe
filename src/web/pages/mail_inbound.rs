//! `/mail/inbound`: where `firewatch mailgate` posts each incoming message. Authenticated by a
//! shared token instead of a session, so it is exempt from the CSRF check; answers in JSON.

use crate::service::AppState;
use crate::web::ctx::RequestId;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

fn token_ok(req: &HttpRequest, expected: &str) -> bool {
    let given = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("")
        .trim();
    // Hashing first makes the comparison independent of the lengths.
    let a = Sha256::digest(given.as_bytes());
    let b = Sha256::digest(expected.as_bytes());
    !given.is_empty() && bool::from(a.ct_eq(&b))
}

fn error(status: actix_web::http::StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "error": message }))
}

pub async fn receive(req: HttpRequest, state: web::Data<AppState>, mut body: web::Payload) -> HttpResponse {
    use actix_web::http::StatusCode;
    let Some(expected) = state.config.inbound_token.clone() else {
        return error(StatusCode::NOT_FOUND, "inbound mail is off: set FIREWATCH_INBOUND_TOKEN");
    };
    // An address that keeps sending wrong tokens is refused unheard for a while: guessing stops.
    let ip = req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_default();
    let now = state.clock.now_naive();
    if let Some(wait) = state.inbound_failures.blocked_for(&ip, now) {
        return HttpResponse::TooManyRequests()
            .insert_header((actix_web::http::header::RETRY_AFTER, wait.to_string()))
            .json(json!({ "error": "too many wrong tokens from this address; try again later" }));
    }
    if !token_ok(&req, &expected) {
        state.inbound_failures.record(&ip, now);
        tracing::warn!(ip = %ip, "inbound mail: wrong or missing token");
        return error(StatusCode::UNAUTHORIZED, "wrong or missing token");
    }
    let limit = state.config.inbound_max_bytes();
    let mut raw = web::BytesMut::new();
    while let Some(chunk) = body.next().await {
        let Ok(chunk) = chunk else {
            return error(StatusCode::BAD_REQUEST, "the message could not be read");
        };
        if raw.len() + chunk.len() > limit {
            return error(StatusCode::PAYLOAD_TOO_LARGE, &format!("messages over {limit} bytes are refused"));
        }
        raw.extend_from_slice(&chunk);
    }
    if raw.is_empty() {
        return error(StatusCode::BAD_REQUEST, "the request carries no message");
    }
    let st = state.clone();
    match web::block(move || crate::service::inbound::receive(&st, &raw)).await {
        Ok(Ok(r)) => HttpResponse::build(if r.malformed { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK })
            .json(json!({
                "status": r.status,
                "outcome": r.outcome,
                "incident": r.incident,
                "reason": r.reason,
            })),
        Ok(Err(e)) => {
            let id = req.extensions().get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default();
            tracing::error!(error = %e, request_id = %id, "inbound mail failed");
            HttpResponse::InternalServerError()
                .json(json!({ "error": "the message could not be stored", "request_id": id }))
        }
        Err(_) => error(StatusCode::SERVICE_UNAVAILABLE, "busy; try again"),
    }
}
