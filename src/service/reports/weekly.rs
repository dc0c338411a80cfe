//! The weekly summary mail: on Monday from 08:00 in each opted-in reader's time zone, the
//! headline figures of every report they may read, for the week just ended (Monday to Sunday),
//! each with the week before and a link to the report.

use super::{ReportQuery, readable, report};
use crate::db::{outbox, users};
use crate::domain::policy::{self, Action, Resource};
use crate::mail::compose::{self, WeeklySection};
use crate::service::{AppState, ServiceResult, actor_of};
use chrono::{Datelike, Duration, Timelike, Weekday};

/// The notification preference (kind, mode) of readers who want the summary: a periodic
/// summary, like the daily digest. Without it, none is sent.
pub const PREF: (&str, &str) = ("weekly_report", "digest");
const LOCK_ID: i64 = 0x5f1a_0008;
const SEND_HOUR: u32 = 8;

/// Mails the summaries that are due; returns how many were queued.
pub fn mail_due(state: &AppState) -> ServiceResult<usize> {
    let now = state.clock.now();
    let readers = {
        let mut conn = state.conn()?;
        let ids = outbox::users_with_pref(&mut conn, PREF.0, PREF.1)?;
        users::list_by_ids(&mut conn, &ids)?
    };
    let base = state.config.base();
    let mut sent = 0;
    for user in readers {
        if !user.active || !policy::allows(Some(&actor_of(&user)), Action::ViewReports, Resource::None) {
            continue;
        }
        let tz: chrono_tz::Tz = user.time_zone.parse().unwrap_or(chrono_tz::UTC);
        let local = now.with_timezone(&tz);
        let today = local.date_naive();
        if today.weekday() != Weekday::Mon || local.hour() < SEND_HOUR {
            continue;
        }
        if outbox::last_report_mail(&mut *state.conn()?, user.id)?.is_some_and(|d| d >= today) {
            continue;
        }
        let (first, last) = (today - Duration::days(7), today - Duration::days(1));
        let q = ReportQuery {
            period: "custom".into(),
            from: first.to_string(),
            to: last.to_string(),
            group: "day".into(),
            ..Default::default()
        };
        let mut sections = Vec::new();
        for kind in readable(&user) {
            let r = report(state, &user, kind, &q)?;
            sections.push(WeeklySection {
                title: r.title.to_string(),
                link: format!("{base}/reports/{}?{}", kind.slug(), q.encode()),
                figures: r
                    .headlines
                    .iter()
                    .map(|h| (h.label.to_string(), h.now.text.clone(), h.previous.text.clone()))
                    .collect(),
            });
        }
        let queued = state.tx(|conn| {
            if !crate::db::try_job_lock(conn, LOCK_ID)? {
                return Ok(false);
            }
            if outbox::last_report_mail(conn, user.id)?.is_some_and(|d| d >= today) {
                return Ok(false);
            }
            compose::weekly_report(state, conn, &user, (first, last), &sections)?;
            outbox::set_last_report_mail(conn, user.id, today)?;
            Ok(true)
        })?;
        sent += usize::from(queued);
    }
    Ok(sent)
}

/// Whether the user may opt in (they read reports).
pub fn may_subscribe(user: &crate::db::models::User) -> bool {
    policy::allows(Some(&actor_of(user)), Action::ViewReports, Resource::None)
}
