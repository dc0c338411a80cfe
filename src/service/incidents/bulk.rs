//! Changes to several incidents at once from the queue: each incident in its own transaction,
//! through the same service function as the incident page (so each gets its permission check,
//! timeline event and notifications), and an outcome per incident.

use super::{AssignTarget, add_tags_in, assign, change_status, link};
use crate::db::incidents;
use crate::db::models::User;
use crate::domain::incident::{Status, key, parse_key, parse_tags};
use crate::domain::policy::{Action, Resource};
use crate::service::escalation::{TierTarget, escalate};
use crate::service::{AppState, FieldErrors, RequestMeta, ServiceError, ServiceResult, actor_of, authorize};

/// The most incidents one bulk change takes.
pub const MAX_BULK: usize = 100;

/// What to do to every selected incident, as the form sends it.
#[derive(Debug, Clone, Default)]
pub struct BulkInput {
    /// "assign", "status", "tier", "tag" or "duplicate".
    pub action: String,
    pub assignee: String,
    pub status: String,
    pub resolution: String,
    pub tier: String,
    pub tags: String,
    /// The key of the incident the selected ones duplicate.
    pub duplicate_of: String,
}

enum Change {
    Assign(AssignTarget),
    Status(String, String),
    Tier(i64),
    Tags(Vec<String>),
    DuplicateOf(String),
}

/// What happened to one incident.
#[derive(Debug, Clone)]
pub struct BulkOutcome {
    pub key: String,
    /// None: changed; else why not, in words.
    pub refused: Option<String>,
}

fn parse(conn: &mut crate::db::DbConnection, input: &BulkInput) -> ServiceResult<Change> {
    let invalid = |f: &'static str, m: &str| ServiceError::Invalid(FieldErrors::single(f, m));
    Ok(match input.action.as_str() {
        "assign" => Change::Assign(
            AssignTarget::parse(&input.assignee).ok_or_else(|| invalid("bulk_assignee", "Choose who takes them."))?,
        ),
        "status" => {
            let Some(s) = Status::parse(&input.status) else {
                return Err(invalid("bulk_status", "Choose a status."));
            };
            if s == Status::Resolved && input.resolution.trim().is_empty() {
                return Err(invalid("bulk_resolution", "Say how they were resolved."));
            }
            Change::Status(s.as_str().to_string(), input.resolution.trim().to_string())
        }
        "tier" => {
            let tiers = crate::db::tiers::all(conn)?;
            match input.tier.parse::<i64>().ok().filter(|t| tiers.iter().any(|x| x.id == *t)) {
                Some(t) => Change::Tier(t),
                None => return Err(invalid("bulk_tier", "Choose a tier.")),
            }
        }
        "tag" => {
            let tags = parse_tags(&input.tags).map_err(|e| invalid("bulk_tags", &e))?;
            if tags.is_empty() {
                return Err(invalid("bulk_tags", "Enter the tags to add."));
            }
            Change::Tags(tags)
        }
        "duplicate" => {
            let target = input.duplicate_of.trim().to_uppercase();
            if parse_key(&target).is_none() {
                return Err(invalid("bulk_duplicate_of", "Enter the key of the incident they duplicate, like INC-42."));
            }
            Change::DuplicateOf(target)
        }
        _ => return Err(invalid("bulk_action", "Choose what to do.")),
    })
}

fn why(e: ServiceError) -> String {
    match e {
        ServiceError::Invalid(errors) => errors.0.first().map(|(_, m)| m.clone()).unwrap_or_else(|| "refused".into()),
        ServiceError::Stale { .. } => "it changed meanwhile; nothing was changed".into(),
        ServiceError::NotFound => "not found".into(),
        ServiceError::Forbidden => "you may not change it".into(),
        ServiceError::Conflict(m) => m,
        other => {
            tracing::warn!(error = %other, "bulk change failed for one incident");
            "it could not be changed".into()
        }
    }
}

/// Applies one change to each incident (by key), each in its own transaction. The input is
/// checked first: a bad one changes nothing.
pub fn bulk_change(
    state: &AppState,
    meta: &RequestMeta,
    user: &User,
    keys: &[String],
    input: &BulkInput,
) -> ServiceResult<Vec<BulkOutcome>> {
    authorize(&actor_of(user), Action::WorkIncident, Resource::None)?;
    let mut ids: Vec<i64> = keys.iter().filter_map(|k| parse_key(k.trim())).collect();
    ids.dedup();
    if ids.is_empty() {
        return Err(ServiceError::Invalid(FieldErrors::single("bulk_action", "Select the incidents to change.")));
    }
    if ids.len() > MAX_BULK {
        return Err(ServiceError::Invalid(FieldErrors::single(
            "bulk_action",
            format!("Select at most {MAX_BULK} incidents at a time."),
        )));
    }
    let change = parse(&mut *state.conn()?, input)?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let version = match incidents::find(&mut *state.conn()?, id) {
            Ok(i) => i.version,
            Err(crate::db::DbError::NotFound) => {
                out.push(BulkOutcome { key: key(id), refused: Some("not found".into()) });
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let result = match &change {
            Change::Assign(t) => assign(state, meta, user, id, version, t.clone()).map(|_| ()),
            Change::Status(to, resolution) => change_status(state, meta, user, id, version, to, resolution).map(|_| ()),
            Change::Tier(t) => {
                let why = "Changed with other incidents at once";
                escalate(state, meta, user, id, version, TierTarget::Tier(*t), "other", why, false).map(|_| ())
            }
            Change::Tags(tags) => state.tx(|conn| add_tags_in(state, conn, user, id, tags)),
            Change::DuplicateOf(target) if parse_key(target) == Some(id) => {
                Err(ServiceError::Invalid(FieldErrors::single("other", "it is the original")))
            }
            Change::DuplicateOf(target) => link(state, meta, user, id, target, "duplicate_of"),
        };
        out.push(BulkOutcome { key: key(id), refused: result.err().map(why) });
    }
    Ok(out)
}
