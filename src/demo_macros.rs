//! Demo canned responses: the shared ones a new team starts from, and one personal one.

use crate::db::DbConnection;
use crate::db::macros::{self, MacroFields};
use chrono::NaiveDateTime;

/// (name, internal note, status it sets, tier it moves to, tags it adds, text).
type Canned = (&'static str, bool, Option<&'static str>, Option<&'static str>, &'static str, &'static str);

const SHARED: [Canned; 4] = [
    (
        "Ask for logs",
        false,
        Some("waiting_on_customer"),
        None,
        "needs-info",
        "Hi {customer_first_name},\n\nThanks for reporting {incident_key}. To find the cause we need a little more \
         from you:\n\n- the time it happened (with your time zone),\n- the application log from around that time,\n- \
         what you expected to happen.\n\nReply to this mail or add it at {incident_link}.\n\n{agent_name}",
    ),
    (
        "We are on it",
        false,
        Some("in_progress"),
        None,
        "",
        "Hi {customer_first_name},\n\nWe are looking into {incident_key} (“{incident_title}”) now and will update \
         you as soon as we know more.\n\n{agent_name}",
    ),
    (
        "Resolved, please confirm",
        false,
        Some("resolved"),
        None,
        "",
        "Hi {customer_first_name},\n\nWe have fixed the cause of {incident_key}. Please check that {service} works \
         for you again; if it does not, reply to this mail or reopen the incident at {incident_link}.\n\n{agent_name}",
    ),
    (
        "Hand over to DevOps",
        true,
        None,
        Some("Tier 2 DevOps"),
        "infra",
        "Looks infrastructure-side: the application is healthy, the errors come from {service}'s hosts. Handing \
         over to DevOps; customer ({customer_name}, {organization}) has been told we are on it.",
    ),
];

/// Adds the demo canned responses that are not there yet; `owner` keeps a personal one.
pub fn load(conn: &mut DbConnection, by: i64, owner: i64, now: NaiveDateTime) -> anyhow::Result<usize> {
    let tiers = crate::db::tiers::all(conn)?;
    let mut have = macros::usable_by(conn, owner)?;
    let mut added = 0;
    let personal: Canned = (
        "Checked monitoring",
        true,
        None,
        None,
        "",
        "Checked the dashboards for {service} around the reported time: no alerts, error rate normal. Next: compare \
         with the customer's logs.",
    );
    for (i, (name, internal, status, tier, tags, body)) in SHARED.into_iter().chain([personal]).enumerate() {
        let owner_id = (i == SHARED.len()).then_some(owner);
        if have.iter().any(|m| m.name == name && m.owner_id == owner_id) {
            continue;
        }
        let fields = MacroFields {
            name,
            body,
            internal,
            owner_id,
            set_status: status,
            set_tier_id: tier.and_then(|t| tiers.iter().find(|x| x.name == t || x.position == 2)).map(|t| t.id),
            add_tags: tags,
        };
        have.push(macros::insert(conn, &fields, by, now)?);
        added += 1;
    }
    Ok(added)
}
