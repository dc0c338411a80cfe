//! Bulk writes for loading demo data: COPY on PostgreSQL, many rows per INSERT on SQLite, many
//! per transaction (diesel's batch inserts and COPY do not go through the MultiConnection enum).
//! Only the demo loader uses this; the application writes through the other modules one change
//! at a time.

use super::schema::{comments, escalations, incident_events, incident_facts, incident_tags, incidents, search_docs};
use super::{DbConnection, DbResult};
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// Rows per INSERT statement: below SQLite's bound-variable limit for the widest table.
pub const BATCH: usize = 400;

#[derive(Debug, Clone, Insertable)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = incidents)]
pub struct IncidentRow {
    /// From `reserve_ids`.
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
}

#[derive(Debug, Clone, Insertable)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = escalations)]
pub struct EscalationRow {
    pub incident_id: i64,
    pub at: NaiveDateTime,
    pub actor_id: Option<i64>,
    pub from_tier_id: i64,
    pub to_tier_id: i64,
    pub reason_code: String,
    pub reason_text: String,
    pub automatic: bool,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = comments)]
pub struct CommentRow {
    /// From `reserve_ids`.
    pub id: i64,
    pub incident_id: i64,
    pub author_id: i64,
    pub body: String,
    pub internal: bool,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = incident_events)]
pub struct EventRow {
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

#[derive(Debug, Clone, Insertable)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = search_docs)]
pub struct SearchDocRow {
    /// `search::doc_key` of the incident and the document's slot.
    pub id: i64,
    pub incident_id: i64,
    pub comment_id: Option<i64>,
    pub internal: bool,
    pub title: String,
    pub body: String,
}

/// Writes rows: on PostgreSQL as one binary COPY, on SQLite as INSERTs of `BATCH` rows.
macro_rules! write_rows {
    ($conn:expr, $table:expr, $rows:expr, $per:expr) => {{
        let rows = $rows;
        match $conn {
            DbConnection::Pg(c) => {
                if !rows.is_empty() {
                    diesel::copy_from($table).from_insertable(rows).execute(c)?;
                }
            }
            DbConnection::Sqlite(c) => {
                for chunk in rows.chunks($per) {
                    diesel::insert_into($table).values(chunk).execute(c)?;
                }
            }
        }
        Ok(())
    }};
}

/// The tables whose rows the loader gives ids itself (others' ids nothing refers to).
#[derive(Debug, Clone, Copy)]
pub enum Keyed {
    Incidents,
    Comments,
}

/// Ids for `n` new rows of `table`, in order. PostgreSQL takes them from the table's sequence;
/// SQLite, inside the load's write transaction (no other writer), counts on from the highest.
pub fn reserve_ids(conn: &mut DbConnection, table: Keyed, n: usize) -> DbResult<Vec<i64>> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
    }
    let table = match table {
        Keyed::Incidents => "incidents",
        Keyed::Comments => "comments",
    };
    let count = i64::try_from(n).unwrap_or(i64::MAX);
    match conn {
        DbConnection::Pg(c) => {
            let ids: Vec<Id> = diesel::sql_query(format!(
                "SELECT nextval(pg_get_serial_sequence('{table}', 'id')) AS id FROM generate_series(1, $1) ORDER BY 1"
            ))
            .bind::<diesel::sql_types::BigInt, _>(count)
            .load(c)?;
            Ok(ids.into_iter().map(|r| r.id).collect())
        }
        DbConnection::Sqlite(c) => {
            let top: Id = diesel::sql_query(format!("SELECT COALESCE(MAX(id), 0) AS id FROM {table}")).get_result(c)?;
            Ok((1..=count).map(|i| top.id + i).collect())
        }
    }
}

pub fn incidents(conn: &mut DbConnection, rows: &[IncidentRow]) -> DbResult<()> {
    write_rows!(conn, incidents::table, rows, BATCH / 2)
}

pub fn comments(conn: &mut DbConnection, rows: &[CommentRow]) -> DbResult<()> {
    write_rows!(conn, comments::table, rows, BATCH)
}

pub fn events(conn: &mut DbConnection, rows: &[EventRow]) -> DbResult<()> {
    write_rows!(conn, incident_events::table, rows, BATCH / 2)
}

pub fn search_docs(conn: &mut DbConnection, rows: &[SearchDocRow]) -> DbResult<()> {
    write_rows!(conn, search_docs::table, rows, BATCH)
}

#[derive(Debug, Clone, Insertable)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(table_name = incident_tags)]
pub struct TagRow {
    pub incident_id: i64,
    pub tag: String,
}

pub fn tags(conn: &mut DbConnection, rows: &[TagRow]) -> DbResult<()> {
    write_rows!(conn, incident_tags::table, rows, BATCH)
}

pub fn escalations(conn: &mut DbConnection, rows: &[EscalationRow]) -> DbResult<()> {
    write_rows!(conn, escalations::table, rows, BATCH)
}

/// Report facts computed by the loader from what it writes (no re-reading of timelines).
pub fn facts(conn: &mut DbConnection, rows: &[super::reports::FactRow]) -> DbResult<()> {
    write_rows!(conn, incident_facts::table, rows, BATCH / 2)
}

/// The tables a bulk load fills, whose secondary indexes PostgreSQL rebuilds after the load.
const LOADED: [&str; 7] =
    ["incidents", "comments", "incident_events", "escalations", "search_docs", "incident_tags", "incident_facts"];

/// Runs a bulk load. On PostgreSQL it is one transaction: the loaded tables' foreign keys and
/// secondary indexes (those no constraint needs) are dropped and their report triggers
/// switched off (`f` writes the report facts of what it loads), then the indexes are built
/// again in one pass each and the keys checked again in one join each. Keeping each index up to
/// date and checking each key row by row is what made a large load slow,
/// and in one transaction a failed load leaves the schema as it was. On SQLite `f` runs as is
/// and each `chunk` commits on its own.
pub fn load<T, E>(conn: &mut DbConnection, f: impl FnOnce(&mut DbConnection) -> Result<T, E>) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    if matches!(conn, DbConnection::Sqlite(_)) {
        return f(conn);
    }
    conn.transaction(|conn| {
        let foreign_keys = foreign_keys(conn)?;
        for (table, name, _) in &foreign_keys {
            diesel::sql_query(format!("ALTER TABLE {} DROP CONSTRAINT {}", quote(table), quote(name))).execute(conn)?;
        }
        let indexes = secondary_indexes(conn)?;
        for (name, _) in &indexes {
            diesel::sql_query(format!("DROP INDEX {}", quote(name))).execute(conn)?;
        }
        set_report_triggers(conn, false)?;
        let value = f(conn)?;
        diesel::sql_query("SET LOCAL maintenance_work_mem = '256MB'").execute(conn)?;
        for (name, definition) in &indexes {
            let started = std::time::Instant::now();
            diesel::sql_query(definition.as_str()).execute(conn)?;
            tracing::debug!(index = %name, seconds = started.elapsed().as_secs_f64(), "index built");
        }
        // Each key is checked again, in one join per constraint instead of a lookup per row.
        for (table, name, definition) in &foreign_keys {
            diesel::sql_query(format!("ALTER TABLE {} ADD CONSTRAINT {} {definition}", quote(table), quote(name)))
                .execute(conn)?;
        }
        set_report_triggers(conn, true)?;
        // What comes next is planned from the statistics; those of tables that were empty
        // choose a scan of every status change per batch of report facts.
        diesel::sql_query(format!("ANALYZE {}, report_dirty", LOADED.join(", "))).execute(conn)?;
        Ok(value)
    })
}

/// One chunk of a bulk load: its own transaction on SQLite; on PostgreSQL the load's.
pub fn chunk<T, E>(conn: &mut DbConnection, f: impl FnOnce(&mut DbConnection) -> Result<T, E>) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    match conn {
        DbConnection::Sqlite(_) => super::write_transaction(conn, f),
        DbConnection::Pg(_) => f(conn),
    }
}

#[derive(QueryableByName)]
struct IndexDef {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    definition: String,
}

/// (name, CREATE INDEX statement) of the loaded tables' indexes that back no constraint.
fn secondary_indexes(conn: &mut DbConnection) -> QueryResult<Vec<(String, String)>> {
    let tables = LOADED.map(|t| format!("'{t}'")).join(", ");
    let rows: Vec<IndexDef> = diesel::sql_query(format!(
        "SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS definition \
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE n.nspname = current_schema() AND t.relname IN ({tables}) \
           AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) \
         ORDER BY c.relname"
    ))
    .load(conn)?;
    Ok(rows.into_iter().map(|r| (r.name, r.definition)).collect())
}

#[derive(QueryableByName)]
struct ForeignKey {
    #[diesel(sql_type = diesel::sql_types::Text)]
    table_name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    definition: String,
}

/// (table, name, definition) of the foreign keys on the loaded tables.
fn foreign_keys(conn: &mut DbConnection) -> QueryResult<Vec<(String, String, String)>> {
    let tables = LOADED.map(|t| format!("'{t}'")).join(", ");
    let rows: Vec<ForeignKey> = diesel::sql_query(format!(
        "SELECT t.relname AS table_name, k.conname AS name, pg_get_constraintdef(k.oid) AS definition \
         FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace \
         WHERE k.contype = 'f' AND n.nspname = current_schema() AND t.relname IN ({tables}) \
         ORDER BY t.relname, k.conname"
    ))
    .load(conn)?;
    Ok(rows.into_iter().map(|r| (r.table_name, r.name, r.definition)).collect())
}

fn set_report_triggers(conn: &mut DbConnection, on: bool) -> QueryResult<()> {
    let verb = if on { "ENABLE" } else { "DISABLE" };
    for (table, trigger) in [
        ("incidents", "report_dirty_incident"),
        ("incident_events", "report_dirty_status"),
        ("escalations", "report_dirty_escalation"),
    ] {
        diesel::sql_query(format!("ALTER TABLE {table} {verb} TRIGGER {trigger}")).execute(conn)?;
    }
    Ok(())
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
