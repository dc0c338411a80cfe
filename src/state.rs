//! The application's shared state: what every service, job and mail composer is handed. It sits
//! below the services so that mail and jobs can take it without reaching into `service`.

use crate::config::Config;
use crate::crypto::PasswordHasher;
use crate::db::Database;
use crate::db::models::User;
use crate::domain::clock::Clock;
use crate::domain::policy::Actor;
use crate::domain::role::Role;
use std::sync::Arc;

/// Everything a service needs; cloned cheaply into each request.
#[derive(Clone)]
pub struct AppState {
    pub db: Database,
    pub clock: Arc<dyn Clock>,
    pub config: Arc<Config>,
    pub hasher: PasswordHasher,
    /// Key for CSRF tokens (from configuration or data_dir/secret.key).
    pub secret: Arc<Vec<u8>>,
    /// Remembered queue counts and filter lists, forgotten on every committed write.
    pub cache: Arc<crate::service::read_cache::ReadCache>,
    /// Wrong inbound mail tokens per client address.
    pub inbound_failures: Arc<crate::service::rate_limit::FailureWindow>,
}

/// The policy's view of a stored user. An unknown role text (impossible under the CHECK
/// constraint) becomes the least privileged role.
pub fn actor_of(user: &User) -> Actor {
    Actor { user_id: user.id, role: user.role.parse().unwrap_or(Role::Customer), organization_id: user.organization_id }
}
