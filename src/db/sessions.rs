use super::models::{Session, User};
use super::schema::{sessions, users};
use super::{DbConnection, DbResult};
use chrono::NaiveDateTime;
use diesel::prelude::*;

pub fn insert(
    conn: &mut DbConnection,
    token_hash: &str,
    user_id: i64,
    ip: &str,
    user_agent: &str,
    now: NaiveDateTime,
) -> DbResult<Session> {
    Ok(diesel::insert_into(sessions::table)
        .values((
            sessions::token_hash.eq(token_hash),
            sessions::user_id.eq(user_id),
            sessions::created_at.eq(now),
            sessions::last_seen_at.eq(now),
            sessions::ip.eq(ip),
            sessions::user_agent.eq(user_agent),
        ))
        .returning(sessions::all_columns)
        .get_result(conn)?)
}

/// The session with this token hash and its user, in one query.
pub fn find_with_user(conn: &mut DbConnection, token_hash: &str) -> DbResult<Option<(Session, User)>> {
    Ok(sessions::table
        .inner_join(users::table)
        .filter(sessions::token_hash.eq(token_hash))
        .select((Session::as_select(), User::as_select()))
        .first(conn)
        .optional()?)
}

pub fn touch(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> DbResult<()> {
    diesel::update(sessions::table.find(id)).set(sessions::last_seen_at.eq(now)).execute(conn)?;
    Ok(())
}

pub fn delete(conn: &mut DbConnection, id: i64) -> DbResult<usize> {
    Ok(diesel::delete(sessions::table.find(id)).execute(conn)?)
}

pub fn find(conn: &mut DbConnection, id: i64) -> DbResult<Option<Session>> {
    Ok(sessions::table.find(id).select(Session::as_select()).first(conn).optional()?)
}

pub fn list_for_user(conn: &mut DbConnection, user_id: i64) -> DbResult<Vec<Session>> {
    Ok(sessions::table
        .filter(sessions::user_id.eq(user_id))
        .order(sessions::last_seen_at.desc())
        .select(Session::as_select())
        .load(conn)?)
}

pub fn delete_for_user(conn: &mut DbConnection, user_id: i64, except: Option<i64>) -> DbResult<usize> {
    let q = sessions::table.filter(sessions::user_id.eq(user_id));
    Ok(match except {
        Some(keep) => diesel::delete(q.filter(sessions::id.ne(keep))).execute(conn)?,
        None => diesel::delete(q).execute(conn)?,
    })
}
