//! SLA compliance: each target (first response, resolution) counted once, in the period of its
//! outcome (met when it was met, breached when it fell due), with paused time excluded as the
//! SLA clock excludes it; the breaches with by how long; what is at risk now.

use super::{Cell, Headline, Report, Row, Sets, Table, col, facts};
use crate::db::DbConnection;
use crate::db::reports::{self, FactGroups, FactSla};
use crate::domain::chart::{Chart, Series, Style};
use crate::domain::incident::{Severity, key};
use crate::domain::report::{Period, by_interval};
use crate::domain::sla::utc;
use crate::service::ServiceResult;
use chrono::{Duration, NaiveDateTime};
use std::collections::HashMap;

/// The columns of one row of compliance figures, after its group.
const COMPLIANCE: [super::Column; 6] = [
    col("first_response_met", "First response met"),
    col("first_response_breached", "First response breached"),
    col("first_response_compliance", "First response compliance"),
    col("resolution_met", "Resolution met"),
    col("resolution_breached", "Resolution breached"),
    col("resolution_compliance", "Resolution compliance"),
];

/// The most breaches the list shows.
const BREACH_ROWS: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    FirstResponse,
    Resolution,
}

impl Target {
    fn key(self) -> &'static str {
        match self {
            Target::FirstResponse => "first_response",
            Target::Resolution => "resolution",
        }
    }
    fn label(self) -> &'static str {
        match self {
            Target::FirstResponse => "First response",
            Target::Resolution => "Resolution",
        }
    }
}

/// How one target of one incident came out, and when.
#[derive(Debug, Clone)]
struct Outcome {
    incident: i64,
    target: Target,
    met: bool,
    /// When it was met, or when it fell due (breached).
    at: NaiveDateTime,
    /// Breached: how late (the moment it was met, or now, minus the due moment).
    late_by: Duration,
}

struct Read {
    outcomes: Vec<Outcome>,
    paused: foldhash::HashMap<i64, Duration>,
    /// Open incidents whose running clock passed its warning point and not yet its target.
    at_risk: Vec<(i64, Target, NaiveDateTime)>,
}

/// One target of one incident from its facts, read at `now`: a stored breach or met moment
/// stands; a running clock whose due moment has passed is breached then; one that has passed
/// its warning point is at risk.
struct Stored {
    met: Option<i64>,
    breach: Option<i64>,
    due: Option<i64>,
    warn: Option<i64>,
}

fn read_target(out: &mut Read, f: &FactSla, target: Target, s: Stored, now: NaiveDateTime) {
    let now_s = now.and_utc().timestamp();
    let (id, time) = (f.g.incident_id, |s: i64| facts::time(s));
    if let Some(b) = s.breach.or(s.due.filter(|d| *d <= now_s).filter(|_| s.met.is_none())) {
        let late = s.met.unwrap_or(now_s) - b;
        out.outcomes.push(Outcome { incident: id, target, met: false, at: time(b), late_by: Duration::seconds(late) });
    } else if let Some(m) = s.met {
        out.outcomes.push(Outcome { incident: id, target, met: true, at: time(m), late_by: Duration::zero() });
    } else if let (Some(due), Some(warn)) = (s.due, s.warn)
        && warn <= now_s
        && f.g.done_since_s.is_none()
    {
        out.at_risk.push((id, target, time(due)));
    }
}

fn read_all(facts: &[FactSla], now: NaiveDateTime) -> Read {
    let mut out = Read { outcomes: Vec::new(), paused: Default::default(), at_risk: Vec::new() };
    let now_s = now.and_utc().timestamp();
    for f in facts {
        if f.fr_outcome_s.is_none() && f.res_outcome_s.is_none() {
            continue;
        }
        let waiting = f.waiting_since_s.map_or(0, |w| (now_s - w).max(0));
        out.paused.insert(f.g.incident_id, Duration::seconds(f.paused_s + waiting));
        let fr = Stored { met: f.fr_met_s, breach: f.fr_breach_s, due: f.fr_due_s, warn: f.fr_warn_s };
        read_target(&mut out, f, Target::FirstResponse, fr, now);
        let res = Stored { met: f.res_met_s, breach: f.res_breach_s, due: f.res_due_s, warn: f.res_warn_s };
        read_target(&mut out, f, Target::Resolution, res, now);
    }
    out
}

fn compliance_cells(sets: &mut Sets, prefix: &str, outcomes: &[&Outcome], target: Target) -> [Cell; 3] {
    let of: Vec<&&Outcome> = outcomes.iter().filter(|o| o.target == target).collect();
    let met: Vec<i64> = of.iter().filter(|o| o.met).map(|o| o.incident).collect();
    let breached: Vec<i64> = of.iter().filter(|o| !o.met).map(|o| o.incident).collect();
    let t = target.key();
    [
        Cell::int(met.len()).counts(sets, format!("{prefix}/{t}_met"), met.clone()),
        Cell::int(breached.len()).counts(sets, format!("{prefix}/{t}_breached"), breached.clone()),
        Cell::share(met.len(), met.len() + breached.len()),
    ]
}

#[allow(clippy::too_many_arguments)]
fn group_table(
    sets: &mut Sets,
    key: &'static str,
    title: &str,
    outcomes: &[&Outcome],
    by_id: &foldhash::HashMap<i64, &FactGroups>,
    paused: &foldhash::HashMap<i64, Duration>,
    (group, name): (impl Fn(&FactGroups) -> i64, impl Fn(i64) -> (String, String)),
    order: &[i64],
) -> Table {
    // Each outcome's group (a number) is worked out once; outcomes go to their group's bucket,
    // and only the groups get names.
    let mut buckets: HashMap<Option<i64>, Vec<&Outcome>> = HashMap::new();
    for o in outcomes {
        if let Some(t) = by_id.get(&o.incident) {
            buckets.entry(Some(group(t))).or_default().push(*o);
        }
    }
    let rank = |k: i64| order.iter().position(|o| *o == k).unwrap_or(usize::MAX);
    let mut groups: Vec<(i64, (String, String))> = buckets.keys().flatten().map(|k| (*k, name(*k))).collect();
    groups.sort_by(|a, b| rank(a.0).cmp(&rank(b.0)).then(a.1.1.cmp(&b.1.1)));
    let mut all = vec![(None, ("all".to_string(), "All".to_string()))];
    all.extend(groups.into_iter().map(|(k, n)| (Some(k), n)));
    buckets.insert(None, outcomes.to_vec());
    let rows = all
        .into_iter()
        .map(|(g, (gk, label))| {
            let here: Vec<&Outcome> = buckets.remove(&g).unwrap_or_default();
            let prefix = format!("{key}/{gk}");
            let mut ids: Vec<i64> = here.iter().map(|o| o.incident).collect();
            ids.sort_unstable();
            ids.dedup();
            let paused_total = ids.iter().filter_map(|i| paused.get(i)).fold(Duration::zero(), |a, b| a + *b);
            let mut cells = vec![Cell::text(label)];
            cells.extend(compliance_cells(sets, &prefix, &here, Target::FirstResponse));
            cells.extend(compliance_cells(sets, &prefix, &here, Target::Resolution));
            cells.push(Cell::duration((!ids.is_empty()).then_some(paused_total)));
            Row { key: gk, cells }
        })
        .collect();
    Table {
        key,
        title: title.to_string(),
        note: String::new(),
        columns: [&[col("group", "Group")][..], &COMPLIANCE, &[col("paused_s", "Paused (total)")]].concat(),
        rows,
    }
}

/// Outcomes in the period (of incidents that pass the filter), for the headline of one period.
fn in_period<'a>(read: &'a Read, p: &Period) -> Vec<&'a Outcome> {
    read.outcomes.iter().filter(|o| p.contains(o.at)).collect()
}

pub(super) fn build(conn: &mut DbConnection, r: &mut Report, now: NaiveDateTime) -> ServiceResult<()> {
    let b = &r.bar;
    let p = &b.period;
    let prev = p.previous(b.tz);
    // Outcomes in both periods, and the running clocks that fall due after now (at risk).
    let secs = |t: NaiveDateTime| t.and_utc().timestamp();
    let mut rows = reports::facts_sla_between(conn, secs(prev.from), secs(p.to), &b.filter)?;
    let seen: foldhash::HashSet<i64> = rows.iter().map(|r| r.g.incident_id).collect();
    let later = reports::facts_sla_between(conn, secs(p.to.max(now)), i64::MAX, &b.filter)?;
    rows.extend(later.into_iter().filter(|r| !seen.contains(&r.g.incident_id)));
    let read = read_all(&rows, now);
    let by_id: foldhash::HashMap<i64, &FactGroups> = rows.iter().map(|r| (r.g.incident_id, &r.g)).collect();
    let now_outcomes = in_period(&read, p);
    let prev_outcomes = in_period(&read, &prev);

    let sets = &mut r.sets;
    let share = |os: &[&Outcome], t: Target| {
        let met = os.iter().filter(|o| o.target == t && o.met).count();
        let all = os.iter().filter(|o| o.target == t).count();
        Cell::share(met, all)
    };
    let breached: Vec<&Outcome> = now_outcomes.iter().filter(|o| !o.met).copied().collect();
    r.headlines = vec![
        Headline {
            key: "first-response-compliance",
            label: "First response compliance",
            definition: "sla",
            now: share(&now_outcomes, Target::FirstResponse),
            previous: share(&prev_outcomes, Target::FirstResponse),
        },
        Headline {
            key: "resolution-compliance",
            label: "Resolution compliance",
            definition: "sla",
            now: share(&now_outcomes, Target::Resolution),
            previous: share(&prev_outcomes, Target::Resolution),
        },
        Headline {
            key: "breaches",
            label: "Targets breached",
            definition: "sla",
            now: Cell::int(breached.len()).counts(sets, "headline/breached", {
                let mut v: Vec<i64> = breached.iter().map(|o| o.incident).collect();
                v.sort_unstable();
                v.dedup();
                v
            }),
            previous: Cell::int(prev_outcomes.iter().filter(|o| !o.met).count()),
        },
        Headline {
            key: "at-risk",
            label: "At risk now",
            definition: "sla",
            now: Cell::int(read.at_risk.len()).counts(sets, "headline/at_risk", read.at_risk.iter().map(|a| a.0)),
            previous: Cell::text(""),
        },
    ];

    let severity_order: Vec<i64> = (0..Severity::ALL.len() as i64).collect();
    let tier_order: Vec<i64> = b.tiers.iter().map(|(id, _)| *id).collect();
    let mut tables = vec![
        group_table(
            sets,
            "severity",
            "By severity",
            &now_outcomes,
            &by_id,
            &read.paused,
            (
                |t: &FactGroups| Severity::ALL.iter().position(|v| v.as_str() == t.severity).map_or(-1, |i| i as i64),
                |i: i64| {
                    let s = usize::try_from(i).ok().and_then(|i| Severity::ALL.get(i)).map_or("?", |s| s.as_str());
                    (s.to_string(), s.to_string())
                },
            ),
            &severity_order,
        ),
        group_table(
            sets,
            "service",
            "By service",
            &now_outcomes,
            &by_id,
            &read.paused,
            (|t: &FactGroups| t.service_id, |id: i64| (id.to_string(), b.service_name(id))),
            &[],
        ),
        group_table(
            sets,
            "organization",
            "By organization",
            &now_outcomes,
            &by_id,
            &read.paused,
            (
                |t: &FactGroups| t.organization_id.unwrap_or(i64::MIN),
                |o: i64| {
                    let o = (o != i64::MIN).then_some(o);
                    (o.map_or("none".into(), |o| o.to_string()), b.organization_name(o))
                },
            ),
            &[],
        ),
        group_table(
            sets,
            "tier",
            "By tier (current)",
            &now_outcomes,
            &by_id,
            &read.paused,
            (|t: &FactGroups| t.tier_id, |id: i64| (id.to_string(), b.tier_name(id))),
            &tier_order,
        ),
    ];

    // The breaches, latest due first.
    let mut list = breached.clone();
    list.sort_by(|a, b| b.at.cmp(&a.at).then(a.incident.cmp(&b.incident)));
    // Titles only of the incidents listed.
    let listed: Vec<i64> =
        list.iter().take(BREACH_ROWS).map(|o| o.incident).chain(read.at_risk.iter().map(|a| a.0)).collect();
    let titles: HashMap<i64, String> =
        reports::timings_of(conn, &listed, &reports::Filter::default())?.into_iter().map(|t| (t.id, t.title)).collect();
    let title = |id: &i64| titles.get(id).cloned().unwrap_or_default();
    let tz = b.tz;
    let local = |t: NaiveDateTime| utc(t).with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string();
    tables.push(Table {
        key: "breaches",
        title: "Breaches in the period".into(),
        note: "Late by: from the moment the target fell due to the moment it was met (or now, if it is not met yet)."
            .into(),
        columns: vec![
            col("incident", "Incident"),
            col("title", "Title"),
            col("target", "Target"),
            col("due_at", "Fell due"),
            col("late_by_s", "Late by"),
            col("paused_s", "Paused"),
        ],
        rows: list
            .iter()
            .take(BREACH_ROWS)
            .map(|o| Row {
                key: format!("{}-{}", o.incident, o.target.key()),
                cells: vec![
                    Cell::text(key(o.incident)).counts(
                        sets,
                        format!("breaches/{}-{}/incident", o.incident, o.target.key()),
                        vec![o.incident],
                    ),
                    Cell::text(title(&o.incident)),
                    Cell::text(o.target.label()),
                    Cell::text(local(o.at)),
                    Cell::duration(Some(o.late_by)),
                    Cell::duration(read.paused.get(&o.incident).copied()),
                ],
            })
            .collect(),
    });
    tables.push(Table {
        key: "at_risk",
        title: "At risk now".into(),
        note: "Open incidents whose clock runs and has passed 80 % of its target, not yet the target.".into(),
        columns: vec![
            col("incident", "Incident"),
            col("title", "Title"),
            col("target", "Target"),
            col("due_at", "Due"),
        ],
        rows: read
            .at_risk
            .iter()
            .filter(|(id, _, _)| by_id.contains_key(id))
            .map(|(id, target, due)| Row {
                key: format!("{id}-{}", target.key()),
                cells: vec![
                    Cell::text(key(*id)),
                    Cell::text(title(id)),
                    Cell::text(target.label()),
                    Cell::text(local(*due)),
                ],
            })
            .collect(),
    });

    // Compliance per interval.
    let (mut fr, mut res) = (Vec::new(), Vec::new());
    let mut trend_rows = Vec::new();
    let buckets = by_interval(&b.intervals, now_outcomes.iter().copied(), |o| o.at);
    for (iv, here) in b.intervals.iter().zip(buckets) {
        let key = iv.first.to_string();
        let mut cells = vec![Cell::text(key.clone())];
        let f = compliance_cells(sets, &format!("trend/{key}"), &here, Target::FirstResponse);
        let rr = compliance_cells(sets, &format!("trend/{key}"), &here, Target::Resolution);
        let pct = |c: &Cell| if let super::Raw::Fraction(x) = c.raw { x * 100.0 } else { f64::NAN };
        fr.push(pct(&f[2]));
        res.push(pct(&rr[2]));
        cells.extend(f);
        cells.extend(rr);
        trend_rows.push(Row { key, cells });
    }
    tables.push(Table {
        key: "trend",
        title: format!("Compliance by {}", b.grouping.as_str()),
        note: String::new(),
        columns: [&[col("interval", b.grouping.label())][..], &COMPLIANCE].concat(),
        rows: trend_rows,
    });
    r.tables = tables;
    r.charts = vec![Chart {
        key: "trend".into(),
        title: "SLA compliance".into(),
        style: Style::Lines,
        labels: b.interval_labels(),
        series: vec![
            Series { name: "First response".into(), values: fr },
            Series { name: "Resolution".into(), values: res },
        ],
        unit: "%".into(),
    }];
    Ok(())
}
