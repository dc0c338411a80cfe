//! `/incidents`: the queue, its filters (the report filters too) and keyset pages.

use super::SelectOption;
use crate::domain::incident::{Priority, Severity, Status, key};
use crate::error::AppError;
use crate::service::incidents::{self, QueueParams, QueueRow, QueueView};
use crate::service::{AppState, FieldErrors};
use crate::web::ctx::{CurrentUser, PageCtx, page};
use crate::web::run;
use crate::web::view::{Check, age, status_label};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{NaiveDate, NaiveDateTime};

pub struct Row {
    pub key: String,
    /// Ticked for the bulk form (when the queue comes back with its message).
    pub selected: bool,
    pub title: String,
    pub snippet: Option<String>,
    pub severity: String,
    pub priority: String,
    pub status: &'static str,
    pub status_code: String,
    pub service: String,
    pub assignee: String,
    pub organization: String,
    pub age: String,
    pub updated: String,
    pub tags: Vec<String>,
    /// The next SLA target while its clock runs: the first response while unanswered ("Reply
    /// due in …"), then the resolution ("due in …" / "overdue by …").
    pub due: String,
    pub overdue: bool,
}

/// Table rows; severity and priority stay empty unless `triage` (staff: see `QueueView::staff`).
pub fn rows(ctx: &PageCtx, now: NaiveDateTime, list: Vec<QueueRow>, triage: bool) -> Vec<Row> {
    list.into_iter()
        .map(|r| Row {
            key: key(r.incident.id),
            status: status_label(&r.incident.status),
            status_code: r.incident.status.clone(),
            severity: if triage { r.incident.severity.clone() } else { String::new() },
            priority: if triage { r.incident.priority.clone() } else { String::new() },
            age: age(now, r.incident.created_at),
            due: match (r.incident.response_due_at, r.incident.resolution_due_at) {
                (Some(d), _) => format!("Reply {}", crate::domain::sla::due_text(now, d)),
                (None, Some(d)) => crate::domain::sla::due_text(now, d),
                (None, None) => String::new(),
            },
            overdue: r.incident.response_due_at.or(r.incident.resolution_due_at).is_some_and(|d| d <= now),
            updated: ctx.time(&r.incident.updated_at),
            title: r.incident.title,
            snippet: r.snippet,
            service: r.service,
            assignee: r.assignee,
            organization: r.organization,
            tags: r.tags,
            selected: false,
        })
        .collect()
}

/// How many earlier pages a queue link remembers for "Previous page".
const MAX_TRAIL: usize = 100;

#[derive(Template)]
#[template(path = "incidents/queue.html")]
struct QueuePage {
    ctx: PageCtx,
    views: Vec<ViewTab>,
    any_deletable: bool,
    can_work: bool,
    /// This page, for the bulk form's way back.
    back_here: String,
    bulk: incidents::BulkInput,
    bulk_errors: FieldErrors,
    bulk_actions: Vec<SelectOption>,
    bulk_assignees: Vec<SelectOption>,
    bulk_statuses: Vec<SelectOption>,
    bulk_tiers: Vec<SelectOption>,
    can_share_views: bool,
    /// The filter the "save this view" box saves.
    save_query: String,
    view_name: String,
    view_errors: FieldErrors,
    staff: bool,
    rows: Vec<Row>,
    count_text: String,
    next: Option<String>,
    /// The first page of the same list, when this is a later one.
    first: Option<String>,
    /// The page before this one, when it came by a next-page link.
    previous: Option<String>,
    /// Tighter rows, more of them on a screen.
    compact: bool,
    densities: Vec<SelectOption>,
    per_page: Vec<SelectOption>,
    statuses: Vec<Check>,
    severities: Vec<Check>,
    priorities: Vec<Check>,
    services: Vec<SelectOption>,
    assignees: Vec<SelectOption>,
    organizations: Vec<SelectOption>,
    tiers: Vec<SelectOption>,
    sorts: Vec<SelectOption>,
    tag: String,
    text: String,
    created_from: String,
    created_to: String,
    searching: bool,
    escalated: bool,
    reopened: bool,
    at_risk: bool,
    unanswered: bool,
    waiting_days: String,
    breached: Vec<SelectOption>,
    resolved_from: String,
    resolved_to: String,
    /// The report figure the list is narrowed to, in words; its parameters ride along.
    counted_by: Option<String>,
    counted_hidden: Vec<(String, String)>,
    report_filtered: bool,
}

/// Reads the queue parameters from the query string (repeated keys for multi-selects).
fn parse_params(query: &str) -> (QueueParams, Vec<(String, String)>) {
    let mut p = QueueParams::default();
    let mut kept = Vec::new();
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        let v = v.trim().to_string();
        if v.is_empty() {
            continue;
        }
        let date = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        match k.as_ref() {
            "status" => p.statuses.push(v.clone()),
            "severity" if Severity::parse(&v).is_some() => p.severities.push(v.clone()),
            "priority" if Priority::parse(&v).is_some() => p.priorities.push(v.clone()),
            "service" => p.service = v.parse().ok(),
            "assignee" => p.assignee = v.clone(),
            "organization" => p.organization = v.parse().ok(),
            "tier" => p.tier = v.clone(),
            "tag" => p.tag = v.clone(),
            "from" => p.created_from = date(&v),
            "to" => p.created_to = date(&v),
            "q" => p.text = v.chars().take(200).collect(),
            "escalated" => p.escalated = v == "1",
            "reopened" => p.reopened = v == "1",
            "breached" => p.breached = v.clone(),
            "at_risk" => p.at_risk = v == "1",
            "unanswered" => p.unanswered = v == "1",
            "waiting_days" => match v.parse::<u32>() {
                Ok(d) => p.waiting_days = Some(d),
                Err(_) => continue,
            },
            "resolved_from" => p.resolved_from = date(&v),
            "resolved_to" => p.resolved_to = date(&v),
            "report" | "figure" => {}
            r if r.starts_with("r_") => {}
            "sort" => p.sort = v.clone(),
            // Only the page reads it (and its links keep it).
            "density" if v == "compact" => {}
            "per" => p.per = v.parse().unwrap_or(0),
            "after" => {
                p.after = v.clone();
                continue;
            }
            _ => continue,
        }
        kept.push((k.into_owned(), v));
    }
    p.counted_by = counted_by(&kept);
    (p, kept)
}

/// `report`, `figure` and the report's filter bar (`r_period`, `r_from`, …) of a link from a
/// report figure.
fn counted_by(kept: &[(String, String)]) -> Option<(String, String, crate::service::reports::ReportQuery)> {
    let get = |k: &str| kept.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    let (report, figure) = (get("report")?, get("figure")?);
    let bar: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(kept.iter().filter_map(|(k, v)| k.strip_prefix("r_").map(|k| (k, v))))
        .finish();
    let q = serde_urlencoded::from_str(&bar).unwrap_or_default();
    Some((report, figure, q))
}

fn checks<T: Copy>(
    all: &[T],
    chosen: &[String],
    value: impl Fn(T) -> &'static str,
    label: impl Fn(T) -> &'static str,
) -> Vec<Check> {
    all.iter()
        .map(|t| Check {
            value: value(*t).to_string(),
            label: label(*t).to_string(),
            checked: chosen.iter().any(|c| c == value(*t)),
        })
        .collect()
}

pub async fn queue(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    req: HttpRequest,
) -> Result<HttpResponse, AppError> {
    let p = queue_page(&state, ctx, &cu, req.query_string(), SaveBox::default()).await?;
    page(&p)
}

/// The "save this view" box and the bulk form: what was typed when the queue came back with
/// a message.
#[derive(Default)]
struct SaveBox {
    name: String,
    errors: FieldErrors,
    bulk: incidents::BulkInput,
    bulk_errors: FieldErrors,
    selected: Vec<String>,
}

/// One saved view above the queue.
pub struct ViewTab {
    pub id: i64,
    pub name: String,
    pub href: String,
    pub count: String,
    pub current: bool,
    pub shared: bool,
    pub deletable: bool,
}

fn short_count(c: &incidents::QueueCount) -> String {
    let n = crate::domain::report::thousands(c.n);
    if c.capped || c.at_least { format!("{n}+") } else { n }
}

/// The saved views with their counts, marking the one whose filter is `current`.
fn view_tabs(above: incidents::ViewsAbove, current: &str) -> Vec<ViewTab> {
    above
        .views
        .into_iter()
        .map(|(v, c)| ViewTab {
            href: if v.query.is_empty() { "/incidents".into() } else { format!("/incidents?{}", v.query) },
            current: v.query == current,
            count: short_count(&c),
            id: v.id,
            name: v.name,
            shared: v.shared,
            deletable: v.deletable,
        })
        .collect()
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct SaveViewForm {
    #[serde(default)]
    pub view_name: String,
    #[serde(default)]
    pub query: String,
    #[serde(default)]
    pub shared: Option<String>,
}

/// Saves the queue's filter as a named view; a refusal brings the queue back with the message.
pub async fn save_view(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    crate::web::ctx::Meta(meta): crate::web::ctx::Meta,
    form: web::Form<SaveViewForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    // Only the filter is saved: paging starts over whenever the view is opened.
    let query: String =
        url::form_urlencoded::Serializer::new(String::new()).extend_pairs(parse_params(&form.query).1).finish();
    let (st, user, name, q, shared) =
        (state.clone(), cu.user.clone(), form.view_name.clone(), query.clone(), form.shared.is_some());
    match crate::web::form_outcome(
        crate::web::blocking(move || crate::service::views::save(&st, &meta, &user, &name, &q, shared)).await?,
    )? {
        Ok(v) => {
            let to = if query.is_empty() { "/incidents".to_string() } else { format!("/incidents?{query}") };
            Ok(crate::web::ctx::redirect(&to, Some(&format!("View “{}” saved.", v.name))))
        }
        Err(errors) => {
            let p =
                queue_page(&state, ctx, &cu, &query, SaveBox { name: form.view_name, errors, ..Default::default() })
                    .await?;
            crate::web::ctx::invalid(&p)
        }
    }
}

pub async fn delete_view(
    state: web::Data<AppState>,
    cu: CurrentUser,
    crate::web::ctx::Meta(meta): crate::web::ctx::Meta,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let v = run(move || crate::service::views::delete(&state, &meta, &cu.user, id)).await?;
    Ok(crate::web::ctx::redirect("/incidents", Some(&format!("View “{}” deleted.", v.name))))
}

/// The bulk form: one change to every selected incident, each in its own transaction, then a
/// page saying what happened to each. A bad form (nothing selected, no action, a missing
/// value) brings the queue back with the message and the selection.
pub async fn bulk(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    crate::web::ctx::Meta(meta): crate::web::ctx::Meta,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let mut keys = Vec::new();
    let mut input = incidents::BulkInput::default();
    let mut back = String::new();
    for (k, v) in url::form_urlencoded::parse(&body) {
        let v = v.into_owned();
        match k.as_ref() {
            "ids" => keys.push(v),
            "bulk_action" => input.action = v,
            "bulk_assignee" => input.assignee = v,
            "bulk_status" => input.status = v,
            "bulk_resolution" => input.resolution = v,
            "bulk_tier" => input.tier = v,
            "bulk_tags" => input.tags = v,
            "bulk_duplicate_of" => input.duplicate_of = v,
            "back" => back = v,
            _ => {}
        }
    }
    // Only a way back to the queue itself.
    let query = back.strip_prefix("/incidents").map(|q| q.trim_start_matches('?')).unwrap_or("").to_string();
    let (st, user, ks, inp) = (state.clone(), cu.user.clone(), keys.clone(), input.clone());
    match crate::web::form_outcome(
        crate::web::blocking(move || incidents::bulk_change(&st, &meta, &user, &ks, &inp)).await?,
    )? {
        Ok(outcomes) => {
            let changed = outcomes.iter().filter(|o| o.refused.is_none()).count();
            let back = if query.is_empty() { "/incidents".to_string() } else { format!("/incidents?{query}") };
            page(&BulkDonePage { ctx, changed, outcomes, back })
        }
        Err(bulk_errors) => {
            let boxes = SaveBox { bulk: input, bulk_errors, selected: keys, ..Default::default() };
            crate::web::ctx::invalid(&queue_page(&state, ctx, &cu, &query, boxes).await?)
        }
    }
}

#[derive(Template)]
#[template(path = "incidents/bulk_done.html")]
struct BulkDonePage {
    ctx: PageCtx,
    changed: usize,
    outcomes: Vec<incidents::BulkOutcome>,
    back: String,
}

async fn queue_page(
    state: &web::Data<AppState>,
    ctx: PageCtx,
    cu: &CurrentUser,
    query: &str,
    save: SaveBox,
) -> Result<QueuePage, AppError> {
    let state = state.clone();
    let (params, mut kept) = parse_params(query);
    let p = params.clone();
    let user = cu.user.clone();
    let st = state.clone();
    let (view, above): (QueueView, incidents::ViewsAbove) =
        run(move || incidents::queue_with_views(&st, &user, &p, |q| parse_params(q).0)).await?;
    if !view.staff {
        // What the service ignored for a customer does not travel on in the next-page link.
        kept.retain(|(k, v)| match k.as_str() {
            "severity" | "priority" => false,
            "sort" => !matches!(v.as_str(), "severity" | "priority"),
            _ => true,
        });
    }
    let now = state.clock.now_naive();
    let base: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(kept.iter()).finish();
    let first = (!params.after.is_empty())
        .then(|| if base.is_empty() { "/incidents".to_string() } else { format!("/incidents?{base}") });
    // Keyset pages only go forward: each link carries the cursors of the pages before it
    // ("back", "-" for the first page), so "Previous page" can return along them.
    let mut trail: Vec<String> = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k == "back")
        .map(|(_, v)| v.into_owned())
        .collect();
    let start = trail.len().saturating_sub(MAX_TRAIL);
    trail.drain(..start);
    let link = |after: &str, back: &[String]| {
        let mut q = url::form_urlencoded::Serializer::new(base.clone());
        if !after.is_empty() && after != "-" {
            q.append_pair("after", after);
        }
        for b in back {
            q.append_pair("back", b);
        }
        let q = q.finish();
        if q.is_empty() { "/incidents".to_string() } else { format!("/incidents?{q}") }
    };
    let next = view.next.as_ref().map(|after| {
        let mut back = trail.clone();
        back.push(if params.after.is_empty() { "-".to_string() } else { params.after.clone() });
        link(after, &back)
    });
    let previous = match trail.split_last() {
        Some((last, rest)) if !params.after.is_empty() => Some(link(last, rest)),
        _ => None,
    };
    let count_text = if view.count_capped {
        "10,000+ incidents".to_string()
    } else if view.count_at_least {
        format!("{}+ incidents among the newest matches", crate::domain::report::thousands(view.count))
    } else {
        crate::domain::report::count_of(view.count, "incident", "incidents")
    };
    let mut assignees =
        vec![("".to_string(), "Anyone".to_string()), ("me".into(), "Me".into()), ("none".into(), "Unassigned".into())];
    assignees.extend(view.assignees.iter().map(|(id, name)| (id.to_string(), name.clone())));
    let mut services = vec![(String::new(), "Any service".to_string())];
    services.extend(view.services.iter().map(|s| (s.id.to_string(), s.name.clone())));
    let mut organizations = vec![(String::new(), "Any organization".to_string())];
    organizations.extend(view.organizations.iter().map(|(id, n)| (id.to_string(), n.clone())));
    let mut tiers = vec![("".to_string(), "Any tier".to_string()), ("mine".into(), "My tiers".into())];
    tiers.extend(view.tiers.iter().map(|t| (t.id.to_string(), t.name.clone())));
    let mut sorts = if view.staff {
        vec![("priority", "Priority, then oldest"), ("severity", "Severity, then oldest")]
    } else {
        Vec::new()
    };
    sorts.extend([("created", "Newest first"), ("updated", "Recently updated"), ("due", "Resolution due soonest")]);
    if !params.text.trim().is_empty() {
        sorts.push(("relevance", "Best match"));
    }
    let can_share_views = above.can_share;
    let views = view_tabs(above, &base);
    let mut rows = rows(&ctx, now, view.rows, view.staff);
    for r in &mut rows {
        r.selected = save.selected.contains(&r.key);
    }
    let b = &save.bulk;
    let bulk_assignees = SelectOption::list(
        [("".to_string(), "Choose…".to_string()), ("me".into(), "Me".into()), ("none".into(), "Nobody".into())]
            .into_iter()
            .chain(view.assignees.iter().map(|(id, n)| (id.to_string(), n.clone()))),
        &b.assignee,
    );
    let bulk_tiers = SelectOption::list(
        std::iter::once((String::new(), "Choose…".to_string()))
            .chain(view.tiers.iter().map(|t| (t.id.to_string(), t.name.clone()))),
        &b.tier,
    );
    let back_here = if base.is_empty() { "/incidents".to_string() } else { format!("/incidents?{base}") };
    Ok(QueuePage {
        can_work: cu.may(crate::domain::policy::Action::WorkIncident),
        back_here,
        bulk_actions: SelectOption::list(
            [
                ("", "Choose…"),
                ("assign", "Assign"),
                ("status", "Change the status"),
                ("tier", "Move to a tier"),
                ("tag", "Add tags"),
                ("duplicate", "Close as duplicates of…"),
            ],
            &b.action,
        ),
        bulk_assignees,
        bulk_statuses: SelectOption::list(
            std::iter::once(("", "Choose…")).chain(Status::ALL.iter().map(|s| (s.as_str(), s.label()))),
            &b.status,
        ),
        bulk_tiers,
        bulk: save.bulk.clone(),
        bulk_errors: save.bulk_errors,
        any_deletable: views.iter().any(|v| v.deletable),
        views,
        can_share_views,
        save_query: base.clone(),
        view_name: save.name,
        view_errors: save.errors,
        staff: view.staff,
        rows,
        count_text,
        next,
        first,
        previous,
        compact: kept.iter().any(|(k, v)| k == "density" && v == "compact"),
        densities: SelectOption::list(
            [("", "Comfortable"), ("compact", "Compact")],
            if kept.iter().any(|(k, v)| k == "density" && v == "compact") { "compact" } else { "" },
        ),
        per_page: SelectOption::list(
            incidents::PAGE_SIZES.iter().map(|n| (n.to_string(), format!("{n} rows"))),
            &view.per.to_string(),
        ),
        statuses: checks(&Status::ALL, &params.statuses, Status::as_str, Status::label),
        // Shown to staff only (the template); the service ignores them for customers.
        severities: checks(&Severity::ALL, &params.severities, Severity::as_str, Severity::as_str),
        priorities: checks(&Priority::ALL, &params.priorities, Priority::as_str, Priority::as_str),
        services: SelectOption::list(services, &params.service.map(|s| s.to_string()).unwrap_or_default()),
        assignees: SelectOption::list(assignees, &params.assignee),
        organizations: SelectOption::list(
            organizations,
            &params.organization.map(|s| s.to_string()).unwrap_or_default(),
        ),
        sorts: SelectOption::list(sorts, &view.sort),
        tiers: SelectOption::list(tiers, &params.tier),
        tag: params.tag.clone(),
        text: params.text.clone(),
        created_from: params.created_from.map(|d| d.to_string()).unwrap_or_default(),
        created_to: params.created_to.map(|d| d.to_string()).unwrap_or_default(),
        searching: !params.text.trim().is_empty(),
        escalated: params.escalated,
        reopened: params.reopened,
        at_risk: params.at_risk,
        unanswered: params.unanswered,
        waiting_days: params.waiting_days.map(|d| d.to_string()).unwrap_or_default(),
        breached: SelectOption::list(
            vec![
                (String::new(), "Any".to_string()),
                ("any".into(), "Either target".into()),
                ("response".into(), "First response late".into()),
                ("resolution".into(), "Resolution".into()),
            ],
            &params.breached,
        ),
        resolved_from: params.resolved_from.map(|d| d.to_string()).unwrap_or_default(),
        resolved_to: params.resolved_to.map(|d| d.to_string()).unwrap_or_default(),
        counted_hidden: if view.counted_by.is_some() {
            kept.iter().filter(|(k, _)| k == "report" || k == "figure" || k.starts_with("r_")).cloned().collect()
        } else {
            Vec::new()
        },
        counted_by: view.counted_by.clone(),
        report_filtered: params.any_report_filter(),
        ctx,
    })
}
