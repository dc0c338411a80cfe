//! The route table. Every route is declared once, here, with the gate that guards it; the same
//! declaration registers the route with actix and lists it for the route × role test, so a route
//! without a policy entry cannot exist.

use super::pages::{
    account, admin_audit, admin_inbound, admin_macros, admin_orgs, admin_outbox, admin_services, admin_sla,
    admin_tiers, admin_users, auth, bugs, health, help, help_manage, help_picker, home, incident_actions,
    incident_mail, incident_queue, incident_similar, incidents, mail_inbound, notifications, problems, releases,
    reports, setup, status_page, status_publish, status_subscribe,
};
use super::{assets, middleware};
use crate::domain::policy::Action;
use actix_web::body::BoxBody;
use actix_web::http::Method;
use actix_web::middleware::{Next, from_fn};
use actix_web::{FromRequest, Handler, Responder, web};

/// Who may reach a route at all. Record-level checks happen in the service functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Anyone, signed in or not.
    Public,
    /// A signed-in user whose role the policy allows this action.
    Signed(Action),
}

#[derive(Debug, Clone)]
pub struct RouteSpec {
    pub method: Method,
    pub path: &'static str,
    pub gate: Gate,
}

pub trait RouteSink {
    fn add<F, Args>(&mut self, method: Method, path: &'static str, gate: Gate, handler: F)
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static;
}

/// The application's routes.
#[rustfmt::skip]
pub fn define(r: &mut impl RouteSink) {
    use Gate::*;
    let get = || Method::GET;
    let post = || Method::POST;

    r.add(get(), "/healthz", Public, health::healthz);
    r.add(get(), "/readyz", Public, health::readyz);
    r.add(get(), "/static/{name}", Public, assets::serve);
    // Token-authenticated (firewatch mailgate), not a browser form: exempt from the CSRF check.
    r.add(post(), "/mail/inbound", Public, mail_inbound::receive);

    r.add(get(), "/setup", Public, setup::form);
    r.add(post(), "/setup", Public, setup::submit);
    r.add(get(), "/login", Public, auth::login_form);
    r.add(post(), "/login", Public, auth::login_submit);
    r.add(get(), "/password-reset", Public, auth::forgot_form);
    r.add(post(), "/password-reset", Public, auth::forgot_submit);
    r.add(post(), "/logout", Signed(Action::SignOut), auth::logout);
    r.add(get(), "/password-reset/{token}", Public, account::reset_form);
    r.add(post(), "/password-reset/{token}", Public, account::reset_submit);

    r.add(get(), "/", Signed(Action::ViewHome), home::home);

    r.add(get(), "/account", Signed(Action::ManageOwnAccount), account::show);
    r.add(post(), "/account/profile", Signed(Action::ManageOwnAccount), account::update_profile);
    r.add(post(), "/account/password", Signed(Action::ManageOwnAccount), account::change_password);
    r.add(get(), "/account/sessions", Signed(Action::ManageOwnAccount), account::sessions);
    r.add(get(), "/account/notifications", Signed(Action::ManageOwnAccount), notifications::show);
    r.add(post(), "/account/notifications", Signed(Action::ManageOwnAccount), notifications::update);
    r.add(post(), "/account/sessions/{id}/revoke", Signed(Action::RevokeSession), account::revoke_session);

    r.add(get(), "/admin/users", Signed(Action::ManageUsers), admin_users::list);
    r.add(get(), "/admin/users/new", Signed(Action::ManageUsers), admin_users::new_form);
    r.add(post(), "/admin/users", Signed(Action::ManageUsers), admin_users::create);
    r.add(get(), "/admin/users/{id}", Signed(Action::ManageUsers), admin_users::edit_form);
    r.add(post(), "/admin/users/{id}", Signed(Action::ManageUsers), admin_users::update);
    r.add(post(), "/admin/users/{id}/reset-link", Signed(Action::ManageUsers), admin_users::reset_link);

    r.add(get(), "/admin/organizations", Signed(Action::ManageOrganizations), admin_orgs::list);
    r.add(get(), "/admin/organizations/new", Signed(Action::ManageOrganizations), admin_orgs::new_form);
    r.add(post(), "/admin/organizations", Signed(Action::ManageOrganizations), admin_orgs::create);
    r.add(get(), "/admin/organizations/{id}", Signed(Action::ManageOrganizations), admin_orgs::edit_form);
    r.add(post(), "/admin/organizations/{id}", Signed(Action::ManageOrganizations), admin_orgs::update);

    r.add(get(), "/admin/audit", Signed(Action::ViewAudit), admin_audit::list);

    r.add(get(), "/admin/services", Signed(Action::ManageServices), admin_services::list);
    r.add(get(), "/admin/services/new", Signed(Action::ManageServices), admin_services::new_form);
    r.add(post(), "/admin/services", Signed(Action::ManageServices), admin_services::create);
    r.add(get(), "/admin/services/{id}", Signed(Action::ManageServices), admin_services::edit_form);
    r.add(post(), "/admin/services/{id}", Signed(Action::ManageServices), admin_services::update);

    r.add(get(), "/admin/macros", Signed(Action::WorkIncident), admin_macros::list);
    r.add(get(), "/admin/macros/new", Signed(Action::WorkIncident), admin_macros::new_form);
    r.add(post(), "/admin/macros", Signed(Action::WorkIncident), admin_macros::create);
    r.add(get(), "/admin/macros/{id}", Signed(Action::WorkIncident), admin_macros::edit_form);
    r.add(post(), "/admin/macros/{id}", Signed(Action::WorkIncident), admin_macros::update);
    r.add(post(), "/admin/macros/{id}/delete", Signed(Action::WorkIncident), admin_macros::delete);

    r.add(get(), "/admin/outbox", Signed(Action::ManageOutbox), admin_outbox::list);
    r.add(post(), "/admin/outbox/{id}/retry", Signed(Action::ManageOutbox), admin_outbox::retry);
    r.add(post(), "/admin/outbox/settings", Signed(Action::ManageOutbox), admin_outbox::update_settings);

    r.add(get(), "/admin/inbound", Signed(Action::ManageInbound), admin_inbound::list);
    r.add(post(), "/admin/inbound/settings", Signed(Action::ManageInbound), admin_inbound::update_settings);
    r.add(get(), "/admin/inbound/{id}", Signed(Action::ManageInbound), admin_inbound::show);
    r.add(post(), "/admin/inbound/{id}", Signed(Action::ManageInbound), admin_inbound::act);

    r.add(get(), "/admin/sla", Signed(Action::ManageSla), admin_sla::show);
    r.add(post(), "/admin/sla/policies/{id}", Signed(Action::ManageSla), admin_sla::update_policy);
    r.add(post(), "/admin/sla/overrides", Signed(Action::ManageSla), admin_sla::add_override);
    r.add(get(), "/admin/sla/calendars/{id}", Signed(Action::ManageSla), admin_sla::calendar_form);
    r.add(post(), "/admin/sla/calendars/{id}", Signed(Action::ManageSla), admin_sla::update_calendar);

    r.add(get(), "/admin/tiers", Signed(Action::ManageTiers), admin_tiers::list);
    r.add(get(), "/admin/tiers/{id}", Signed(Action::ManageTiers), admin_tiers::edit_form);
    r.add(post(), "/admin/tiers/{id}", Signed(Action::ManageTiers), admin_tiers::update);

    r.add(get(), "/incidents", Signed(Action::ViewIncidents), incidents::queue);
    r.add(get(), "/incidents/new", Signed(Action::CreateIncident), incidents::new_form);
    r.add(post(), "/incidents/views", Signed(Action::ViewIncidents), incident_queue::save_view);
    r.add(post(), "/incidents/bulk", Signed(Action::WorkIncident), incident_queue::bulk);
    r.add(post(), "/incidents/views/{id}/delete", Signed(Action::ViewIncidents), incident_queue::delete_view);
    r.add(post(), "/incidents", Signed(Action::CreateIncident), incidents::create);
    r.add(get(), "/incidents/{key}", Signed(Action::ViewIncident), incidents::show);
    r.add(get(), "/incidents/{key}/similar", Signed(Action::WorkIncident), incident_similar::show);
    r.add(get(), "/incidents/{key}/attachments/{id}", Signed(Action::ViewIncident), incidents::attachment);
    r.add(get(), "/incidents/{key}/mail/{id}", Signed(Action::UseInternalNotes), incident_mail::original);
    r.add(post(), "/incidents/{key}/comments", Signed(Action::CommentPublic), incident_actions::comment);
    r.add(get(), "/incidents/{key}/comments/{id}/edit", Signed(Action::CommentPublic), incident_actions::edit_comment_form);
    r.add(post(), "/incidents/{key}/comments/{id}/edit", Signed(Action::CommentPublic), incident_actions::edit_comment);
    // Customers may reopen their own resolved incidents; the workflow decides who moves what.
    r.add(post(), "/incidents/{key}/status", Signed(Action::ViewIncident), incident_actions::status);
    r.add(post(), "/incidents/{key}/assign", Signed(Action::WorkIncident), incident_actions::assign);
    r.add(post(), "/incidents/{key}/fields", Signed(Action::WorkIncident), incident_actions::fields);
    r.add(post(), "/incidents/{key}/escalate", Signed(Action::WorkIncident), incident_actions::escalate);
    r.add(post(), "/incidents/{key}/links", Signed(Action::WorkIncident), incident_actions::link);
    r.add(post(), "/incidents/{key}/links/{id}/delete", Signed(Action::WorkIncident), incident_actions::unlink);
    r.add(post(), "/incidents/{key}/watch", Signed(Action::WatchIncident), incident_actions::watch);
    r.add(post(), "/incidents/{key}/problems", Signed(Action::ManageProblems), incident_actions::link_problem);

    r.add(get(), "/problems", Signed(Action::ViewProblems), problems::list);
    r.add(post(), "/problems", Signed(Action::ManageProblems), problems::create);
    r.add(get(), "/problems/new", Signed(Action::ManageProblems), problems::new_form);
    r.add(get(), "/problems/actions", Signed(Action::ViewProblems), problems::actions);
    r.add(get(), "/problems/{key}", Signed(Action::ViewProblems), problems::show);
    r.add(post(), "/problems/{key}", Signed(Action::ManageProblems), problems::update);
    r.add(get(), "/problems/{key}/postmortem.md", Signed(Action::ViewProblems), problems::postmortem);
    r.add(post(), "/problems/{key}/status", Signed(Action::ManageProblems), problems::status);
    r.add(post(), "/problems/{key}/incidents", Signed(Action::ManageProblems), problems::link);
    r.add(post(), "/problems/{key}/incidents/{id}/delete", Signed(Action::ManageProblems), problems::unlink);
    r.add(post(), "/problems/{key}/actions", Signed(Action::ManageProblems), problems::add_action);
    r.add(post(), "/problems/{key}/actions/{id}", Signed(Action::ManageProblems), problems::action_status);

    r.add(get(), "/bugs", Signed(Action::ViewBugs), bugs::list);
    r.add(post(), "/bugs", Signed(Action::ManageBugs), bugs::create);
    r.add(get(), "/bugs/new", Signed(Action::ManageBugs), bugs::new_form);
    r.add(get(), "/bugs/{key}", Signed(Action::ViewBugs), bugs::show);
    r.add(post(), "/bugs/{key}", Signed(Action::ManageBugs), bugs::update);
    r.add(post(), "/bugs/{key}/status", Signed(Action::ManageBugs), bugs::status);
    r.add(post(), "/bugs/{key}/links", Signed(Action::ManageBugs), bugs::link);
    r.add(post(), "/bugs/{key}/links/{target}/delete", Signed(Action::ManageBugs), bugs::unlink);

    r.add(get(), "/reports", Signed(Action::ViewReports), reports::overview);
    r.add(get(), "/reports/definitions", Signed(Action::ViewReports), reports::definitions);
    r.add(get(), "/reports/{slug}", Signed(Action::ViewReports), reports::show);
    r.add(get(), "/releases", Signed(Action::ViewReleases), releases::list);
    r.add(post(), "/releases", Signed(Action::ManageReleases), releases::create);
    r.add(get(), "/releases/new", Signed(Action::ManageReleases), releases::new_form);
    r.add(get(), "/releases/{id}", Signed(Action::ViewReleases), releases::show);
    r.add(post(), "/releases/{id}", Signed(Action::ManageReleases), releases::update);
    r.add(post(), "/releases/{id}/checks/{check}", Signed(Action::ManageReleases), releases::tick);
    r.add(post(), "/releases/{id}/approve", Signed(Action::ApproveRelease), releases::approve);
    r.add(post(), "/releases/{id}/status", Signed(Action::ManageReleases), releases::status);
    r.add(post(), "/releases/{id}/bugs", Signed(Action::ManageReleases), releases::bug);
    r.add(post(), "/releases/{id}/suspects/{incident}", Signed(Action::DecideReleaseSuspect), releases::suspect);
    r.add(get(), "/admin/checklist", Signed(Action::ManageChecklist), releases::checklist);
    r.add(post(), "/admin/checklist", Signed(Action::ManageChecklist), releases::add_item);
    r.add(post(), "/admin/checklist/{id}", Signed(Action::ManageChecklist), releases::set_item);

    r.add(get(), "/status", Public, status_page::show);
    r.add(get(), "/status.json", Public, status_page::json);
    r.add(get(), "/status/feed.atom", Public, status_page::feed);
    r.add(get(), "/status/incidents", Public, status_page::incidents);
    r.add(get(), "/status/incidents/{id}", Public, status_page::incident);
    r.add(get(), "/status/subscribe", Public, status_subscribe::subscribe_form);
    r.add(post(), "/status/subscribe", Public, status_subscribe::subscribe);
    r.add(get(), "/status/confirm/{token}", Public, status_subscribe::confirm_form);
    r.add(post(), "/status/confirm/{token}", Public, status_subscribe::confirm);
    r.add(get(), "/status/unsubscribe", Public, status_subscribe::unsubscribe_form);
    // One-click unsubscription from mail clients: exempt from the CSRF check (the token decides).
    r.add(post(), "/status/unsubscribe", Public, status_subscribe::unsubscribe);
    r.add(post(), "/incidents/{key}/status-page", Signed(Action::PublishStatus), status_publish::publication);
    r.add(post(), "/incidents/{key}/status-page/state", Signed(Action::PublishStatus), status_publish::set_state);
    r.add(post(), "/incidents/{key}/status-updates", Signed(Action::PublishStatus), status_publish::post_update);
    r.add(post(), "/incidents/{key}/status-updates/{id}", Signed(Action::PublishStatus), status_publish::edit_update);
    r.add(
        post(),
        "/incidents/{key}/status-updates/{id}/retract",
        Signed(Action::PublishStatus),
        status_publish::retract_update,
    );
    // The help center: reading is public (the policy decides per article); writing is gated.
    r.add(get(), "/help", Public, help::home);
    r.add(get(), "/help/search", Public, help::search);
    r.add(get(), "/help/categories/{slug}", Public, help::category);
    r.add(get(), "/help/articles/{slug}", Public, help::article);
    r.add(get(), "/help/articles/{slug}/feedback", Public, help::feedback_form);
    r.add(post(), "/help/articles/{slug}/vote", Public, help::vote);
    r.add(post(), "/help/articles/{slug}/opened", Signed(Action::CreateIncident), help::opened);
    r.add(get(), "/help/images/{id}", Public, help::image);
    r.add(get(), "/sitemap.xml", Public, help::sitemap);
    r.add(get(), "/help/review", Signed(Action::ViewHelpFeedback), help_manage::review);
    r.add(get(), "/help/manage", Signed(Action::WriteHelp), help_manage::list);
    r.add(get(), "/help/manage/articles/new", Signed(Action::WriteHelp), help_manage::new_form);
    r.add(post(), "/help/manage/articles", Signed(Action::WriteHelp), help_manage::create);
    r.add(get(), "/help/manage/articles/{id}", Signed(Action::WriteHelp), help_manage::edit_form);
    r.add(post(), "/help/manage/articles/{id}", Signed(Action::WriteHelp), help_manage::save);
    r.add(post(), "/help/manage/articles/{id}/images", Signed(Action::WriteHelp), help_manage::upload);
    r.add(
        post(),
        "/help/manage/articles/{id}/images/{image}/delete",
        Signed(Action::WriteHelp),
        help_manage::delete_image,
    );
    r.add(get(), "/help/manage/articles/{id}/history", Signed(Action::WriteHelp), help_manage::history);
    r.add(post(), "/help/manage/articles/{id}/restore", Signed(Action::WriteHelp), help_manage::restore);
    r.add(post(), "/help/manage/articles/{id}/reviewed", Signed(Action::WriteHelp), help_manage::reviewed);
    r.add(get(), "/help/manage/categories", Signed(Action::WriteHelp), help_manage::categories);
    r.add(post(), "/help/manage/categories", Signed(Action::WriteHelp), help_manage::create_category);
    r.add(post(), "/help/manage/categories/{id}", Signed(Action::WriteHelp), help_manage::update_category);
    r.add(post(), "/help/manage/categories/{id}/delete", Signed(Action::WriteHelp), help_manage::delete_category);
    r.add(post(), "/incidents/{key}/help-link", Signed(Action::WorkIncident), help_picker::insert_link);
    r.add(post(), "/incidents/{key}/macro", Signed(Action::WorkIncident), incident_actions::insert_macro);
}

/// Collects the declarations without registering anything: the route list the tests use.
pub fn table() -> Vec<RouteSpec> {
    struct Collect(Vec<RouteSpec>);
    impl RouteSink for Collect {
        fn add<F, Args>(&mut self, method: Method, path: &'static str, gate: Gate, _handler: F)
        where
            F: Handler<Args>,
            Args: FromRequest + 'static,
            F::Output: Responder + 'static,
        {
            self.0.push(RouteSpec { method, path, gate });
        }
    }
    let mut c = Collect(Vec::new());
    define(&mut c);
    c.0
}

/// One actix route behind its gate (which also turns a handler panic into the 500 page).
pub fn gated<F, Args>(method: Method, gate: Gate, handler: F) -> actix_web::Route
where
    F: Handler<Args>,
    Args: FromRequest + 'static,
    F::Output: Responder + 'static,
{
    web::method(method)
        .to(handler)
        .wrap(from_fn(move |req, next: Next<BoxBody>| middleware::check_gate(gate, req, next)))
}

/// Registers every route with actix, each wrapped in its gate; routes sharing a path share one
/// resource so that a wrong method gets 405 rather than the first resource's answer.
pub fn configure(cfg: &mut web::ServiceConfig) {
    struct Register(Vec<(&'static str, actix_web::Route)>);
    impl RouteSink for Register {
        fn add<F, Args>(&mut self, method: Method, path: &'static str, gate: Gate, handler: F)
        where
            F: Handler<Args>,
            Args: FromRequest + 'static,
            F::Output: Responder + 'static,
        {
            let route = web::method(method)
                .to(handler)
                .wrap(from_fn(move |req, next: Next<BoxBody>| middleware::check_gate(gate, req, next)));
            self.0.push((path, route));
        }
    }
    let mut reg = Register(Vec::new());
    define(&mut reg);
    let mut paths: Vec<&'static str> = Vec::new();
    for (p, _) in &reg.0 {
        if !paths.contains(p) {
            paths.push(p);
        }
    }
    let mut routes = reg.0;
    for path in paths {
        let mut resource = web::resource(path);
        let (mine, rest): (Vec<_>, Vec<_>) = routes.into_iter().partition(|(p, _)| *p == path);
        routes = rest;
        for (_, route) in mine {
            resource = resource.route(route);
        }
        cfg.service(resource);
    }
}
