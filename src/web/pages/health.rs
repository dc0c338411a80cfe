use crate::service::AppState;
use actix_web::{HttpResponse, web};
use serde_json::json;

/// The process is up.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// The database answers and every migration is applied.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let st = state.clone();
    let check = web::block(move || crate::service::lookups::readiness(&st)).await;
    match check {
        Ok(Ok(true)) => HttpResponse::Ok().json(json!({
            "status": "ready", "database": state.db.backend.name(), "migrations": "current"
        })),
        Ok(Ok(false)) => HttpResponse::ServiceUnavailable().json(json!({
            "status": "unavailable", "database": state.db.backend.name(), "migrations": "pending"
        })),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check failed");
            HttpResponse::ServiceUnavailable().json(json!({ "status": "unavailable", "database": "unreachable" }))
        }
        Err(_) => HttpResponse::ServiceUnavailable().json(json!({ "status": "unavailable" })),
    }
}
