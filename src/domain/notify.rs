//! Who may receive which notification, and how our outgoing Message-IDs say which thread a mail
//! belongs to. Staff-only mail (internal notes, triage news) threads apart from the customer
//! thread, so a reply to it can be recognized and kept internal.

use super::policy::{self, Action, Actor, Resource};

/// Whether mail of this kind may go to customers of the incident. Every kind not named here is
/// staff-only, so a new kind stays internal until someone decides otherwise.
pub fn reaches_customers(kind: &str) -> bool {
    matches!(kind, "received" | "public_reply" | "resolved" | "closed")
}

/// Whether `recipient` may receive mail of `kind` about the incident `res`, judged now: they
/// may see the incident, and staff-only kinds go to staff only.
pub fn may_receive(recipient: &Actor, kind: &str, res: Resource) -> bool {
    policy::allows(Some(recipient), Action::ViewIncident, res)
        && (reaches_customers(kind) || policy::role_may(recipient.role, Action::UseInternalNotes))
}

/// The local-part prefix of our Message-IDs for mail of this kind.
pub fn thread_prefix(kind: &str) -> &'static str {
    if reaches_customers(kind) { "incident" } else { "internal" }
}

/// Which thread one of our Message-IDs belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Thread {
    /// The customer-facing thread of the incident.
    Public(i64),
    /// Staff-only mail about the incident.
    StaffOnly(i64),
}

impl Thread {
    pub fn incident(self) -> i64 {
        match self {
            Thread::Public(n) | Thread::StaffOnly(n) => n,
        }
    }
}

/// The thread of one of our Message-IDs (`incident-N[.x]@host` or `internal-N[.x]@host`).
pub fn thread_of(message_id: &str, our_host: &str) -> Option<Thread> {
    let id = message_id.trim().trim_start_matches('<').trim_end_matches('>');
    let (local, host) = id.rsplit_once('@')?;
    if !host.eq_ignore_ascii_case(our_host) {
        return None;
    }
    let (public, n) = match (local.strip_prefix("incident-"), local.strip_prefix("internal-")) {
        (Some(n), _) => (true, n),
        (_, Some(n)) => (false, n),
        _ => return None,
    };
    let n = n.split('.').next()?;
    if n.is_empty() || n.len() > 18 || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i64 = n.parse().ok().filter(|n| *n > 0)?;
    Some(if public { Thread::Public(n) } else { Thread::StaffOnly(n) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::role::Role;

    fn actor(role: Role, org: Option<i64>) -> Actor {
        Actor { user_id: 7, role, organization_id: org }
    }

    #[test]
    fn staff_kinds_never_reach_customers() {
        let own = Resource::Incident { reporter_id: 7, organization_id: Some(1), org_shares: false };
        let customer = actor(Role::Customer, Some(1));
        for kind in ["received", "public_reply", "resolved", "closed"] {
            assert!(may_receive(&customer, kind, own), "{kind}");
        }
        for kind in
            ["internal_note", "incident_created", "assigned", "escalated", "sla_warning", "sla_breach", "reopened", "x"]
        {
            assert!(!may_receive(&customer, kind, own), "{kind}");
            assert!(may_receive(&actor(Role::Support, None), kind, own), "{kind}");
        }
        // A colleague's incident, once the organization stops sharing: nothing.
        let colleague = Resource::Incident { reporter_id: 8, organization_id: Some(1), org_shares: false };
        assert!(!may_receive(&customer, "public_reply", colleague));
        let shared = Resource::Incident { reporter_id: 8, organization_id: Some(1), org_shares: true };
        assert!(may_receive(&customer, "public_reply", shared));
    }

    #[test]
    fn message_ids_name_their_thread() {
        let h = "help.example.com";
        assert_eq!(thread_of("<incident-12@help.example.com>", h), Some(Thread::Public(12)));
        assert_eq!(thread_of("incident-12.Ab3x@HELP.example.com", h), Some(Thread::Public(12)));
        assert_eq!(thread_of("<internal-12.Ab3x@help.example.com>", h), Some(Thread::StaffOnly(12)));
        assert_eq!(thread_of("<internal-12@evil.example>", h), None);
        assert_eq!(thread_of("<account-3.x@help.example.com>", h), None);
        assert_eq!(thread_of("<incident-0@help.example.com>", h), None);
        assert_eq!(thread_of("<incident-99999999999999999999@help.example.com>", h), None);
        assert_eq!(thread_prefix("internal_note"), "internal");
        assert_eq!(thread_prefix("public_reply"), "incident");
    }
}
