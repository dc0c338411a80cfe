//! Run-time settings an admin changes in the app (key → text value).

use super::schema::settings;
use super::{DbConnection, DbResult};
use chrono::NaiveDateTime;
use diesel::prelude::*;

pub fn get(conn: &mut DbConnection, key: &str) -> DbResult<Option<String>> {
    Ok(settings::table.find(key).select(settings::value).first(conn).optional()?)
}

/// Several settings at once: (key, value) for those that are set.
pub fn get_many(conn: &mut DbConnection, keys: &[&str]) -> DbResult<Vec<(String, String)>> {
    Ok(settings::table.filter(settings::key.eq_any(keys)).select((settings::key, settings::value)).load(conn)?)
}

/// Sets a value. Runs inside the caller's transaction, so delete-then-insert is an upsert on both
/// backends.
pub fn set(conn: &mut DbConnection, key: &str, value: &str, now: NaiveDateTime) -> DbResult<()> {
    diesel::delete(settings::table.find(key)).execute(conn)?;
    diesel::insert_into(settings::table)
        .values((settings::key.eq(key), settings::value.eq(value), settings::updated_at.eq(now)))
        .execute(conn)?;
    Ok(())
}
