use super::schema::setup_tokens;
use super::{DbConnection, DbResult};
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// Replaces any unused setup token with a new one: only the link printed last works.
pub fn replace(conn: &mut DbConnection, token_hash: &str, now: NaiveDateTime) -> DbResult<()> {
    super::write_transaction(conn, |conn| {
        diesel::delete(setup_tokens::table.filter(setup_tokens::used_at.is_null())).execute(conn)?;
        diesel::insert_into(setup_tokens::table)
            .values((setup_tokens::token_hash.eq(token_hash), setup_tokens::created_at.eq(now)))
            .execute(conn)?;
        Ok(())
    })
}

pub fn is_valid(conn: &mut DbConnection, token_hash: &str) -> DbResult<bool> {
    let n: i64 = setup_tokens::table
        .filter(setup_tokens::token_hash.eq(token_hash))
        .filter(setup_tokens::used_at.is_null())
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Marks the token used; returns false when it was not (or no longer) valid.
pub fn consume(conn: &mut DbConnection, token_hash: &str, now: NaiveDateTime) -> DbResult<bool> {
    let n = diesel::update(
        setup_tokens::table.filter(setup_tokens::token_hash.eq(token_hash)).filter(setup_tokens::used_at.is_null()),
    )
    .set(setup_tokens::used_at.eq(Some(now)))
    .execute(conn)?;
    Ok(n == 1)
}
