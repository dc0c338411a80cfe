//! Inbound mail: one row per Message-ID, so the same message delivered twice is taken once.

use super::models::InboundMessage;
use super::schema::{comments, inbound_messages, outbox};
use super::{DbConnection, DbResult};
use chrono::NaiveDateTime;
use diesel::prelude::*;

pub struct NewInbound<'a> {
    pub message_id: &'a str,
    pub from_address: &'a str,
    pub from_name: &'a str,
    pub subject: &'a str,
    pub status: &'a str,
    pub outcome: &'a str,
    pub reason: &'a str,
    pub incident_id: Option<i64>,
    pub comment_id: Option<i64>,
    /// Kept for messages someone may still act on.
    pub raw: Option<&'a [u8]>,
    pub now: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, m: &NewInbound<'_>) -> DbResult<i64> {
    Ok(diesel::insert_into(inbound_messages::table)
        .values((
            inbound_messages::received_at.eq(m.now),
            inbound_messages::message_id.eq(m.message_id),
            inbound_messages::from_address.eq(m.from_address),
            inbound_messages::from_name.eq(m.from_name),
            inbound_messages::subject.eq(m.subject),
            inbound_messages::status.eq(m.status),
            inbound_messages::outcome.eq(m.outcome),
            inbound_messages::reason.eq(m.reason),
            inbound_messages::incident_id.eq(m.incident_id),
            inbound_messages::comment_id.eq(m.comment_id),
            inbound_messages::raw.eq(m.raw),
        ))
        .returning(inbound_messages::id)
        .get_result(conn)?)
}

pub fn exists(conn: &mut DbConnection, message_id: &str) -> DbResult<bool> {
    Ok(diesel::select(diesel::dsl::exists(inbound_messages::table.filter(inbound_messages::message_id.eq(message_id))))
        .get_result(conn)?)
}

pub fn find(conn: &mut DbConnection, id: i64) -> DbResult<InboundMessage> {
    Ok(inbound_messages::table.find(id).select(InboundMessage::as_select()).first(conn)?)
}

pub fn raw(conn: &mut DbConnection, id: i64) -> DbResult<Option<Vec<u8>>> {
    let (stored, encoding): (Option<Vec<u8>>, String) =
        inbound_messages::table.find(id).select((inbound_messages::raw, inbound_messages::raw_encoding)).first(conn)?;
    stored.map(|s| decode(s, &encoding)).transpose()
}

/// The messages filed on an incident whose original is still kept, oldest first.
pub fn originals_for(conn: &mut DbConnection, incident_id: i64) -> DbResult<Vec<InboundMessage>> {
    Ok(inbound_messages::table
        .filter(inbound_messages::incident_id.eq(incident_id))
        .filter(inbound_messages::raw.is_not_null())
        .order(inbound_messages::id.asc())
        .limit(500)
        .select(InboundMessage::as_select())
        .load(conn)?)
}

/// Newest first, optionally one status, before an id (keyset pagination).
pub fn list(
    conn: &mut DbConnection,
    status: Option<&str>,
    before: Option<i64>,
    limit: i64,
) -> DbResult<Vec<InboundMessage>> {
    let mut q = inbound_messages::table.select(InboundMessage::as_select()).into_boxed();
    if let Some(s) = status {
        q = q.filter(inbound_messages::status.eq(s.to_string()));
    }
    if let Some(b) = before {
        q = q.filter(inbound_messages::id.lt(b));
    }
    Ok(q.order(inbound_messages::id.desc()).limit(limit).load(conn)?)
}

pub fn count_status(conn: &mut DbConnection, status: &str) -> DbResult<i64> {
    Ok(inbound_messages::table.filter(inbound_messages::status.eq(status)).count().get_result(conn)?)
}

/// Records what became of a freshly received message.
#[allow(clippy::too_many_arguments)]
pub fn record_fate(
    conn: &mut DbConnection,
    id: i64,
    status: &str,
    outcome: &str,
    reason: &str,
    incident_id: Option<i64>,
    comment_id: Option<i64>,
    raw: Option<&[u8]>,
) -> DbResult<()> {
    diesel::update(inbound_messages::table.find(id))
        .set((
            inbound_messages::status.eq(status),
            inbound_messages::outcome.eq(outcome),
            inbound_messages::reason.eq(reason),
            inbound_messages::incident_id.eq(incident_id),
            inbound_messages::comment_id.eq(comment_id),
            inbound_messages::raw.eq(raw.map(compress)),
            inbound_messages::raw_encoding.eq(if raw.is_some() { "zstd" } else { "plain" }),
        ))
        .execute(conn)?;
    Ok(())
}

/// Mail compresses about fivefold; level 3 is zstd's default balance of speed and size.
fn compress(raw: &[u8]) -> Vec<u8> {
    zstd::bulk::compress(raw, 3).unwrap_or_else(|_| raw.to_vec())
}

/// The stored bytes as received. Rows written before compression (and a row that failed to
/// compress) are plain.
fn decode(stored: Vec<u8>, encoding: &str) -> DbResult<Vec<u8>> {
    if encoding != "zstd" {
        return Ok(stored);
    }
    zstd::stream::decode_all(stored.as_slice()).map_err(|e| super::DbError::Corrupt(format!("stored mail: {e}")))
}

/// Records what an admin did with a message in review; the raw copy is dropped once handled.
#[allow(clippy::too_many_arguments)]
pub fn settle(
    conn: &mut DbConnection,
    id: i64,
    status: &str,
    outcome: &str,
    incident_id: Option<i64>,
    comment_id: Option<i64>,
    by: i64,
    now: NaiveDateTime,
) -> DbResult<()> {
    diesel::update(inbound_messages::table.find(id))
        .set((
            inbound_messages::status.eq(status),
            inbound_messages::outcome.eq(outcome),
            inbound_messages::incident_id.eq(incident_id),
            inbound_messages::comment_id.eq(comment_id),
            inbound_messages::handled_by.eq(Some(by)),
            inbound_messages::handled_at.eq(Some(now)),
        ))
        .execute(conn)?;
    // An accepted message keeps its original (for the incident's staff); a dismissed one has
    // nothing left to act on.
    if status != "accepted" {
        diesel::update(inbound_messages::table.find(id))
            .set(inbound_messages::raw.eq(None::<Vec<u8>>))
            .execute(conn)?;
    }
    Ok(())
}

/// Earlier inbound messages among `message_ids` that were filed: (Message-ID, incident, whether
/// the comment they became is internal; None when they became the incident itself). The caller
/// bounds the list.
pub fn filed_among(conn: &mut DbConnection, message_ids: &[String]) -> DbResult<Vec<(String, i64, Option<bool>)>> {
    if message_ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(String, Option<i64>, Option<bool>)> = inbound_messages::table
        .left_join(comments::table.on(comments::id.nullable().eq(inbound_messages::comment_id)))
        .filter(inbound_messages::message_id.eq_any(message_ids))
        .filter(inbound_messages::incident_id.is_not_null())
        .select((inbound_messages::message_id, inbound_messages::incident_id, comments::internal.nullable()))
        .load(conn)?;
    Ok(rows.into_iter().filter_map(|(m, i, internal)| Some((m, i?, internal))).collect())
}

/// Our own outgoing mails among `message_ids` (with angle brackets): (Message-ID, incident,
/// kind). The caller bounds the list.
pub fn sent_among(conn: &mut DbConnection, message_ids: &[String]) -> DbResult<Vec<(String, i64, String)>> {
    if message_ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(String, Option<i64>, String)> = outbox::table
        .filter(outbox::message_id.eq_any(message_ids))
        .filter(outbox::incident_id.is_not_null())
        .select((outbox::message_id, outbox::incident_id, outbox::kind))
        .load(conn)?;
    Ok(rows.into_iter().filter_map(|(m, i, k)| Some((m, i?, k))).collect())
}

/// Whether a Message-ID (with angle brackets) is one we sent.
pub fn is_ours(conn: &mut DbConnection, message_id: &str) -> DbResult<bool> {
    Ok(diesel::select(diesel::dsl::exists(outbox::table.filter(outbox::message_id.eq(message_id)))).get_result(conn)?)
}

/// Drops the raw bytes of messages of these statuses received before `cutoff`.
pub fn forget_raw_before(conn: &mut DbConnection, statuses: &[&str], cutoff: NaiveDateTime) -> DbResult<usize> {
    Ok(diesel::update(
        inbound_messages::table
            .filter(inbound_messages::status.eq_any(statuses))
            .filter(inbound_messages::received_at.lt(cutoff))
            .filter(inbound_messages::raw.is_not_null()),
    )
    .set(inbound_messages::raw.eq(None::<Vec<u8>>))
    .execute(conn)?)
}
