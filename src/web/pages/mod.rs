//! Page handlers, one file per area. Handlers stay thin: parse the form, call one service
//! function off the async threads, render or redirect.

pub mod account;
pub mod admin_audit;
pub mod admin_orgs;
pub mod admin_users;
pub mod auth;
pub mod health;
pub mod home;
pub mod setup;

/// All IANA time zone names, for select boxes.
pub fn zones() -> Vec<&'static str> {
    chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()).collect()
}
