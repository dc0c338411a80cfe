//! The web layer's error type. Every error becomes a page in the layout (the frame middleware
//! renders it); a 500 carries a request id that is also in the log.

use crate::service::ServiceError;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("CSRF check failed: {0}")]
    Csrf(&'static str),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("internal error: {0}")]
    Internal(String),
}

/// Attached to an error response so the frame middleware renders the error page around it.
#[derive(Debug, Clone)]
pub struct ErrorPage {
    /// What the user is told (for 4xx); 500s always say the same generic thing.
    pub message: String,
    /// What the log is told.
    pub detail: String,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden | AppError::Csrf(_) => StatusCode::FORBIDDEN,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let message = match self {
            AppError::NotFound => "There is nothing at this address, or you may not see it.".to_string(),
            AppError::Forbidden => "You do not have permission to do this.".to_string(),
            AppError::Csrf(_) => {
                "This form could not be accepted: it was sent from another site or has expired. Go back, reload the page and try again."
                    .to_string()
            }
            AppError::BadRequest(m) | AppError::Conflict(m) => m.clone(),
            AppError::Internal(_) => "Something went wrong on our side.".to_string(),
        };
        let mut res = HttpResponse::new(self.status_code());
        res.extensions_mut().insert(ErrorPage { message, detail: self.to_string() });
        res
    }
}

impl From<ServiceError> for AppError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Forbidden => AppError::Forbidden,
            ServiceError::NotFound => AppError::NotFound,
            ServiceError::Invalid(errors) => {
                AppError::BadRequest(errors.0.into_iter().map(|(_, m)| m).collect::<Vec<_>>().join(" "))
            }
            ServiceError::Conflict(m) => AppError::Conflict(m),
            ServiceError::Stale { .. } => {
                AppError::Conflict("Somebody changed this meanwhile. Reload the page to see the current state.".into())
            }
            ServiceError::Internal(m) => AppError::Internal(m),
        }
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        AppError::Internal(format!("blocking task failed: {e}"))
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::Internal(format!("template: {e}"))
    }
}
