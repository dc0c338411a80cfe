//! The outbox: notifications written in the same transaction as the change that causes them,
//! delivered later by the mail job. A message is claimed before sending, so two instances never
//! send the same row at once; a process that dies mid-send leaves it `sending`, and it is
//! retried once its claim expires (at least once; the Message-ID stays the same).

use super::models::OutboxMessage;
use super::schema::outbox;
use super::{DbConnection, DbResult};
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

pub struct NewMessage<'a> {
    pub kind: &'a str,
    /// "queued", or "held" for the recipient's daily digest.
    pub status: &'a str,
    pub user_id: Option<i64>,
    pub incident_id: Option<i64>,
    pub to_address: &'a str,
    pub to_name: &'a str,
    pub subject: &'a str,
    pub body_text: &'a str,
    pub body_html: &'a str,
    pub message_id: &'a str,
    pub in_reply_to: &'a str,
    /// auto-generated, or auto-replied when an incoming mail caused it.
    pub auto_submitted: &'a str,
    pub now: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, m: &NewMessage<'_>) -> DbResult<()> {
    diesel::insert_into(outbox::table)
        .values((
            outbox::created_at.eq(m.now),
            outbox::kind.eq(m.kind),
            outbox::auto_submitted.eq(m.auto_submitted),
            outbox::user_id.eq(m.user_id),
            outbox::incident_id.eq(m.incident_id),
            outbox::to_address.eq(m.to_address),
            outbox::to_name.eq(m.to_name),
            outbox::subject.eq(m.subject),
            outbox::body_text.eq(m.body_text),
            outbox::body_html.eq(m.body_html),
            outbox::message_id.eq(m.message_id),
            outbox::in_reply_to.eq(m.in_reply_to),
            outbox::status.eq(m.status),
            outbox::attempts.eq(0),
            outbox::next_attempt_at.eq(m.now),
        ))
        .execute(conn)?;
    Ok(())
}

/// How long a claim holds before another delivery run may take the message again. The job
/// renews the claims on the rest of its batch before each message (`renew_claims`), so a claim
/// only has to outlast one message: a connection and each SMTP command may each wait 20 s, about
/// three minutes at worst, and fifteen minutes is five times that.
pub const CLAIM_MINUTES: i64 = 15;

/// When a claim taken or renewed at `now` runs out.
pub fn claim_until(now: NaiveDateTime) -> NaiveDateTime {
    now + Duration::minutes(CLAIM_MINUTES)
}

/// Claims up to `limit` messages that are due: queued ones whose time has come, and `sending`
/// ones whose claim expired. Returns the claimed rows; their `next_attempt_at` is the claim's
/// end, which `renew_claims` takes as proof that the claim is still this run's.
pub fn claim_due(conn: &mut DbConnection, now: NaiveDateTime, limit: i64) -> DbResult<Vec<OutboxMessage>> {
    super::write_transaction(conn, |conn| {
        let due = outbox::table
            .filter(outbox::status.eq_any(["queued", "sending"]))
            .filter(outbox::next_attempt_at.le(now))
            .order((outbox::next_attempt_at.asc(), outbox::id.asc()))
            .limit(limit)
            .select(outbox::id);
        let ids: Vec<i64> = match conn {
            DbConnection::Pg(c) => due.for_update().skip_locked().load(c)?,
            DbConnection::Sqlite(c) => due.load(c)?,
        };
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        diesel::update(outbox::table.filter(outbox::id.eq_any(&ids)))
            .set((outbox::status.eq("sending"), outbox::next_attempt_at.eq(claim_until(now))))
            .execute(conn)?;
        Ok(outbox::table
            .filter(outbox::id.eq_any(&ids))
            .order(outbox::id.asc())
            .select(OutboxMessage::as_select())
            .load(conn)?)
    })
}

/// Extends this run's claims on `ids` (which end at `held_until`, as `claim_due` or the last
/// renewal left them) to `until`, and returns the ids still held. A message whose claim ran out
/// and was taken by another run ends at another time, so it is left out (and to that run).
pub fn renew_claims(
    conn: &mut DbConnection,
    ids: &[i64],
    held_until: NaiveDateTime,
    until: NaiveDateTime,
) -> DbResult<Vec<i64>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(diesel::update(
        outbox::table
            .filter(outbox::id.eq_any(ids))
            .filter(outbox::status.eq("sending"))
            .filter(outbox::next_attempt_at.eq(held_until)),
    )
    .set(outbox::next_attempt_at.eq(until))
    .returning(outbox::id)
    .get_results(conn)?)
}

pub fn mark_sent(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> DbResult<()> {
    diesel::update(outbox::table.find(id))
        .set((outbox::status.eq("sent"), outbox::sent_at.eq(Some(now)), outbox::attempts.eq(outbox::attempts + 1)))
        .execute(conn)?;
    Ok(())
}

/// A failed attempt: try again at `next`, or give up (`next` None).
pub fn mark_attempt_failed(conn: &mut DbConnection, id: i64, error: &str, next: Option<NaiveDateTime>) -> DbResult<()> {
    let status = if next.is_some() { "queued" } else { "failed" };
    let error: String = error.chars().take(500).collect();
    let q = diesel::update(outbox::table.find(id));
    match next {
        Some(at) => q
            .set((
                outbox::status.eq(status),
                outbox::last_error.eq(error),
                outbox::attempts.eq(outbox::attempts + 1),
                outbox::next_attempt_at.eq(at),
            ))
            .execute(conn)?,
        None => q
            .set((outbox::status.eq(status), outbox::last_error.eq(error), outbox::attempts.eq(outbox::attempts + 1)))
            .execute(conn)?,
    };
    Ok(())
}

/// Puts a failed message back in the queue.
pub fn retry(conn: &mut DbConnection, id: i64, now: NaiveDateTime) -> DbResult<bool> {
    let n = diesel::update(outbox::table.find(id).filter(outbox::status.eq("failed")))
        .set((outbox::status.eq("queued"), outbox::next_attempt_at.eq(now), outbox::created_at.eq(now)))
        .execute(conn)?;
    Ok(n == 1)
}

/// Newest first, optionally one status, keyset before (created_at, id).
pub fn list(
    conn: &mut DbConnection,
    status: Option<&str>,
    before: Option<(NaiveDateTime, i64)>,
    limit: i64,
) -> DbResult<Vec<OutboxMessage>> {
    let mut q = outbox::table.select(OutboxMessage::as_select()).into_boxed();
    if let Some(s) = status {
        q = q.filter(outbox::status.eq(s.to_string()));
    }
    if let Some((at, id)) = before {
        q = q.filter(outbox::created_at.lt(at).or(outbox::created_at.eq(at).and(outbox::id.lt(id))));
    }
    Ok(q.order((outbox::created_at.desc(), outbox::id.desc())).limit(limit).load(conn)?)
}

pub fn find(conn: &mut DbConnection, id: i64) -> DbResult<OutboxMessage> {
    Ok(outbox::table.find(id).select(OutboxMessage::as_select()).first(conn)?)
}

/// (user, kind, mode) for the given users: who wants what how.
pub fn prefs_for(conn: &mut DbConnection, user_ids: &[i64]) -> DbResult<Vec<(i64, String, String)>> {
    use super::schema::notification_prefs as p;
    Ok(p::table.filter(p::user_id.eq_any(user_ids)).select((p::user_id, p::kind, p::mode)).load(conn)?)
}

pub fn set_pref(conn: &mut DbConnection, user_id: i64, kind: &str, mode: &str) -> DbResult<()> {
    use super::schema::notification_prefs as p;
    diesel::delete(p::table.filter(p::user_id.eq(user_id)).filter(p::kind.eq(kind))).execute(conn)?;
    if mode != "immediate" {
        diesel::insert_into(p::table)
            .values((p::user_id.eq(user_id), p::kind.eq(kind), p::mode.eq(mode)))
            .execute(conn)?;
    }
    Ok(())
}

/// Users with notifications held for their digest.
pub fn users_with_held(conn: &mut DbConnection) -> DbResult<Vec<i64>> {
    Ok(outbox::table
        .filter(outbox::status.eq("held"))
        .filter(outbox::user_id.is_not_null())
        .select(outbox::user_id.assume_not_null())
        .distinct()
        .load(conn)?)
}

/// The user's held notifications created before `cutoff`.
pub fn held_for(conn: &mut DbConnection, user_id: i64, cutoff: NaiveDateTime) -> DbResult<Vec<OutboxMessage>> {
    Ok(outbox::table
        .filter(outbox::status.eq("held"))
        .filter(outbox::user_id.eq(user_id))
        .filter(outbox::created_at.lt(cutoff))
        .order(outbox::id.asc())
        .select(OutboxMessage::as_select())
        .load(conn)?)
}

pub fn mark_digested(conn: &mut DbConnection, ids: &[i64]) -> DbResult<()> {
    diesel::update(outbox::table.filter(outbox::id.eq_any(ids))).set(outbox::status.eq("digested")).execute(conn)?;
    Ok(())
}

pub fn last_digest(conn: &mut DbConnection, user_id: i64) -> DbResult<Option<chrono::NaiveDate>> {
    use super::schema::digest_runs as d;
    Ok(d::table.find(user_id).select(d::last_date).first(conn).optional()?)
}

pub fn set_last_digest(conn: &mut DbConnection, user_id: i64, day: chrono::NaiveDate) -> DbResult<()> {
    use super::schema::digest_runs as d;
    diesel::delete(d::table.find(user_id)).execute(conn)?;
    diesel::insert_into(d::table).values((d::user_id.eq(user_id), d::last_date.eq(day))).execute(conn)?;
    Ok(())
}

/// Users who chose this mode for this kind.
pub fn users_with_pref(conn: &mut DbConnection, kind: &str, mode: &str) -> DbResult<Vec<i64>> {
    use super::schema::notification_prefs as p;
    Ok(p::table.filter(p::kind.eq(kind)).filter(p::mode.eq(mode)).select(p::user_id).load(conn)?)
}

/// The Monday of the last weekly report summary mailed to the user.
pub fn last_report_mail(conn: &mut DbConnection, user_id: i64) -> DbResult<Option<chrono::NaiveDate>> {
    use super::schema::report_mail_runs as r;
    Ok(r::table.find(user_id).select(r::last_date).first(conn).optional()?)
}

pub fn set_last_report_mail(conn: &mut DbConnection, user_id: i64, day: chrono::NaiveDate) -> DbResult<()> {
    use super::schema::report_mail_runs as r;
    diesel::delete(r::table.find(user_id)).execute(conn)?;
    diesel::insert_into(r::table).values((r::user_id.eq(user_id), r::last_date.eq(day))).execute(conn)?;
    Ok(())
}
