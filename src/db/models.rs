use super::schema::*;
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = organizations)]
pub struct Organization {
    pub id: i64,
    pub name: String,
    pub email_domains: String,
    pub share_incidents: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub organization_id: Option<i64>,
    pub time_zone: String,
    pub active: bool,
    pub password_hash: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = sessions)]
pub struct Session {
    pub id: i64,
    pub token_hash: String,
    pub user_id: i64,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub ip: String,
    pub user_agent: String,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_log)]
pub struct AuditEntry {
    pub id: i64,
    pub at: NaiveDateTime,
    pub actor_id: Option<i64>,
    pub actor_label: String,
    pub action: String,
    pub target: String,
    pub ip: String,
    pub request_id: String,
    pub details: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = services)]
pub struct Service {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = incidents)]
pub struct Incident {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub service_id: i64,
    pub impact: String,
    pub urgency: String,
    pub priority: String,
    pub severity: String,
    pub status: String,
    pub is_open: bool,
    pub reporter_id: i64,
    pub organization_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub acknowledged_at: Option<NaiveDateTime>,
    pub resolved_at: Option<NaiveDateTime>,
    pub closed_at: Option<NaiveDateTime>,
    pub resolution: String,
    pub version: i32,
    pub tier_id: i64,
    pub first_response_at: Option<NaiveDateTime>,
    pub response_due_at: Option<NaiveDateTime>,
    pub resolution_due_at: Option<NaiveDateTime>,
    pub response_warn_at: Option<NaiveDateTime>,
    pub resolution_warn_at: Option<NaiveDateTime>,
    pub response_warned_at: Option<NaiveDateTime>,
    pub resolution_warned_at: Option<NaiveDateTime>,
    pub response_breached_at: Option<NaiveDateTime>,
    pub resolution_breached_at: Option<NaiveDateTime>,
    /// markdown or text (see `domain::incident::BodyFormat`).
    pub description_format: String,
}

/// The columns a queue row shows (and its cursor needs): the queue never reads descriptions
/// or the SLA bookkeeping.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = incidents)]
pub struct QueueItem {
    pub id: i64,
    pub title: String,
    pub service_id: i64,
    pub priority: String,
    pub severity: String,
    pub status: String,
    pub organization_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub response_due_at: Option<NaiveDateTime>,
    pub resolution_due_at: Option<NaiveDateTime>,
    /// The incident's tags, space-separated in order (staff only: the service drops them for
    /// customers). Read with the row: a query of its own per page was a round trip on PostgreSQL.
    #[diesel(select_expression = TagList, select_expression_type = TagList)]
    pub tags: Option<String>,
}

/// `QueueItem::tags`: the same SQL on both engines (SQLite has `string_agg … ORDER BY` since
/// 3.44), written out because `dsl::sql` would keep the statement out of the cache.
#[derive(Debug, Clone, Copy, Default, diesel::query_builder::QueryId)]
pub struct TagList;

impl TagList {
    /// The tags of a `QueueItem::tags` value, in order.
    pub fn split(tags: Option<String>) -> Vec<String> {
        tags.map(|t| t.split(' ').filter(|t| !t.is_empty()).map(str::to_string).collect()).unwrap_or_default()
    }
}

impl diesel::Expression for TagList {
    type SqlType = diesel::sql_types::Nullable<diesel::sql_types::Text>;
}

impl diesel::AppearsOnTable<incidents::table> for TagList {}

impl diesel::SelectableExpression<incidents::table> for TagList {}

impl diesel::expression::ValidGrouping<()> for TagList {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

impl<DB: diesel::backend::Backend> diesel::query_builder::QueryFragment<DB> for TagList {
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql(
            "(SELECT string_agg(incident_tags.tag, ' ' ORDER BY incident_tags.tag) FROM incident_tags \
             WHERE incident_tags.incident_id = incidents.id)",
        );
        Ok(())
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = outbox)]
pub struct OutboxMessage {
    pub id: i64,
    pub created_at: NaiveDateTime,
    pub kind: String,
    pub user_id: Option<i64>,
    pub incident_id: Option<i64>,
    pub to_address: String,
    pub to_name: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub message_id: String,
    pub in_reply_to: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub last_error: String,
    pub sent_at: Option<NaiveDateTime>,
    /// The List-Unsubscribe header value (status page mail), or empty.
    pub list_unsubscribe: String,
    pub auto_submitted: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = sla_calendars)]
pub struct SlaCalendar {
    pub id: i64,
    pub name: String,
    pub always: bool,
    pub time_zone: String,
    pub week: String,
    pub holidays: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = sla_policies)]
pub struct SlaPolicy {
    pub id: i64,
    pub severity: String,
    pub organization_id: Option<i64>,
    pub first_response_minutes: i32,
    pub resolution_minutes: i32,
    pub calendar_id: i64,
    pub auto_escalate: bool,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = tiers)]
pub struct Tier {
    pub id: i64,
    pub name: String,
    pub position: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = comments)]
pub struct Comment {
    pub id: i64,
    pub incident_id: i64,
    pub author_id: i64,
    pub body: String,
    pub internal: bool,
    pub created_at: NaiveDateTime,
    pub edited_at: Option<NaiveDateTime>,
    /// markdown or text (see `domain::incident::BodyFormat`).
    pub format: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = incident_events)]
pub struct IncidentEvent {
    pub id: i64,
    pub incident_id: i64,
    pub at: NaiveDateTime,
    pub actor_id: Option<i64>,
    pub kind: String,
    pub field: String,
    pub old_value: String,
    pub new_value: String,
    pub internal: bool,
    pub comment_id: Option<i64>,
    pub version: i32,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = incident_links)]
pub struct IncidentLink {
    pub id: i64,
    pub from_id: i64,
    pub to_id: i64,
    pub kind: String,
    pub created_at: NaiveDateTime,
    pub created_by: Option<i64>,
}

/// An inbound message as listed (without the raw bytes).
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = inbound_messages)]
pub struct InboundMessage {
    pub id: i64,
    pub received_at: NaiveDateTime,
    pub message_id: String,
    pub from_address: String,
    pub from_name: String,
    pub subject: String,
    pub status: String,
    pub outcome: String,
    pub reason: String,
    pub incident_id: Option<i64>,
    pub comment_id: Option<i64>,
    pub handled_by: Option<i64>,
    pub handled_at: Option<NaiveDateTime>,
}

/// An attachment's description (the bytes are loaded only for a download).
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = attachments)]
pub struct AttachmentMeta {
    pub id: i64,
    pub incident_id: i64,
    pub comment_id: Option<i64>,
    pub internal: bool,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = problems)]
pub struct Problem {
    pub id: i64,
    pub title: String,
    pub statement: String,
    pub category: String,
    pub analysis: String,
    pub contributing_factors: String,
    pub five_whys: String,
    pub customer_impact: String,
    pub workaround: String,
    pub owner_id: Option<i64>,
    pub status: String,
    pub resolution: String,
    pub fix_released_at: Option<NaiveDateTime>,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub closed_at: Option<NaiveDateTime>,
    pub version: i32,
    pub watch_days: i32,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = problem_incidents)]
pub struct ProblemIncident {
    pub problem_id: i64,
    pub incident_id: i64,
    pub linked_at: NaiveDateTime,
    pub linked_by: Option<i64>,
    pub after_fix: bool,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = problem_actions)]
pub struct ProblemAction {
    pub id: i64,
    pub problem_id: i64,
    pub title: String,
    pub kind: String,
    pub owner_id: Option<i64>,
    pub due_date: Option<chrono::NaiveDate>,
    pub status: String,
    pub reason: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub overdue_notified_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = bugs)]
pub struct Bug {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub service_id: Option<i64>,
    pub severity: String,
    pub status: String,
    pub external_ref: String,
    pub assignee_id: Option<i64>,
    pub fix_ineffective: bool,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub version: i32,
    pub release_id: Option<i64>,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = releases)]
pub struct Release {
    pub id: i64,
    pub version: String,
    pub title: String,
    pub notes: String,
    pub deployment_type: String,
    pub window_start: Option<NaiveDateTime>,
    pub window_end: Option<NaiveDateTime>,
    pub rollback_plan: String,
    pub status: String,
    pub monitor_hours: i32,
    pub approved_by: Option<i64>,
    pub approved_at: Option<NaiveDateTime>,
    pub override_reason: String,
    pub deployed_at: Option<NaiveDateTime>,
    pub monitor_until: Option<NaiveDateTime>,
    pub rolled_back_at: Option<NaiveDateTime>,
    pub rollback_reason: String,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub lock_version: i32,
    /// The customer-safe text the status page shows for the release's scheduled window.
    pub maintenance_notice: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = checklist_items)]
pub struct ChecklistItem {
    pub id: i64,
    pub position: i32,
    pub label: String,
    pub active: bool,
}

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = release_checks)]
pub struct ReleaseCheck {
    pub id: i64,
    pub release_id: i64,
    pub position: i32,
    pub label: String,
    pub checked_by: Option<i64>,
    pub checked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = release_suspects)]
pub struct ReleaseSuspect {
    pub release_id: i64,
    pub incident_id: i64,
    pub status: String,
    pub decided_by: Option<i64>,
    pub decided_at: Option<NaiveDateTime>,
}

/// One line of the history of a problem, bug or release.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = history)]
pub struct HistoryEntry {
    pub id: i64,
    pub record: String,
    pub record_id: i64,
    pub at: NaiveDateTime,
    pub actor_id: Option<i64>,
    pub kind: String,
    pub field: String,
    pub old_value: String,
    pub new_value: String,
}
