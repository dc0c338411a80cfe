//! First run: a one-time link creates the first admin. There is no default account.

use super::auth::{NewSession, start_session};
use super::{AppState, FieldErrors, RequestMeta, ServiceError, ServiceResult, check_new_password};
use crate::crypto::{random_token, sha256_hex};
use crate::db::{setup_tokens, users};
use crate::domain::validate;

/// When there are no users yet, makes a fresh setup token and returns the link to print.
pub fn issue_link_if_needed(state: &AppState) -> ServiceResult<Option<String>> {
    let mut conn = state.conn()?;
    if users::count(&mut conn)? > 0 {
        return Ok(None);
    }
    let token = random_token(16);
    setup_tokens::replace(&mut conn, &sha256_hex(&token), state.clock.now_naive())?;
    Ok(Some(format!("{}/setup?token={token}", state.config.base())))
}

/// No user exists yet: the sign-in page points to the setup link instead.
pub fn instance_is_empty(state: &AppState) -> ServiceResult<bool> {
    Ok(users::count(&mut *state.conn()?)? == 0)
}

/// One step of getting a new instance ready, for the admin's home page.
#[derive(Debug, Clone)]
pub struct FirstRunStep {
    pub label: &'static str,
    pub hint: &'static str,
    pub href: &'static str,
    pub done: bool,
}

/// What a new instance still needs (admins only; empty for others): services, staff, tiers
/// with members and an on-call rotation, outgoing mail, incoming mail. The list goes once
/// every step is done.
pub fn first_run(state: &AppState, user: &crate::db::models::User) -> ServiceResult<Vec<FirstRunStep>> {
    use crate::domain::policy::{Action, Resource, allows};
    if !allows(Some(&super::actor_of(user)), Action::ManageUsers, Resource::None) {
        return Ok(Vec::new());
    }
    let mut conn = state.conn()?;
    let conn = &mut *conn;
    let services = !crate::db::services::all(conn)?.is_empty();
    let workers = super::incidents::working_roles();
    let staff = users::count_active_in(conn, &workers)? >= 2;
    let tiers = crate::db::tiers::all(conn)?;
    let counts = crate::db::tiers::member_counts(conn)?;
    let filled = tiers.iter().all(|t| counts.iter().any(|(id, n)| *id == t.id && *n > 0));
    let on_call = match tiers.first() {
        Some(t) => crate::db::tiers::rotation(conn, t.id)?.is_some_and(|r| !r.members.is_empty()),
        None => false,
    };
    let c = &state.config;
    let steps = vec![
        FirstRunStep {
            label: "Create the services incidents are reported against",
            hint: "Nobody can report an incident before there is a service to choose.",
            href: "/admin/services",
            done: services,
        },
        FirstRunStep {
            label: "Add the staff who work incidents",
            hint: "Support, DevOps and managers; each gets a one-time link to set a password.",
            href: "/admin/users",
            done: staff,
        },
        FirstRunStep {
            label: "Put people in every escalation tier, with an on-call rotation for the first",
            hint: "New incidents go to the first tier's on-call person; escalations to the next tier's.",
            href: "/admin/tiers",
            done: filled && on_call,
        },
        FirstRunStep {
            label: "Configure outgoing mail (SMTP)",
            hint: "Until then notifications are written to files under the data directory: set FIREWATCH_SMTP_HOST.",
            href: "/admin/outbox",
            done: c.smtp_host.as_deref().is_some_and(|h| !h.is_empty()),
        },
        FirstRunStep {
            label: "Turn on incoming mail",
            hint: "Set FIREWATCH_INBOUND_TOKEN and run firewatch mailgate, so mail becomes incidents and replies.",
            href: "/admin/inbound",
            done: c.inbound_token.as_deref().is_some_and(|t| !t.is_empty()),
        },
    ];
    Ok(if steps.iter().all(|s| s.done) { Vec::new() } else { steps })
}

pub fn token_is_live(state: &AppState, token: &str) -> ServiceResult<bool> {
    let mut conn = state.conn()?;
    Ok(users::count(&mut conn)? == 0 && setup_tokens::is_valid(&mut conn, &sha256_hex(token))?)
}

#[derive(Debug, Clone, Default)]
pub struct SetupInput {
    pub token: String,
    pub display_name: String,
    pub email: String,
    pub password: String,
    pub password_confirm: String,
}

/// Creates the first admin and signs them in. The token dies in the same transaction. A dead
/// token is refused before anything else, above all before the (deliberately slow) hashing.
pub fn complete(state: &AppState, meta: &RequestMeta, input: &SetupInput) -> ServiceResult<NewSession> {
    if !token_is_live(state, &input.token)? {
        return Err(ServiceError::NotFound);
    }
    let mut errors = FieldErrors::default();
    let name = validate::label(&input.display_name, "Name", 100).map_err(|e| errors.add("display_name", e)).ok();
    let email = validate::email(&input.email).map_err(|e| errors.add("email", e)).ok();
    check_new_password(
        &mut errors,
        "password",
        &input.password,
        &input.password_confirm,
        email.as_deref().unwrap_or(&input.email),
        name.as_deref().unwrap_or(&input.display_name),
    );
    errors.into_result()?;
    let (Some(name), Some(email)) = (name, email) else {
        return Err(ServiceError::Internal("validated fields missing".into()));
    };
    let hash = state.hasher.hash(&input.password)?;
    let now = state.clock.now_naive();
    state.tx(|conn| {
        if users::count(conn)? > 0 || !setup_tokens::consume(conn, &sha256_hex(&input.token), now)? {
            return Err(ServiceError::NotFound);
        }
        let user = users::insert(
            conn,
            &users::NewUser {
                email: &email,
                display_name: &name,
                role: "admin",
                organization_id: None,
                time_zone: "UTC",
                password_hash: Some(&hash),
                now,
            },
        )?;
        state.audit(conn, meta, Some(&user), "setup", &format!("user:{}", user.id), "first administrator created")?;
        start_session(state, conn, meta, &user)
    })
}
