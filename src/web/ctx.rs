//! What a handler knows about the request: who is signed in, the CSRF token for its forms, the
//! request id, the flash message; and the helpers that turn templates into responses.

use crate::domain::policy::{self, Action, Actor, Resource};
use crate::domain::role::Role;
use crate::error::AppError;
use crate::service::User;
use crate::service::{AppState, RequestMeta, actor_of};
use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, web};
use std::future::{Ready, ready};

pub const FLASH_COOKIE: &str = "fw_flash";

/// The signed-in user, put into request extensions by the session middleware.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: User,
    pub session_id: i64,
}

impl CurrentUser {
    pub fn actor(&self) -> Actor {
        actor_of(&self.user)
    }

    pub fn role(&self) -> Role {
        self.actor().role
    }

    pub fn may(&self, action: Action) -> bool {
        policy::allows(Some(&self.actor()), action, Resource::None)
    }
}

#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The CSRF token bound to this browser's session (or anonymous cookie).
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // Routes needing a user are gated, so a missing user here is a wiring mistake.
        ready(req.extensions().get::<CurrentUser>().cloned().ok_or(AppError::Forbidden))
    }
}

/// Request facts for the audit log.
pub struct Meta(pub RequestMeta);

pub fn request_meta(req: &HttpRequest) -> RequestMeta {
    RequestMeta {
        ip: req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_default(),
        user_agent: req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("").to_string(),
        request_id: req.extensions().get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default(),
    }
}

impl FromRequest for Meta {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Meta(request_meta(req))))
    }
}

#[derive(Debug, Clone)]
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

#[derive(Debug, Clone)]
pub struct NavUser {
    pub name: String,
    pub role_label: &'static str,
}

/// What the layout needs on every page.
#[derive(Debug, Clone)]
pub struct PageCtx {
    pub user: Option<NavUser>,
    pub nav: Vec<NavItem>,
    pub csrf: String,
    pub flash: Option<String>,
    pub request_id: String,
    pub time_zone: chrono_tz::Tz,
}

impl PageCtx {
    pub fn from_request(req: &HttpRequest) -> Self {
        let current = req.extensions().get::<CurrentUser>().cloned();
        let path = req.path().to_string();
        let mut nav = Vec::new();
        if let Some(cu) = &current {
            let mut item = |href: &'static str, label: &'static str, action: Action| {
                if cu.may(action) {
                    let current = if href == "/" { path == "/" } else { path.starts_with(href) };
                    nav.push(NavItem { href, label, current });
                }
            };
            item("/", "Home", Action::ViewHome);
            item("/incidents", "Incidents", Action::ViewIncidents);
            item("/problems", "Problems", Action::ViewProblems);
            item("/bugs", "Bugs", Action::ViewBugs);
            item("/releases", "Releases", Action::ViewReleases);
            item("/reports", "Reports", Action::ViewReports);
            item("/help", "Help", Action::ReadHelp);
            item("/admin/users", "Users", Action::ManageUsers);
            item("/admin/organizations", "Organizations", Action::ManageOrganizations);
            item("/admin/services", "Services", Action::ManageServices);
            item("/admin/tiers", "Tiers", Action::ManageTiers);
            item("/admin/sla", "SLA", Action::ManageSla);
            item("/admin/macros", "Canned responses", Action::WorkIncident);
            item("/admin/outbox", "Outbox", Action::ManageOutbox);
            item("/admin/inbound", "Inbound mail", Action::ManageInbound);
            item("/admin/checklist", "Release checklist", Action::ManageChecklist);
            item("/admin/audit", "Audit log", Action::ViewAudit);
            item("/account", "Account", Action::ManageOwnAccount);
        }
        let flash = req.cookie(FLASH_COOKIE).and_then(|c| {
            url::form_urlencoded::parse(format!("m={}", c.value()).as_bytes())
                .next()
                .map(|(_, v)| v.chars().take(300).collect::<String>())
        });
        PageCtx {
            time_zone: current.as_ref().and_then(|c| c.user.time_zone.parse().ok()).unwrap_or(chrono_tz::UTC),
            user: current.map(|c| NavUser { name: c.user.display_name.clone(), role_label: c.role().label() }),
            nav,
            csrf: req.extensions().get::<CsrfToken>().map(|t| t.0.clone()).unwrap_or_default(),
            flash,
            request_id: req.extensions().get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default(),
        }
    }

    /// A UTC timestamp in the viewer's time zone, e.g. "2026-11-23 15:43 CET".
    pub fn time(&self, t: &chrono::NaiveDateTime) -> String {
        t.and_utc().with_timezone(&self.time_zone).format("%Y-%m-%d %H:%M %Z").to_string()
    }
}

impl FromRequest for PageCtx {
    type Error = AppError;
    type Future = Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(PageCtx::from_request(req)))
    }
}

/// Renders a template with the given status as text/html.
pub fn render(status: StatusCode, tpl: &impl askama::Template) -> Result<HttpResponse, AppError> {
    let body = tpl.render()?;
    Ok(HttpResponse::build(status).content_type("text/html; charset=utf-8").body(body))
}

pub fn page(tpl: &impl askama::Template) -> Result<HttpResponse, AppError> {
    render(StatusCode::OK, tpl)
}

/// 422 with the form shown again.
pub fn invalid(tpl: &impl askama::Template) -> Result<HttpResponse, AppError> {
    render(StatusCode::UNPROCESSABLE_ENTITY, tpl)
}

/// 303 See Other to a local path, optionally with a one-time message for the next page.
pub fn redirect(to: &str, flash: Option<&str>) -> HttpResponse {
    let mut b = HttpResponse::SeeOther();
    b.insert_header((header::LOCATION, to.to_string()));
    if let Some(msg) = flash {
        let encoded: String = url::form_urlencoded::byte_serialize(msg.as_bytes()).collect();
        b.cookie(
            actix_web::cookie::Cookie::build(FLASH_COOKIE, encoded)
                .path("/")
                .http_only(true)
                .same_site(actix_web::cookie::SameSite::Lax)
                .finish(),
        );
    }
    b.finish()
}

pub fn state(req: &HttpRequest) -> Option<web::Data<AppState>> {
    req.app_data::<web::Data<AppState>>().cloned()
}
