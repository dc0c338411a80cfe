//! SLA clocks of incidents, and the SLA policy administration.

use super::{AppState, FieldErrors, RequestMeta, ServiceError, ServiceResult, actor_of, authorize};
use crate::db::models::{Incident, SlaPolicy, User};
use crate::db::{DbConnection, incidents, organizations, sla};
use crate::domain::policy::{Action, Resource};
use crate::domain::sla::{
    Calendar, ClockReading, calendar_from_parts, first_response_spans, mark_stands, phase_of_status, read,
    resolution_spans, utc,
};
use chrono::{DateTime, Duration, Utc};

/// Both clocks of an incident as they stand.
#[derive(Debug, Clone, Copy)]
pub struct Clocks {
    pub first_response: ClockReading,
    pub resolution: ClockReading,
    pub auto_escalate: bool,
}

fn calendar_of(conn: &mut DbConnection, policy: &SlaPolicy) -> ServiceResult<Calendar> {
    let c = sla::calendar(conn, policy.calendar_id)?;
    Ok(parse_calendar(&c))
}

// A stored calendar that no longer parses falls back to around the clock, the stricter reading.
fn parse_calendar(c: &crate::db::models::SlaCalendar) -> Calendar {
    calendar_from_parts(c.always, &c.time_zone, &c.week, &c.holidays).unwrap_or(Calendar::Always)
}

/// What the clocks are read from: the incident's severity, organization, start, first public
/// reply, and its status changes `(at, status)` in time order.
pub struct ClockInput<'a> {
    pub severity: &'a str,
    pub organization_id: Option<i64>,
    pub created_at: chrono::NaiveDateTime,
    pub first_response_at: Option<chrono::NaiveDateTime>,
    pub changes: &'a [(chrono::NaiveDateTime, String)],
}

fn read_clocks(policy: &SlaPolicy, cal: &Calendar, i: &ClockInput, now: DateTime<Utc>) -> Clocks {
    let changes: Vec<_> = i.changes.iter().map(|(at, status)| (utc(*at), phase_of_status(status))).collect();
    let spans = resolution_spans(utc(i.created_at), &changes);
    let fr = i.first_response_at.map(utc);
    let fr_spans = first_response_spans(&spans, fr);
    Clocks {
        first_response: read(
            cal,
            &fr_spans,
            Duration::minutes(i64::from(policy.first_response_minutes)),
            now,
            fr.is_some(),
        ),
        resolution: read(cal, &spans, Duration::minutes(i64::from(policy.resolution_minutes)), now, false),
        auto_escalate: policy.auto_escalate,
    }
}

/// Reads the incident's clocks at `now` from its policy (by current severity, from its start)
/// and its status history.
pub fn clocks(conn: &mut DbConnection, inc: &Incident, now: DateTime<Utc>) -> ServiceResult<Option<Clocks>> {
    let Some(policy) = sla::policy_for(conn, &inc.severity, inc.organization_id)? else {
        return Ok(None);
    };
    let cal = calendar_of(conn, &policy)?;
    let changes = sla::status_changes(conn, inc.id)?;
    let input = ClockInput {
        severity: &inc.severity,
        organization_id: inc.organization_id,
        created_at: inc.created_at,
        first_response_at: inc.first_response_at,
        changes: &changes,
    };
    Ok(Some(read_clocks(&policy, &cal, &input, now)))
}

/// Every policy and calendar, loaded once to read the clocks of many incidents (reports), and
/// remembered with the read cache's lists for the incident page.
#[derive(Debug, Clone, Default)]
pub struct SlaBook {
    policies: Vec<SlaPolicy>,
    calendars: std::collections::HashMap<i64, Calendar>,
}

impl SlaBook {
    pub fn load(conn: &mut DbConnection) -> ServiceResult<SlaBook> {
        Ok(SlaBook {
            policies: sla::policies(conn)?,
            calendars: sla::calendars(conn)?.iter().map(|c| (c.id, parse_calendar(c))).collect(),
        })
    }

    /// No policies: no clocks.
    pub fn empty() -> SlaBook {
        SlaBook { policies: Vec::new(), calendars: std::collections::HashMap::new() }
    }

    /// The organization's override for the severity, else the default policy (as `policy_for`).
    fn policy(&self, severity: &str, organization_id: Option<i64>) -> Option<&SlaPolicy> {
        let own = organization_id
            .and_then(|o| self.policies.iter().find(|p| p.severity == severity && p.organization_id == Some(o)));
        own.or_else(|| self.policies.iter().find(|p| p.severity == severity && p.organization_id.is_none()))
    }

    /// The calendar the incident's policy counts in; None without a policy.
    pub fn calendar(&self, severity: &str, organization_id: Option<i64>) -> Option<&Calendar> {
        let p = self.policy(severity, organization_id)?;
        Some(self.calendars.get(&p.calendar_id).unwrap_or(&Calendar::Always))
    }

    pub fn clocks(&self, input: &ClockInput, now: DateTime<Utc>) -> Option<Clocks> {
        let policy = self.policy(input.severity, input.organization_id)?;
        let cal = self.calendars.get(&policy.calendar_id).unwrap_or(&Calendar::Always);
        Some(read_clocks(policy, cal, input, now))
    }
}

/// Recomputes and stores the incident's due times; call it in the transaction of any change
/// that moves a clock (creation, status, severity, first public reply).
pub fn refresh(state: &AppState, conn: &mut DbConnection, incident_id: i64) -> ServiceResult<()> {
    let inc = incidents::find(conn, incident_id)?;
    let now = state.clock.now();
    let mut t = sla::SlaTimes { first_response_at: inc.first_response_at, ..Default::default() };
    if let Some(c) = clocks(conn, &inc, now)? {
        let responding = inc.first_response_at.is_none();
        t.response_due_at = c.first_response.due.filter(|_| responding).map(|d| d.naive_utc());
        t.response_warn_at =
            c.first_response.warn_at.filter(|_| responding && t.response_due_at.is_some()).map(|d| d.naive_utc());
        t.resolution_due_at = c.resolution.due.map(|d| d.naive_utc());
        t.resolution_warn_at = c.resolution.warn_at.filter(|_| t.resolution_due_at.is_some()).map(|d| d.naive_utc());
    }
    sla::set_times(conn, inc.id, &t)?;
    // A target that moved past what the job recorded is crossed anew: warn and breach again.
    let gone = |mark, moment| !mark_stands(mark, moment) && mark.is_some();
    sla::reset_marks(
        conn,
        inc.id,
        sla::MarkReset {
            response_warned: gone(inc.response_warned_at, t.response_warn_at),
            resolution_warned: gone(inc.resolution_warned_at, t.resolution_warn_at),
            response_breached: gone(inc.response_breached_at, t.response_due_at),
            resolution_breached: gone(inc.resolution_breached_at, t.resolution_due_at),
        },
    )?;
    Ok(())
}

/// Records the first public reply by staff (stops the first-response clock).
pub fn first_response(state: &AppState, conn: &mut DbConnection, incident_id: i64) -> ServiceResult<()> {
    let inc = incidents::find(conn, incident_id)?;
    if inc.first_response_at.is_none() {
        sla::set_first_response(conn, inc.id, state.clock.now_naive())?;
    }
    refresh(state, conn, incident_id)
}

#[derive(Debug, Clone, Default)]
pub struct PolicyInput {
    pub first_response_minutes: String,
    pub resolution_minutes: String,
    pub calendar_id: String,
    pub auto_escalate: bool,
}

pub fn update_policy(
    state: &AppState,
    meta: &RequestMeta,
    admin: &User,
    id: i64,
    input: &PolicyInput,
) -> ServiceResult<()> {
    authorize(&actor_of(admin), Action::ManageSla, Resource::None)?;
    state.tx(|conn| {
        let policy = sla::find_policy(conn, id)?;
        let mut errors = FieldErrors::default();
        let minutes = |s: &str| s.trim().parse::<i32>().ok().filter(|m| (1..=525_600).contains(m));
        let fr = minutes(&input.first_response_minutes);
        if fr.is_none() {
            errors.add("first_response_minutes", "First response is a number of minutes (1 to 525,600).");
        }
        let res = minutes(&input.resolution_minutes);
        if res.is_none() {
            errors.add("resolution_minutes", "Resolution is a number of minutes (1 to 525,600).");
        }
        let cal = input.calendar_id.trim().parse::<i64>().ok();
        let cal = match cal.map(|c| sla::calendar(conn, c)) {
            Some(Ok(c)) => Some(c.id),
            Some(Err(crate::db::DbError::NotFound)) | None => {
                errors.add("calendar_id", "Choose a calendar.");
                None
            }
            Some(Err(e)) => return Err(e.into()),
        };
        if let (Some(f), Some(r)) = (fr, res)
            && f > r
        {
            errors.add("first_response_minutes", "The first response cannot be due after the resolution.");
        }
        errors.into_result()?;
        let (Some(fr), Some(res), Some(cal)) = (fr, res, cal) else {
            return Err(ServiceError::Internal("validated fields missing".into()));
        };
        sla::update_policy(conn, id, fr, res, cal, input.auto_escalate)?;
        crate::db::reports::mark_all_dirty(conn)?;
        state.audit(
            conn,
            meta,
            Some(admin),
            "sla.policy_update",
            &format!("sla_policy:{id}"),
            &format!("{}: first response {fr} min, resolution {res} min", policy.severity),
        )
    })
}

/// Adds an organization's own policy for a severity, starting from the default one.
pub fn add_override(
    state: &AppState,
    meta: &RequestMeta,
    admin: &User,
    severity: &str,
    organization_id: &str,
) -> ServiceResult<i64> {
    authorize(&actor_of(admin), Action::ManageSla, Resource::None)?;
    state.tx(|conn| {
        let mut errors = FieldErrors::default();
        let org = match organization_id.trim().parse::<i64>().ok().map(|o| organizations::find(conn, o)) {
            Some(Ok(o)) => Some(o),
            Some(Err(crate::db::DbError::NotFound)) | None => {
                errors.add("organization_id", "Choose an organization.");
                None
            }
            Some(Err(e)) => return Err(e.into()),
        };
        let base = sla::policy_for(conn, severity, None)?;
        if base.is_none() {
            errors.add("severity", "Choose a severity.");
        }
        errors.into_result()?;
        let (Some(org), Some(base)) = (org, base) else {
            return Err(ServiceError::Internal("validated fields missing".into()));
        };
        if sla::policy_for(conn, severity, Some(org.id))?.is_some_and(|p| p.organization_id == Some(org.id)) {
            return Err(ServiceError::Invalid(FieldErrors::single(
                "organization_id",
                "This organization has its own policy for that severity already.",
            )));
        }
        let id = sla::insert_override(conn, severity, org.id, &base)?;
        crate::db::reports::mark_all_dirty(conn)?;
        state.audit(
            conn,
            meta,
            Some(admin),
            "sla.override_add",
            &format!("sla_policy:{id}"),
            &format!("{severity} for {}", org.name),
        )?;
        Ok(id)
    })
}

#[derive(Debug, Clone, Default)]
pub struct CalendarInput {
    pub name: String,
    pub always: bool,
    pub time_zone: String,
    pub week: Vec<String>,
    pub holidays: String,
}

pub fn update_calendar(
    state: &AppState,
    meta: &RequestMeta,
    admin: &User,
    id: i64,
    input: &CalendarInput,
) -> ServiceResult<()> {
    authorize(&actor_of(admin), Action::ManageSla, Resource::None)?;
    state.tx(|conn| {
        sla::calendar(conn, id)?;
        let mut errors = FieldErrors::default();
        let name = crate::domain::validate::label(&input.name, "Name", 80).map_err(|e| errors.add("name", e)).ok();
        let week = input.week.iter().map(|d| d.trim().to_string()).collect::<Vec<_>>().join(";");
        if let Err(e) = calendar_from_parts(input.always, &input.time_zone, &week, &input.holidays) {
            errors.add("week", e);
        }
        errors.into_result()?;
        let name = name.unwrap_or_default();
        sla::update_calendar(conn, id, &name, input.always, input.time_zone.trim(), &week, input.holidays.trim())?;
        crate::db::reports::mark_all_dirty(conn)?;
        state.audit(conn, meta, Some(admin), "sla.calendar_update", &format!("sla_calendar:{id}"), &name)
    })
}
