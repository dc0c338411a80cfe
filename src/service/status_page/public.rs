//! The public status page's read models: the overview (services, day bars, open incidents,
//! maintenance), an incident's public story, the feed; computed once per change and shared.

use super::*;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUpdate {
    pub id: i64,
    pub phase: Phase,
    pub body: String,
    pub at: NaiveDateTime,
    /// The state the service was in when the update was posted.
    pub state: Option<ServiceState>,
    /// When the text was last corrected.
    pub edited_at: Option<NaiveDateTime>,
}

impl PublicUpdate {
    pub(super) fn from_row(u: StatusUpdate) -> PublicUpdate {
        PublicUpdate {
            id: u.id,
            phase: Phase::parse(&u.phase).unwrap_or(Phase::Investigating),
            state: ServiceState::parse(&u.state),
            body: u.body,
            at: u.created_at,
            edited_at: u.edited_at,
        }
    }

    /// The newest of posting and editing: the feed's `<updated>`.
    pub fn changed_at(&self) -> NaiveDateTime {
        self.edited_at.unwrap_or(self.at).max(self.at)
    }
}

/// An incident as the public sees it: the public title, its state, its service, its updates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicIncident {
    pub id: i64,
    pub title: String,
    pub state: ServiceState,
    pub service: String,
    /// Active now: the incident is open and its latest update is not "resolved".
    pub active: bool,
    pub published_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// When its last active span ended (None while active, or if it never was).
    pub ended_at: Option<NaiveDateTime>,
    /// Newest first; retracted ones are not here.
    pub updates: Vec<PublicUpdate>,
}

impl PublicIncident {
    /// The latest update's phase, if any update was posted.
    pub fn phase(&self) -> Option<Phase> {
        self.updates.first().map(|u| u.phase)
    }
}

/// One day of a service's history, in words as well as state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayStatus {
    pub day: Day,
    /// What made the day worse than operational: public incident titles and maintenance
    /// notices, each once.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceStatus {
    pub id: i64,
    pub name: String,
    pub state: ServiceState,
    /// Oldest first, `HISTORY_DAYS` of them, ending today (UTC).
    pub days: Vec<DayStatus>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Maintenance {
    pub release_id: i64,
    /// The release's public notice, or the generic text: never its title or notes.
    pub title: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub services: Vec<String>,
    pub in_progress: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overview {
    pub generated_at: NaiveDateTime,
    pub overall: ServiceState,
    pub services: Vec<ServiceStatus>,
    pub active: Vec<PublicIncident>,
    pub past: Vec<PublicIncident>,
    pub maintenance: Vec<Maintenance>,
}

/// A public incident and what it put where: (span piece, service, state), from its state log.
type Built = (PublicIncident, Vec<(Span, i64, ServiceState)>);

/// Builds public incidents from their rows, with their updates, active spans and state log: a
/// fixed handful of queries however many rows.
fn build(
    conn: &mut DbConnection,
    rows: Vec<(StatusIncident, IncidentFacts)>,
    names: &HashMap<i64, String>,
) -> ServiceResult<Vec<Built>> {
    let incident_ids: Vec<i64> = rows.iter().map(|(_, f)| f.id).collect();
    let status_ids: Vec<i64> = rows.iter().map(|(s, _)| s.id).collect();
    let mut changes: HashMap<i64, Vec<(NaiveDateTime, Change)>> = HashMap::new();
    for (incident_id, at, new_status) in db::status_changes(conn, &incident_ids)? {
        let open = Status::parse(&new_status).is_none_or(Status::is_open);
        changes.entry(incident_id).or_default().push((at, Change::Open(open)));
    }
    let mut updates: HashMap<i64, Vec<StatusUpdate>> = HashMap::new();
    for u in db::updates_for(conn, &status_ids, false)? {
        updates.entry(u.status_incident_id).or_default().push(u);
    }
    let mut logs: HashMap<i64, Vec<StateEntry>> = HashMap::new();
    for e in db::states_for(conn, &status_ids)? {
        logs.entry(e.status_incident_id).or_default().push(e);
    }
    let mut out = Vec::with_capacity(rows.len());
    for (si, facts) in rows {
        let ups = updates.remove(&si.id).unwrap_or_default();
        let mut ch = changes.remove(&facts.id).unwrap_or_default();
        ch.extend(ups.iter().filter_map(|u| Phase::parse(&u.phase).map(|p| (u.created_at, Change::Update(p)))));
        if !facts.is_open {
            // The stored state has the last word, even where the event history is incomplete.
            let closed = facts.resolved_at.or(facts.closed_at).unwrap_or(facts.updated_at);
            let last = ch.iter().map(|c| c.0).max().unwrap_or(closed);
            ch.push((closed.max(last), Change::Open(false)));
        }
        ch.sort_by_key(|(at, _)| *at);
        let spans = active_spans(si.published_at, &ch);
        let active = spans.last().is_some_and(|s| s.to.is_none());
        let ended_at = if active { None } else { spans.last().and_then(|s| s.to) };
        let now_state = incident_state(&facts.severity, si.state_override.as_deref());
        let mut log: Vec<(NaiveDateTime, (i64, ServiceState))> = logs
            .remove(&si.id)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|e| ServiceState::parse(&e.state).map(|st| (e.at, (e.service_id, st))))
            .collect();
        if log.is_empty() {
            log.push((si.published_at, (facts.service_id, now_state)));
        }
        let pieces = split_by_log(&spans, &log).into_iter().map(|(span, (svc, st))| (span, svc, st)).collect();
        let public = PublicIncident {
            id: si.id,
            title: si.public_title.clone(),
            state: now_state,
            service: names.get(&facts.service_id).cloned().unwrap_or_default(),
            active,
            published_at: si.published_at,
            updated_at: si.updated_at,
            ended_at,
            updates: ups.into_iter().rev().map(PublicUpdate::from_row).collect(),
        };
        out.push((public, pieces));
    }
    Ok(out)
}

/// Everything `/status`, `/status.json` and the feed show, computed at once; and until when it
/// holds if nothing is written (the next window start or end, midnight, or `SNAPSHOT_SECONDS`).
fn compute(state: &AppState) -> ServiceResult<(Overview, Vec<FeedEntry>, NaiveDateTime)> {
    let now = state.clock.now_naive();
    let today = now.date();
    let from = (today - Duration::days(i64::from(HISTORY_DAYS) - 1)).and_hms_opt(0, 0, 0).unwrap_or(now);
    let mut valid_until = now + Duration::seconds(SNAPSHOT_SECONDS);
    if let Some(midnight) = (today + Duration::days(1)).and_hms_opt(0, 0, 0) {
        valid_until = valid_until.min(midnight);
    }
    let mut conn = state.conn()?;
    let conn = &mut *conn;
    let all_services = services::all(conn)?;
    let names: HashMap<i64, String> = all_services.iter().map(|s| (s.id, s.name.clone())).collect();
    let rows = db::shown_since(conn, from, 500)?;
    let built = build(conn, rows, &names)?;
    // What each stretch came from, for the days' text: index into `sources`.
    let mut sources: Vec<String> = Vec::new();
    let mut stretches: HashMap<i64, Vec<Stretch>> = HashMap::new();
    for (inc, pieces) in &built {
        sources.push(inc.title.clone());
        let source = Some(sources.len() - 1);
        for (span, service_id, st) in pieces {
            stretches.entry(*service_id).or_default().push(Stretch { span: *span, state: *st, source });
        }
    }
    let mut release_order: Vec<i64> = Vec::new();
    let mut by_release: HashMap<i64, Maintenance> = HashMap::new();
    let mut release_source: HashMap<i64, usize> = HashMap::new();
    for w in db::windows_after(conn, from, 2000)? {
        let status = ReleaseStatus::parse(&w.status).unwrap_or(ReleaseStatus::Planned);
        let Some(span) = maintenance_span(status, w.start, w.end, w.rolled_back_at) else { continue };
        let Some(end) = span.to else { continue };
        let title = notice_text(&w.notice).to_string();
        let source = *release_source.entry(w.release_id).or_insert_with(|| {
            sources.push(title.clone());
            sources.len() - 1
        });
        stretches.entry(w.service_id).or_default().push(Stretch {
            span,
            state: ServiceState::Maintenance,
            source: Some(source),
        });
        if end <= now {
            continue;
        }
        for boundary in [span.from, end] {
            if boundary > now {
                valid_until = valid_until.min(boundary);
            }
        }
        let entry = by_release.entry(w.release_id).or_insert_with(|| {
            release_order.push(w.release_id);
            Maintenance {
                release_id: w.release_id,
                title,
                starts_at: span.from,
                ends_at: end,
                services: Vec::new(),
                in_progress: span.from <= now,
            }
        });
        if let Some(n) = names.get(&w.service_id) {
            entry.services.push(n.clone());
        }
    }
    let maintenance: Vec<Maintenance> = release_order.into_iter().filter_map(|id| by_release.remove(&id)).collect();
    let services: Vec<ServiceStatus> = all_services
        .iter()
        .filter(|s| s.active)
        .map(|s| {
            let st = stretches.get(&s.id).map(Vec::as_slice).unwrap_or(&[]);
            ServiceStatus {
                id: s.id,
                name: s.name.clone(),
                state: state_at(st, now),
                days: history(st, today, HISTORY_DAYS, now)
                    .into_iter()
                    .map(|day| DayStatus {
                        notes: day.sources.iter().filter_map(|i| sources.get(*i).cloned()).collect(),
                        day,
                    })
                    .collect(),
            }
        })
        .collect();
    let (active, mut past): (Vec<PublicIncident>, Vec<PublicIncident>) =
        built.into_iter().map(|(i, _)| i).partition(|i| i.active);
    past.sort_by_key(|i| std::cmp::Reverse(i.ended_at.unwrap_or(i.updated_at)));
    past.truncate(PAST_ON_PAGE);
    let overall = services
        .iter()
        .map(|s| s.state)
        .chain(active.iter().map(|i| i.state))
        .max()
        .unwrap_or(ServiceState::Operational);
    let feed = feed_entries(conn)?;
    Ok((Overview { generated_at: now, overall, services, active, past, maintenance }, feed, valid_until))
}

/// What the public views show, computed once and shared until a write or `valid_until`.
#[derive(Debug)]
pub struct Snapshot {
    pub overview: Overview,
    pub feed: Vec<FeedEntry>,
    /// A hash of everything shown except the time it was computed: the validators' base.
    pub fingerprint: String,
    /// Since when the page has looked like this (Last-Modified).
    pub changed_at: NaiveDateTime,
    /// The app-clock time until which it holds when nothing is written.
    pub valid_until: NaiveDateTime,
}

/// The public views' data, from `AppState::cache` while it is fresh: any write committed
/// through `AppState::tx` drops it, and it never outlives `SNAPSHOT_SECONDS` nor the next
/// window start or end or midnight (UTC).
pub fn snapshot(state: &AppState) -> ServiceResult<Arc<Snapshot>> {
    let now = state.clock.now_naive();
    state.cache.status_snapshot(now, |previous| {
        let (overview, feed, valid_until) = compute(state)?;
        let o = &overview;
        let fingerprint = sha256_hex(&format!(
            "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
            o.overall, o.services, o.active, o.past, o.maintenance, feed
        ));
        let changed_at = match previous {
            Some(p) if p.fingerprint == fingerprint => p.changed_at,
            _ => now,
        };
        Ok(Snapshot { overview, feed, fingerprint, changed_at, valid_until })
    })
}

/// Everything `/status` and `/status.json` show (from the snapshot).
pub fn overview(state: &AppState) -> ServiceResult<Overview> {
    Ok(snapshot(state)?.overview.clone())
}

/// A page of every incident shown on the status page, newest first; the cursor for the next.
/// Where a page of `/status/incidents` starts: before this (published_at, id).
pub type IncidentCursor = (NaiveDateTime, i64);

pub fn incidents_page(
    state: &AppState,
    before: Option<IncidentCursor>,
) -> ServiceResult<(Vec<PublicIncident>, Option<IncidentCursor>)> {
    let mut conn = state.conn()?;
    let conn = &mut *conn;
    let names: HashMap<i64, String> = services::all(conn)?.into_iter().map(|s| (s.id, s.name)).collect();
    let mut rows = db::shown_page(conn, before, INCIDENTS_PAGE + 1)?;
    let more = rows.len() as i64 > INCIDENTS_PAGE;
    rows.truncate(INCIDENTS_PAGE as usize);
    let next = if more { rows.last().map(|(s, _)| (s.published_at, s.id)) } else { None };
    Ok((build(conn, rows, &names)?.into_iter().map(|(i, _)| i).collect(), next))
}

/// One incident shown on the status page.
pub fn public_incident(state: &AppState, id: i64) -> ServiceResult<PublicIncident> {
    let mut conn = state.conn()?;
    let conn = &mut *conn;
    let row = db::shown_one(conn, id)?.ok_or(ServiceError::NotFound)?;
    let names: HashMap<i64, String> = services::all(conn)?.into_iter().map(|s| (s.id, s.name)).collect();
    build(conn, vec![row], &names)?.into_iter().next().map(|(i, _)| i).ok_or(ServiceError::NotFound)
}

/// One entry of the Atom feed: a public update with its incident's public title, or a
/// maintenance announcement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedEntry {
    Update { incident_id: i64, title: String, update: PublicUpdate },
    Maintenance(MaintenanceEntry),
}

/// A maintenance announcement as the feed shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaintenanceEntry {
    pub id: i64,
    pub news: MaintenanceNews,
    pub notice: String,
    pub services: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub at: NaiveDateTime,
}

impl FeedEntry {
    /// When the entry last changed (`<updated>`).
    pub fn updated(&self) -> NaiveDateTime {
        match self {
            FeedEntry::Update { update, .. } => update.changed_at(),
            FeedEntry::Maintenance(m) => m.at,
        }
    }
}

fn maintenance_entry(a: Announcement) -> MaintenanceEntry {
    MaintenanceEntry {
        id: a.id,
        news: MaintenanceNews::parse(&a.kind).unwrap_or(MaintenanceNews::Scheduled),
        notice: notice_text(&a.notice).to_string(),
        services: a.services,
        starts_at: a.starts_at,
        ends_at: a.ends_at,
        at: a.created_at,
    }
}

/// The newest public updates and maintenance announcements together, newest first.
fn feed_entries(conn: &mut DbConnection) -> ServiceResult<Vec<FeedEntry>> {
    let mut entries: Vec<FeedEntry> = db::recent_updates(conn, FEED_ENTRIES)?
        .into_iter()
        .map(|(u, si)| FeedEntry::Update {
            incident_id: si.id,
            title: si.public_title,
            update: PublicUpdate::from_row(u),
        })
        .chain(
            db::recent_announcements(conn, FEED_ENTRIES)?
                .into_iter()
                .map(|a| FeedEntry::Maintenance(maintenance_entry(a))),
        )
        .collect();
    entries.sort_by_key(|e| std::cmp::Reverse(e.updated()));
    entries.truncate(FEED_ENTRIES as usize);
    Ok(entries)
}

/// The feed's entries (from the snapshot).
pub fn feed(state: &AppState) -> ServiceResult<Vec<FeedEntry>> {
    Ok(snapshot(state)?.feed.clone())
}
