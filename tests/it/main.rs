//! One integration-test binary: every test spawns the real server and drives it like a browser.
//! Each `both!` test runs on SQLite, and on PostgreSQL when FIREWATCH_TEST_DATABASE_URL is set.

mod support;

mod account;
mod admin;
mod attachments;
mod auth;
mod browser;
mod bugs;
mod bulk;
mod bulk_load;
mod cli;
mod concurrency;
mod escalation;
mod hardening;
mod help;
mod help_fixes;
mod home;
mod inbound;
mod inbound_trust;
mod incidents;
mod macros;
mod mail;
mod mail_fixtures;
mod mail_templates;
mod platform;
mod problems;
mod queue_attention;
mod recurrence;
mod releases;
mod report_figures;
mod report_loops;
mod reports;
mod routes;
mod saved_views;
mod search_plans;
mod security;
mod similar;
mod sla;
mod status_page;
mod workspace;
