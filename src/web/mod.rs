//! HTTP: the route table, middleware, extractors, rendering and the page handlers.

pub mod assets;
pub mod ctx;
pub mod forms;
pub mod http_cache;
pub mod middleware;
pub mod multipart;
pub mod pages;
pub mod routes;
pub mod view;

use crate::error::AppError;
use crate::service::{ServiceError, ServiceResult};

/// Runs a blocking service call (diesel, argon2) on the blocking pool.
pub async fn blocking<T, F>(f: F) -> Result<ServiceResult<T>, AppError>
where
    T: Send + 'static,
    F: FnOnce() -> ServiceResult<T> + Send + 'static,
{
    Ok(actix_web::web::block(f).await?)
}

/// Like `blocking`, for calls whose every error becomes an error page.
pub async fn run<T, F>(f: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce() -> ServiceResult<T> + Send + 'static,
{
    blocking(f).await?.map_err(AppError::from)
}

/// Splits a service result into "show the form again with these messages" and everything else.
pub fn form_outcome<T>(r: ServiceResult<T>) -> Result<Result<T, crate::service::FieldErrors>, AppError> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(ServiceError::Invalid(e)) => Ok(Err(e)),
        Err(other) => Err(other.into()),
    }
}
