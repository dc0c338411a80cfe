//! Incident rules: the priority matrix, severities, the status workflow and keys.

use std::fmt;

/// Impact or urgency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    High,
    Medium,
    Low,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::High, Level::Medium, Level::Low];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::High => "high",
            Level::Medium => "medium",
            Level::Low => "low",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Level::High => "High",
            Level::Medium => "Medium",
            Level::Low => "Low",
        }
    }

    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    P1,
    P2,
    P3,
    P4,
}

impl Priority {
    pub const ALL: [Priority; 4] = [Priority::P1, Priority::P2, Priority::P3, Priority::P4];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::P1 => "P1",
            Priority::P2 => "P2",
            Priority::P3 => "P3",
            Priority::P4 => "P4",
        }
    }

    pub fn parse(s: &str) -> Option<Priority> {
        Priority::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// The ITIL matrix: high+high P1; high+medium or medium+high P2; high+low, medium+medium or
/// low+high P3; the rest P4.
pub fn priority(impact: Level, urgency: Level) -> Priority {
    use Level::*;
    match (impact, urgency) {
        (High, High) => Priority::P1,
        (High, Medium) | (Medium, High) => Priority::P2,
        (High, Low) | (Medium, Medium) | (Low, High) => Priority::P3,
        _ => Priority::P4,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Sev1,
    Sev2,
    Sev3,
    Sev4,
}

impl Severity {
    pub const ALL: [Severity; 4] = [Severity::Sev1, Severity::Sev2, Severity::Sev3, Severity::Sev4];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Sev1 => "SEV1",
            Severity::Sev2 => "SEV2",
            Severity::Sev3 => "SEV3",
            Severity::Sev4 => "SEV4",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// The severity an incident gets until triage says otherwise.
    pub fn default_for(p: Priority) -> Severity {
        match p {
            Priority::P1 => Severity::Sev1,
            Priority::P2 => Severity::Sev2,
            Priority::P3 => Severity::Sev3,
            Priority::P4 => Severity::Sev4,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    New,
    Triaged,
    InProgress,
    WaitingOnCustomer,
    Resolved,
    Closed,
}

impl Status {
    pub const ALL: [Status; 6] =
        [Status::New, Status::Triaged, Status::InProgress, Status::WaitingOnCustomer, Status::Resolved, Status::Closed];
    pub const OPEN: [Status; 4] = [Status::New, Status::Triaged, Status::InProgress, Status::WaitingOnCustomer];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Triaged => "triaged",
            Status::InProgress => "in_progress",
            Status::WaitingOnCustomer => "waiting_on_customer",
            Status::Resolved => "resolved",
            Status::Closed => "closed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::New => "New",
            Status::Triaged => "Triaged",
            Status::InProgress => "In progress",
            Status::WaitingOnCustomer => "Waiting on customer",
            Status::Resolved => "Resolved",
            Status::Closed => "Closed",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|v| v.as_str() == s)
    }

    pub fn is_open(self) -> bool {
        Status::OPEN.contains(&self)
    }
}

/// Who asks for a transition, as the workflow sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mover {
    Staff,
    Reporter,
    OtherCustomer,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransitionError {
    Same,
    NotAllowed { from: Status, to: Status },
    NotYours,
    ResolutionRequired,
}

impl fmt::Display for TransitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransitionError::Same => f.write_str("The incident already has this status."),
            TransitionError::NotAllowed { from, to } => write!(
                f,
                "An incident that is {} cannot move to {}.",
                from.label().to_lowercase(),
                to.label().to_lowercase()
            ),
            TransitionError::NotYours => f.write_str("You may not change the status of this incident."),
            TransitionError::ResolutionRequired => f.write_str("Describe the resolution before resolving."),
        }
    }
}

/// The workflow: new → triaged → in_progress ⇄ waiting_on_customer → resolved → closed;
/// reopen resolved → in_progress (reporter or staff) and closed → in_progress (staff only).
pub fn check_transition(from: Status, to: Status, who: Mover, resolution: &str) -> Result<(), TransitionError> {
    use Status::*;
    if from == to {
        return Err(TransitionError::Same);
    }
    let staff_edge = matches!(
        (from, to),
        (New, Triaged)
            | (New, InProgress)
            | (Triaged, InProgress)
            | (InProgress, WaitingOnCustomer)
            | (WaitingOnCustomer, InProgress)
            | (InProgress, Resolved)
            | (WaitingOnCustomer, Resolved)
            | (Resolved, Closed)
            | (Resolved, InProgress)
            | (Closed, InProgress)
    );
    if !staff_edge {
        return Err(TransitionError::NotAllowed { from, to });
    }
    match who {
        Mover::Staff => {}
        Mover::Reporter if (from, to) == (Resolved, InProgress) => {}
        Mover::Reporter | Mover::OtherCustomer => return Err(TransitionError::NotYours),
    }
    if to == Resolved && resolution.trim().is_empty() {
        return Err(TransitionError::ResolutionRequired);
    }
    Ok(())
}

/// The shortest walk through the staff workflow from `from` to `to` (without `from`), e.g.
/// new → in progress → waiting on customer, for actions that name only where an incident should
/// end up (canned responses). `None` when `to` cannot be reached; empty when already there.
pub fn staff_path(from: Status, to: Status) -> Option<Vec<Status>> {
    if from == to {
        return Some(Vec::new());
    }
    // Breadth first over six statuses: (status, the one it was reached from).
    let mut parent: Vec<(Status, Status)> = Vec::new();
    let mut queue = std::collections::VecDeque::from([from]);
    while let Some(s) = queue.pop_front() {
        for t in Status::ALL {
            if t == from || parent.iter().any(|(x, _)| *x == t) || check_transition(s, t, Mover::Staff, "x").is_err() {
                continue;
            }
            parent.push((t, s));
            if t == to {
                let mut path = vec![t];
                let mut cur = s;
                while cur != from {
                    path.push(cur);
                    cur = parent.iter().find(|(x, _)| *x == cur).map(|(_, p)| *p)?;
                }
                path.reverse();
                return Some(path);
            }
            queue.push_back(t);
        }
    }
    None
}

/// The statuses a mover may pick from `from`, in workflow order.
pub fn next_statuses(from: Status, who: Mover) -> Vec<Status> {
    Status::ALL
        .into_iter()
        .filter(|to| match check_transition(from, *to, who, "x") {
            Ok(()) => true,
            Err(TransitionError::ResolutionRequired) => true,
            Err(_) => false,
        })
        .collect()
}

/// `INC-42` ↔ 42.
pub fn key(number: i64) -> String {
    format!("INC-{number}")
}

/// How a description or comment was written: Markdown in the web forms, plain text by mail
/// (where `<tags>` and `#` lines are text, not markup).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    Markdown,
    Text,
}

impl BodyFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Markdown => "markdown",
            Self::Text => "text",
        }
    }
    /// An unknown stored value is shown as plain text: escaped, never interpreted.
    pub fn parse(s: &str) -> Self {
        if s == "markdown" { Self::Markdown } else { Self::Text }
    }
}

/// The resolution of an incident closed as a duplicate of `original`.
pub fn duplicate_resolution(original: i64) -> String {
    format!("Duplicate of {}.", key(original))
}

/// The original a resolution names, when it is exactly `duplicate_resolution`'s text.
pub fn duplicate_original(resolution: &str) -> Option<i64> {
    resolution.strip_prefix("Duplicate of ")?.strip_suffix('.').and_then(parse_key)
}

/// What a viewer who may not see the original reads instead of `duplicate_resolution`.
pub const DUPLICATE_HIDDEN: &str = "Closed as a duplicate.";

pub fn parse_key(s: &str) -> Option<i64> {
    let n = s.strip_prefix("INC-").or_else(|| s.strip_prefix("inc-"))?;
    if n.is_empty() || n.len() > 18 || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok().filter(|n| *n > 0)
}

/// Link kinds between incidents, as stored (from → to).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// from is a duplicate of to (the original).
    DuplicateOf,
    RelatedTo,
    /// from is the parent of to.
    ParentOf,
}

impl LinkKind {
    pub const ALL: [LinkKind; 3] = [LinkKind::DuplicateOf, LinkKind::RelatedTo, LinkKind::ParentOf];

    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::DuplicateOf => "duplicate_of",
            LinkKind::RelatedTo => "related_to",
            LinkKind::ParentOf => "parent_of",
        }
    }

    pub fn parse(s: &str) -> Option<LinkKind> {
        LinkKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// How the link reads from the `from` side and from the `to` side.
    pub fn phrases(self) -> (&'static str, &'static str) {
        match self {
            LinkKind::DuplicateOf => ("Duplicate of", "Has duplicate"),
            LinkKind::RelatedTo => ("Related to", "Related to"),
            LinkKind::ParentOf => ("Parent of", "Child of"),
        }
    }
}

/// Tags: lowercase words of letters, digits, '-', '_' or '.', 1–40 characters, at most 20.
pub fn parse_tags(input: &str) -> Result<Vec<String>, String> {
    let mut tags: Vec<String> = Vec::new();
    for raw in input.split([',', ' ', '\n', '\t']) {
        let t = raw.trim().trim_start_matches('#').to_lowercase();
        if t.is_empty() {
            continue;
        }
        if t.chars().count() > 40 || !t.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.')) {
            return Err(format!("'{t}' is not a tag: use letters, digits, '-', '_' or '.', up to 40 characters."));
        }
        if !tags.contains(&t) {
            tags.push(t);
        }
    }
    if tags.len() > 20 {
        return Err("Use at most 20 tags.".into());
    }
    Ok(tags)
}

#[cfg(test)]
mod tests {
    #[test]
    fn staff_paths_walk_the_workflow_shortest_first() {
        use Status::*;
        assert_eq!(staff_path(New, WaitingOnCustomer), Some(vec![InProgress, WaitingOnCustomer]));
        assert_eq!(staff_path(New, Resolved), Some(vec![InProgress, Resolved]));
        assert_eq!(staff_path(Triaged, Closed), Some(vec![InProgress, Resolved, Closed]));
        assert_eq!(staff_path(Closed, WaitingOnCustomer), Some(vec![InProgress, WaitingOnCustomer]));
        assert_eq!(staff_path(Resolved, Resolved), Some(vec![]));
        assert_eq!(staff_path(InProgress, New), None);
        // Every step is one the workflow allows, and no status comes twice.
        for from in Status::ALL {
            for to in Status::ALL {
                let Some(path) = staff_path(from, to) else { continue };
                let mut at = from;
                for step in &path {
                    assert!(check_transition(at, *step, Mover::Staff, "x").is_ok(), "{from:?}->{to:?}: {path:?}");
                    at = *step;
                }
                assert_eq!(at, to);
                let mut seen = path.clone();
                seen.dedup();
                assert_eq!(seen.len(), path.len());
            }
        }
    }

    use super::*;
    use Level::*;
    use Status::*;

    #[test]
    fn the_priority_matrix() {
        let expected = [
            (High, High, Priority::P1),
            (High, Medium, Priority::P2),
            (Medium, High, Priority::P2),
            (High, Low, Priority::P3),
            (Medium, Medium, Priority::P3),
            (Low, High, Priority::P3),
            (Medium, Low, Priority::P4),
            (Low, Medium, Priority::P4),
            (Low, Low, Priority::P4),
        ];
        for (i, u, p) in expected {
            assert_eq!(priority(i, u), p, "{i:?}+{u:?}");
        }
        assert_eq!(Severity::default_for(Priority::P2), Severity::Sev2);
    }

    #[test]
    fn legal_transitions() {
        let staff = [
            (New, Triaged),
            (Triaged, InProgress),
            (InProgress, WaitingOnCustomer),
            (WaitingOnCustomer, InProgress),
            (InProgress, Resolved),
            (Resolved, Closed),
            (Resolved, InProgress),
            (Closed, InProgress),
        ];
        for (from, to) in staff {
            assert_eq!(check_transition(from, to, Mover::Staff, "fixed"), Ok(()), "{from:?}→{to:?}");
        }
        assert_eq!(check_transition(Resolved, InProgress, Mover::Reporter, ""), Ok(()));
    }

    #[test]
    fn illegal_transitions_are_refused_with_a_reason() {
        assert_eq!(
            check_transition(New, Closed, Mover::Staff, ""),
            Err(TransitionError::NotAllowed { from: New, to: Closed })
        );
        assert_eq!(
            check_transition(Closed, Resolved, Mover::Staff, "x"),
            Err(TransitionError::NotAllowed { from: Closed, to: Resolved })
        );
        assert_eq!(check_transition(New, New, Mover::Staff, ""), Err(TransitionError::Same));
        assert_eq!(check_transition(Closed, InProgress, Mover::Reporter, ""), Err(TransitionError::NotYours));
        assert_eq!(check_transition(Resolved, InProgress, Mover::OtherCustomer, ""), Err(TransitionError::NotYours));
        assert_eq!(
            check_transition(InProgress, Resolved, Mover::Staff, "  "),
            Err(TransitionError::ResolutionRequired)
        );
        assert!(
            TransitionError::NotAllowed { from: New, to: Closed }.to_string().contains("new cannot move to closed")
        );
    }

    #[test]
    fn next_statuses_follow_the_workflow() {
        assert_eq!(next_statuses(New, Mover::Staff), vec![Triaged, InProgress]);
        assert_eq!(next_statuses(Resolved, Mover::Reporter), vec![InProgress]);
        assert!(next_statuses(Closed, Mover::Reporter).is_empty());
    }

    #[test]
    fn keys_round_trip() {
        assert_eq!(key(42), "INC-42");
        assert_eq!(parse_key("INC-42"), Some(42));
        for bad in ["INC-", "INC-0", "INC-4a", "42", "INC--1", "INC-99999999999999999999"] {
            assert_eq!(parse_key(bad), None, "{bad}");
        }
    }

    #[test]
    fn tags_are_normalized() {
        assert_eq!(parse_tags("DB, #network db"), Ok(vec!["db".to_string(), "network".to_string()]));
        assert!(parse_tags("<script>").is_err());
    }
}
