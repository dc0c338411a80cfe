//! The byte layout of a fact pack: a version byte, the number of facts, then each fact as
//! variable-length integers. Ids are stored as the step from the previous fact's id, the
//! creation moment from the pack's day, every other moment from the creation moment, so a fact
//! takes some forty bytes instead of the row's two hundred.

use super::facts::FactRow;

const VERSION: u8 = 1;

struct Writer(Vec<u8>);

impl Writer {
    fn unsigned(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }
    fn int(&mut self, v: i64) {
        self.unsigned(((v << 1) ^ (v >> 63)) as u64);
    }
    /// None as 0, a value as its zigzag step from `base` plus one.
    fn opt(&mut self, v: Option<i64>, base: i64) {
        match v {
            None => self.unsigned(0),
            Some(v) => {
                let d = v.wrapping_sub(base);
                self.unsigned((((d << 1) ^ (d >> 63)) as u64).wrapping_add(1));
            }
        }
    }
    fn text(&mut self, s: &str) {
        self.unsigned(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn unsigned(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.bytes.get(self.at)?;
            self.at += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Some(v);
            }
        }
        None
    }
    fn int(&mut self) -> Option<i64> {
        let u = self.unsigned()?;
        Some((u >> 1) as i64 ^ -((u & 1) as i64))
    }
    fn opt(&mut self, base: i64) -> Option<Option<i64>> {
        match self.unsigned()? {
            0 => Some(None),
            u => {
                let u = u - 1;
                Some(Some(base.wrapping_add((u >> 1) as i64 ^ -((u & 1) as i64))))
            }
        }
    }
    /// A text's bytes, checked as UTF-8 only where it is used (`FactRef::text`).
    fn text(&mut self) -> Option<&'a [u8]> {
        let len = usize::try_from(self.unsigned()?).ok()?;
        let end = self.at.checked_add(len)?;
        let s = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(s)
    }
}

/// The facts of one pack, `rows` sorted by incident, `day_start` the first second of its day.
pub fn encode(day_start: i64, rows: &[FactRow]) -> Vec<u8> {
    let mut w = Writer(Vec::with_capacity(rows.len() * 48 + 8));
    w.0.push(VERSION);
    w.unsigned(rows.len() as u64);
    let mut previous = 0;
    for r in rows {
        let c = r.created_s;
        w.int(r.incident_id - previous);
        previous = r.incident_id;
        w.int(c - day_start);
        for t in [r.acknowledged_s, r.first_resolved_s, r.reopened_s, r.done_since_s] {
            w.opt(t, c);
        }
        w.text(&r.done_spans);
        w.int(r.service_id);
        w.opt(r.organization_id, 0);
        w.opt(r.assignee_id, 0);
        w.int(r.tier_id);
        w.text(&r.severity);
        w.opt(r.business_mttr_s, 0);
        for t in [r.fr_met_s, r.fr_breach_s, r.fr_due_s, r.fr_warn_s, r.fr_outcome_s] {
            w.opt(t, c);
        }
        for t in [r.res_met_s, r.res_breach_s, r.res_due_s, r.res_warn_s, r.res_outcome_s] {
            w.opt(t, c);
        }
        w.int(r.paused_s);
        w.opt(r.waiting_since_s, c);
        w.opt(r.start_tier_id, 0);
        w.opt(r.top_tier_id, 0);
        w.text(&r.tier_stints);
    }
    w.0
}

/// A fact as a pack holds it: the texts are the pack's bytes (read with [`text`]).
#[derive(Debug, Clone, Copy)]
pub struct FactRef<'a> {
    pub incident_id: i64,
    pub created_s: i64,
    pub acknowledged_s: Option<i64>,
    pub first_resolved_s: Option<i64>,
    pub reopened_s: Option<i64>,
    pub done_since_s: Option<i64>,
    pub done_spans: &'a [u8],
    pub service_id: i64,
    pub organization_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub tier_id: i64,
    pub severity: &'a [u8],
    pub business_mttr_s: Option<i64>,
    pub fr_met_s: Option<i64>,
    pub fr_breach_s: Option<i64>,
    pub fr_due_s: Option<i64>,
    pub fr_warn_s: Option<i64>,
    pub fr_outcome_s: Option<i64>,
    pub res_met_s: Option<i64>,
    pub res_breach_s: Option<i64>,
    pub res_due_s: Option<i64>,
    pub res_warn_s: Option<i64>,
    pub res_outcome_s: Option<i64>,
    pub paused_s: i64,
    pub waiting_since_s: Option<i64>,
    pub start_tier_id: Option<i64>,
    pub top_tier_id: Option<i64>,
    pub tier_stints: &'a [u8],
}

/// A text of a fact; bytes that are not UTF-8 (a damaged pack) read as nothing.
pub fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap_or_default()
}

// Reports build only what they keep (`db::reports::facts`); whole rows back are for the tests.
#[cfg(test)]
impl From<&FactRef<'_>> for FactRow {
    fn from(r: &FactRef<'_>) -> FactRow {
        FactRow {
            incident_id: r.incident_id,
            created_s: r.created_s,
            acknowledged_s: r.acknowledged_s,
            first_resolved_s: r.first_resolved_s,
            reopened_s: r.reopened_s,
            done_since_s: r.done_since_s,
            done_spans: text(r.done_spans).to_string(),
            service_id: r.service_id,
            organization_id: r.organization_id,
            assignee_id: r.assignee_id,
            tier_id: r.tier_id,
            severity: text(r.severity).to_string(),
            business_mttr_s: r.business_mttr_s,
            fr_met_s: r.fr_met_s,
            fr_breach_s: r.fr_breach_s,
            fr_due_s: r.fr_due_s,
            fr_warn_s: r.fr_warn_s,
            fr_outcome_s: r.fr_outcome_s,
            res_met_s: r.res_met_s,
            res_breach_s: r.res_breach_s,
            res_due_s: r.res_due_s,
            res_warn_s: r.res_warn_s,
            res_outcome_s: r.res_outcome_s,
            paused_s: r.paused_s,
            waiting_since_s: r.waiting_since_s,
            start_tier_id: r.start_tier_id,
            top_tier_id: r.top_tier_id,
            tier_stints: text(r.tier_stints).to_string(),
        }
    }
}

/// How many facts a pack says it holds (0 for bytes that are not a pack).
pub fn count(bytes: &[u8]) -> usize {
    if bytes.first() != Some(&VERSION) {
        return 0;
    }
    let mut r = Reader { bytes, at: 1 };
    r.unsigned().and_then(|n| usize::try_from(n).ok()).unwrap_or(0).min(bytes.len())
}

/// Shows every fact of a pack to `visit`, in order; false when the bytes are not a pack this
/// version wrote (it is rebuilt), possibly after some facts were shown.
pub fn visit<'a>(day_start: i64, bytes: &'a [u8], visit: impl FnMut(&FactRef<'a>)) -> bool {
    visit_rows(day_start, bytes, visit).is_some()
}

#[cfg(test)]
fn decode(day_start: i64, bytes: &[u8]) -> Option<Vec<FactRow>> {
    let mut out = Vec::new();
    visit(day_start, bytes, |r| out.push(FactRow::from(r))).then_some(out)
}

fn visit_rows<'a>(day_start: i64, bytes: &'a [u8], mut visit: impl FnMut(&FactRef<'a>)) -> Option<()> {
    if bytes.first() != Some(&VERSION) {
        return None;
    }
    let mut r = Reader { bytes, at: 1 };
    let n = usize::try_from(r.unsigned()?).ok()?;
    let mut previous = 0i64;
    for _ in 0..n {
        let incident_id = previous.wrapping_add(r.int()?);
        previous = incident_id;
        let c = day_start.wrapping_add(r.int()?);
        visit(&FactRef {
            incident_id,
            created_s: c,
            acknowledged_s: r.opt(c)?,
            first_resolved_s: r.opt(c)?,
            reopened_s: r.opt(c)?,
            done_since_s: r.opt(c)?,
            done_spans: r.text()?,
            service_id: r.int()?,
            organization_id: r.opt(0)?,
            assignee_id: r.opt(0)?,
            tier_id: r.int()?,
            severity: r.text()?,
            business_mttr_s: r.opt(0)?,
            fr_met_s: r.opt(c)?,
            fr_breach_s: r.opt(c)?,
            fr_due_s: r.opt(c)?,
            fr_warn_s: r.opt(c)?,
            fr_outcome_s: r.opt(c)?,
            res_met_s: r.opt(c)?,
            res_breach_s: r.opt(c)?,
            res_due_s: r.opt(c)?,
            res_warn_s: r.opt(c)?,
            res_outcome_s: r.opt(c)?,
            paused_s: r.int()?,
            waiting_since_s: r.opt(c)?,
            start_tier_id: r.opt(0)?,
            top_tier_id: r.opt(0)?,
            tier_stints: r.text()?,
        });
    }
    (r.at == bytes.len()).then_some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn opt() -> impl Strategy<Value = Option<i64>> {
        prop_oneof![Just(None), any::<i64>().prop_map(Some), (1_700_000_000i64..1_900_000_000).prop_map(Some)]
    }

    prop_compose! {
        fn fact()(
            id in 1i64..5_000_000, created in 1_700_000_000i64..1_900_000_000,
            a in proptest::collection::vec(opt(), 19),
            texts in proptest::collection::vec("[a-zA-Z0-9:;-]{0,12}", 3),
            ints in proptest::collection::vec(any::<i64>(), 3),
        ) -> FactRow {
            FactRow {
                incident_id: id,
                created_s: created,
                acknowledged_s: a[0],
                first_resolved_s: a[1],
                reopened_s: a[2],
                done_since_s: a[3],
                done_spans: texts[0].clone(),
                service_id: ints[0],
                organization_id: a[4],
                assignee_id: a[5],
                tier_id: ints[1],
                severity: texts[1].clone(),
                business_mttr_s: a[6],
                fr_met_s: a[7],
                fr_breach_s: a[8],
                fr_due_s: a[9],
                fr_warn_s: a[10],
                fr_outcome_s: a[11],
                res_met_s: a[12],
                res_breach_s: a[13],
                res_due_s: a[14],
                res_warn_s: a[15],
                res_outcome_s: a[16],
                paused_s: ints[2],
                waiting_since_s: a[17],
                start_tier_id: a[18],
                top_tier_id: a[4],
                tier_stints: texts[2].clone(),
            }
        }
    }

    proptest! {
        /// Whatever a pack holds comes back unchanged.
        #[test]
        fn packs_round_trip(mut rows in proptest::collection::vec(fact(), 0..40), day in 19_000i64..22_000) {
            rows.sort_by_key(|r| r.incident_id);
            let bytes = encode(day * 86_400, &rows);
            prop_assert_eq!(decode(day * 86_400, &bytes), Some(rows));
        }

        /// Damaged bytes are refused or read as some facts, never a panic.
        #[test]
        fn damaged_packs_do_not_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = decode(0, &bytes);
        }
    }
}
