//! SLA arithmetic: business calendars, clocks that pause and resume, due times, the 80 %
//! warning point. Pure functions of their inputs; "now" is always passed in.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// When the SLA clock may run.
#[derive(Debug, Clone, PartialEq)]
pub enum Calendar {
    /// Around the clock.
    Always,
    /// Weekly opening hours in a time zone, minus holidays.
    Business {
        tz: Tz,
        /// Monday first; None: closed that day. Start < end, both local times.
        week: [Option<(NaiveTime, NaiveTime)>; 7],
        holidays: Vec<NaiveDate>,
    },
}

impl Calendar {
    /// Monday–Friday 09:00–17:00 in the zone, no holidays.
    pub fn office_hours(tz: Tz) -> Calendar {
        let day = NaiveTime::from_hms_opt(9, 0, 0).zip(NaiveTime::from_hms_opt(17, 0, 0));
        Calendar::Business { tz, week: [day, day, day, day, day, None, None], holidays: Vec::new() }
    }

    /// The business intervals (UTC) of one local date.
    fn open_on(&self, date: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let Calendar::Business { tz, week, holidays } = self else {
            return None;
        };
        if holidays.contains(&date) {
            return None;
        }
        let (open, close) = week[date.weekday().num_days_from_monday() as usize]?;
        let at = |t: NaiveTime| -> Option<DateTime<Utc>> {
            // In a DST gap the local time does not exist; take the first instant after it.
            let local = date.and_time(t);
            tz.from_local_datetime(&local)
                .earliest()
                .or_else(|| tz.from_local_datetime(&(local + Duration::hours(1))).earliest())
                .map(|d| d.with_timezone(&Utc))
        };
        let (s, e) = (at(open)?, at(close)?);
        (s < e).then_some((s, e))
    }

    fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        match self {
            Calendar::Always => t.date_naive(),
            Calendar::Business { tz, .. } => t.with_timezone(tz).date_naive(),
        }
    }

    /// Business time between two instants (zero if end ≤ start).
    pub fn business_time(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> Duration {
        if end <= start {
            return Duration::zero();
        }
        if *self == Calendar::Always {
            return end - start;
        }
        let mut total = Duration::zero();
        let mut date = self.local_date(start);
        let last = self.local_date(end);
        while date <= last {
            if let Some((open, close)) = self.open_on(date) {
                let s = open.max(start);
                let e = close.min(end);
                if e > s {
                    total += e - s;
                }
            }
            date = match date.succ_opt() {
                Some(d) => d,
                None => break,
            };
        }
        total
    }

    /// The instant at which `amount` of business time has passed since `start`.
    pub fn add(&self, start: DateTime<Utc>, amount: Duration) -> DateTime<Utc> {
        if *self == Calendar::Always || amount <= Duration::zero() {
            return start + amount.max(Duration::zero());
        }
        let mut left = amount;
        let mut date = self.local_date(start);
        // Ten years of closed days means a calendar with no opening hours at all.
        for _ in 0..3660 {
            if let Some((open, close)) = self.open_on(date) {
                let s = open.max(start);
                if close > s {
                    let avail = close - s;
                    if avail >= left {
                        return s + left;
                    }
                    left -= avail;
                }
            }
            date = match date.succ_opt() {
                Some(d) => d,
                None => break,
            };
        }
        start + amount
    }
}

/// A stretch of time during which a clock ran; `end` None means it runs now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Running {
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockState {
    /// Ticking, due at `due`.
    Running,
    /// Stopped for now (waiting on the customer, or resolved); will resume.
    Paused,
    /// Stopped for good before the target.
    Met,
    /// The target passed.
    Breached,
}

/// Where a clock stands at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockReading {
    pub target: Duration,
    pub elapsed: Duration,
    pub state: ClockState,
    /// When the target is (or was) reached, if the clock runs or ran past it.
    pub due: Option<DateTime<Utc>>,
    /// When 80 % of the target is (or was) reached, likewise.
    pub warn_at: Option<DateTime<Utc>>,
    /// When the target was passed, if it was.
    pub breached_at: Option<DateTime<Utc>>,
}

impl ClockReading {
    pub fn remaining(&self) -> Duration {
        self.target - self.elapsed
    }
}

/// Finds the instant within the running stretches at which `amount` of business time has
/// accumulated, if it is reached by `now` or (for an open stretch) at any later time.
fn instant_at(cal: &Calendar, spans: &[Running], now: DateTime<Utc>, amount: Duration) -> Option<DateTime<Utc>> {
    let mut acc = Duration::zero();
    for span in spans {
        let end = span.end.unwrap_or(now).min(now);
        let here = cal.business_time(span.start, end.max(span.start));
        if acc + here >= amount {
            return Some(cal.add(span.start, amount - acc));
        }
        acc += here;
        if span.end.is_none() {
            // Still running: project forward from now.
            return Some(cal.add(now.max(span.start), amount - acc));
        }
    }
    None
}

/// Reads a clock made of running stretches against a target. `stopped_for_good` says the
/// clock will not resume (a first response was given); otherwise a clock with no running
/// stretch at the end is paused.
pub fn read(
    cal: &Calendar,
    spans: &[Running],
    target: Duration,
    now: DateTime<Utc>,
    stopped_for_good: bool,
) -> ClockReading {
    let elapsed = spans
        .iter()
        .map(|s| cal.business_time(s.start, s.end.unwrap_or(now).min(now)))
        .fold(Duration::zero(), |a, b| a + b);
    let running = spans.last().is_some_and(|s| s.end.is_none());
    let due = instant_at(cal, spans, now, target);
    let warn_at = instant_at(cal, spans, now, target * 4 / 5);
    let breached_at = if elapsed >= target { due } else { None };
    let state = if elapsed >= target {
        ClockState::Breached
    } else if running {
        ClockState::Running
    } else if stopped_for_good {
        ClockState::Met
    } else {
        ClockState::Paused
    };
    ClockReading {
        target,
        elapsed,
        state,
        due: if state == ClockState::Running || state == ClockState::Breached { due } else { None },
        warn_at,
        breached_at,
    }
}

/// An incident's status history reduced to what the clocks need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Work may happen: new, triaged, in progress.
    Active,
    /// Waiting on the customer: clocks pause.
    Waiting,
    /// Resolved or closed: the resolution clock stops (resumes on reopen).
    Done,
}

/// The resolution clock's running stretches, from the incident's start and its phase changes
/// (time-ordered `(at, phase)` after the start).
pub fn resolution_spans(start: DateTime<Utc>, changes: &[(DateTime<Utc>, Phase)]) -> Vec<Running> {
    let mut spans = Vec::new();
    let mut run_start = Some(start);
    for (at, phase) in changes {
        match (phase, run_start) {
            (Phase::Active, None) => run_start = Some(*at),
            (Phase::Waiting | Phase::Done, Some(s)) => {
                spans.push(Running { start: s, end: Some((*at).max(s)) });
                run_start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = run_start {
        spans.push(Running { start: s, end: None });
    }
    spans
}

/// The first-response clock: the resolution clock's stretches, cut off at the first public
/// staff reply (if any).
pub fn first_response_spans(resolution: &[Running], first_reply: Option<DateTime<Utc>>) -> Vec<Running> {
    let Some(reply) = first_reply else {
        return resolution.to_vec();
    };
    resolution
        .iter()
        .filter(|s| s.start < reply)
        .map(|s| Running { start: s.start, end: Some(s.end.map_or(reply, |e| e.min(reply))) })
        .collect()
}

/// "40 min", "2 h 5 min", "3 d 4 h": a length of time as pages say it.
pub fn span_text(d: Duration) -> String {
    let m = d.num_minutes().abs();
    match m {
        0..=59 => format!("{m} min"),
        60..=1439 => format!("{} h {} min", m / 60, m % 60),
        _ => format!("{} d {} h", m / 1440, (m % 1440) / 60),
    }
}

/// "due in 2 h 5 min" / "overdue by 40 min" for a stored due time.
pub fn due_text(now: NaiveDateTime, due: NaiveDateTime) -> String {
    if due > now { format!("due in {}", span_text(due - now)) } else { format!("overdue by {}", span_text(now - due)) }
}

/// "due in 2 h 5 min" / "overdue by 40 min", for pages.
pub fn describe(reading: &ClockReading, now: DateTime<Utc>) -> String {
    let fmt = span_text;
    match (reading.state, reading.due) {
        (ClockState::Breached, Some(due)) => format!("overdue by {}", fmt(now - due)),
        (ClockState::Running, Some(due)) => format!("due in {}", fmt(due - now)),
        (ClockState::Paused, _) => format!("paused, {} left", fmt(reading.remaining())),
        (ClockState::Met, _) => "met".to_string(),
        _ => String::new(),
    }
}

/// How a clock stands, for colour on pages (always next to `describe`'s words): "breached",
/// "risk" (running past 80 % of the target), "running", "paused" or "met".
pub fn tone(reading: &ClockReading, now: DateTime<Utc>) -> &'static str {
    match reading.state {
        ClockState::Breached => "breached",
        ClockState::Running if reading.warn_at.is_some_and(|w| w <= now) => "risk",
        ClockState::Running => "running",
        ClockState::Paused => "paused",
        ClockState::Met => "met",
    }
}

/// UTC instant of a stored naive UTC time.
pub fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

/// Whether a recorded warning or breach (`marked_at`, when the job acted) still stands once the
/// moment it was about is computed again. A moment that moved past the mark (a severity change
/// that gives a later target, a reopen once the target moved) is a crossing nobody acted on
/// yet: the mark goes, so that crossing warns, breaches and escalates again. A moment that stayed
/// or moved earlier, or that no longer exists (the clock stopped or paused), keeps the mark.
pub fn mark_stands(marked_at: Option<NaiveDateTime>, moment: Option<NaiveDateTime>) -> bool {
    match (marked_at, moment) {
        (Some(m), Some(t)) => t <= m,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).map(|d| d.with_timezone(&Utc)).unwrap_or_default()
    }

    fn berlin() -> Calendar {
        Calendar::office_hours(chrono_tz::Europe::Berlin)
    }

    #[test]
    fn always_is_wall_clock_time() {
        let c = Calendar::Always;
        assert_eq!(c.add(t("2026-03-06T23:00:00Z"), Duration::hours(4)), t("2026-03-07T03:00:00Z"));
        assert_eq!(c.business_time(t("2026-03-06T23:00:00Z"), t("2026-03-07T03:00:00Z")), Duration::hours(4));
    }

    #[test]
    fn business_time_skips_nights_and_weekends() {
        let c = berlin();
        // Friday 16:00 Berlin (15:00 UTC in winter) + 4 business hours → Monday 12:00 Berlin.
        assert_eq!(c.add(t("2026-02-27T15:00:00Z"), Duration::hours(4)), t("2026-03-02T11:00:00Z"));
        // Saturday counts nothing.
        assert_eq!(c.business_time(t("2026-02-28T08:00:00Z"), t("2026-03-01T20:00:00Z")), Duration::zero());
        // Starting before opening waits for 09:00.
        assert_eq!(c.add(t("2026-03-02T05:00:00Z"), Duration::minutes(30)), t("2026-03-02T08:30:00Z"));
    }

    #[test]
    fn holidays_are_closed() {
        let mut c = berlin();
        if let Calendar::Business { holidays, .. } = &mut c {
            holidays.push(NaiveDate::from_ymd_opt(2026, 3, 2).unwrap_or_default());
        }
        // Friday 16:00 + 4 h: Monday is a holiday, so Tuesday 12:00.
        assert_eq!(c.add(t("2026-02-27T15:00:00Z"), Duration::hours(4)), t("2026-03-03T11:00:00Z"));
    }

    #[test]
    fn dst_change_keeps_local_opening_hours() {
        let c = berlin();
        // Berlin moves to CEST on Sunday 2026-03-29. Friday 16:00 CET = 15:00 UTC; Monday 09:00
        // CEST = 07:00 UTC. 2 business hours: 1 h on Friday, 1 h on Monday → 08:00 UTC.
        assert_eq!(c.add(t("2026-03-27T15:00:00Z"), Duration::hours(2)), t("2026-03-30T08:00:00Z"));
        assert_eq!(c.business_time(t("2026-03-27T15:00:00Z"), t("2026-03-30T08:00:00Z")), Duration::hours(2));
    }

    #[test]
    fn waiting_pauses_and_reopening_resumes() {
        let start = t("2026-03-02T10:00:00Z");
        let changes = [
            (t("2026-03-02T11:00:00Z"), Phase::Waiting),
            (t("2026-03-02T13:00:00Z"), Phase::Active),
            (t("2026-03-02T14:00:00Z"), Phase::Done),
            (t("2026-03-02T16:00:00Z"), Phase::Active),
        ];
        let spans = resolution_spans(start, &changes);
        assert_eq!(spans.len(), 3);
        let r = read(&Calendar::Always, &spans, Duration::hours(4), t("2026-03-02T17:00:00Z"), false);
        // Ran 1 h + 1 h + 1 h = 3 h of 4.
        assert_eq!(r.elapsed, Duration::hours(3));
        assert_eq!(r.state, ClockState::Running);
        assert_eq!(r.due, Some(t("2026-03-02T18:00:00Z")));
        // 80 % = 3 h 12 min: reached at 17:12 in the last stretch.
        assert_eq!(r.warn_at, Some(t("2026-03-02T17:12:00Z")));
        let paused = read(&Calendar::Always, &spans[..2], Duration::hours(4), t("2026-03-02T17:00:00Z"), false);
        assert_eq!(paused.state, ClockState::Paused);
        assert_eq!(paused.due, None);
    }

    #[test]
    fn breach_is_dated_at_the_target() {
        let spans = [Running { start: t("2026-03-02T10:00:00Z"), end: None }];
        let r = read(&Calendar::Always, &spans, Duration::minutes(30), t("2026-03-02T11:00:00Z"), false);
        assert_eq!(r.state, ClockState::Breached);
        assert_eq!(r.breached_at, Some(t("2026-03-02T10:30:00Z")));
        assert_eq!(describe(&r, t("2026-03-02T11:00:00Z")), "overdue by 30 min");
    }

    #[test]
    fn a_mark_goes_when_its_moment_moves_past_it() {
        let n = |s: &str| t(s).naive_utc();
        let warned = Some(n("2026-03-02T09:24:30Z"));
        assert!(mark_stands(warned, Some(n("2026-03-02T09:24:00Z"))), "the crossing it was about");
        assert!(mark_stands(warned, Some(n("2026-03-02T09:12:00Z"))), "an earlier target stays warned");
        assert!(mark_stands(warned, None), "a stopped or paused clock keeps it");
        assert!(!mark_stands(warned, Some(n("2026-03-02T15:00:00Z"))), "a later target warns again");
        assert!(!mark_stands(None, Some(n("2026-03-02T09:24:00Z"))), "nothing recorded, nothing stands");
    }

    #[test]
    fn first_response_stops_at_the_reply() {
        let start = t("2026-03-02T10:00:00Z");
        let res = resolution_spans(start, &[]);
        let fr = first_response_spans(&res, Some(t("2026-03-02T10:10:00Z")));
        let r = read(&Calendar::Always, &fr, Duration::minutes(15), t("2026-03-02T12:00:00Z"), true);
        assert_eq!(r.state, ClockState::Met);
        assert_eq!(r.elapsed, Duration::minutes(10));
    }
}

/// Reads a stored calendar: `week` is seven `HH:MM-HH:MM` entries (Monday first, empty =
/// closed) separated by `;`, `holidays` comma-separated dates.
pub fn calendar_from_parts(always: bool, time_zone: &str, week: &str, holidays: &str) -> Result<Calendar, String> {
    if always {
        return Ok(Calendar::Always);
    }
    let tz: Tz = time_zone.parse().map_err(|_| format!("'{time_zone}' is not a time zone."))?;
    let mut days: [Option<(NaiveTime, NaiveTime)>; 7] = [None; 7];
    let entries: Vec<&str> = week.split(';').collect();
    if entries.len() != 7 {
        return Err("Give opening hours for each of the seven days.".into());
    }
    for (i, e) in entries.iter().enumerate() {
        let e = e.trim();
        if e.is_empty() {
            continue;
        }
        let parsed = e.split_once('-').and_then(|(a, b)| {
            let a = NaiveTime::parse_from_str(a.trim(), "%H:%M").ok()?;
            let b = NaiveTime::parse_from_str(b.trim(), "%H:%M").ok()?;
            (a < b).then_some((a, b))
        });
        match parsed {
            Some(p) => days[i] = Some(p),
            None => return Err(format!("'{e}' is not opening hours like 09:00-17:00.")),
        }
    }
    if days.iter().all(Option::is_none) {
        return Err("A business-hours calendar needs at least one open day.".into());
    }
    let mut hol = Vec::new();
    for h in holidays.split([',', '\n', ' ']).map(str::trim).filter(|h| !h.is_empty()) {
        hol.push(
            NaiveDate::parse_from_str(h, "%Y-%m-%d").map_err(|_| format!("'{h}' is not a date like 2026-12-25."))?,
        );
    }
    Ok(Calendar::Business { tz, week: days, holidays: hol })
}

/// The inverse of `calendar_from_parts` for the week: seven entries joined by `;`.
pub fn week_text(week: &[Option<(NaiveTime, NaiveTime)>; 7]) -> String {
    week.iter()
        .map(|d| d.map(|(a, b)| format!("{}-{}", a.format("%H:%M"), b.format("%H:%M"))).unwrap_or_default())
        .collect::<Vec<_>>()
        .join(";")
}

/// Which phase a status puts the clocks in.
pub fn phase_of_status(status: &str) -> Phase {
    match status {
        "waiting_on_customer" => Phase::Waiting,
        "resolved" | "closed" => Phase::Done,
        _ => Phase::Active,
    }
}

#[cfg(test)]
mod parts_tests {
    use super::*;

    #[test]
    fn stored_calendars_round_trip_and_reject_nonsense() {
        let week = "09:00-17:00;09:00-17:00;09:00-17:00;09:00-17:00;09:00-13:00;;";
        let c = calendar_from_parts(false, "Europe/Berlin", week, "2026-12-25, 2026-12-26").expect("valid");
        let Calendar::Business { week: w, holidays, .. } = &c else { panic!("business calendar") };
        assert_eq!(week_text(w), week);
        assert_eq!(holidays.len(), 2);
        assert!(calendar_from_parts(false, "Mars/Base", week, "").is_err());
        assert!(calendar_from_parts(false, "UTC", "9-5", "").is_err());
        assert!(calendar_from_parts(false, "UTC", ";;;;;;", "").is_err());
        assert!(calendar_from_parts(false, "UTC", week, "someday").is_err());
        assert_eq!(calendar_from_parts(true, "", "", ""), Ok(Calendar::Always));
    }
}
