//! Page handlers, one file per area. Handlers stay thin: parse the form, call one service
//! function off the async threads, render or redirect.

pub mod account;
pub mod admin_audit;
pub mod admin_inbound;
pub mod admin_macros;
pub mod admin_orgs;
pub mod admin_outbox;
pub mod admin_services;
pub mod admin_sla;
pub mod admin_tiers;
pub mod admin_users;
pub mod auth;
pub mod bugs;
pub mod health;
pub mod help;
pub mod help_manage;
pub mod help_picker;
pub mod home;
pub mod incident_actions;
pub mod incident_mail;
pub mod incident_page;
pub mod incident_queue;
pub mod incident_similar;
pub mod incidents;
pub mod mail_inbound;
pub mod notifications;
pub mod problem_list;
pub mod problems;
pub mod releases;
pub mod reports;
pub mod setup;
pub mod status_page;
pub mod status_publish;
pub mod status_subscribe;

/// One `<option>` of a select box.
#[derive(Debug, Clone)]
pub struct SelectOption {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl SelectOption {
    /// Options from (value, label) pairs, with the one equal to `current` selected.
    pub fn list<V: ToString, L: ToString>(pairs: impl IntoIterator<Item = (V, L)>, current: &str) -> Vec<SelectOption> {
        pairs
            .into_iter()
            .map(|(v, l)| {
                let value = v.to_string();
                SelectOption { selected: value == current, label: l.to_string(), value }
            })
            .collect()
    }
}

/// Every IANA time zone name, with `current` selected.
pub fn zones(current: &str) -> Vec<SelectOption> {
    SelectOption::list(chrono_tz::TZ_VARIANTS.iter().map(|z| (z.name(), z.name())), current)
}
