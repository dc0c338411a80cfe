//! Pure rules: plain Rust, no web framework and no database. Everything here is unit-testable without a server.

pub mod bug;
pub mod chart;
pub mod clock;
pub mod help;
pub mod inbound;
pub mod incident;
pub mod macros;
pub mod notify;
pub mod oncall;
pub mod password_rules;
pub mod policy;
pub mod problem;
pub mod release;
pub mod report;
pub mod role;
pub mod sla;
pub mod status_page;
pub mod validate;
