use crate::db::{organizations, users};
use crate::domain::policy::Action;
use crate::error::AppError;
use crate::service::{AppState, ServiceResult};
use crate::web::ctx::{CurrentUser, PageCtx, page};
use crate::web::run;
use actix_web::{HttpResponse, web};
use askama::Template;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    ctx: PageCtx,
    name: String,
    role_label: &'static str,
    is_staff: bool,
    organization: String,
    stats: Vec<(&'static str, i64)>,
    links: Vec<(&'static str, &'static str)>,
}

pub async fn home(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let manage_users = cu.may(Action::ManageUsers);
    let org_id = cu.user.organization_id;
    let (stats, organization) = run(move || -> ServiceResult<_> {
        let mut conn = state.conn()?;
        let mut stats = Vec::new();
        if manage_users {
            stats.push(("users", users::count(&mut conn)?));
            stats.push((
                "organizations",
                organizations::names(&mut conn)?.len() as i64,
            ));
        }
        let org = match org_id {
            Some(id) => organizations::find(&mut conn, id)?.name,
            None => "no organization".to_string(),
        };
        Ok((stats, org))
    })
    .await?;
    let mut links = vec![
        ("/account", "Your account"),
        ("/account/sessions", "Your sessions"),
    ];
    if manage_users {
        links.push(("/admin/users", "Manage users"));
    }
    if cu.may(Action::ManageOrganizations) {
        links.push(("/admin/organizations", "Manage organizations"));
    }
    if cu.may(Action::ViewAudit) {
        links.push(("/admin/audit", "Audit log"));
    }
    page(&HomePage {
        ctx,
        name: cu.user.display_name.clone(),
        role_label: cu.role().label(),
        is_staff: cu.role().is_staff(),
        organization,
        stats,
        links,
    })
}
