//! On-call rotations: who is on duty for a tier on a given day.

use chrono::NaiveDate;

/// An ordered rotation: each member serves `shift_days` days in turn from `start`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    pub members: Vec<i64>,
    pub shift_days: i64,
    pub start: NaiveDate,
    /// Dates on which somebody else stands in.
    pub overrides: Vec<(NaiveDate, i64)>,
}

/// The person on call on `date`, if the rotation has anyone.
pub fn on_call(r: &Rotation, date: NaiveDate) -> Option<i64> {
    if let Some((_, who)) = r.overrides.iter().find(|(d, _)| *d == date) {
        return Some(*who);
    }
    if r.members.is_empty() || r.shift_days < 1 {
        return None;
    }
    let days = (date - r.start).num_days();
    let shift = days.div_euclid(r.shift_days);
    let n = r.members.len() as i64;
    r.members.get(shift.rem_euclid(n) as usize).copied()
}

/// Reasons offered when escalating or de-escalating (free text may follow).
pub const ESCALATION_REASONS: [(&str, &str); 7] = [
    ("needs_expertise", "Needs expertise of the next tier"),
    ("sla_risk", "SLA at risk"),
    ("customer_request", "Customer or account manager asked"),
    ("major_impact", "Major impact"),
    ("resolved_at_lower_tier", "Can be handled at a lower tier"),
    ("sla_breach", "SLA target breached"),
    ("other", "Other"),
];

pub fn reason_label(code: &str) -> Option<&'static str> {
    ESCALATION_REASONS.iter().find(|(c, _)| *c == code).map(|(_, l)| *l)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn members_take_turns_by_shift() {
        let r = Rotation { members: vec![1, 2, 3], shift_days: 7, start: d("2026-03-02"), overrides: vec![] };
        assert_eq!(on_call(&r, d("2026-03-02")), Some(1));
        assert_eq!(on_call(&r, d("2026-03-08")), Some(1));
        assert_eq!(on_call(&r, d("2026-03-09")), Some(2));
        assert_eq!(on_call(&r, d("2026-03-23")), Some(1), "wraps around");
        assert_eq!(on_call(&r, d("2026-02-28")), Some(3), "before the start counts backwards");
    }

    #[test]
    fn overrides_win_and_empty_rotations_have_nobody() {
        let r = Rotation {
            members: vec![1, 2],
            shift_days: 1,
            start: d("2026-03-02"),
            overrides: vec![(d("2026-03-03"), 9)],
        };
        assert_eq!(on_call(&r, d("2026-03-03")), Some(9));
        assert_eq!(on_call(&r, d("2026-03-04")), Some(1));
        let empty = Rotation { members: vec![], shift_days: 7, start: d("2026-03-02"), overrides: vec![] };
        assert_eq!(on_call(&empty, d("2026-03-03")), None);
    }
}
