//! The public status page's rules: what state a service is in, from the incidents staff show
//! on the status page and the releases inside their planned window; the spans an incident was
//! active; and each day's worst state for the 90-day history. Plain functions over plain facts.

use super::incident::Severity;
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

/// A span and the state it puts its service in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stretch {
    pub span: Span,
    pub state: ServiceState,
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

/// One day of the history: its date (UTC) and the worst state of anything active that day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Day {
    pub date: NaiveDate,
    pub state: ServiceState,
}

/// The last `days` days up to and including `today` (UTC), oldest first, each with the worst
/// state of the stretches overlapping it. A day that has not ended counts up to `now`.
pub fn history(stretches: &[Stretch], today: NaiveDate, days: u32, now: NaiveDateTime) -> Vec<Day> {
    (0..days)
        .rev()
        .filter_map(|back| today.checked_sub_signed(Duration::days(i64::from(back))))
        .map(|date| {
            let start = date.and_hms_opt(0, 0, 0).unwrap_or_default();
            let end = (start + Duration::days(1)).min(now.max(start + Duration::microseconds(1)));
            let state = stretches
                .iter()
                .filter(|s| s.span.overlaps(start, end))
                .map(|s| s.state)
                .max()
                .unwrap_or(ServiceState::Operational);
            Day { date, state }
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
        let maint = Stretch { span: running, state: ServiceState::Maintenance };
        let degraded = Stretch { span: running, state: ServiceState::Degraded };
        let major = Stretch { span: running, state: ServiceState::MajorOutage };
        assert_eq!(state_at(&[], now), ServiceState::Operational);
        assert_eq!(state_at(&[maint], now), ServiceState::Maintenance);
        assert_eq!(state_at(&[maint, degraded], now), ServiceState::Degraded);
        assert_eq!(state_at(&[degraded, major, maint], now), ServiceState::MajorOutage);
    }

    #[test]
    fn a_window_counts_only_while_it_runs() {
        let w = window(Some(t("2026-03-02 22:00")), Some(t("2026-03-02 23:00")))
            .map(|span| Stretch { span, state: ServiceState::Maintenance });
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
            },
            Stretch {
                span: Span { from: t("2026-03-02 10:00"), to: Some(t("2026-03-02 11:00")) },
                state: ServiceState::Degraded,
            },
            Stretch { span: Span { from: t("2026-03-03 09:00"), to: None }, state: ServiceState::Degraded },
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
    }

    #[test]
    fn a_span_ending_at_midnight_does_not_colour_the_next_day() {
        let stretches = [Stretch {
            span: Span { from: t("2026-03-01 20:00"), to: Some(t("2026-03-02 00:00")) },
            state: ServiceState::PartialOutage,
        }];
        let days = history(&stretches, d("2026-03-02"), 2, t("2026-03-02 12:00"));
        assert_eq!(days[0].state, ServiceState::PartialOutage);
        assert_eq!(days[1].state, ServiceState::Operational);
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
