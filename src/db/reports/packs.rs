//! Packed report facts (`fact_packs`): per kind and UTC day, the facts of every incident whose
//! moment of that kind falls on the day, in one row (`pack_codec`). Writing facts marks the
//! packs of the old and the new moments dirty; a reader rebuilds the dirty packs of its days
//! before it reads, so what it reads is exactly `incident_facts`.

use super::super::schema::{fact_packs, fact_packs_dirty, incident_facts};
use super::super::{DbConnection, DbResult};
use super::escalations::parse_moves;
use super::facts::FactRow;
use super::pack_codec::{self, Col, Fact, Pack};
use diesel::prelude::*;
use std::collections::BTreeSet;

const DAY: i64 = 86_400;

/// Which moment of a fact places it on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PackKind {
    Created = 0,
    FirstResolved = 1,
    /// Either SLA target's outcome moment (a fact is in the pack of each).
    SlaOutcome = 2,
    DoneSince = 3,
    /// Each tier move's moment (a fact is in the pack of each day it moved on).
    Moved = 4,
}

impl PackKind {
    fn from_i32(k: i32) -> Option<PackKind> {
        [PackKind::Created, PackKind::FirstResolved, PackKind::SlaOutcome, PackKind::DoneSince, PackKind::Moved]
            .into_iter()
            .find(|p| *p as i32 == k)
    }
}

/// The UTC day (days since 1970-01-01) of a Unix second.
pub fn day_of(s: i64) -> i64 {
    s.div_euclid(DAY)
}

/// The moments that place a fact in packs: (created, first resolved, first-response outcome,
/// resolution outcome, done since), and its tier moves (`FactRow::moves`).
pub type Anchors = (i64, Option<i64>, Option<i64>, Option<i64>, Option<i64>, String);

pub fn anchors_of(r: &FactRow) -> Anchors {
    (r.created_s, r.first_resolved_s, r.fr_outcome_s, r.res_outcome_s, r.done_since_s, r.moves.clone())
}

/// The packs a fact with these moments is in.
pub fn packs_of(a: &Anchors, out: &mut BTreeSet<(PackKind, i64)>) {
    out.insert((PackKind::Created, day_of(a.0)));
    let more = [
        (PackKind::FirstResolved, a.1),
        (PackKind::SlaOutcome, a.2),
        (PackKind::SlaOutcome, a.3),
        (PackKind::DoneSince, a.4),
    ];
    out.extend(more.into_iter().filter_map(|(k, t)| t.map(|t| (k, day_of(t)))));
    out.extend(parse_moves(&a.5).map(|m| (PackKind::Moved, day_of(m.at_s))));
}

/// The moments of the stored facts of `ids`.
pub fn stored_anchors(conn: &mut DbConnection, ids: &[i64]) -> DbResult<Vec<Anchors>> {
    Ok(incident_facts::table
        .filter(super::super::in_ids(conn, "incident_facts.incident_id", ids))
        .select((
            incident_facts::created_s,
            incident_facts::first_resolved_s,
            incident_facts::fr_outcome_s,
            incident_facts::res_outcome_s,
            incident_facts::done_since_s,
            incident_facts::moves,
        ))
        .load(conn)?)
}

/// Marks packs out of date.
pub fn mark_dirty(conn: &mut DbConnection, packs: &BTreeSet<(PackKind, i64)>) -> DbResult<()> {
    let rows: Vec<_> =
        packs.iter().map(|(k, d)| (fact_packs_dirty::kind.eq(*k as i32), fact_packs_dirty::day.eq(*d))).collect();
    for chunk in rows.chunks(400) {
        match &mut *conn {
            DbConnection::Sqlite(c) => {
                diesel::insert_or_ignore_into(fact_packs_dirty::table).values(chunk).execute(c)?
            }
            DbConnection::Pg(c) => {
                diesel::insert_into(fact_packs_dirty::table).values(chunk).on_conflict_do_nothing().execute(c)?
            }
        };
    }
    Ok(())
}

/// The facts whose moment of `kind` falls on `day`, by incident.
fn facts_on(conn: &mut DbConnection, kind: PackKind, day: i64) -> DbResult<Vec<FactRow>> {
    let (lo, hi) = (day * DAY, day * DAY + DAY);
    let q = incident_facts::table.select(FactRow::as_select()).order(incident_facts::incident_id).into_boxed();
    let q = match kind {
        PackKind::Created => q.filter(incident_facts::created_s.ge(lo).and(incident_facts::created_s.lt(hi))),
        PackKind::FirstResolved => {
            q.filter(incident_facts::first_resolved_s.ge(lo).and(incident_facts::first_resolved_s.lt(hi)))
        }
        PackKind::SlaOutcome => q.filter(
            incident_facts::fr_outcome_s
                .ge(lo)
                .and(incident_facts::fr_outcome_s.lt(hi))
                .or(incident_facts::res_outcome_s.ge(lo).and(incident_facts::res_outcome_s.lt(hi))),
        ),
        PackKind::DoneSince => q.filter(incident_facts::done_since_s.ge(lo).and(incident_facts::done_since_s.lt(hi))),
        PackKind::Moved => {
            // The incidents with a move that day, by the moves' time index; the pack holds the
            // facts whose own moves say so.
            use super::super::schema::escalations;
            let at = |s: i64| chrono::DateTime::from_timestamp(s, 0).map(|d| d.naive_utc()).unwrap_or_default();
            let moved = escalations::table
                .filter(escalations::at.ge(at(lo)).and(escalations::at.lt(at(hi))))
                .select(escalations::incident_id);
            let rows: Vec<FactRow> = q.filter(incident_facts::incident_id.eq_any(moved)).load(conn)?;
            return Ok(rows.into_iter().filter(|r| parse_moves(&r.moves).any(|m| day_of(m.at_s) == day)).collect());
        }
    };
    Ok(q.load(conn)?)
}

/// Rebuilds one pack in the caller's transaction, if it is still marked dirty (another instance
/// may have rebuilt it meanwhile).
fn rebuild(conn: &mut DbConnection, kind: PackKind, day: i64) -> DbResult<()> {
    let claimed = diesel::delete(
        fact_packs_dirty::table.filter(fact_packs_dirty::kind.eq(kind as i32)).filter(fact_packs_dirty::day.eq(day)),
    )
    .execute(conn)?;
    if claimed == 0 {
        return Ok(());
    }
    let rows = facts_on(conn, kind, day)?;
    let this = fact_packs::table.filter(fact_packs::kind.eq(kind as i32)).filter(fact_packs::day.eq(day));
    if rows.is_empty() {
        diesel::delete(this).execute(conn)?;
        return Ok(());
    }
    let bytes = pack_codec::encode(day * DAY, &rows);
    let row = (fact_packs::kind.eq(kind as i32), fact_packs::day.eq(day), fact_packs::facts.eq(&bytes));
    match &mut *conn {
        DbConnection::Sqlite(c) => diesel::replace_into(fact_packs::table).values(row).execute(c)?,
        DbConnection::Pg(c) => diesel::insert_into(fact_packs::table)
            .values(row)
            .on_conflict((fact_packs::kind, fact_packs::day))
            .do_update()
            .set(fact_packs::facts.eq(&bytes))
            .execute(c)?,
    };
    Ok(())
}

/// Runs `f` in a write transaction, or in a savepoint of the caller's.
fn in_transaction(conn: &mut DbConnection, f: impl FnOnce(&mut DbConnection) -> DbResult<()>) -> DbResult<()> {
    use diesel::connection::TransactionManager;
    type Tm = <DbConnection as Connection>::TransactionManager;
    let open = Tm::transaction_manager_status_mut(conn).transaction_depth().ok().flatten().is_some();
    if open { conn.transaction(f) } else { super::super::write_transaction(conn, f) }
}

/// Rebuilds up to `limit` dirty packs, each in its own transaction; returns how many.
pub fn rebuild_dirty(conn: &mut DbConnection, limit: i64) -> DbResult<usize> {
    let dirty: Vec<(i32, i64)> = fact_packs_dirty::table
        .select((fact_packs_dirty::kind, fact_packs_dirty::day))
        .order((fact_packs_dirty::day.desc(), fact_packs_dirty::kind))
        .limit(limit)
        .load(conn)?;
    for (k, day) in &dirty {
        match PackKind::from_i32(*k) {
            Some(kind) => in_transaction(conn, |c| rebuild(c, kind, *day))?,
            None => {
                diesel::delete(fact_packs_dirty::table.filter(fact_packs_dirty::kind.eq(k))).execute(conn)?;
            }
        }
    }
    Ok(dirty.len())
}

/// What `pick` makes of the facts in the packs of `kind` for days `first..=last` (each with
/// its pack's day), after rebuilding the dirty ones among them. Only the columns `want` (and
/// the id and creation moment) are decoded; only what `pick` keeps is built.
pub fn pick_facts<T>(
    conn: &mut DbConnection,
    kind: PackKind,
    (first, last): (i64, i64),
    want: &[Col],
    mut pick: impl FnMut(i64, Fact) -> Option<T>,
) -> DbResult<Vec<T>> {
    let dirty: Vec<i64> = fact_packs_dirty::table
        .filter(fact_packs_dirty::kind.eq(kind as i32))
        .filter(fact_packs_dirty::day.between(first, last))
        .select(fact_packs_dirty::day)
        .load(conn)?;
    for day in dirty {
        in_transaction(conn, |c| rebuild(c, kind, day))?;
    }
    let packs: Vec<(i64, Vec<u8>)> = fact_packs::table
        .filter(fact_packs::kind.eq(kind as i32))
        .filter(fact_packs::day.between(first, last))
        .select((fact_packs::day, fact_packs::facts))
        .order(fact_packs::day)
        .load(conn)?;
    let parsed: Vec<(i64, Option<Pack>)> =
        packs.iter().map(|(day, bytes)| (*day, Pack::parse(day * DAY, bytes))).collect();
    let mut out = Vec::with_capacity(parsed.iter().filter_map(|(_, p)| p.as_ref().map(Pack::len)).sum());
    for (day, pack) in parsed {
        match pack.and_then(|p| p.columns(want)) {
            Some(cols) => out.extend(cols.facts().filter_map(|f| pick(day, f))),
            None => {
                // Not a pack this version reads: built again from the facts, read from those.
                tracing::warn!(kind = ?kind, day, "report fact pack unreadable; rebuilding it");
                mark_dirty(conn, &BTreeSet::from([(kind, day)]))?;
                in_transaction(conn, |c| rebuild(c, kind, day))?;
                let fresh = pack_codec::encode(day * DAY, &facts_on(conn, kind, day)?);
                if let Some(cols) = Pack::parse(day * DAY, &fresh).and_then(|p| p.columns(want)) {
                    out.extend(cols.facts().filter_map(|f| pick(day, f)));
                }
            }
        }
    }
    Ok(out)
}

/// How many packs wait to be rebuilt.
pub fn dirty_packs(conn: &mut DbConnection) -> DbResult<i64> {
    Ok(fact_packs_dirty::table.count().get_result(conn)?)
}
