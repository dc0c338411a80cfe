//! Wiring: configuration → state (database, clock, secrets) → the actix server.

use crate::config::Config;
use crate::crypto::{PasswordHasher, random_token};
use crate::db::Database;
use crate::domain::clock::{Clock, SystemClock};
use crate::error::AppError;
use crate::service::rate_limit::{FailureWindow, INBOUND_TOKEN_FAILURES, INBOUND_TOKEN_WINDOW_MINUTES};
use crate::service::{AppState, setup};
use crate::web::{middleware, routes};
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;

/// The CSRF/cookie secret: from configuration, else `<data_dir>/secret.key`, created once with
/// mode 0600 so that restarts keep everyone's forms valid.
pub fn load_or_create_secret(config: &Config) -> anyhow::Result<Vec<u8>> {
    if let Some(k) = &config.secret_key {
        return Ok(k.as_bytes().to_vec());
    }
    let path = config.data_dir.join("secret.key");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let k = existing.trim();
        if k.len() >= 32 {
            return Ok(k.as_bytes().to_vec());
        }
    }
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    let key = random_token(32);
    write_private(&path, &key).with_context(|| format!("writing {}", path.display()))?;
    tracing::info!(path = %path.display(), "generated a new secret key");
    Ok(key.into_bytes())
}

#[cfg(unix)]
fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    f.write_all(content.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    std::fs::write(path, content)
}

/// Connects, migrates and builds the shared state.
pub fn build_state(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<AppState> {
    // Configuration built in code (tests, embedding) gets the same checks as a loaded one.
    config.validate()?;
    let url = config.effective_database_url();
    let db = Database::connect(&url, 10).context("connecting to the database")?;
    let applied = db.migrate().context("applying migrations")?;
    if applied > 0 {
        tracing::info!(applied, backend = db.backend.name(), "migrations applied");
    }
    let secret = load_or_create_secret(&config)?;
    let hasher = PasswordHasher::new(config.password_pepper.as_deref())?;
    let inbound_failures =
        Arc::new(FailureWindow::new(INBOUND_TOKEN_FAILURES, chrono::Duration::minutes(INBOUND_TOKEN_WINDOW_MINUTES)));
    let state = AppState {
        db,
        clock,
        config: Arc::new(config),
        hasher,
        secret: Arc::new(secret),
        cache: Default::default(),
        inbound_failures,
    };
    // Help articles written before their plain text was kept get it now (search indexes it).
    let derived = crate::service::help::derive_texts(&state).map_err(|e| anyhow::anyhow!("{e}"))?;
    if derived > 0 {
        tracing::info!(articles = derived, "help articles' plain text derived");
    }
    Ok(state)
}

async fn not_found() -> Result<actix_web::HttpResponse, AppError> {
    Err(AppError::NotFound)
}

/// The application: routes, middleware, error handlers. `extra` lets tests mount routes of
/// their own (a panicking handler, say).
pub fn server(
    state: AppState,
    listener: TcpListener,
    workers: usize,
    extra: fn(&mut web::ServiceConfig),
) -> std::io::Result<actix_web::dev::Server> {
    let data = web::Data::new(state);
    let srv = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(
                // The session middleware holds each route to its own limit first (`body_limit`).
                web::FormConfig::default()
                    .limit(middleware::MAX_EDITOR_BODY)
                    .error_handler(|e, _| AppError::BadRequest(format!("The form could not be read: {e}")).into()),
            )
            .app_data(web::PayloadConfig::new(middleware::MAX_EDITOR_BODY))
            .app_data(web::QueryConfig::default().error_handler(|_, _| {
                AppError::BadRequest("The address has a parameter this page does not understand.".into()).into()
            }))
            .app_data(web::PathConfig::default().error_handler(|_, _| AppError::NotFound.into()))
            .configure(routes::configure)
            .configure(extra)
            .default_service(web::to(not_found))
            .wrap(from_fn(middleware::session))
            .wrap(from_fn(middleware::frame))
    })
    .workers(workers)
    .listen(listener)?
    .run();
    Ok(srv)
}

/// `firewatch serve`.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let bind = config.bind.clone();
    let state =
        web::block(move || build_state(config, Arc::new(SystemClock))).await.map_err(|e| anyhow::anyhow!("{e}"))??;
    let st = state.clone();
    if let Some(link) = web::block(move || setup::issue_link_if_needed(&st))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .map_err(|e| anyhow::anyhow!("{e}"))?
    {
        tracing::warn!("No users yet. Open this one-time link to create the first administrator: {link}");
    }
    let listener = TcpListener::bind(&bind).with_context(|| format!("binding {bind}"))?;
    tracing::info!(
        address = %bind,
        base_url = %state.config.base_url,
        database = state.db.backend.name(),
        "Firewatch is serving"
    );
    if let Some(dir) = crate::mail::deliver::file_directory(&state.config) {
        tracing::warn!(
            directory = %dir.display(),
            "No SMTP host is configured (FIREWATCH_SMTP_HOST): outgoing mail is written as .eml files there, not sent"
        );
    }
    let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    crate::jobs::spawn(state.clone());
    server(state, listener, workers, |_| {})?.await?;
    Ok(())
}
