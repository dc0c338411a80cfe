use crate::error::AppError;
use crate::service::AppState;
use crate::service::lookups::{self, AuditFilter};
use crate::web::ctx::{CurrentUser, PageCtx, page};
use crate::web::run;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{NaiveDate, NaiveDateTime};
use serde::Deserialize;

const PAGE: i64 = 100;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    user: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    before_at: Option<String>,
    before_id: Option<i64>,
}

struct Row {
    at: String,
    actor: String,
    action: String,
    target: String,
    ip: String,
    details: String,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    ctx: PageCtx,
    filter: AuditQuery,
    filter_error: Option<String>,
    actions: Vec<String>,
    entries: Vec<Row>,
    next: Option<String>,
}

const STAMP: &str = "%Y-%m-%dT%H:%M:%S%.6f";

fn parse_date(s: &str, label: &str) -> Result<Option<NaiveDate>, String> {
    match s.trim() {
        "" => Ok(None),
        v => NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| format!("{label} must be a date like 2026-01-31.")),
    }
}

pub async fn list(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, AppError> {
    let q = q.into_inner();
    let mut filter_error = None;
    let from = parse_date(&q.from, "From").unwrap_or_else(|e| {
        filter_error = Some(e);
        None
    });
    let to = parse_date(&q.to, "To").unwrap_or_else(|e| {
        filter_error = Some(e);
        None
    });
    let before = q.before_at.as_deref().and_then(|s| NaiveDateTime::parse_from_str(s, STAMP).ok()).zip(q.before_id);
    let qc = q.clone();
    let (entries, actions, unknown_user) = run(move || {
        let f = AuditFilter {
            action: Some(qc.action.clone()).filter(|a| !a.is_empty()),
            from: from.and_then(|d| d.and_hms_opt(0, 0, 0)),
            until: to.and_then(|d| d.succ_opt()).and_then(|d| d.and_hms_opt(0, 0, 0)),
            before,
            ..Default::default()
        };
        lookups::audit_page(&state, &cu.user, f, &qc.user, PAGE + 1)
    })
    .await?;
    if unknown_user {
        filter_error = Some("No user has that email address.".into());
    }
    let more = entries.len() as i64 > PAGE;
    let shown: Vec<_> = entries.into_iter().take(PAGE as usize).collect();
    let next = if more {
        shown.last().map(|e| {
            let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
            format!(
                "/admin/audit?user={}&action={}&from={}&to={}&before_at={}&before_id={}",
                enc(&q.user),
                enc(&q.action),
                enc(&q.from),
                enc(&q.to),
                enc(&e.at.format(STAMP).to_string()),
                e.id
            )
        })
    } else {
        None
    };
    let entries = shown
        .into_iter()
        .map(|e| Row {
            at: ctx.time(&e.at),
            actor: if e.actor_label.is_empty() { "—".into() } else { e.actor_label },
            action: e.action,
            target: e.target,
            ip: e.ip,
            details: e.details,
        })
        .collect();
    page(&AuditPage { ctx, filter: q, filter_error, actions, entries, next })
}
