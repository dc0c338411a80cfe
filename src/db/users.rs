use super::models::User;
use super::schema::users;
use super::{DbConnection, DbResult};
use chrono::NaiveDateTime;
use diesel::prelude::*;

pub struct NewUser<'a> {
    pub email: &'a str,
    pub display_name: &'a str,
    pub role: &'a str,
    pub organization_id: Option<i64>,
    pub time_zone: &'a str,
    pub password_hash: Option<&'a str>,
    pub now: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, u: &NewUser<'_>) -> DbResult<User> {
    Ok(diesel::insert_into(users::table)
        .values((
            users::email.eq(u.email),
            users::display_name.eq(u.display_name),
            users::role.eq(u.role),
            users::organization_id.eq(u.organization_id),
            users::time_zone.eq(u.time_zone),
            users::active.eq(true),
            users::password_hash.eq(u.password_hash),
            users::created_at.eq(u.now),
            users::updated_at.eq(u.now),
        ))
        .returning(users::all_columns)
        .get_result(conn)?)
}

pub fn count(conn: &mut DbConnection) -> DbResult<i64> {
    Ok(users::table.count().get_result(conn)?)
}

/// Active users of these roles.
pub fn count_active_in(conn: &mut DbConnection, roles: &[&str]) -> DbResult<i64> {
    Ok(users::table
        .filter(users::active.eq(true))
        .filter(users::role.eq_any(roles.iter().map(|r| r.to_string()).collect::<Vec<_>>()))
        .count()
        .get_result(conn)?)
}

pub fn find(conn: &mut DbConnection, id: i64) -> DbResult<User> {
    Ok(users::table.find(id).select(User::as_select()).first(conn)?)
}

pub fn find_by_email(conn: &mut DbConnection, email: &str) -> DbResult<Option<User>> {
    Ok(users::table.filter(users::email.eq(email)).select(User::as_select()).first(conn).optional()?)
}

/// One page of users ordered by (display_name, id), after the given key.
pub fn list(conn: &mut DbConnection, query: &str, after: Option<(&str, i64)>, limit: i64) -> DbResult<Vec<User>> {
    let mut q = users::table.select(User::as_select()).into_boxed();
    let query = query.trim().to_lowercase();
    if !query.is_empty() {
        let pattern = format!("%{}%", escape_like(&query));
        q = q.filter(
            lower(users::display_name).like(pattern.clone()).escape('\\').or(users::email.like(pattern).escape('\\')),
        );
    }
    if let Some((name, id)) = after {
        q = q.filter(
            users::display_name.gt(name.to_string()).or(users::display_name.eq(name.to_string()).and(users::id.gt(id))),
        );
    }
    Ok(q.order((users::display_name.asc(), users::id.asc())).limit(limit).load(conn)?)
}

/// (id, display name) of the given users.
pub fn names_by_ids(conn: &mut DbConnection, ids: &[i64]) -> DbResult<Vec<(i64, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(users::table.filter(super::in_ids(conn, "users.id", ids)).select((users::id, users::display_name)).load(conn)?)
}

pub fn list_by_ids(conn: &mut DbConnection, ids: &[i64]) -> DbResult<Vec<User>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(users::table.filter(super::in_ids(conn, "users.id", ids)).select(User::as_select()).load(conn)?)
}

pub struct UserChanges<'a> {
    pub email: &'a str,
    pub display_name: &'a str,
    pub role: &'a str,
    pub organization_id: Option<i64>,
    pub time_zone: &'a str,
    pub active: bool,
}

pub fn update(conn: &mut DbConnection, id: i64, c: &UserChanges<'_>, now: NaiveDateTime) -> DbResult<User> {
    Ok(diesel::update(users::table.find(id))
        .set((
            users::email.eq(c.email),
            users::display_name.eq(c.display_name),
            users::role.eq(c.role),
            users::organization_id.eq(c.organization_id),
            users::time_zone.eq(c.time_zone),
            users::active.eq(c.active),
            users::updated_at.eq(now),
        ))
        .returning(users::all_columns)
        .get_result(conn)?)
}

pub fn update_profile(
    conn: &mut DbConnection,
    id: i64,
    display_name: &str,
    time_zone: &str,
    now: NaiveDateTime,
) -> DbResult<()> {
    diesel::update(users::table.find(id))
        .set((users::display_name.eq(display_name), users::time_zone.eq(time_zone), users::updated_at.eq(now)))
        .execute(conn)?;
    Ok(())
}

pub fn set_password_hash(conn: &mut DbConnection, id: i64, hash: &str, now: NaiveDateTime) -> DbResult<()> {
    diesel::update(users::table.find(id))
        .set((users::password_hash.eq(Some(hash)), users::updated_at.eq(now)))
        .execute(conn)?;
    Ok(())
}

pub fn count_active_admins(conn: &mut DbConnection) -> DbResult<i64> {
    Ok(users::table.filter(users::role.eq("admin")).filter(users::active.eq(true)).count().get_result(conn)?)
}

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

/// Escapes LIKE wildcards so user text matches literally (used with `ESCAPE '\'`).
pub fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Active users holding one of the roles, by name (for assignment lists).
/// (id, display name) of active users with these roles, by name: the lists pages choose from.
pub fn names_with_roles(conn: &mut DbConnection, roles: &[&str], limit: i64) -> DbResult<Vec<(i64, String)>> {
    Ok(users::table
        .filter(users::role.eq_any(roles))
        .filter(users::active.eq(true))
        .select((users::id, users::display_name))
        .order((users::display_name.asc(), users::id.asc()))
        .limit(limit)
        .load(conn)?)
}

pub fn active_with_roles(conn: &mut DbConnection, roles: &[&str], limit: i64) -> DbResult<Vec<User>> {
    Ok(users::table
        .filter(users::role.eq_any(roles))
        .filter(users::active.eq(true))
        .select(User::as_select())
        .order((users::display_name.asc(), users::id.asc()))
        .limit(limit)
        .load(conn)?)
}
