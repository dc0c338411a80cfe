//! View helpers several page modules share: short ages, incident keys in paths, status
//! labels, checkbox lists.

use crate::domain::incident::{Status, parse_key};
use crate::error::AppError;
use chrono::NaiveDateTime;

/// "3 min", "5 h", "2 d": how long ago, for tables.
pub fn age(now: NaiveDateTime, t: NaiveDateTime) -> String {
    let m = (now - t).num_minutes().max(0);
    match m {
        0 => "just now".into(),
        1..=59 => format!("{m} min"),
        60..=2879 => format!("{} h", m / 60),
        _ => format!("{} d", m / 1440),
    }
}

/// The incident id in a `/incidents/INC-n…` path; anything else is a 404.
pub fn id_of(key_text: &str) -> Result<i64, AppError> {
    parse_key(key_text).ok_or(AppError::NotFound)
}

pub fn status_label(s: &str) -> &'static str {
    Status::parse(s).map(Status::label).unwrap_or("Unknown")
}

/// One checkbox of a list (services a problem or release affects, statuses of a filter).
pub struct Check {
    pub value: String,
    pub label: String,
    pub checked: bool,
}

/// What the file field says it takes.
pub fn files_hint(max_bytes: u64) -> String {
    format!(
        "Up to {} files, {} each. Screenshots and logs help us most.",
        crate::service::incidents::MAX_FILES_PER_POST,
        crate::service::inbound::human_size(max_bytes)
    )
}
