//! The history of problems, bugs and releases: one table, one line per change.

use super::models::HistoryEntry;
use super::schema::history;
use super::{DbConnection, DbResult};
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// Whose history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record {
    Problem(i64),
    Bug(i64),
    Release(i64),
}

impl Record {
    fn parts(self) -> (&'static str, i64) {
        match self {
            Record::Problem(id) => ("problem", id),
            Record::Bug(id) => ("bug", id),
            Record::Release(id) => ("release", id),
        }
    }
}

/// Writes one line: `change` is (field, old value, new value).
pub fn write(
    conn: &mut DbConnection,
    record: Record,
    actor_id: Option<i64>,
    kind: &str,
    (field, old_value, new_value): (&str, &str, &str),
    now: NaiveDateTime,
) -> DbResult<()> {
    let (kind_of, id) = record.parts();
    diesel::insert_into(history::table)
        .values((
            history::record.eq(kind_of),
            history::record_id.eq(id),
            history::at.eq(now),
            history::actor_id.eq(actor_id),
            history::kind.eq(kind),
            history::field.eq(field),
            history::old_value.eq(old_value),
            history::new_value.eq(new_value),
        ))
        .execute(conn)?;
    Ok(())
}

/// A record's history, oldest first.
pub fn of(conn: &mut DbConnection, record: Record) -> DbResult<Vec<HistoryEntry>> {
    let (kind_of, id) = record.parts();
    Ok(history::table
        .filter(history::record.eq(kind_of))
        .filter(history::record_id.eq(id))
        .select(HistoryEntry::as_select())
        .order((history::at.asc(), history::id.asc()))
        .load(conn)?)
}
