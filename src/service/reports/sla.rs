//! SLA compliance: each target (first response, resolution) counted once, in the period of its
//! outcome (met when it was met, breached when it fell due), with paused time excluded as the
//! SLA clock excludes it; the breaches with by how long; what is at risk now.

use super::parallel::together;
use super::{Cell, Headline, Report, Row, Sets, Table, col, facts};
use crate::db::reports::{self, FactSla};
use crate::db::{Database, DbConnection};
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
#[derive(Debug, Clone, Copy)]
struct Outcome {
    /// The incident's place in the report's facts.
    fact: u32,
    target: Target,
    met: bool,
    /// When it was met, or when it fell due (breached), in Unix seconds.
    at: i64,
    /// Breached: how late in seconds (the moment it was met, or now, minus the due moment).
    late_by: i64,
}

/// What the report keeps of an incident's SLA facts, read at `now`.
struct Sla {
    id: i64,
    /// Severity (its place in `Severity::ALL`, -1 for none), service, organization
    /// (`i64::MIN` for none), tier.
    groups: [i64; 4],
    /// Paused time, a running wait counted up to now.
    paused_s: i64,
    /// Each target as it stands: met or breached (with its outcome), at risk (due then).
    targets: [Reading; 2],
}

#[derive(Clone, Copy)]
enum Reading {
    Open,
    Met(i64),
    /// Fell due then, late by so many seconds.
    Breached(i64, i64),
    AtRisk(i64),
}

const TARGETS: [Target; 2] = [Target::FirstResponse, Target::Resolution];

/// One target of one incident from its facts, read at `now`: a stored breach or met moment
/// stands; a running clock whose due moment has passed is breached then; one that has passed
/// its warning point is at risk.
struct Stored {
    met: Option<i64>,
    breach: Option<i64>,
    due: Option<i64>,
    warn: Option<i64>,
}

fn reading(s: Stored, open: bool, now_s: i64) -> Reading {
    if let Some(b) = s.breach.or(s.due.filter(|d| *d <= now_s).filter(|_| s.met.is_none())) {
        Reading::Breached(b, s.met.unwrap_or(now_s) - b)
    } else if let Some(m) = s.met {
        Reading::Met(m)
    } else if let (Some(due), Some(warn)) = (s.due, s.warn)
        && warn <= now_s
        && open
    {
        Reading::AtRisk(due)
    } else {
        Reading::Open
    }
}

fn severity_group(s: &str) -> i64 {
    Severity::ALL.iter().position(|v| v.as_str() == s).map_or(-1, |i| i as i64)
}

fn sla_of(f: &FactSla, now_s: i64) -> Sla {
    let open = f.g.done_since_s.is_none();
    let fr = Stored { met: f.fr_met_s, breach: f.fr_breach_s, due: f.fr_due_s, warn: f.fr_warn_s };
    let res = Stored { met: f.res_met_s, breach: f.res_breach_s, due: f.res_due_s, warn: f.res_warn_s };
    let g = &f.g;
    Sla {
        id: g.incident_id,
        groups: [severity_group(g.severity), g.service_id, g.organization_id.unwrap_or(i64::MIN), g.tier_id],
        paused_s: f.paused_s + f.waiting_since_s.map_or(0, |w| (now_s - w).max(0)),
        targets: [reading(fr, open, now_s), reading(res, open, now_s)],
    }
}

/// The outcomes (met or breached) of the facts, in fact order.
fn outcomes_of(facts: &[Sla]) -> Vec<Outcome> {
    let mut out = Vec::with_capacity(facts.len() * 2);
    for (i, f) in facts.iter().enumerate() {
        for (target, r) in TARGETS.into_iter().zip(f.targets) {
            let (met, at, late_by) = match r {
                Reading::Met(at) => (true, at, 0),
                Reading::Breached(at, late) => (false, at, late),
                Reading::Open | Reading::AtRisk(_) => continue,
            };
            out.push(Outcome { fact: i as u32, target, met, at, late_by });
        }
    }
    out
}

fn compliance_cells(sets: &mut Sets, prefix: &str, outcomes: &[&Outcome], facts: &[Sla], target: Target) -> [Cell; 3] {
    let of = || outcomes.iter().filter(move |o| o.target == target);
    let id = |o: &&&Outcome| facts.get(o.fact as usize).map_or(0, |f| f.id);
    // Counted in one pass; the incidents are listed only for the figure asked for.
    let (mut met, mut breached) = (0, 0);
    for o in of() {
        if o.met {
            met += 1;
        } else {
            breached += 1;
        }
    }
    let t = target.key();
    [
        Cell::int(met).counts(sets, format!("{prefix}/{t}_met"), of().filter(|o| o.met).map(|o| id(&o))),
        Cell::int(breached).counts(sets, format!("{prefix}/{t}_breached"), of().filter(|o| !o.met).map(|o| id(&o))),
        Cell::share(met, met + breached),
    ]
}

/// A compliance table grouped by `group` (one of `Sla::groups`), named by `name` as (key,
/// label); groups in `order` first, then by name. Its first row is over every outcome.
fn group_table(
    sets: &mut Sets,
    (key, title): (&'static str, &str),
    outcomes: &[&Outcome],
    facts: &[Sla],
    (group, name): (usize, impl Fn(i64) -> (String, String)),
    order: &[i64],
) -> Table {
    let mut buckets: foldhash::HashMap<i64, Vec<&Outcome>> = Default::default();
    for o in outcomes {
        if let Some(f) = facts.get(o.fact as usize) {
            buckets.entry(f.groups[group]).or_default().push(*o);
        }
    }
    let rank = |k: i64| order.iter().position(|o| *o == k).unwrap_or(usize::MAX);
    let mut groups: Vec<(Option<i64>, (String, String))> = buckets.keys().map(|k| (Some(*k), name(*k))).collect();
    groups.sort_by(|a, b| rank(a.0.unwrap_or(0)).cmp(&rank(b.0.unwrap_or(0))).then(a.1.1.cmp(&b.1.1)));
    groups.insert(0, (None, ("all".to_string(), "All".to_string())));
    let rows = groups
        .into_iter()
        .map(|(g, (gk, label))| {
            let here: Vec<&Outcome> = match g {
                Some(g) => buckets.remove(&g).unwrap_or_default(),
                None => outcomes.to_vec(),
            };
            let prefix = format!("{key}/{gk}");
            // An incident's outcomes are next to each other: its paused time counts once.
            let mut paused = 0;
            let mut last = None;
            for o in &here {
                if last != Some(o.fact) {
                    paused += facts.get(o.fact as usize).map_or(0, |f| f.paused_s);
                    last = Some(o.fact);
                }
            }
            let mut cells = vec![Cell::text(label)];
            cells.extend(compliance_cells(sets, &prefix, &here, facts, Target::FirstResponse));
            cells.extend(compliance_cells(sets, &prefix, &here, facts, Target::Resolution));
            cells.push(Cell::duration((!here.is_empty()).then(|| Duration::seconds(paused))));
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

/// Outcomes in the period, for the headline of one period.
fn in_period<'a>(outcomes: &'a [Outcome], p: &Period) -> Vec<&'a Outcome> {
    let (from, to) = (p.from.and_utc().timestamp(), p.to.and_utc().timestamp());
    outcomes.iter().filter(|o| from <= o.at && o.at < to).collect()
}

pub(super) fn build(db: &Database, conn: &mut DbConnection, r: &mut Report, now: NaiveDateTime) -> ServiceResult<()> {
    let b = &r.bar;
    let p = &b.period;
    let prev = p.previous(b.tz);
    // Outcomes in both periods, and the running clocks that fall due after now (at risk).
    let secs = |t: NaiveDateTime| t.and_utc().timestamp();
    let now_s = secs(now);
    let (from, middle, to) = (secs(prev.from), secs(p.from), secs(p.to));
    // Each fact once: a later read skips the facts an earlier one has (an outcome in its range).
    let within = |(lo, hi): (i64, i64), f: &reports::FactSla| {
        [f.fr_outcome_s, f.res_outcome_s].into_iter().flatten().any(|t| lo <= t && t < hi)
    };
    let filter = &b.filter;
    let (mut slas, (this, later)) = together(
        db,
        conn,
        |c| Ok(reports::facts_sla_between(c, (from, middle.min(to)), filter, |f| sla_of(f, now_s))?),
        |c| {
            let this = reports::facts_sla_between(c, (middle, to), filter, |f| {
                (!within((from, middle), f)).then(|| sla_of(f, now_s))
            })?;
            let later = reports::facts_sla_between(c, (secs(p.to.max(now)), i64::MAX), filter, |f| {
                (!within((from, to), f)).then(|| sla_of(f, now_s))
            })?;
            Ok((this, later))
        },
    )?;
    slas.extend(this.into_iter().chain(later).flatten());
    let outcomes = outcomes_of(&slas);
    let at_risk: Vec<(i64, Target, i64)> = slas
        .iter()
        .flat_map(|f| {
            TARGETS.into_iter().zip(f.targets).filter_map(|(t, r)| match r {
                Reading::AtRisk(due) => Some((f.id, t, due)),
                _ => None,
            })
        })
        .collect();
    let now_outcomes = in_period(&outcomes, p);
    let prev_outcomes = in_period(&outcomes, &prev);
    let id_of = |o: &Outcome| slas.get(o.fact as usize).map_or(0, |f| f.id);

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
                let mut v: Vec<i64> = breached.iter().map(|o| id_of(o)).collect();
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
            now: Cell::int(at_risk.len()).counts(sets, "headline/at_risk", at_risk.iter().map(|a| a.0)),
            previous: Cell::text(""),
        },
    ];

    let severity_order: Vec<i64> = (0..Severity::ALL.len() as i64).collect();
    let tier_order: Vec<i64> = b.tiers.iter().map(|(id, _)| *id).collect();
    let sev_name = |i: i64| {
        let s = usize::try_from(i).ok().and_then(|i| Severity::ALL.get(i)).map_or("?", |s| s.as_str());
        (s.to_string(), s.to_string())
    };
    let org_name = |o: i64| {
        let o = (o != i64::MIN).then_some(o);
        (o.map_or("none".into(), |o| o.to_string()), b.organization_name(o))
    };
    let mut tables = vec![
        group_table(sets, ("severity", "By severity"), &now_outcomes, &slas, (0, sev_name), &severity_order),
        group_table(
            sets,
            ("service", "By service"),
            &now_outcomes,
            &slas,
            (1, |id: i64| (id.to_string(), b.service_name(id))),
            &[],
        ),
        group_table(sets, ("organization", "By organization"), &now_outcomes, &slas, (2, org_name), &[]),
        group_table(
            sets,
            ("tier", "By tier (current)"),
            &now_outcomes,
            &slas,
            (3, |id: i64| (id.to_string(), b.tier_name(id))),
            &tier_order,
        ),
    ];

    // The breaches, latest due first.
    let mut list = breached.clone();
    list.sort_by(|a, b| b.at.cmp(&a.at).then(id_of(a).cmp(&id_of(b))));
    // Titles only of the incidents listed.
    let listed: Vec<i64> = list.iter().take(BREACH_ROWS).map(|o| id_of(o)).chain(at_risk.iter().map(|a| a.0)).collect();
    let titles: HashMap<i64, String> =
        reports::timings_of(conn, &listed, &reports::Filter::default())?.into_iter().map(|t| (t.id, t.title)).collect();
    let title = |id: &i64| titles.get(id).cloned().unwrap_or_default();
    let tz = b.tz;
    let local = |t: i64| utc(facts::time(t)).with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string();
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
            .map(|o| {
                let (id, paused) = slas.get(o.fact as usize).map_or((0, 0), |f| (f.id, f.paused_s));
                Row {
                    key: format!("{id}-{}", o.target.key()),
                    cells: vec![
                        Cell::text(key(id)).counts(
                            sets,
                            format!("breaches/{id}-{}/incident", o.target.key()),
                            vec![id],
                        ),
                        Cell::text(title(&id)),
                        Cell::text(o.target.label()),
                        Cell::text(local(o.at)),
                        Cell::duration(Some(Duration::seconds(o.late_by))),
                        Cell::duration(Some(Duration::seconds(paused))),
                    ],
                }
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
        rows: at_risk
            .iter()
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
    let buckets = by_interval(&b.intervals, now_outcomes.iter().copied(), |o| facts::time(o.at));
    for (iv, here) in b.intervals.iter().zip(buckets) {
        let key = iv.first.to_string();
        let mut cells = vec![Cell::text(key.clone())];
        let f = compliance_cells(sets, &format!("trend/{key}"), &here, &slas, Target::FirstResponse);
        let rr = compliance_cells(sets, &format!("trend/{key}"), &here, &slas, Target::Resolution);
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
