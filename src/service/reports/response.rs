//! Response and resolution: MTTA and MTTR (mean, median, p90) by severity, service, assignee
//! and tier; the reopen rate; the backlog per interval and the age of what is open.

use super::parallel::together;
use super::{Cell, Headline, Report, Row, Sets, Table, col, facts};
use crate::db::reports::{self, FactTimes as Fact};
use crate::db::users;
use crate::db::{Database, DbConnection};
use crate::domain::chart::{Chart, Series, Style};
use crate::domain::incident::Severity;
use crate::domain::report::{Period, Summary, by_interval, summarize, summarize_secs};
use crate::service::ServiceResult;
use chrono::NaiveDateTime;
use std::collections::HashMap;

const TIMES: [super::Column; 10] = [
    col("group", "Incidents"),
    col("acknowledged", "Acknowledged"),
    col("mtta_mean_s", "MTTA mean"),
    col("mtta_median_s", "MTTA median"),
    col("mtta_p90_s", "MTTA p90"),
    col("resolved", "Resolved (first time)"),
    col("mttr_mean_s", "MTTR mean"),
    col("mttr_median_s", "MTTR median"),
    col("mttr_p90_s", "MTTR p90"),
    col("mttr_business_median_s", "MTTR median, business hours"),
];

/// MTTA, MTTR and business-hours MTTR over the incidents of one group (`created` in the
/// period, `resolved` first resolved in it).
struct Figures {
    mtta: Summary,
    mttr: Summary,
    business: Summary,
}

fn figures(created: &[&Fact], resolved: &[&Fact]) -> Figures {
    Figures {
        mtta: summarize_secs(created.iter().filter_map(|i| i.g.acknowledged_s.map(|a| a - i.g.created_s)).collect()),
        mttr: summarize_secs(resolved.iter().map(|i| to_resolve(i)).collect()),
        business: summarize_secs(resolved.iter().filter_map(|i| i.business_mttr_s).collect()),
    }
}

/// One row of a times table.
fn times_row(
    sets: &mut Sets,
    (table, key, label): (&str, &str, &str),
    (created, resolved): (&[&Fact], &[&Fact]),
    f: &Figures,
) -> Row {
    let k = |c: &str| format!("{table}/{key}/{c}");
    let acked = created.iter().filter(|i| i.g.acknowledged_s.is_some()).map(|i| i.g.incident_id);
    Row {
        key: key.to_string(),
        cells: vec![
            Cell::text(label),
            Cell::int(f.mtta.count).counts(sets, k("acknowledged"), acked),
            Cell::duration(f.mtta.mean),
            Cell::duration(f.mtta.median),
            Cell::duration(f.mtta.p90),
            Cell::int(f.mttr.count).counts(sets, k("resolved"), resolved.iter().map(|i| i.g.incident_id)),
            Cell::duration(f.mttr.mean),
            Cell::duration(f.mttr.median),
            Cell::duration(f.mttr.p90),
            Cell::duration(f.business.median),
        ],
    }
}

/// Seconds from creation to the first resolution.
fn to_resolve(f: &Fact) -> i64 {
    f.first_resolved_s.unwrap_or(f.g.created_s) - f.g.created_s
}

/// A times table grouped by `group` (a number per group, named by `label` as (key, label));
/// groups in `order` first, then by size. Its first row is over every incident (`all`, worked
/// out once for every table).
fn times_table(
    sets: &mut Sets,
    (key, title): (&'static str, &str),
    all: ((&[&Fact], &[&Fact]), &Figures),
    group: impl Fn(&Fact) -> i64,
    label: impl Fn(i64) -> (String, String),
    order: &[i64],
) -> Table {
    let ((created, resolved), all_figures) = all;
    // Each row's group is worked out once; rows go to their group's bucket.
    let mut by_c: foldhash::HashMap<i64, Vec<&Fact>> = Default::default();
    let mut by_r: foldhash::HashMap<i64, Vec<&Fact>> = Default::default();
    for t in created {
        by_c.entry(group(t)).or_default().push(t);
    }
    for r in resolved {
        let g = group(r);
        by_r.entry(g).or_default().push(r);
        by_c.entry(g).or_default();
    }
    let rank = |k: i64| order.iter().position(|o| *o == k).unwrap_or(usize::MAX);
    let size = |k: i64| by_c.get(&k).map_or(0, Vec::len);
    let mut groups: Vec<(i64, (String, String))> = by_c.keys().map(|k| (*k, label(*k))).collect();
    groups.sort_by(|a, b| rank(a.0).cmp(&rank(b.0)).then(size(b.0).cmp(&size(a.0))).then(a.1.1.cmp(&b.1.1)));
    let mut rows = vec![times_row(sets, (key, "all", "All"), (created, resolved), all_figures)];
    let none = (Vec::new(), Vec::new());
    for (g, (gk, name)) in groups {
        let c = by_c.get(&g).unwrap_or(&none.0);
        let r = by_r.get(&g).unwrap_or(&none.1);
        rows.push(times_row(sets, (key, &gk, &name), (c, r), &figures(c, r)));
    }
    Table { key, title: title.to_string(), note: String::new(), columns: TIMES.to_vec(), rows }
}

/// A severity as a group number (its place in `Severity::ALL`).
fn severity_group(s: &str) -> i64 {
    Severity::ALL.iter().position(|v| v.as_str() == s).map_or(-1, |i| i as i64)
}

/// Age buckets of open incidents, (key, label, lower bound, upper bound).
const AGES: [(&str, &str, i64, i64); 5] = [
    ("lt1d", "Under 1 day", 0, 1),
    ("1to3d", "1–3 days", 1, 3),
    ("3to7d", "3–7 days", 3, 7),
    ("7to30d", "7–30 days", 7, 30),
    ("gt30d", "30 days and more", 30, i64::MAX),
];

pub(super) fn build(db: &Database, conn: &mut DbConnection, r: &mut Report, now: NaiveDateTime) -> ServiceResult<()> {
    let b = &r.bar;
    let p = &b.period;
    let prev = p.previous(b.tz);
    let f = &b.filter;
    // Everything here reads the report facts (one narrow row per incident), not timelines: the
    // period's incidents, and alongside, the previous period's and the backlog's candidates
    // (which incidents were open at each interval's end).
    let ((created, resolved), (before, candidates)) = together(
        db,
        conn,
        |c| Ok((facts::created_rows(c, p, f)?, facts::resolved_rows(c, p, f)?)),
        |c| Ok((facts::brief(c, &prev, f)?, facts::maybe_open(c, p, f)?)),
    )?;
    let reopened: Vec<i64> = resolved.iter().filter(|r| r.reopened_s.is_some()).map(|r| r.g.incident_id).collect();
    // Every moment the backlog is asked for, worked out in one pass over the candidates.
    let mut moments: Vec<NaiveDateTime> =
        b.intervals.iter().filter(|iv| iv.from <= now).map(|iv| iv.to.min(now)).collect();
    moments.extend([p.to.min(now), prev.to]);
    moments.sort();
    moments.dedup();
    let open_sets = facts::open_at_each(&candidates, &moments);
    let empty = Vec::new();
    let open_ids_at = |t: NaiveDateTime| -> &Vec<i64> {
        moments.binary_search(&t).ok().and_then(|i| open_sets.get(i)).unwrap_or(&empty)
    };
    let end = p.to.min(now);
    let open_at_end = open_ids_at(end);

    let assignee_ids: Vec<i64> = {
        let mut v: Vec<i64> = created.iter().chain(resolved.iter()).filter_map(|t| t.g.assignee_id).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let names: HashMap<i64, String> = users::names_by_ids(conn, &assignee_ids)?.into_iter().collect();

    let sets = &mut r.sets;
    let all_c: Vec<&Fact> = created.iter().collect();
    let all_r: Vec<&Fact> = resolved.iter().collect();
    let all_figures = figures(&all_c, &all_r);
    let mtta_prev = summarize(before.to_acknowledge);
    let mttr_prev = summarize(before.to_resolve);
    r.headlines = vec![
        Headline {
            key: "mttr-median",
            label: "MTTR median",
            definition: "mttr",
            now: Cell::duration(all_figures.mttr.median).counts(
                sets,
                "headline/mttr",
                resolved.iter().map(|i| i.g.incident_id),
            ),
            previous: Cell::duration(mttr_prev.median),
        },
        Headline {
            key: "mtta-median",
            label: "MTTA median",
            definition: "mtta",
            now: Cell::duration(all_figures.mtta.median).counts(
                sets,
                "headline/mtta",
                created.iter().filter(|i| i.g.acknowledged_s.is_some()).map(|i| i.g.incident_id),
            ),
            previous: Cell::duration(mtta_prev.median),
        },
        Headline {
            key: "reopen-rate",
            label: "Reopen rate",
            definition: "reopen",
            now: Cell::share(reopened.len(), resolved.len()).counts(
                sets,
                "headline/reopened",
                reopened.iter().copied(),
            ),
            previous: Cell::share(before.reopened, mttr_prev.count),
        },
        Headline {
            key: "backlog",
            label: "Open at the end",
            definition: "backlog",
            now: Cell::int(open_at_end.len()).counts(sets, "headline/backlog", open_at_end.iter().copied()),
            previous: Cell::int(open_ids_at(prev.to).len()),
        },
    ];

    let severity_order: Vec<i64> = (0..Severity::ALL.len() as i64).collect();
    let severity_name = |i: i64| {
        let s = usize::try_from(i).ok().and_then(|i| Severity::ALL.get(i)).map_or("?", |s| s.as_str());
        (s.to_string(), s.to_string())
    };
    let all = ((&all_c[..], &all_r[..]), &all_figures);
    let mut tables = vec![
        times_table(
            sets,
            ("severity", "By severity"),
            all,
            |t| severity_group(t.g.severity),
            severity_name,
            &severity_order,
        ),
        times_table(
            sets,
            ("service", "By service"),
            all,
            |t| t.g.service_id,
            |id| (id.to_string(), b.service_name(id)),
            &[],
        ),
        times_table(
            sets,
            ("assignee", "By assignee (current)"),
            all,
            |t| t.g.assignee_id.unwrap_or(i64::MIN),
            |a| match a {
                i64::MIN => ("none".into(), "Unassigned".into()),
                a => (a.to_string(), names.get(&a).cloned().unwrap_or_else(|| format!("#{a}"))),
            },
            &[],
        ),
        times_table(
            sets,
            ("tier", "By tier (current)"),
            all,
            |t| t.g.tier_id,
            |id| (id.to_string(), b.tier_name(id)),
            &b.tiers.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        ),
    ];

    // Reopened, per the definition.
    tables.push(Table {
        key: "reopen",
        title: "Reopen rate".into(),
        note: "Incidents first resolved in the period, and of those the ones reopened afterwards.".into(),
        columns: vec![
            col("group", "Incidents"),
            col("resolved", "Resolved"),
            col("reopened", "Reopened"),
            col("reopen_rate", "Reopen rate"),
        ],
        rows: vec![Row {
            key: "all".into(),
            cells: vec![
                Cell::text("All"),
                Cell::int(resolved.len()).counts(sets, "reopen/all/resolved", resolved.iter().map(|i| i.g.incident_id)),
                Cell::int(reopened.len()).counts(sets, "reopen/all/reopened", reopened.iter().copied()),
                Cell::share(reopened.len(), resolved.len()),
            ],
        }],
    });

    // Created vs resolved and the backlog per interval.
    let mut trend_rows = Vec::new();
    let (mut c_series, mut r_series, mut o_series) = (Vec::new(), Vec::new(), Vec::new());
    let created_in = by_interval(&b.intervals, &created, |t| facts::time(t.g.created_s));
    let resolved_in = by_interval(&b.intervals, &resolved, |t| facts::time(t.g.created_s + to_resolve(t)));
    for ((iv, c), rs) in b.intervals.iter().zip(created_in).zip(resolved_in) {
        let open = if iv.from <= now { open_ids_at(iv.to.min(now)) } else { &empty };
        c_series.push(c.len() as f64);
        r_series.push(rs.len() as f64);
        o_series.push(open.len() as f64);
        let key = iv.first.to_string();
        trend_rows.push(Row {
            key: key.clone(),
            cells: vec![
                Cell::text(key.clone()),
                Cell::int(c.len()).counts(sets, format!("trend/{key}/created"), c.iter().map(|t| t.g.incident_id)),
                Cell::int(rs.len()).counts(sets, format!("trend/{key}/resolved"), rs.iter().map(|t| t.g.incident_id)),
                Cell::int(open.len()).counts(sets, format!("trend/{key}/open_at_end"), open.iter().copied()),
            ],
        });
    }
    tables.push(Table {
        key: "trend",
        title: format!("Created, resolved and open, by {}", b.grouping.as_str()),
        note: "Resolved: first resolutions. Open at end: open at the end of the interval (or now).".into(),
        columns: vec![
            col("interval", b.grouping.label()),
            col("created", "Created"),
            col("resolved", "Resolved (first time)"),
            col("open_at_end", "Open at end"),
        ],
        rows: trend_rows,
    });

    // Age of what is open at the end of the period.
    let end_s = end.and_utc().timestamp();
    let open_at_end_ages: Vec<(i64, i64)> =
        candidates.iter().filter(|c| c.open_at(end)).map(|c| (c.id, end_s - c.created_s)).collect();
    let mut age_rows = Vec::new();
    let mut age_values = Vec::new();
    for (key, label, lo, hi) in AGES {
        let ids: Vec<i64> = open_at_end_ages
            .iter()
            .filter(|(_, age)| *age >= lo * 86_400 && (hi == i64::MAX || *age < hi * 86_400))
            .map(|(id, _)| *id)
            .collect();
        age_values.push(ids.len() as f64);
        age_rows.push(Row {
            key: key.into(),
            cells: vec![Cell::text(label), Cell::int(ids.len()).counts(sets, format!("age/{key}/open"), ids)],
        });
    }
    tables.push(Table {
        key: "age",
        title: "Age of open incidents at the end of the period".into(),
        note: "Age: end of the period (or now) − created at.".into(),
        columns: vec![col("age", "Age"), col("open", "Open incidents")],
        rows: age_rows,
    });
    r.tables = tables;

    let labels = b.interval_labels();
    r.charts = vec![
        Chart {
            key: "trend".into(),
            title: "Created, resolved and open".into(),
            style: Style::Lines,
            labels: labels.clone(),
            series: vec![
                Series { name: "Created".into(), values: c_series },
                Series { name: "Resolved".into(), values: r_series },
                Series { name: "Open at end".into(), values: o_series },
            ],
            unit: "incidents".into(),
        },
        Chart {
            key: "age".into(),
            title: "Age of open incidents".into(),
            style: Style::Funnel,
            labels: AGES.iter().map(|a| a.1.to_string()).collect(),
            series: vec![Series { name: "Open".into(), values: age_values }],
            unit: "incidents".into(),
        },
    ];
    Ok(())
}

/// MTTA and MTTR summaries over one period (for the weekly summary mail).
#[derive(Debug, Clone, Default)]
pub struct Times {
    pub mtta: crate::domain::report::Summary,
    pub mttr: crate::domain::report::Summary,
}

pub fn response_times(conn: &mut DbConnection, p: &Period, f: &reports::Filter) -> ServiceResult<Times> {
    let created = reports::created_between(conn, p.from, p.to, f)?;
    let resolved = reports::first_resolved_between(conn, p.from, p.to, f)?;
    Ok(Times {
        mtta: summarize(created.iter().filter_map(|i| i.acknowledged_at.map(|a| a - i.created_at)).collect()),
        mttr: summarize(resolved.iter().map(|(i, at)| *at - i.created_at).collect()),
    })
}
