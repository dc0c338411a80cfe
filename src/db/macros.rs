//! Canned responses: an agent's own and the shared ones.

use super::schema::macros;
use super::{DbConnection, DbResult};
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = macros)]
pub struct Macro {
    pub id: i64,
    pub name: String,
    pub body: String,
    pub internal: bool,
    /// `None`: shared with all staff.
    pub owner_id: Option<i64>,
    pub set_status: Option<String>,
    pub set_tier_id: Option<i64>,
    pub add_tags: String,
    pub uses: i64,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// What a macro says, as the service validated it.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = macros, treat_none_as_null = true)]
pub struct MacroFields<'a> {
    pub name: &'a str,
    pub body: &'a str,
    pub internal: bool,
    pub owner_id: Option<i64>,
    pub set_status: Option<&'a str>,
    pub set_tier_id: Option<i64>,
    pub add_tags: &'a str,
}

pub fn insert(conn: &mut DbConnection, f: &MacroFields<'_>, by: i64, now: NaiveDateTime) -> DbResult<Macro> {
    Ok(diesel::insert_into(macros::table)
        .values((f, macros::created_by.eq(Some(by)), macros::created_at.eq(now), macros::updated_at.eq(now)))
        .returning(macros::all_columns)
        .get_result(conn)?)
}

pub fn update(conn: &mut DbConnection, id: i64, f: &MacroFields<'_>, now: NaiveDateTime) -> DbResult<Macro> {
    Ok(diesel::update(macros::table.find(id))
        .set((f, macros::updated_at.eq(now)))
        .returning(macros::all_columns)
        .get_result(conn)?)
}

pub fn delete(conn: &mut DbConnection, id: i64) -> DbResult<()> {
    diesel::delete(macros::table.find(id)).execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: i64) -> DbResult<Macro> {
    Ok(macros::table.find(id).select(Macro::as_select()).first(conn)?)
}

/// The shared macros and the user's own, shared first, each group by name.
pub fn usable_by(conn: &mut DbConnection, user_id: i64) -> DbResult<Vec<Macro>> {
    Ok(macros::table
        .filter(macros::owner_id.is_null().or(macros::owner_id.eq(user_id)))
        .select(Macro::as_select())
        .order((macros::owner_id.is_not_null(), macros::name.asc(), macros::id.asc()))
        .load(conn)?)
}

pub fn count_use(conn: &mut DbConnection, id: i64) -> DbResult<()> {
    diesel::update(macros::table.find(id)).set(macros::uses.eq(macros::uses + 1)).execute(conn)?;
    Ok(())
}
