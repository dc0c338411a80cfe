//! Canned responses ("macros"): staff keep reusable replies and notes, their own or shared by
//! managers; inserted into the reply box with the placeholders filled in, and, when the reply is
//! sent, also setting the status, moving the tier and adding tags in the same transaction.

use super::incidents::{FileUpload, add_web_comment_in, load_for};
use super::{AppState, FieldErrors, RequestMeta, ServiceError, ServiceResult, actor_of, authorize};
use crate::db::macros::{self as db, Macro, MacroFields};
use crate::db::models::{Comment, Tier, User};
use crate::db::{DbConnection, incidents};
use crate::domain::incident::{Status, key, parse_tags, staff_path};
use crate::domain::macros::{PLACEHOLDERS, Values, expand, unknown_placeholders};
use crate::domain::policy::{self, Action, Resource};
use crate::domain::validate;

/// The longest canned text, in characters.
const MAX_BODY_CHARS: usize = 20_000;

/// The statuses a canned response may set (not back to "New").
pub const SETTABLE_STATUSES: [Status; 5] =
    [Status::Triaged, Status::InProgress, Status::WaitingOnCustomer, Status::Resolved, Status::Closed];

/// What the form sends.
#[derive(Debug, Clone, Default)]
pub struct MacroInput {
    pub name: String,
    pub body: String,
    pub internal: bool,
    pub shared: bool,
    /// A status's code, or empty to leave the status alone.
    pub set_status: String,
    /// A tier's id, or empty to leave the tier alone.
    pub set_tier: String,
    pub add_tags: String,
}

impl MacroInput {
    pub fn of(m: &Macro) -> MacroInput {
        MacroInput {
            name: m.name.clone(),
            body: m.body.clone(),
            internal: m.internal,
            shared: m.owner_id.is_none(),
            set_status: m.set_status.clone().unwrap_or_default(),
            set_tier: m.set_tier_id.map(|t| t.to_string()).unwrap_or_default(),
            add_tags: m.add_tags.clone(),
        }
    }
}

/// One canned response as the list shows it.
#[derive(Debug, Clone)]
pub struct MacroRow {
    pub id: i64,
    pub name: String,
    pub internal: bool,
    pub shared: bool,
    /// What it does besides the text, in words ("sets the status to Resolved; adds the tag x").
    pub effects: String,
    pub uses: i64,
    pub editable: bool,
}

/// The list page and the form's choices.
pub struct Catalogue {
    pub rows: Vec<MacroRow>,
    pub can_share: bool,
    pub tiers: Vec<Tier>,
}

fn can_share(user: &User) -> bool {
    policy::allows(Some(&actor_of(user)), Action::ManageSharedMacros, Resource::None)
}

/// The macro if the user may use it (shared, or their own); others' personal ones do not exist
/// for them.
fn usable(conn: &mut DbConnection, user: &User, id: i64) -> ServiceResult<Macro> {
    let m = db::find(conn, id)?;
    match m.owner_id {
        Some(o) if o != user.id => Err(ServiceError::NotFound),
        _ => Ok(m),
    }
}

/// The macro if the user may change it: their own, or a shared one for managers and admins.
fn editable(conn: &mut DbConnection, user: &User, id: i64) -> ServiceResult<Macro> {
    let m = usable(conn, user, id)?;
    if m.owner_id.is_none() && !can_share(user) {
        return Err(ServiceError::Forbidden);
    }
    Ok(m)
}

/// "sets the status to Resolved; moves it to DevOps; adds the tags a, b", or empty.
fn effects(m: &Macro, tiers: &[Tier]) -> String {
    let mut out = Vec::new();
    if let Some(s) = m.set_status.as_deref().and_then(Status::parse) {
        out.push(format!("sets the status to {}", s.label()));
    }
    if let Some(t) = m.set_tier_id.and_then(|id| tiers.iter().find(|t| t.id == id)) {
        out.push(format!("moves it to {}", t.name));
    }
    let tags: Vec<&str> = m.add_tags.split_whitespace().collect();
    match tags.len() {
        0 => {}
        1 => out.push(format!("adds the tag {}", tags[0])),
        _ => out.push(format!("adds the tags {}", tags.join(", "))),
    }
    out.join("; ")
}

pub fn catalogue(state: &AppState, user: &User) -> ServiceResult<Catalogue> {
    authorize(&actor_of(user), Action::WorkIncident, Resource::None)?;
    let mut conn = state.conn()?;
    let conn = &mut *conn;
    let tiers = crate::db::tiers::all(conn)?;
    let share = can_share(user);
    let rows = db::usable_by(conn, user.id)?
        .into_iter()
        .map(|m| MacroRow {
            effects: effects(&m, &tiers),
            id: m.id,
            name: m.name,
            internal: m.internal,
            shared: m.owner_id.is_none(),
            uses: m.uses,
            editable: m.owner_id.is_some() || share,
        })
        .collect();
    Ok(Catalogue { rows, can_share: share, tiers })
}

/// One macro for its edit form.
pub fn for_edit(state: &AppState, user: &User, id: i64) -> ServiceResult<Macro> {
    authorize(&actor_of(user), Action::WorkIncident, Resource::None)?;
    editable(&mut *state.conn()?, user, id)
}

struct Valid {
    name: String,
    body: String,
    status: Option<Status>,
    tier: Option<i64>,
    tags: String,
}

fn validate_input(conn: &mut DbConnection, user: &User, input: &MacroInput) -> ServiceResult<Valid> {
    let mut errors = FieldErrors::default();
    let name = validate::label(&input.name, "Name", 100).map_err(|e| errors.add("name", e)).ok();
    let body = input.body.replace("\r\n", "\n").trim_end().to_string();
    if body.trim().is_empty() {
        errors.add("body", "Write the text the reply box gets.");
    } else if body.chars().count() > MAX_BODY_CHARS {
        errors.add("body", format!("The text must be at most {MAX_BODY_CHARS} characters."));
    } else {
        let unknown = unknown_placeholders(&body);
        if !unknown.is_empty() {
            let names: Vec<String> = unknown.iter().map(|u| format!("{{{u}}}")).collect();
            let known: Vec<String> = PLACEHOLDERS.iter().map(|(p, _)| format!("{{{p}}}")).collect();
            errors.add(
                "body",
                format!(
                    "{} {} not a placeholder. Use {} (write {{{{ for a literal brace).",
                    names.join(", "),
                    if names.len() == 1 { "is" } else { "are" },
                    known.join(", ")
                ),
            );
        }
    }
    let status = match input.set_status.trim() {
        "" => None,
        s => match Status::parse(s).filter(|s| SETTABLE_STATUSES.contains(s)) {
            Some(s) => Some(s),
            None => {
                errors.add("set_status", "Choose a status from the list.");
                None
            }
        },
    };
    if status == Some(Status::Resolved) && input.internal {
        errors.add(
            "set_status",
            "A canned response that resolves must be a reply: its text becomes the resolution the reporter reads.",
        );
    }
    let tier = match input.set_tier.trim() {
        "" => None,
        t => {
            let tiers = crate::db::tiers::all(conn)?;
            match t.parse::<i64>().ok().filter(|id| tiers.iter().any(|x| x.id == *id)) {
                Some(id) => Some(id),
                None => {
                    errors.add("set_tier", "Choose a tier from the list.");
                    None
                }
            }
        }
    };
    let tags = parse_tags(&input.add_tags).map_err(|e| errors.add("add_tags", e)).ok();
    if input.shared && !can_share(user) {
        errors.add("shared", "Only managers and admins share canned responses; keep this one for yourself.");
    }
    errors.into_result()?;
    let (Some(name), Some(tags)) = (name, tags) else {
        return Err(ServiceError::Internal("validated fields missing".into()));
    };
    Ok(Valid { name, body, status, tier, tags: tags.join(" ") })
}

fn map_conflict(e: crate::db::DbError) -> ServiceError {
    match e {
        crate::db::DbError::Conflict => {
            ServiceError::Invalid(FieldErrors::single("name", "A canned response with this name exists already."))
        }
        other => other.into(),
    }
}

fn fields<'a>(v: &'a Valid, input: &MacroInput, user: &User) -> MacroFields<'a> {
    MacroFields {
        name: &v.name,
        body: &v.body,
        internal: input.internal,
        owner_id: if input.shared { None } else { Some(user.id) },
        set_status: v.status.map(Status::as_str),
        set_tier_id: v.tier,
        add_tags: &v.tags,
    }
}

fn target(m: &Macro) -> String {
    format!("macro:{}", m.id)
}

pub fn create(state: &AppState, meta: &RequestMeta, user: &User, input: &MacroInput) -> ServiceResult<Macro> {
    authorize(&actor_of(user), Action::WorkIncident, Resource::None)?;
    state.tx(|conn| {
        let v = validate_input(conn, user, input)?;
        let now = state.clock.now_naive();
        let m = db::insert(conn, &fields(&v, input, user), user.id, now).map_err(map_conflict)?;
        let scope = if m.owner_id.is_none() { "shared" } else { "personal" };
        state.audit(conn, meta, Some(user), "macro.create", &target(&m), &format!("{} ({scope})", m.name))?;
        Ok(m)
    })
}

pub fn update(state: &AppState, meta: &RequestMeta, user: &User, id: i64, input: &MacroInput) -> ServiceResult<Macro> {
    authorize(&actor_of(user), Action::WorkIncident, Resource::None)?;
    state.tx(|conn| {
        let before = editable(conn, user, id)?;
        let v = validate_input(conn, user, input)?;
        let m = db::update(conn, id, &fields(&v, input, user), state.clock.now_naive()).map_err(map_conflict)?;
        let mut changed = Vec::new();
        if before.name != m.name {
            changed.push(format!("name {} → {}", before.name, m.name));
        }
        if before.owner_id.is_none() != m.owner_id.is_none() {
            changed.push(if m.owner_id.is_none() { "shared".into() } else { "made personal".into() });
        }
        if before.body != m.body {
            changed.push("text".into());
        }
        if (&before.set_status, before.set_tier_id, &before.add_tags) != (&m.set_status, m.set_tier_id, &m.add_tags) {
            changed.push("actions".into());
        }
        state.audit(conn, meta, Some(user), "macro.update", &target(&m), &changed.join("; "))?;
        Ok(m)
    })
}

pub fn delete(state: &AppState, meta: &RequestMeta, user: &User, id: i64) -> ServiceResult<Macro> {
    authorize(&actor_of(user), Action::WorkIncident, Resource::None)?;
    state.tx(|conn| {
        let m = editable(conn, user, id)?;
        db::delete(conn, id)?;
        state.audit(conn, meta, Some(user), "macro.delete", &target(&m), &m.name)?;
        Ok(m)
    })
}

/// The choices of the reply box's picker: (id, label), shared ones first.
pub fn choices(state: &AppState, conn: &mut DbConnection, user: &User) -> ServiceResult<Vec<(i64, String)>> {
    let remembered = state.cache.macro_choices(user.id, || {
        Ok::<_, ServiceError>(
            db::usable_by(conn, user.id)?
                .into_iter()
                .map(|m| {
                    let kind = if m.internal { ", internal note" } else { "" };
                    let whose = if m.owner_id.is_none() { "shared" } else { "mine" };
                    (m.id, format!("{} ({whose}{kind})", m.name))
                })
                .collect(),
        )
    })?;
    Ok(remembered.to_vec())
}

/// A canned response made ready for one incident's reply box.
#[derive(Debug, Clone)]
pub struct Inserted {
    pub macro_id: i64,
    pub name: String,
    pub text: String,
    pub internal: bool,
    pub effects: String,
}

/// The macro's text for this incident and agent, and what sending it will also do. Nothing is
/// written.
pub fn prepare(state: &AppState, user: &User, incident_id: i64, macro_id: i64) -> ServiceResult<Inserted> {
    let mut conn = state.conn()?;
    let conn = &mut *conn;
    let (inc, _) = load_for(conn, &actor_of(user), incident_id, Action::WorkIncident)?;
    let m = usable(conn, user, macro_id).map_err(|e| match e {
        ServiceError::NotFound => ServiceError::Invalid(FieldErrors::single("macro", "Choose a canned response.")),
        e => e,
    })?;
    let lists = super::incidents::lists(state, conn)?;
    let reporter = crate::db::users::find(conn, inc.reporter_id)?;
    let organization = match inc.organization_id {
        Some(o) => lists.organization_name(conn, o)?,
        None => String::new(),
    };
    let values = Values {
        customer_name: reporter.display_name,
        organization,
        incident_key: key(inc.id),
        incident_title: inc.title.clone(),
        incident_link: format!("{}/incidents/{}", state.config.base_url.trim_end_matches('/'), key(inc.id)),
        service: lists.service_name(conn, inc.service_id)?,
        agent_name: user.display_name.clone(),
    };
    Ok(Inserted {
        macro_id: m.id,
        text: expand(&m.body, &values),
        internal: m.internal,
        effects: effects(&m, &lists.tiers),
        name: m.name,
    })
}

/// What a pending macro will do, for the reply box shown again after an error.
pub fn describe(state: &AppState, user: &User, macro_id: i64) -> ServiceResult<(String, String)> {
    let mut conn = state.conn()?;
    let conn = &mut *conn;
    let m = usable(conn, user, macro_id)?;
    let tiers = crate::db::tiers::all(conn)?;
    Ok((effects(&m, &tiers), m.name))
}

/// What the reply box sends with a canned response.
#[derive(Debug, Clone, Default)]
pub struct Reply {
    pub body: String,
    pub internal: bool,
    pub files: Vec<FileUpload>,
}

/// Sends the reply (or note) with its files and applies the macro's actions in one transaction: the tags, the
/// tier, then the status (a resolving macro's resolution is the reply). Any refusal undoes all
/// of it and names the macro. Says whether the macro did more than give the text.
pub fn send(
    state: &AppState,
    _meta: &RequestMeta,
    user: &User,
    incident_id: i64,
    macro_id: i64,
    reply: &Reply,
) -> ServiceResult<(Comment, bool)> {
    let (body, internal) = (reply.body.as_str(), reply.internal);
    state.tx(|conn| {
        let m = usable(conn, user, macro_id)?;
        let c = add_web_comment_in(state, conn, user, incident_id, body, internal, &reply.files)?;
        apply(state, conn, user, incident_id, &m, body, internal).map_err(|e| match e {
            ServiceError::Invalid(errors) => {
                let why = errors.0.first().map(|(_, m)| m.as_str()).unwrap_or("it was refused");
                ServiceError::Invalid(FieldErrors::single(
                    "macro_id",
                    format!("“{}” could not be applied, so nothing was sent: {why}", m.name),
                ))
            }
            e => e,
        })?;
        db::count_use(conn, m.id)?;
        let acted = m.set_status.is_some() || m.set_tier_id.is_some() || !m.add_tags.is_empty();
        Ok((c, acted))
    })
}

fn apply(
    state: &AppState,
    conn: &mut DbConnection,
    user: &User,
    incident_id: i64,
    m: &Macro,
    body: &str,
    internal: bool,
) -> ServiceResult<()> {
    let add: Vec<String> = m.add_tags.split_whitespace().map(str::to_string).collect();
    super::incidents::add_tags_in(state, conn, user, incident_id, &add)?;
    if let Some(tier_id) = m.set_tier_id {
        let inc = incidents::find(conn, incident_id)?;
        if inc.tier_id != tier_id {
            let to = crate::db::tiers::find(conn, tier_id)?;
            let why = format!("Canned response “{}”", m.name);
            super::escalation::move_to_tier(state, conn, &inc, inc.version, &to, Some(user), "other", &why, false)?;
        }
    }
    if let Some(status) = m.set_status.as_deref().and_then(Status::parse) {
        let inc = incidents::find(conn, incident_id)?;
        let from = Status::parse(&inc.status).unwrap_or(Status::New);
        if status == Status::Resolved && internal && from != Status::Resolved {
            return Err(ServiceError::Invalid(FieldErrors::single(
                "status",
                "it resolves the incident with the reply as its resolution: send it as a reply, not a note.",
            )));
        }
        // The macro names where the incident should end up; it gets there through the
        // workflow's steps, each on the timeline (new → in progress → waiting on customer).
        let Some(path) = staff_path(from, status) else {
            return Err(ServiceError::Invalid(FieldErrors::single(
                "status",
                format!(
                    "an incident that is {} cannot become {}.",
                    from.label().to_lowercase(),
                    status.label().to_lowercase()
                ),
            )));
        };
        for step in path {
            let inc = incidents::find(conn, incident_id)?;
            let resolution = if step == Status::Resolved { body } else { "" };
            super::incidents::change_status_in(
                state,
                conn,
                user,
                inc.id,
                inc.version,
                step.as_str(),
                resolution,
                None,
            )?;
        }
    }
    Ok(())
}
