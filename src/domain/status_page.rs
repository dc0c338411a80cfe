//! The public status page's rules: what state a service is in, from the incidents staff show
//! on the status page and the releases inside their scheduled window; the spans an incident was
//! active, cut by the state it was in at each moment (its state log); each day's worst state
//! for the 90-day history; and what a change to a release's window announces. Plain functions
//! over plain facts.

use super::incident::Severity;
use super::release::ReleaseStatus;
use chrono::{Duration, NaiveDate, NaiveDateTime};

/// A service's state, from best to worst: the worst one wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ServiceState {
    Operational,
    /// A release's planned window is running.
    Maintenance,
    Degraded,
    PartialOutage,
    MajorOutage,
}

impl ServiceState {
    pub const ALL: [ServiceState; 5] = [
        ServiceState::Operational,
        ServiceState::Maintenance,
        ServiceState::Degraded,
        ServiceState::PartialOutage,
        ServiceState::MajorOutage,
    ];

    /// The states staff may set on an incident by hand (maintenance comes from releases only).
    pub const OVERRIDES: [ServiceState; 4] =
        [ServiceState::Operational, ServiceState::Degraded, ServiceState::PartialOutage, ServiceState::MajorOutage];

    /// The stable name used in storage, CSS classes and `/status.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceState::Operational => "operational",
            ServiceState::Maintenance => "maintenance",
            ServiceState::Degraded => "degraded",
            ServiceState::PartialOutage => "partial_outage",
            ServiceState::MajorOutage => "major_outage",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ServiceState::Operational => "Operational",
            ServiceState::Maintenance => "Maintenance",
            ServiceState::Degraded => "Degraded performance",
            ServiceState::PartialOutage => "Partial outage",
            ServiceState::MajorOutage => "Major outage",
        }
    }

    pub fn parse(s: &str) -> Option<ServiceState> {
        ServiceState::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// A staff override, as stored: only the incident states.
    pub fn parse_override(s: &str) -> Option<ServiceState> {
        ServiceState::parse(s).filter(|s| ServiceState::OVERRIDES.contains(s))
    }

    /// The state a severity puts its service in.
    pub fn for_severity(sev: Severity) -> ServiceState {
        match sev {
            Severity::Sev1 => ServiceState::MajorOutage,
            Severity::Sev2 => ServiceState::PartialOutage,
            Severity::Sev3 | Severity::Sev4 => ServiceState::Degraded,
        }
    }

    /// What the whole page says in one line.
    pub fn headline(self) -> &'static str {
        match self {
            ServiceState::Operational => "All systems operational",
            ServiceState::Maintenance => "Maintenance in progress",
            ServiceState::Degraded => "Some systems are degraded",
            ServiceState::PartialOutage => "Partial outage",
            ServiceState::MajorOutage => "Major outage",
        }
    }
}

/// An incident's state on the status page: the staff override if there is one, else from its
/// severity (an unknown severity text counts as the mildest).
pub fn incident_state(severity: &str, override_state: Option<&str>) -> ServiceState {
    if let Some(s) = override_state.and_then(ServiceState::parse_override) {
        return s;
    }
    ServiceState::for_severity(Severity::parse(severity).unwrap_or(Severity::Sev4))
}

/// The phase of a public update, as customers read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    Investigating,
    Identified,
    Monitoring,
    Resolved,
}

impl Phase {
    pub const ALL: [Phase; 4] = [Phase::Investigating, Phase::Identified, Phase::Monitoring, Phase::Resolved];

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Investigating => "investigating",
            Phase::Identified => "identified",
            Phase::Monitoring => "monitoring",
            Phase::Resolved => "resolved",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Phase::Investigating => "Investigating",
            Phase::Identified => "Identified",
            Phase::Monitoring => "Monitoring",
            Phase::Resolved => "Resolved",
        }
    }

    pub fn parse(s: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// A stretch of time; `to` None means "still going".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub from: NaiveDateTime,
    pub to: Option<NaiveDateTime>,
}

impl Span {
    /// Whether the span covers any part of `[from, to)`.
    pub fn overlaps(&self, from: NaiveDateTime, to: NaiveDateTime) -> bool {
        self.from < to && self.to.is_none_or(|end| end > from)
    }
}

/// Something that starts or stops an incident's activity on the status page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The incident's workflow status changed; true when the new status is an open one.
    Open(bool),
    /// Staff posted a public update with this phase.
    Update(Phase),
}

/// When a status-page incident was active: from its publication, while the incident is open
/// and its latest public update is not "resolved". `changes` are in time order and may start
/// before the publication (the incident's earlier status changes). The incident is open when it
/// is created, before any change.
pub fn active_spans(published_at: NaiveDateTime, changes: &[(NaiveDateTime, Change)]) -> Vec<Span> {
    let mut open = true;
    let mut resolved = false;
    let mut i = 0;
    while i < changes.len() && changes[i].0 <= published_at {
        apply(&mut open, &mut resolved, changes[i].1);
        i += 1;
    }
    let mut spans = Vec::new();
    let mut start = (open && !resolved).then_some(published_at);
    for (at, change) in &changes[i..] {
        apply(&mut open, &mut resolved, *change);
        let active = open && !resolved;
        match (start, active) {
            (Some(from), false) => {
                if *at > from {
                    spans.push(Span { from, to: Some(*at) });
                }
                start = None;
            }
            (None, true) => start = Some(*at),
            _ => {}
        }
    }
    if let Some(from) = start {
        spans.push(Span { from, to: None });
    }
    spans
}

fn apply(open: &mut bool, resolved: &mut bool, change: Change) {
    match change {
        Change::Open(o) => *open = o,
        Change::Update(p) => *resolved = p == Phase::Resolved,
    }
}

/// Cuts each span where the log says the value changed: every piece carries the value that
/// held at its start (the last entry at or before it; before the first entry, the first one).
/// `log` is in time order; an empty log gives no pieces. Consecutive entries with the same value
/// do not cut.
pub fn split_by_log<T: Copy + PartialEq>(spans: &[Span], log: &[(NaiveDateTime, T)]) -> Vec<(Span, T)> {
    let Some(first) = log.first() else { return Vec::new() };
    let mut out = Vec::new();
    for span in spans {
        let mut value = log.iter().take_while(|(at, _)| *at <= span.from).last().unwrap_or(first).1;
        let mut from = span.from;
        for (at, v) in log.iter().filter(|(at, _)| *at > span.from && span.to.is_none_or(|end| *at < end)) {
            if *v == value {
                continue;
            }
            out.push((Span { from, to: Some(*at) }, value));
            from = *at;
            value = *v;
        }
        out.push((Span { from, to: span.to }, value));
    }
    out
}

/// A span, the state it puts its service in, and what caused it (an index the caller gives
/// meaning to: the incident or maintenance it came from), for the days' text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stretch {
    pub span: Span,
    pub state: ServiceState,
    pub source: Option<usize>,
}

/// The worst state among the stretches running at `now`.
pub fn state_at(stretches: &[Stretch], now: NaiveDateTime) -> ServiceState {
    stretches
        .iter()
        .filter(|s| s.span.from <= now && s.span.to.is_none_or(|end| end > now))
        .map(|s| s.state)
        .max()
        .unwrap_or(ServiceState::Operational)
}

/// One day of the history: its date (UTC), the worst state of anything active that day, and
/// the sources of the stretches that made it less than operational (first seen first, once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Day {
    pub date: NaiveDate,
    pub state: ServiceState,
    pub sources: Vec<usize>,
}

/// The last `days` days up to and including `today` (UTC), oldest first, each with the worst
/// state of the stretches overlapping it. A day that has not ended counts up to and including
/// `now` (so today's bar agrees with the state shown now).
pub fn history(stretches: &[Stretch], today: NaiveDate, days: u32, now: NaiveDateTime) -> Vec<Day> {
    let tick = Duration::microseconds(1);
    (0..days)
        .rev()
        .filter_map(|back| today.checked_sub_signed(Duration::days(i64::from(back))))
        .map(|date| {
            let start = date.and_hms_opt(0, 0, 0).unwrap_or_default();
            let end = (start + Duration::days(1)).min((now + tick).max(start + tick));
            let that_day: Vec<&Stretch> = stretches.iter().filter(|s| s.span.overlaps(start, end)).collect();
            let state = that_day.iter().map(|s| s.state).max().unwrap_or(ServiceState::Operational);
            let mut sources = Vec::new();
            for s in that_day.iter().filter(|s| s.state != ServiceState::Operational) {
                if let Some(i) = s.source
                    && !sources.contains(&i)
                {
                    sources.push(i);
                }
            }
            Day { date, state, sources }
        })
        .collect()
}

/// A release's planned window as a span, when it has both ends and they are in order.
pub fn window(start: Option<NaiveDateTime>, end: Option<NaiveDateTime>) -> Option<Span> {
    match (start, end) {
        (Some(from), Some(to)) if to > from => Some(Span { from, to: Some(to) }),
        _ => None,
    }
}

/// Whether a release in this status has its window scheduled: once it is ready (checklist
/// ticked, approved) and from then on. A planned release is a draft; its window is nobody's
/// business outside. A rolled-back release keeps only what ran before the rollback.
pub fn is_scheduled(status: ReleaseStatus) -> bool {
    !matches!(status, ReleaseStatus::Planned | ReleaseStatus::RolledBack)
}

/// The maintenance a release puts on the status page: its planned window while it is scheduled
/// (`is_scheduled`); after a rollback, the part of the window before the rollback (nothing when
/// it was rolled back before the window began).
pub fn maintenance_span(
    status: ReleaseStatus,
    start: Option<NaiveDateTime>,
    end: Option<NaiveDateTime>,
    rolled_back_at: Option<NaiveDateTime>,
) -> Option<Span> {
    let w = window(start, end)?;
    match status {
        ReleaseStatus::Planned => None,
        ReleaseStatus::RolledBack => {
            let at = rolled_back_at?;
            (at > w.from).then(|| Span { from: w.from, to: Some(w.to.map_or(at, |end| end.min(at))) })
        }
        _ => Some(w),
    }
}

/// Scheduled maintenance as the public reads it: the notice (empty: the generic text), the
/// affected services' names, the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announced {
    pub notice: String,
    pub services: Vec<String>,
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
}

/// What the public is told about a release's maintenance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaintenanceNews {
    /// It appears: a window became scheduled.
    Scheduled,
    /// Its window moved.
    Rescheduled,
    /// Same window; the notice or the services changed.
    Updated,
    /// It will not happen (any more): no longer scheduled, or the window was removed.
    Cancelled,
}

impl MaintenanceNews {
    pub fn as_str(self) -> &'static str {
        match self {
            MaintenanceNews::Scheduled => "scheduled",
            MaintenanceNews::Rescheduled => "rescheduled",
            MaintenanceNews::Updated => "updated",
            MaintenanceNews::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<MaintenanceNews> {
        [MaintenanceNews::Scheduled, MaintenanceNews::Rescheduled, MaintenanceNews::Updated, MaintenanceNews::Cancelled]
            .into_iter()
            .find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            MaintenanceNews::Scheduled => "Maintenance scheduled",
            MaintenanceNews::Rescheduled => "Maintenance rescheduled",
            MaintenanceNews::Updated => "Maintenance notice updated",
            MaintenanceNews::Cancelled => "Maintenance cancelled",
        }
    }
}

/// The text the public reads for a maintenance without a notice of its own.
pub const GENERIC_MAINTENANCE: &str = "Scheduled maintenance";

/// What a change to a release tells the public, given what was announced before and what is
/// to be announced after (each None when nothing upcoming or running was or is scheduled).
pub fn maintenance_news(before: Option<&Announced>, after: Option<&Announced>) -> Option<MaintenanceNews> {
    match (before, after) {
        (None, None) => None,
        (None, Some(_)) => Some(MaintenanceNews::Scheduled),
        (Some(_), None) => Some(MaintenanceNews::Cancelled),
        (Some(b), Some(a)) if b == a => None,
        (Some(b), Some(a)) if (b.from, b.to) != (a.from, a.to) => Some(MaintenanceNews::Rescheduled),
        (Some(_), Some(_)) => Some(MaintenanceNews::Updated),
    }
}

/// How a subscription request is answered by mail: the page says the same in every case, so
/// nobody learns whether an address is subscribed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscribeOutcome {
    /// A confirmation mail goes out.
    SendConfirmation,
    /// Nothing is sent: already confirmed, or a confirmation went out within the hour.
    Quiet,
}

/// How long between two confirmation mails to one address.
pub const CONFIRMATION_INTERVAL_MINUTES: i64 = 60;
/// How long a confirmation link works.
pub const CONFIRMATION_VALID_HOURS: i64 = 48;

/// Whether a request for an address that already has a row should send a confirmation.
pub fn subscribe_outcome(confirmed: bool, last_sent: Option<NaiveDateTime>, now: NaiveDateTime) -> SubscribeOutcome {
    if confirmed {
        return SubscribeOutcome::Quiet;
    }
    match last_sent {
        Some(t) if now - t < Duration::minutes(CONFIRMATION_INTERVAL_MINUTES) => SubscribeOutcome::Quiet,
        _ => SubscribeOutcome::SendConfirmation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap_or_default()
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn severity_sets_the_state_and_an_override_wins() {
        assert_eq!(incident_state("SEV1", None), ServiceState::MajorOutage);
        assert_eq!(incident_state("SEV2", None), ServiceState::PartialOutage);
        assert_eq!(incident_state("SEV3", None), ServiceState::Degraded);
        assert_eq!(incident_state("SEV4", None), ServiceState::Degraded);
        assert_eq!(incident_state("SEV1", Some("degraded")), ServiceState::Degraded);
        assert_eq!(incident_state("SEV4", Some("major_outage")), ServiceState::MajorOutage);
        // Maintenance is not an incident state; an unknown override is ignored.
        assert_eq!(incident_state("SEV2", Some("maintenance")), ServiceState::PartialOutage);
        assert_eq!(incident_state("SEV2", Some("nonsense")), ServiceState::PartialOutage);
    }

    #[test]
    fn the_worst_state_wins_and_maintenance_ranks_below_incidents() {
        let now = t("2026-03-02 10:00");
        let running = Span { from: t("2026-03-02 09:00"), to: None };
        let maint = Stretch { span: running, state: ServiceState::Maintenance, source: None };
        let degraded = Stretch { span: running, state: ServiceState::Degraded, source: None };
        let major = Stretch { span: running, state: ServiceState::MajorOutage, source: None };
        assert_eq!(state_at(&[], now), ServiceState::Operational);
        assert_eq!(state_at(&[maint], now), ServiceState::Maintenance);
        assert_eq!(state_at(&[maint, degraded], now), ServiceState::Degraded);
        assert_eq!(state_at(&[degraded, major, maint], now), ServiceState::MajorOutage);
    }

    #[test]
    fn a_window_counts_only_while_it_runs() {
        let w = window(Some(t("2026-03-02 22:00")), Some(t("2026-03-02 23:00"))).map(|span| Stretch {
            span,
            state: ServiceState::Maintenance,
            source: None,
        });
        let w: Vec<Stretch> = w.into_iter().collect();
        assert_eq!(state_at(&w, t("2026-03-02 21:59")), ServiceState::Operational);
        assert_eq!(state_at(&w, t("2026-03-02 22:00")), ServiceState::Maintenance);
        assert_eq!(state_at(&w, t("2026-03-02 22:59")), ServiceState::Maintenance);
        assert_eq!(state_at(&w, t("2026-03-02 23:00")), ServiceState::Operational);
        assert_eq!(window(Some(t("2026-03-02 22:00")), None), None);
        assert_eq!(window(Some(t("2026-03-02 22:00")), Some(t("2026-03-02 21:00"))), None);
    }

    #[test]
    fn an_incident_is_active_from_publication_until_resolved() {
        let published = t("2026-03-02 10:00");
        let changes = [
            (t("2026-03-02 09:00"), Change::Open(true)),
            (t("2026-03-02 10:30"), Change::Update(Phase::Investigating)),
            (t("2026-03-02 12:00"), Change::Open(false)),
        ];
        assert_eq!(active_spans(published, &changes), vec![Span { from: published, to: Some(t("2026-03-02 12:00")) }]);
        // Still open: the span goes on.
        assert_eq!(active_spans(published, &changes[..2]), vec![Span { from: published, to: None }]);
    }

    #[test]
    fn a_resolved_update_ends_the_span_and_a_later_update_or_reopening_starts_another() {
        let published = t("2026-03-02 10:00");
        let changes = [
            (t("2026-03-02 11:00"), Change::Update(Phase::Resolved)),
            (t("2026-03-02 13:00"), Change::Update(Phase::Investigating)),
            (t("2026-03-02 14:00"), Change::Open(false)),
            (t("2026-03-02 15:00"), Change::Open(true)),
        ];
        assert_eq!(
            active_spans(published, &changes),
            vec![
                Span { from: published, to: Some(t("2026-03-02 11:00")) },
                Span { from: t("2026-03-02 13:00"), to: Some(t("2026-03-02 14:00")) },
                Span { from: t("2026-03-02 15:00"), to: None },
            ]
        );
    }

    #[test]
    fn an_incident_closed_before_publication_never_counts() {
        let changes = [(t("2026-03-01 10:00"), Change::Open(false))];
        assert!(active_spans(t("2026-03-02 10:00"), &changes).is_empty());
    }

    #[test]
    fn each_day_shows_its_worst_state() {
        let now = t("2026-03-03 08:00");
        let stretches = [
            Stretch {
                span: Span { from: t("2026-03-01 22:00"), to: Some(t("2026-03-02 02:00")) },
                state: ServiceState::MajorOutage,
                source: Some(0),
            },
            Stretch {
                span: Span { from: t("2026-03-02 10:00"), to: Some(t("2026-03-02 11:00")) },
                state: ServiceState::Degraded,
                source: Some(1),
            },
            Stretch {
                span: Span { from: t("2026-03-03 09:00"), to: None },
                state: ServiceState::Degraded,
                source: Some(2),
            },
        ];
        let days = history(&stretches, d("2026-03-03"), 4, now);
        let got: Vec<(String, ServiceState)> = days.iter().map(|d| (d.date.to_string(), d.state)).collect();
        assert_eq!(
            got,
            vec![
                ("2026-02-28".to_string(), ServiceState::Operational),
                ("2026-03-01".to_string(), ServiceState::MajorOutage),
                ("2026-03-02".to_string(), ServiceState::MajorOutage),
                // The stretch starting later today has not begun yet at 08:00.
                ("2026-03-03".to_string(), ServiceState::Operational),
            ]
        );
        assert_eq!(history(&[], d("2026-03-03"), 90, now).len(), 90);
        // Each day names what made it worse than operational, once, in order.
        assert_eq!(days[1].sources, vec![0]);
        assert_eq!(days[2].sources, vec![0, 1]);
        assert!(days[0].sources.is_empty() && days[3].sources.is_empty());
    }

    #[test]
    fn spans_are_cut_where_the_state_log_changes() {
        let spans = [
            Span { from: t("2026-03-02 10:00"), to: Some(t("2026-03-02 14:00")) },
            Span { from: t("2026-03-03 10:00"), to: None },
        ];
        let log = [
            (t("2026-03-02 10:00"), ServiceState::MajorOutage),
            (t("2026-03-02 12:00"), ServiceState::Degraded),
            (t("2026-03-02 12:30"), ServiceState::Degraded),
            // After the first span ended: only the second sees it.
            (t("2026-03-02 20:00"), ServiceState::PartialOutage),
        ];
        assert_eq!(
            split_by_log(&spans, &log),
            vec![
                (Span { from: t("2026-03-02 10:00"), to: Some(t("2026-03-02 12:00")) }, ServiceState::MajorOutage),
                (Span { from: t("2026-03-02 12:00"), to: Some(t("2026-03-02 14:00")) }, ServiceState::Degraded),
                (Span { from: t("2026-03-03 10:00"), to: None }, ServiceState::PartialOutage),
            ]
        );
        // A span starting before the first entry takes the first entry's value.
        let early = [Span { from: t("2026-03-02 09:00"), to: Some(t("2026-03-02 11:00")) }];
        assert_eq!(split_by_log(&early, &log)[0].1, ServiceState::MajorOutage);
        assert!(split_by_log::<ServiceState>(&spans, &[]).is_empty());
    }

    #[test]
    fn a_past_day_keeps_its_state_when_the_severity_changes_later() {
        // SEV1 from 10:00 to 12:00 on the 2nd; lowered to degraded the next day, after it ended.
        let spans = [Span { from: t("2026-03-02 10:00"), to: Some(t("2026-03-02 12:00")) }];
        let log = [(t("2026-03-02 10:00"), ServiceState::MajorOutage), (t("2026-03-03 09:00"), ServiceState::Degraded)];
        let stretches: Vec<Stretch> = split_by_log(&spans, &log)
            .into_iter()
            .map(|(span, state)| Stretch { span, state, source: Some(0) })
            .collect();
        let days = history(&stretches, d("2026-03-03"), 2, t("2026-03-03 10:00"));
        assert_eq!(days[0].state, ServiceState::MajorOutage);
        assert_eq!(days[1].state, ServiceState::Operational);
    }

    #[test]
    fn only_scheduled_releases_hold_maintenance_and_a_rollback_ends_it() {
        let (s, e) = (Some(t("2026-03-02 22:00")), Some(t("2026-03-02 23:00")));
        let full = Some(Span { from: t("2026-03-02 22:00"), to: Some(t("2026-03-02 23:00")) });
        assert_eq!(maintenance_span(ReleaseStatus::Planned, s, e, None), None, "a draft");
        for st in [ReleaseStatus::Ready, ReleaseStatus::Deploying, ReleaseStatus::Monitoring, ReleaseStatus::Closed] {
            assert_eq!(maintenance_span(st, s, e, None), full, "{st:?}");
            assert!(is_scheduled(st));
        }
        assert!(!is_scheduled(ReleaseStatus::Planned) && !is_scheduled(ReleaseStatus::RolledBack));
        assert_eq!(maintenance_span(ReleaseStatus::RolledBack, s, e, Some(t("2026-03-02 21:00"))), None);
        assert_eq!(
            maintenance_span(ReleaseStatus::RolledBack, s, e, Some(t("2026-03-02 22:20"))),
            Some(Span { from: t("2026-03-02 22:00"), to: Some(t("2026-03-02 22:20")) })
        );
        assert_eq!(maintenance_span(ReleaseStatus::RolledBack, s, e, Some(t("2026-03-05 10:00"))), full);
        assert_eq!(maintenance_span(ReleaseStatus::Ready, s, None, None), None);
    }

    #[test]
    fn what_a_release_change_announces() {
        let a = Announced {
            notice: "Search may be slow.".into(),
            services: vec!["Search".into()],
            from: t("2026-03-02 22:00"),
            to: t("2026-03-02 23:00"),
        };
        assert_eq!(maintenance_news(None, None), None);
        assert_eq!(maintenance_news(None, Some(&a)), Some(MaintenanceNews::Scheduled));
        assert_eq!(maintenance_news(Some(&a), None), Some(MaintenanceNews::Cancelled));
        assert_eq!(maintenance_news(Some(&a), Some(&a.clone())), None);
        let moved = Announced { to: t("2026-03-03 00:00"), ..a.clone() };
        assert_eq!(maintenance_news(Some(&a), Some(&moved)), Some(MaintenanceNews::Rescheduled));
        let reworded = Announced { notice: "Search is read-only.".into(), ..a.clone() };
        assert_eq!(maintenance_news(Some(&a), Some(&reworded)), Some(MaintenanceNews::Updated));
        for k in ["scheduled", "rescheduled", "updated", "cancelled"] {
            assert_eq!(MaintenanceNews::parse(k).map(MaintenanceNews::as_str), Some(k));
        }
    }

    #[test]
    fn a_span_ending_at_midnight_does_not_colour_the_next_day() {
        let stretches = [Stretch {
            span: Span { from: t("2026-03-01 20:00"), to: Some(t("2026-03-02 00:00")) },
            state: ServiceState::PartialOutage,
            source: None,
        }];
        let days = history(&stretches, d("2026-03-02"), 2, t("2026-03-02 12:00"));
        assert_eq!(days[0].state, ServiceState::PartialOutage);
        assert_eq!(days[1].state, ServiceState::Operational);
    }

    #[test]
    fn today_counts_what_is_active_at_this_very_moment() {
        let now = t("2026-03-02 09:00");
        let stretches =
            [Stretch { span: Span { from: now, to: None }, state: ServiceState::MajorOutage, source: None }];
        assert_eq!(state_at(&stretches, now), ServiceState::MajorOutage);
        assert_eq!(history(&stretches, d("2026-03-02"), 1, now)[0].state, ServiceState::MajorOutage);
    }

    #[test]
    fn confirmations_go_out_at_most_once_an_hour_and_never_to_confirmed_addresses() {
        let now = t("2026-03-02 10:00");
        assert_eq!(subscribe_outcome(false, None, now), SubscribeOutcome::SendConfirmation);
        assert_eq!(subscribe_outcome(false, Some(t("2026-03-02 09:30")), now), SubscribeOutcome::Quiet);
        assert_eq!(subscribe_outcome(false, Some(t("2026-03-02 09:00")), now), SubscribeOutcome::SendConfirmation);
        assert_eq!(subscribe_outcome(true, None, now), SubscribeOutcome::Quiet);
    }

    #[test]
    fn names_round_trip() {
        for s in ServiceState::ALL {
            assert_eq!(ServiceState::parse(s.as_str()), Some(s));
        }
        for p in Phase::ALL {
            assert_eq!(Phase::parse(p.as_str()), Some(p));
        }
        assert_eq!(ServiceState::parse_override("maintenance"), None);
    }
}
