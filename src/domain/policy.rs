//! The one place that decides who may do what. Deny by default: an action a role is not listed
//! for is refused. Handlers never compare roles themselves; they ask `allows`.

use super::help::Audience;
use super::role::Role;

/// Who is acting: the signed-in user as the policy sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub user_id: i64,
    pub role: Role,
    pub organization_id: Option<i64>,
}

/// Everything a user can ask the application to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// See the home page (dashboard for staff, own incidents for customers).
    ViewHome,
    /// Change own name, time zone, password; list and revoke own sessions.
    ManageOwnAccount,
    /// End one of the actor's sessions.
    RevokeSession,
    SignOut,
    /// List, create, edit, deactivate users; change roles; issue password reset links.
    ManageUsers,
    /// List, create, edit organizations.
    ManageOrganizations,
    /// Read the audit log.
    ViewAudit,
    /// Create, edit and retire services.
    ManageServices,
    /// List incidents (customers see only theirs).
    ViewIncidents,
    /// Report an incident.
    CreateIncident,
    /// Open one incident.
    ViewIncident,
    /// Post a public reply on an incident one may see.
    CommentPublic,
    /// Read and write internal notes and internal timeline events.
    UseInternalNotes,
    /// Triage and work an incident: assign, status, severity, priority, service, tags, links.
    WorkIncident,
    /// Follow an incident's updates.
    WatchIncident,
    /// Edit escalation tiers, their members and on-call rotations.
    ManageTiers,
    /// Edit SLA policies and calendars.
    ManageSla,
    /// See the mail outbox and retry failed messages.
    ManageOutbox,
    /// Review incoming mail that could not be filed, and set how incoming mail is handled.
    ManageInbound,
    /// Read root-cause records, their incidents and actions (without internal notes for sales).
    ViewProblems,
    /// Create and work root-cause records: analysis, status, linked incidents, actions.
    ManageProblems,
    /// Read bug fixes.
    ViewBugs,
    /// Create and work bug fixes: status, links to problems and incidents.
    ManageBugs,
    /// Read releases, their readiness and watch window.
    ViewReleases,
    /// Plan, tick, deploy and roll back releases.
    ManageReleases,
    /// Sign a release off (the product owner's approval), with an override reason when needed.
    ApproveRelease,
    /// Confirm (a change failure) or dismiss an incident suspected of coming from a release:
    /// the staff who work incidents judge it.
    DecideReleaseSuspect,
    /// Edit the readiness checklist template.
    ManageChecklist,
    /// Read the management reports and their definitions (never customers).
    ViewReports,
    /// Read the reports on the support organisation's own working (escalations, recurrence).
    ViewOperationsReports,
    /// Show an incident on the public status page, set its public title and state, and post
    /// customer-safe updates (which mail the status subscribers).
    PublishStatus,
    /// Read help articles for signed-in users (customers), and internal ones for staff; public
    /// articles need no sign-in (`may_read_article`).
    ReadHelp,
    /// See how help articles are rated and how often they answer a question before it is asked.
    ViewHelpFeedback,
    /// Write, publish, archive and restore help articles; manage categories and images.
    WriteHelp,
    /// Create, edit and delete the canned responses every agent shares (everyone who works
    /// incidents keeps their own).
    ManageSharedMacros,
    /// Save queue views for all staff (everyone may save their own).
    ShareQueueViews,
}

impl Action {
    pub const ALL: [Action; 36] = [
        Action::ViewHome,
        Action::ManageOwnAccount,
        Action::RevokeSession,
        Action::SignOut,
        Action::ManageUsers,
        Action::ManageOrganizations,
        Action::ViewAudit,
        Action::ManageServices,
        Action::ViewIncidents,
        Action::CreateIncident,
        Action::ViewIncident,
        Action::CommentPublic,
        Action::UseInternalNotes,
        Action::WorkIncident,
        Action::WatchIncident,
        Action::ManageTiers,
        Action::ManageSla,
        Action::ManageOutbox,
        Action::ManageInbound,
        Action::ViewProblems,
        Action::ManageProblems,
        Action::ViewBugs,
        Action::ManageBugs,
        Action::ViewReleases,
        Action::ManageReleases,
        Action::ApproveRelease,
        Action::DecideReleaseSuspect,
        Action::ManageChecklist,
        Action::ViewReports,
        Action::ViewOperationsReports,
        Action::PublishStatus,
        Action::ReadHelp,
        Action::ViewHelpFeedback,
        Action::WriteHelp,
        Action::ManageSharedMacros,
        Action::ShareQueueViews,
    ];

    pub fn describe(self) -> &'static str {
        match self {
            Action::ViewHome => "view the home page",
            Action::ManageOwnAccount => "manage own account and sessions",
            Action::RevokeSession => "revoke a session",
            Action::SignOut => "sign out",
            Action::ManageUsers => "manage users, roles and password resets",
            Action::ManageOrganizations => "manage organizations",
            Action::ViewAudit => "read the audit log",
            Action::ManageServices => "manage services",
            Action::ViewIncidents => "list incidents",
            Action::CreateIncident => "report an incident",
            Action::ViewIncident => "open an incident",
            Action::CommentPublic => "post a public reply",
            Action::UseInternalNotes => "read and write internal notes",
            Action::WorkIncident => "triage and work incidents",
            Action::WatchIncident => "watch an incident",
            Action::ManageTiers => "manage escalation tiers and on-call rotations",
            Action::ManageSla => "manage SLA policies and calendars",
            Action::ManageOutbox => "see the mail outbox and retry messages",
            Action::ManageInbound => "review incoming mail and set how it is handled",
            Action::ViewProblems => "read root-cause records",
            Action::ManageProblems => "create and work root-cause records",
            Action::ViewBugs => "read bug fixes",
            Action::ManageBugs => "create and work bug fixes",
            Action::ViewReleases => "read releases",
            Action::ManageReleases => "plan, check, deploy and roll back releases",
            Action::ApproveRelease => "approve releases",
            Action::DecideReleaseSuspect => "confirm or dismiss a release's suspect incidents",
            Action::ManageChecklist => "edit the release readiness checklist",
            Action::ViewReports => "read the management reports",
            Action::ViewOperationsReports => "read the escalation and recurrence reports",
            Action::PublishStatus => "publish incidents and updates on the status page",
            Action::ReadHelp => "read help articles",
            Action::ViewHelpFeedback => "see help article ratings and deflections",
            Action::WriteHelp => "write and publish help articles",
            Action::ManageSharedMacros => "manage shared canned responses",
            Action::ShareQueueViews => "save queue views for all staff",
        }
    }
}

/// The record an action is about, where the decision depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// No particular record (a page, a list, the system).
    None,
    /// A session owned by a user.
    Session { owner_id: i64 },
    /// An incident, as far as visibility depends on it.
    Incident {
        reporter_id: i64,
        organization_id: Option<i64>,
        /// Whether the incident's organization shares incidents among its members.
        org_shares: bool,
    },
    /// A help article: who it is for, and whether it is published.
    HelpArticle { audience: Audience, published: bool },
}

/// Which roles may take an action on any resource. The permission table in ARCHITECTURE.md is
/// this function written out.
fn roles_for(action: Action) -> &'static [Role] {
    use Role::*;
    const EVERYONE: &[Role] = &[Customer, Support, Devops, Sales, Manager, Admin];
    match action {
        Action::ViewHome | Action::ManageOwnAccount | Action::RevokeSession | Action::SignOut => EVERYONE,
        Action::ManageUsers
        | Action::ManageOrganizations
        | Action::ManageServices
        | Action::ManageTiers
        | Action::ManageSla
        | Action::ManageOutbox
        | Action::ManageInbound
        | Action::ManageChecklist => &[Admin],
        Action::ManageReleases => &[Devops, Manager, Admin],
        Action::ApproveRelease | Action::ManageSharedMacros | Action::ShareQueueViews => &[Manager, Admin],
        Action::ViewAudit => &[Admin],
        Action::ViewIncidents
        | Action::CreateIncident
        | Action::ViewIncident
        | Action::CommentPublic
        | Action::WatchIncident => EVERYONE,
        Action::UseInternalNotes => &[Support, Devops, Sales, Manager, Admin],
        Action::WorkIncident | Action::ManageProblems | Action::ManageBugs | Action::DecideReleaseSuspect => {
            &[Support, Devops, Manager, Admin]
        }
        Action::ViewProblems | Action::ViewBugs | Action::ViewReleases | Action::ViewReports => {
            &[Support, Devops, Sales, Manager, Admin]
        }
        Action::PublishStatus | Action::ViewOperationsReports => &[Support, Devops, Manager, Admin],
        Action::ReadHelp => EVERYONE,
        Action::ViewHelpFeedback => &[Support, Devops, Sales, Manager, Admin],
        Action::WriteHelp => &[Support, Devops, Manager, Admin],
    }
}

/// Decide. `None` as actor means an anonymous visitor, who may do none of these actions (public
/// pages do not go through the policy at all).
pub fn allows(actor: Option<&Actor>, action: Action, resource: Resource) -> bool {
    let Some(actor) = actor else {
        return false;
    };
    if !roles_for(action).contains(&actor.role) {
        return false;
    }
    match (action, resource) {
        (Action::RevokeSession, Resource::Session { owner_id }) => owner_id == actor.user_id,
        (Action::RevokeSession, _) => false,
        (
            Action::ViewIncident
            | Action::CommentPublic
            | Action::WatchIncident
            | Action::UseInternalNotes
            | Action::WorkIncident,
            Resource::Incident { reporter_id, organization_id, org_shares },
        ) => {
            actor.role.is_staff()
                || reporter_id == actor.user_id
                || (org_shares && organization_id.is_some() && organization_id == actor.organization_id)
        }
        // Drafts and archived articles are for writers; internal ones for staff.
        (Action::ReadHelp, Resource::HelpArticle { audience, published }) => {
            if !published && !roles_for(Action::WriteHelp).contains(&actor.role) {
                return false;
            }
            audience != Audience::Internal || actor.role.is_staff()
        }
        (_, Resource::None) => true,
        _ => false,
    }
}

/// Whether a visitor may read a help article: anonymous visitors read published public
/// articles only; signed-in users as `ReadHelp` allows.
pub fn may_read_article(actor: Option<&Actor>, audience: Audience, published: bool) -> bool {
    match actor {
        None => published && audience == Audience::Public,
        Some(_) => allows(actor, Action::ReadHelp, Resource::HelpArticle { audience, published }),
    }
}

/// Whether the role may take the action on some resource: what a route gate checks before the
/// handler looks at the record itself.
pub fn role_may(role: Role, action: Action) -> bool {
    roles_for(action).contains(&role)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role) -> Actor {
        Actor { user_id: 7, role, organization_id: None }
    }

    #[test]
    fn anonymous_is_denied_everything() {
        for a in Action::ALL {
            assert!(!allows(None, a, Resource::None));
        }
    }

    #[test]
    fn only_admins_manage_users_and_read_audit() {
        for r in Role::ALL {
            let expected = r == Role::Admin;
            assert_eq!(allows(Some(&actor(r)), Action::ManageUsers, Resource::None), expected);
            assert_eq!(allows(Some(&actor(r)), Action::ViewAudit, Resource::None), expected);
        }
    }

    #[test]
    fn customers_see_their_own_incidents_and_shared_ones() {
        let mut c = actor(Role::Customer);
        c.organization_id = Some(3);
        let own = Resource::Incident { reporter_id: 7, organization_id: Some(3), org_shares: false };
        let colleague_private = Resource::Incident { reporter_id: 8, organization_id: Some(3), org_shares: false };
        let colleague_shared = Resource::Incident { reporter_id: 8, organization_id: Some(3), org_shares: true };
        let other_org = Resource::Incident { reporter_id: 9, organization_id: Some(4), org_shares: true };
        assert!(allows(Some(&c), Action::ViewIncident, own));
        assert!(!allows(Some(&c), Action::ViewIncident, colleague_private));
        assert!(allows(Some(&c), Action::ViewIncident, colleague_shared));
        assert!(!allows(Some(&c), Action::ViewIncident, other_org));
        assert!(!allows(Some(&c), Action::UseInternalNotes, own), "customers never see internal notes");
        assert!(!allows(Some(&c), Action::WorkIncident, own));
        let s = actor(Role::Support);
        assert!(allows(Some(&s), Action::WorkIncident, other_org));
        let sales = actor(Role::Sales);
        assert!(allows(Some(&sales), Action::UseInternalNotes, other_org));
        assert!(!allows(Some(&sales), Action::WorkIncident, other_org));
    }

    #[test]
    fn only_those_who_work_incidents_publish_on_the_status_page() {
        for r in Role::ALL {
            assert_eq!(
                allows(Some(&actor(r)), Action::PublishStatus, Resource::None),
                role_may(r, Action::WorkIncident),
                "{r:?}"
            );
        }
        assert!(!allows(Some(&actor(Role::Customer)), Action::PublishStatus, Resource::None));
        assert!(!allows(Some(&actor(Role::Sales)), Action::PublishStatus, Resource::None));
    }

    #[test]
    fn those_who_work_incidents_judge_release_suspects() {
        for r in Role::ALL {
            assert_eq!(
                allows(Some(&actor(r)), Action::DecideReleaseSuspect, Resource::None),
                role_may(r, Action::WorkIncident),
                "{r:?}"
            );
        }
        assert!(allows(Some(&actor(Role::Support)), Action::DecideReleaseSuspect, Resource::None));
        assert!(!allows(Some(&actor(Role::Support)), Action::ManageReleases, Resource::None));
    }

    #[test]
    fn help_articles_are_read_by_audience_and_drafts_by_writers() {
        use Audience::*;
        assert!(may_read_article(None, Public, true));
        assert!(!may_read_article(None, Public, false), "no drafts for visitors");
        assert!(!may_read_article(None, Customers, true));
        assert!(!may_read_article(None, Internal, true));
        let c = actor(Role::Customer);
        assert!(may_read_article(Some(&c), Public, true));
        assert!(may_read_article(Some(&c), Customers, true));
        assert!(!may_read_article(Some(&c), Internal, true));
        assert!(!may_read_article(Some(&c), Customers, false));
        let sales = actor(Role::Sales);
        assert!(may_read_article(Some(&sales), Internal, true));
        assert!(!may_read_article(Some(&sales), Public, false), "sales read, they do not write");
        let s = actor(Role::Support);
        assert!(may_read_article(Some(&s), Internal, false));
        for r in Role::ALL {
            let writer = matches!(r, Role::Support | Role::Devops | Role::Manager | Role::Admin);
            assert_eq!(allows(Some(&actor(r)), Action::WriteHelp, Resource::None), writer, "{r}");
            assert_eq!(allows(Some(&actor(r)), Action::ViewHelpFeedback, Resource::None), r.is_staff(), "{r}");
        }
    }

    #[test]
    fn sessions_are_revoked_by_their_owner_only() {
        let a = actor(Role::Admin);
        assert!(allows(Some(&a), Action::RevokeSession, Resource::Session { owner_id: 7 }));
        assert!(!allows(Some(&a), Action::RevokeSession, Resource::Session { owner_id: 8 }));
        assert!(!allows(Some(&a), Action::RevokeSession, Resource::None));
    }
}
