use super::schema::{account_lockouts, login_failures};
use super::{DbConnection, DbResult};
use chrono::NaiveDateTime;
use diesel::prelude::*;

pub fn record_failure(conn: &mut DbConnection, email: &str, ip: &str, now: NaiveDateTime) -> DbResult<()> {
    diesel::insert_into(login_failures::table)
        .values((login_failures::email.eq(email), login_failures::ip.eq(ip), login_failures::at.eq(now)))
        .execute(conn)?;
    Ok(())
}

pub fn failures_for_email_since(conn: &mut DbConnection, email: &str, since: NaiveDateTime) -> DbResult<i64> {
    Ok(login_failures::table
        .filter(login_failures::email.eq(email))
        .filter(login_failures::at.gt(since))
        .count()
        .get_result(conn)?)
}

pub fn failures_for_ip_since(conn: &mut DbConnection, ip: &str, since: NaiveDateTime) -> DbResult<i64> {
    Ok(login_failures::table
        .filter(login_failures::ip.eq(ip))
        .filter(login_failures::at.gt(since))
        .count()
        .get_result(conn)?)
}

pub fn locked_until(conn: &mut DbConnection, email: &str) -> DbResult<Option<NaiveDateTime>> {
    Ok(account_lockouts::table.find(email).select(account_lockouts::locked_until).first(conn).optional()?)
}

pub fn lock(conn: &mut DbConnection, email: &str, until: NaiveDateTime) -> DbResult<()> {
    diesel::delete(account_lockouts::table.find(email)).execute(conn)?;
    diesel::insert_into(account_lockouts::table)
        .values((account_lockouts::email.eq(email), account_lockouts::locked_until.eq(until)))
        .execute(conn)?;
    Ok(())
}

/// A successful login forgets the account's failures and lockout.
pub fn clear(conn: &mut DbConnection, email: &str) -> DbResult<()> {
    diesel::delete(login_failures::table.filter(login_failures::email.eq(email))).execute(conn)?;
    diesel::delete(account_lockouts::table.find(email)).execute(conn)?;
    Ok(())
}
