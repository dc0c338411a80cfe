//! Releases: their workflow, deployment types and the readiness gate.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseStatus {
    Planned,
    Ready,
    Deploying,
    Deployed,
    Monitoring,
    Closed,
    RolledBack,
}

impl ReleaseStatus {
    pub const ALL: [ReleaseStatus; 7] = [
        ReleaseStatus::Planned,
        ReleaseStatus::Ready,
        ReleaseStatus::Deploying,
        ReleaseStatus::Deployed,
        ReleaseStatus::Monitoring,
        ReleaseStatus::Closed,
        ReleaseStatus::RolledBack,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReleaseStatus::Planned => "planned",
            ReleaseStatus::Ready => "ready",
            ReleaseStatus::Deploying => "deploying",
            ReleaseStatus::Deployed => "deployed",
            ReleaseStatus::Monitoring => "monitoring",
            ReleaseStatus::Closed => "closed",
            ReleaseStatus::RolledBack => "rolled_back",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ReleaseStatus::Planned => "Planned",
            ReleaseStatus::Ready => "Ready",
            ReleaseStatus::Deploying => "Deploying",
            ReleaseStatus::Deployed => "Deployed",
            ReleaseStatus::Monitoring => "Monitoring",
            ReleaseStatus::Closed => "Closed",
            ReleaseStatus::RolledBack => "Rolled back",
        }
    }

    pub fn parse(s: &str) -> Option<ReleaseStatus> {
        ReleaseStatus::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Live in production.
    pub fn is_out(self) -> bool {
        matches!(self, ReleaseStatus::Deploying | ReleaseStatus::Deployed | ReleaseStatus::Monitoring)
    }

    /// A rollback is possible: while live, and after the watch window closed (a fault found
    /// later can still send the release back).
    pub fn can_roll_back(self) -> bool {
        self.is_out() || self == ReleaseStatus::Closed
    }
}

pub const DEPLOYMENT_TYPES: [(&str, &str); 3] =
    [("serverless", "Serverless"), ("self_hosted", "Self-hosted"), ("sovereign", "Sovereign cloud")];

pub fn deployment_label(code: &str) -> &'static str {
    DEPLOYMENT_TYPES.iter().find(|(c, _)| *c == code).map(|(_, l)| *l).unwrap_or("?")
}

/// What stands between a planned release and "ready" (and, checked again, between a ready
/// release and its deployment).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Readiness {
    pub unticked: Vec<String>,
    pub approved: bool,
    /// Open SEV1/SEV2 incidents on an affected service that no override covers (their keys).
    pub blocking: Vec<String>,
    /// The approver recorded an override reason; it covers the incidents that were open then.
    pub overridden: bool,
}

impl Readiness {
    /// Every reason the release cannot be ready yet, in words; empty when it can.
    pub fn obstacles(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.unticked.is_empty() {
            out.push(format!("Not ticked yet: {}.", self.unticked.join("; ")));
        }
        if !self.approved {
            out.push("A manager has not approved the release.".to_string());
        }
        if !self.blocking.is_empty() {
            if self.overridden {
                out.push(format!(
                    "Open SEV1/SEV2 incidents on an affected service that the approval's override does not cover (opened since): {}. Resolve them, or move the release back to planned and approve it again with an override reason.",
                    self.blocking.join(", ")
                ));
            } else {
                out.push(format!(
                    "Open SEV1/SEV2 incidents on an affected service: {}. Resolve them, or the approver records an override reason.",
                    self.blocking.join(", ")
                ));
            }
        }
        out
    }
}

/// What an override reason given at approval does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Override {
    /// No reason given.
    None,
    /// It lets these open SEV1/SEV2 incidents pass (their keys), and only these.
    Covers(Vec<String>),
    /// Nothing was blocking: the reason is kept on record but not needed.
    Unused,
}

impl Override {
    /// What the approver is told.
    pub fn message(&self) -> String {
        match self {
            Override::None => "Approved.".to_string(),
            Override::Covers(keys) => {
                format!("Approved. The override covers {}; an incident opened later holds the release again.", keys.join(", "))
            }
            Override::Unused => {
                "Approved. No SEV1/SEV2 incident is open on the release's services, so the override reason is not needed; it is kept on record.".to_string()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_needs_ticks_approval_and_no_unexcused_sev1() {
        let mut r = Readiness { unticked: vec!["Backup verified".into()], ..Default::default() };
        assert_eq!(r.obstacles().len(), 2);
        r.unticked.clear();
        r.approved = true;
        assert!(r.obstacles().is_empty());
        r.blocking = vec!["INC-4".into()];
        assert!(r.obstacles()[0].contains("INC-4") && r.obstacles()[0].contains("records an override reason"));
        // An override covers what was open at approval; an incident opened later still blocks.
        r.overridden = true;
        assert!(r.obstacles()[0].contains("does not cover") && r.obstacles()[0].contains("INC-4"));
        r.blocking.clear();
        assert!(r.obstacles().is_empty());
    }

    #[test]
    fn statuses_round_trip() {
        for s in ReleaseStatus::ALL {
            assert_eq!(ReleaseStatus::parse(s.as_str()), Some(s));
        }
        assert!(ReleaseStatus::Monitoring.is_out() && !ReleaseStatus::Planned.is_out());
        assert!(ReleaseStatus::Closed.can_roll_back() && ReleaseStatus::Deploying.can_roll_back());
        assert!(!ReleaseStatus::Ready.can_roll_back() && !ReleaseStatus::RolledBack.can_roll_back());
    }
}
