//! Service functions: one per state change. Each checks permission (domain::policy), validates,
//! and writes the change together with its audit record in one transaction. They are plain
//! blocking functions; the web layer runs them off the async threads with `web::block`.

pub mod account;
pub mod admin_orgs;
pub mod admin_users;
pub mod auth;
pub mod bugs;
pub mod escalation;
pub mod help;
pub mod inbound;
pub mod inbound_review;
pub mod incidents;
pub mod lookups;
pub mod macros;
pub mod mail;
pub mod problem_links;
pub mod problem_pages;
pub mod problems;
pub mod rate_limit;
pub mod read_cache;
pub mod releases;
pub mod reports;
pub mod services;
pub mod setup;
pub mod sla;
pub mod status_page;
pub mod views;

/// The signed-in user as the services hand it to the pages.
pub use crate::db::models::User;
pub use crate::state::{AppState, actor_of};

use crate::db::audit::NewAudit;
use crate::db::{DbConnection, DbError};
use crate::domain::policy::{self, Action, Actor, Resource};

/// Facts about the request that go into the audit log.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub ip: String,
    pub user_agent: String,
    pub request_id: String,
}

/// Per-field validation messages, in form order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(pub Vec<(&'static str, String)>);

impl FieldErrors {
    pub fn add(&mut self, field: &'static str, msg: impl Into<String>) {
        self.0.push((field, msg.into()));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|(f, _)| *f == field).map(|(_, m)| m.as_str())
    }

    /// Every message of a field (a file field may have one per file).
    pub fn all(&self, field: &str) -> Vec<&str> {
        self.0.iter().filter(|(f, _)| *f == field).map(|(_, m)| m.as_str()).collect()
    }

    pub fn into_result(self) -> Result<(), ServiceError> {
        if self.is_empty() { Ok(()) } else { Err(ServiceError::Invalid(self)) }
    }

    pub fn single(field: &'static str, msg: impl Into<String>) -> Self {
        let mut e = Self::default();
        e.add(field, msg);
        e
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("invalid input")]
    Invalid(FieldErrors),
    #[error("{0}")]
    Conflict(String),
    /// The record changed since the user loaded it (optimistic locking).
    #[error("changed meanwhile (now at version {current_version})")]
    Stale { current_version: i32 },
    #[error("internal: {0}")]
    Internal(String),
}

impl From<DbError> for ServiceError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound => ServiceError::NotFound,
            DbError::Conflict => ServiceError::Conflict("That already exists.".into()),
            other => ServiceError::Internal(other.to_string()),
        }
    }
}

impl From<diesel::result::Error> for ServiceError {
    fn from(e: diesel::result::Error) -> Self {
        DbError::from(e).into()
    }
}

impl From<crate::crypto::HashError> for ServiceError {
    fn from(e: crate::crypto::HashError) -> Self {
        ServiceError::Internal(e.to_string())
    }
}

pub type ServiceResult<T> = Result<T, ServiceError>;

/// Asks the policy; Forbidden when it says no.
pub fn authorize(actor: &Actor, action: Action, resource: Resource) -> ServiceResult<()> {
    if policy::allows(Some(actor), action, resource) { Ok(()) } else { Err(ServiceError::Forbidden) }
}

impl AppState {
    pub fn conn(&self) -> ServiceResult<crate::db::PooledConn> {
        Ok(self.db.get()?)
    }

    /// Runs `f` in one transaction that may write (a writer from its first statement on
    /// SQLite, so concurrent writers queue instead of failing). Read-only pages use `conn`.
    pub fn tx<T>(&self, f: impl FnOnce(&mut DbConnection) -> ServiceResult<T>) -> ServiceResult<T> {
        let mut conn = self.conn()?;
        let out = crate::db::write_transaction(&mut conn, f);
        if out.is_ok() {
            self.cache.invalidate();
        }
        out
    }

    pub fn audit(
        &self,
        conn: &mut DbConnection,
        meta: &RequestMeta,
        actor: Option<&User>,
        action: &str,
        target: &str,
        details: &str,
    ) -> ServiceResult<()> {
        let entry = NewAudit {
            actor_id: actor.map(|u| u.id),
            actor_label: actor.map(|u| u.email.clone()).unwrap_or_default(),
            action: action.to_string(),
            target: target.to_string(),
            ip: meta.ip.clone(),
            request_id: meta.request_id.clone(),
            details: details.to_string(),
        };
        crate::db::audit::insert(conn, &entry, self.clock.now_naive())?;
        Ok(())
    }
}

/// Checks a new password against the rules; problems go to `field`.
pub fn check_new_password(
    errors: &mut FieldErrors,
    field: &'static str,
    password: &str,
    confirm: &str,
    email: &str,
    name: &str,
) {
    let problems = crate::domain::password_rules::check(password, email, name);
    if let Some(first) = problems.into_iter().next() {
        errors.add(field, first);
    } else if password != confirm {
        errors.add("password_confirm", "The two passwords differ.");
    }
}
