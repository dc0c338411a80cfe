//! Escalation rows for the escalation report.

use super::super::schema::escalations;
use super::super::{DbConnection, DbResult};
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = escalations)]
pub struct EscalationRow {
    pub id: i64,
    pub incident_id: i64,
    pub at: NaiveDateTime,
    pub from_tier_id: i64,
    pub to_tier_id: i64,
    pub reason_code: String,
    pub automatic: bool,
}

/// Every tier move of these incidents, in time order.
pub fn escalations_of(conn: &mut DbConnection, ids: &[i64]) -> DbResult<Vec<EscalationRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(escalations::table
        .filter(super::super::in_ids(conn, "escalations.incident_id", ids))
        .order((escalations::at.asc(), escalations::id.asc()))
        .select(EscalationRow::as_select())
        .load(conn)?)
}

/// Incidents moved to a higher tier at least once.
pub fn escalated_ids(conn: &mut DbConnection) -> DbResult<Vec<i64>> {
    let position: std::collections::HashMap<i64, i32> =
        super::super::tiers::all(conn)?.into_iter().map(|t| (t.id, t.position)).collect();
    let moves: Vec<(i64, i64, i64)> = escalations::table
        .select((escalations::incident_id, escalations::from_tier_id, escalations::to_tier_id))
        .load(conn)?;
    let pos = |id: i64| position.get(&id).copied().unwrap_or(0);
    let mut ids: Vec<i64> = moves.into_iter().filter(|(_, f, t)| pos(*t) > pos(*f)).map(|(i, _, _)| i).collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// One tier move as the facts keep it (`FactRow::moves`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Move<'a> {
    /// When, in whole Unix seconds (interval bounds are whole seconds).
    pub at_s: i64,
    pub from_tier_id: i64,
    pub to_tier_id: i64,
    pub automatic: bool,
    pub reason_code: &'a str,
}

/// An incident's moves (in time order) as the facts keep them: "at:from:to:automatic:reason",
/// joined by ";". Reason codes are words; a separator in one would be a bug, so it is dropped.
pub fn encode_moves(moves: &[&EscalationRow]) -> String {
    let mut out = String::new();
    for (i, m) in moves.iter().enumerate() {
        if i > 0 {
            out.push(';');
        }
        let reason: String = m.reason_code.chars().filter(|c| *c != ';').collect();
        let at = m.at.and_utc().timestamp();
        out.push_str(&format!("{at}:{}:{}:{}:{reason}", m.from_tier_id, m.to_tier_id, u8::from(m.automatic)));
    }
    out
}

/// The moves `encode_moves` wrote; a damaged entry is skipped.
pub fn parse_moves(s: &str) -> impl Iterator<Item = Move<'_>> {
    s.split(';').filter_map(|m| {
        let mut p = m.splitn(5, ':');
        Some(Move {
            at_s: p.next()?.parse().ok()?,
            from_tier_id: p.next()?.parse().ok()?,
            to_tier_id: p.next()?.parse().ok()?,
            automatic: p.next()? == "1",
            reason_code: p.next()?,
        })
    })
}

/// A tier move with the groups of its incident (from the report facts).
#[derive(Debug, Clone)]
pub struct MoveRow {
    pub incident_id: i64,
    /// When, in whole Unix seconds.
    pub at_s: i64,
    pub from_tier_id: i64,
    pub to_tier_id: i64,
    pub reason_code: String,
    pub automatic: bool,
    pub service_id: i64,
    pub organization_id: Option<i64>,
}

/// Tier moves (up or down) made in [from, to) (Unix seconds) of incidents that pass the
/// filter, in time order: read from the packs of the days they were made on.
pub fn moves_between(conn: &mut DbConnection, from: i64, to: i64, f: &super::Filter) -> DbResult<Vec<MoveRow>> {
    use super::pack_codec::Col;
    use super::packs::{PackKind, day_of, pick_facts};
    if from >= to {
        return Ok(Vec::new());
    }
    let want: Vec<Col> = [Col::Moves].iter().chain(&super::facts::FILTER).copied().collect();
    let mut out = Vec::new();
    pick_facts(conn, PackKind::Moved, (day_of(from), day_of(to - 1)), &want, |day, r| {
        if !super::facts::passes(f, &r) {
            return None;
        }
        // A fact is in the pack of every day it moved on: each move is read on its own day.
        let on = parse_moves(r.str(Col::Moves)).filter(|m| day_of(m.at_s) == day && from <= m.at_s && m.at_s < to);
        out.extend(on.map(|m| MoveRow {
            incident_id: r.id(),
            at_s: m.at_s,
            from_tier_id: m.from_tier_id,
            to_tier_id: m.to_tier_id,
            reason_code: m.reason_code.to_string(),
            automatic: m.automatic,
            service_id: r.int(Col::Service),
            organization_id: r.opt(Col::Organization),
        }));
        None::<()>
    })?;
    out.sort_by_key(|m| (m.at_s, m.incident_id));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// What the facts keep of the moves reads back as the moves.
        #[test]
        fn moves_round_trip(
            moves in proptest::collection::vec((0i64..4_000_000_000, 1i64..1000, 1i64..1000, any::<bool>(), "[a-z_:]{1,20}"), 0..8),
        ) {
            let rows: Vec<EscalationRow> = moves
                .iter()
                .enumerate()
                .map(|(i, (at, from, to, automatic, reason))| EscalationRow {
                    id: i as i64,
                    incident_id: 7,
                    at: chrono::DateTime::from_timestamp(*at, 0).map(|d| d.naive_utc()).unwrap_or_default(),
                    from_tier_id: *from,
                    to_tier_id: *to,
                    reason_code: reason.clone(),
                    automatic: *automatic,
                })
                .collect();
            let text = encode_moves(&rows.iter().collect::<Vec<_>>());
            let back: Vec<Move> = parse_moves(&text).collect();
            let want: Vec<Move> = moves
                .iter()
                .map(|(at, from, to, automatic, reason)| Move {
                    at_s: *at,
                    from_tier_id: *from,
                    to_tier_id: *to,
                    automatic: *automatic,
                    reason_code: reason,
                })
                .collect();
            prop_assert_eq!(back, want);
        }

        /// Damaged text reads as fewer moves, never a panic.
        #[test]
        fn damaged_moves_do_not_panic(s in "\\PC{0,60}") {
            let _ = parse_moves(&s).count();
        }
    }
}
