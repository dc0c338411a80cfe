//! Root-cause records ("problems"): their workflow, categories, actions and the figures the
//! problem page shows. Pure rules; the service layer stores and checks permission.

use chrono::{Duration, NaiveDateTime};

pub fn key(number: i64) -> String {
    format!("PRB-{number}")
}

pub fn parse_key(s: &str) -> Option<i64> {
    let n = s.trim().to_ascii_uppercase();
    let n = n.strip_prefix("PRB-")?;
    if n.is_empty() || n.len() > 18 || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok().filter(|n| *n > 0)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProblemStatus {
    Investigating,
    RootCauseIdentified,
    FixInProgress,
    FixReleased,
    Verified,
    Recurred,
    Closed,
}

impl ProblemStatus {
    pub const ALL: [ProblemStatus; 7] = [
        ProblemStatus::Investigating,
        ProblemStatus::RootCauseIdentified,
        ProblemStatus::FixInProgress,
        ProblemStatus::FixReleased,
        ProblemStatus::Verified,
        ProblemStatus::Recurred,
        ProblemStatus::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProblemStatus::Investigating => "investigating",
            ProblemStatus::RootCauseIdentified => "root_cause_identified",
            ProblemStatus::FixInProgress => "fix_in_progress",
            ProblemStatus::FixReleased => "fix_released",
            ProblemStatus::Verified => "verified",
            ProblemStatus::Recurred => "recurred",
            ProblemStatus::Closed => "closed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ProblemStatus::Investigating => "Investigating",
            ProblemStatus::RootCauseIdentified => "Root cause identified",
            ProblemStatus::FixInProgress => "Fix in progress",
            ProblemStatus::FixReleased => "Fix released",
            ProblemStatus::Verified => "Verified",
            ProblemStatus::Recurred => "Recurred",
            ProblemStatus::Closed => "Closed",
        }
    }

    pub fn parse(s: &str) -> Option<ProblemStatus> {
        ProblemStatus::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Statuses a person may move a problem to from this one. `Recurred` is only ever set by a
    /// newly linked incident after the fix was released.
    pub fn next(self) -> &'static [ProblemStatus] {
        use ProblemStatus::*;
        match self {
            Investigating => &[RootCauseIdentified, Closed],
            RootCauseIdentified => &[FixInProgress, Investigating, Closed],
            FixInProgress => &[FixReleased, RootCauseIdentified, Closed],
            FixReleased => &[Verified, FixInProgress, Closed],
            Verified => &[Closed],
            Recurred => &[FixInProgress, RootCauseIdentified, Closed],
            Closed => &[Investigating],
        }
    }

    /// The fix is out: an incident linked now is a recurrence. A problem that recurred already
    /// still has that fix out (until a person moves it back to work on another one), so each
    /// further incident counts after the fix too.
    pub fn fix_is_out(self) -> bool {
        matches!(self, ProblemStatus::FixReleased | ProblemStatus::Verified | ProblemStatus::Recurred)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProblemTransitionError {
    #[error("A problem cannot move from {from} to {to}.")]
    NotAllowed { from: &'static str, to: &'static str },
    #[error("Closing a problem needs a resolution.")]
    ResolutionRequired,
    #[error("Finish or drop the open actions first: a problem cannot close while an action is open.")]
    OpenActions,
}

pub fn check_transition(
    from: ProblemStatus,
    to: ProblemStatus,
    resolution: &str,
    open_actions: usize,
) -> Result<(), ProblemTransitionError> {
    if !from.next().contains(&to) {
        return Err(ProblemTransitionError::NotAllowed { from: from.label(), to: to.label() });
    }
    if to == ProblemStatus::Closed {
        if resolution.trim().is_empty() {
            return Err(ProblemTransitionError::ResolutionRequired);
        }
        if open_actions > 0 {
            return Err(ProblemTransitionError::OpenActions);
        }
    }
    Ok(())
}

pub const CATEGORIES: [(&str, &str); 11] = [
    ("configuration", "Configuration"),
    ("code_defect", "Code defect"),
    ("capacity", "Capacity / performance"),
    ("dependency", "Dependency / third party"),
    ("infrastructure", "Infrastructure / hardware"),
    ("network", "Network"),
    ("data", "Data / database"),
    ("time", "Time / clock"),
    ("security", "Security"),
    ("process", "Process / human"),
    ("unknown", "Unknown"),
];

pub fn category_label(code: &str) -> &'static str {
    CATEGORIES.iter().find(|(c, _)| *c == code).map(|(_, l)| *l).unwrap_or("Unknown")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionStatus {
    Open,
    InProgress,
    Done,
    WontDo,
}

impl ActionStatus {
    pub const ALL: [ActionStatus; 4] =
        [ActionStatus::Open, ActionStatus::InProgress, ActionStatus::Done, ActionStatus::WontDo];

    pub fn as_str(self) -> &'static str {
        match self {
            ActionStatus::Open => "open",
            ActionStatus::InProgress => "in_progress",
            ActionStatus::Done => "done",
            ActionStatus::WontDo => "wont_do",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ActionStatus::Open => "Open",
            ActionStatus::InProgress => "In progress",
            ActionStatus::Done => "Done",
            ActionStatus::WontDo => "Won't do",
        }
    }

    pub fn parse(s: &str) -> Option<ActionStatus> {
        ActionStatus::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Still to be done: blocks closing the problem.
    pub fn is_open(self) -> bool {
        matches!(self, ActionStatus::Open | ActionStatus::InProgress)
    }
}

/// Lines of a list field (contributing factors, five whys): trimmed, blank lines dropped, any
/// list bullet or number the user typed removed.
pub fn list_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| {
            let t = l.trim();
            let t = t.trim_start_matches(['-', '*', '•']).trim_start();
            let digits = t.bytes().take_while(u8::is_ascii_digit).count();
            let t = if digits > 0 && t[digits..].starts_with(['.', ')']) { t[digits + 1..].trim_start() } else { t };
            t.to_string()
        })
        .filter(|l| !l.is_empty())
        .collect()
}

/// Whether an incident linked to a problem is a recurrence: the problem's fix is out and the
/// incident was *created* after the fix was released (not before it). When it was linked does not matter: an
/// incident from before the fix, linked late, is history, not a recurrence.
pub fn is_recurrence(status: ProblemStatus, fix_released_at: Option<NaiveDateTime>, created_at: NaiveDateTime) -> bool {
    status.fix_is_out() && fix_released_at.is_some_and(|released| created_at >= released)
}

/// The median of durations (the mean of the middle two for an even count).
pub fn median(mut values: Vec<Duration>) -> Option<Duration> {
    if values.is_empty() {
        return None;
    }
    values.sort();
    let n = values.len();
    Some(if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2 })
}

/// How many of the given incident creation times fall in each of the last `periods` windows of
/// `days` days, newest window first (by the incidents' own dates, never by when they were linked).
pub fn recurrence(linked_at: &[NaiveDateTime], now: NaiveDateTime, days: i64, periods: usize) -> Vec<usize> {
    let mut out = vec![0; periods];
    for t in linked_at {
        let age = now - *t;
        if age < Duration::zero() {
            continue;
        }
        let i = usize::try_from(age.num_days() / days).unwrap_or(usize::MAX);
        if i < periods {
            out[i] += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ProblemStatus::*;

    #[test]
    fn a_recurrence_is_an_incident_created_after_the_fix() {
        let t = |h: i64| NaiveDateTime::default() + Duration::hours(h);
        assert!(is_recurrence(FixReleased, Some(t(10)), t(11)));
        assert!(is_recurrence(Verified, Some(t(10)), t(500)));
        assert!(is_recurrence(Recurred, Some(t(10)), t(11)));
        assert!(!is_recurrence(FixReleased, Some(t(10)), t(9)), "created before the fix, linked late");
        assert!(is_recurrence(FixReleased, Some(t(10)), t(10)), "opened as the fix went out: not before it");
        assert!(!is_recurrence(FixReleased, None, t(11)));
        assert!(!is_recurrence(FixInProgress, Some(t(10)), t(11)), "work resumed: the fix is not out");
    }

    #[test]
    fn keys_round_trip() {
        assert_eq!(key(7), "PRB-7");
        assert_eq!(parse_key(" prb-7 "), Some(7));
        assert_eq!(parse_key("INC-7"), None);
        assert_eq!(parse_key("PRB-0"), None);
    }

    #[test]
    fn workflow_moves_forward_and_back_but_recurred_is_automatic() {
        assert!(check_transition(Investigating, RootCauseIdentified, "", 0).is_ok());
        assert!(check_transition(RootCauseIdentified, FixInProgress, "", 0).is_ok());
        assert!(check_transition(FixInProgress, FixReleased, "", 0).is_ok());
        assert!(check_transition(FixReleased, Verified, "", 0).is_ok());
        assert!(check_transition(Investigating, Verified, "", 0).is_err());
        assert!(check_transition(FixReleased, Recurred, "", 0).is_err(), "only a new incident sets recurred");
        assert!(check_transition(Recurred, FixInProgress, "", 0).is_ok());
        assert!(check_transition(Closed, Investigating, "", 0).is_ok());
    }

    #[test]
    fn incidents_after_a_released_fix_count_as_recurrences_until_work_resumes() {
        for s in [FixReleased, Verified, Recurred] {
            assert!(s.fix_is_out(), "{s:?}");
        }
        for s in [Investigating, RootCauseIdentified, FixInProgress, Closed] {
            assert!(!s.fix_is_out(), "{s:?}");
        }
    }

    #[test]
    fn closing_needs_a_resolution_and_no_open_action() {
        assert_eq!(check_transition(Verified, Closed, " ", 0), Err(ProblemTransitionError::ResolutionRequired));
        assert_eq!(check_transition(Verified, Closed, "Fixed for good.", 2), Err(ProblemTransitionError::OpenActions));
        assert!(check_transition(Verified, Closed, "Fixed for good.", 0).is_ok());
        assert!(ActionStatus::InProgress.is_open() && !ActionStatus::WontDo.is_open());
    }

    #[test]
    fn list_fields_lose_bullets_and_numbers() {
        assert_eq!(
            list_lines("1. Disk full\n - no alert\n\n2) nobody on call\n"),
            vec!["Disk full".to_string(), "no alert".into(), "nobody on call".into()]
        );
    }

    #[test]
    fn median_and_recurrence() {
        let h = Duration::hours;
        assert_eq!(median(vec![h(3), h(1), h(2)]), Some(h(2)));
        assert_eq!(median(vec![h(1), h(4)]), Some(Duration::minutes(150)));
        assert_eq!(median(Vec::new()), None);
        let now =
            chrono::NaiveDate::from_ymd_opt(2026, 3, 31).and_then(|d| d.and_hms_opt(12, 0, 0)).unwrap_or_default();
        let times =
            [now - Duration::days(1), now - Duration::days(29), now - Duration::days(31), now - Duration::days(95)];
        assert_eq!(recurrence(&times, now, 30, 3), vec![2, 1, 0]);
    }
}
