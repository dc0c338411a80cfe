//! Releases and changes: releases deployed, the change-failure rate, rollbacks, and the time
//! from a problem to its fix's release.

use super::{Cell, Headline, Report, Row, Table, col};
use crate::db::DbConnection;
use crate::db::reports::{self, DeployedRelease};
use crate::domain::chart::{Chart, Series, Style};
use crate::domain::report::{Period, interval_of, summarize};
use crate::service::ServiceResult;
use std::collections::HashMap;

struct Deployed {
    releases: Vec<DeployedRelease>,
    /// Confirmed suspects (incidents) per release.
    failures: HashMap<i64, Vec<i64>>,
}

fn deployed(conn: &mut DbConnection, p: &Period, service: Option<i64>) -> ServiceResult<Deployed> {
    let releases = reports::deployed_between(conn, p.from, p.to, service)?;
    let ids: Vec<i64> = releases.iter().map(|r| r.id).collect();
    let mut failures: HashMap<i64, Vec<i64>> = HashMap::new();
    for (rid, iid) in reports::confirmed_suspects(conn, &ids)? {
        failures.entry(rid).or_default().push(iid);
    }
    Ok(Deployed { releases, failures })
}

impl Deployed {
    fn failed(&self) -> usize {
        self.releases.iter().filter(|r| self.failures.contains_key(&r.id)).count()
    }
    fn rolled_back(&self) -> usize {
        self.releases.iter().filter(|r| r.rolled_back_at.is_some()).count()
    }
}

pub(super) fn build(conn: &mut DbConnection, r: &mut Report) -> ServiceResult<()> {
    let b = &r.bar;
    let p = &b.period;
    let prev = p.previous(b.tz);
    let now = deployed(conn, p, b.filter.service_id)?;
    let before = deployed(conn, &prev, b.filter.service_id)?;
    let fixed = reports::problems_fixed_between(conn, p.from, p.to)?;
    let fixed_prev = reports::problems_fixed_between(conn, prev.from, prev.to)?;
    let to_fix = |ps: &[crate::db::models::Problem]| {
        summarize(ps.iter().filter_map(|p| p.fix_released_at.map(|f| f - p.created_at)).collect())
    };
    let (fix_now, fix_prev) = (to_fix(&fixed), to_fix(&fixed_prev));

    let sets = &mut r.sets;
    let all_failures: Vec<i64> = {
        let mut v: Vec<i64> = now.failures.values().flatten().copied().collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    r.headlines = vec![
        Headline {
            key: "deployed",
            label: "Releases deployed",
            definition: "change-failure",
            now: Cell::int(now.releases.len()),
            previous: Cell::int(before.releases.len()),
        },
        Headline {
            key: "change-failure-rate",
            label: "Change-failure rate",
            definition: "change-failure",
            now: Cell::share(now.failed(), now.releases.len()).counts(sets, "headline/failures", all_failures),
            previous: Cell::share(before.failed(), before.releases.len()),
        },
        Headline {
            key: "rolled-back",
            label: "Rolled back",
            definition: "change-failure",
            now: Cell::int(now.rolled_back()),
            previous: Cell::int(before.rolled_back()),
        },
        Headline {
            key: "problem-to-fix",
            label: "Problem to fix released (mean)",
            definition: "problem-to-fix",
            now: Cell::duration(fix_now.mean),
            previous: Cell::duration(fix_prev.mean),
        },
    ];
    let tz = b.tz;
    let local =
        |t: chrono::NaiveDateTime| crate::domain::sla::utc(t).with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string();
    let mut tables = vec![Table {
        key: "releases",
        title: "Releases deployed in the period".into(),
        note: "Failed: at least one incident confirmed as caused by the release.".into(),
        columns: vec![
            col("release", "Release"),
            col("deployed_at", "Deployed"),
            col("confirmed_incidents", "Confirmed incidents"),
            col("failed", "Failed"),
            col("rolled_back_at", "Rolled back"),
        ],
        rows: now
            .releases
            .iter()
            .map(|rel| {
                let ids = now.failures.get(&rel.id).cloned().unwrap_or_default();
                Row {
                    key: rel.id.to_string(),
                    cells: vec![
                        Cell::text(format!("{} — {}", rel.version, rel.title)),
                        Cell::text(local(rel.deployed_at)),
                        Cell::int(ids.len()).counts(
                            sets,
                            format!("releases/{}/confirmed_incidents", rel.id),
                            ids.clone(),
                        ),
                        Cell::text(if ids.is_empty() { "no" } else { "yes" }),
                        Cell::text(rel.rolled_back_at.map(local).unwrap_or_default()),
                    ],
                }
            })
            .collect(),
    }];
    tables.push(Table {
        key: "problem_to_fix",
        title: "Problems whose fix was released in the period".into(),
        note: "Time from the problem’s creation to its fix’s release.".into(),
        columns: vec![
            col("problem", "Problem"),
            col("created_at", "Problem created"),
            col("fix_released_at", "Fix released"),
            col("time_to_fix_s", "Time to fix"),
        ],
        rows: fixed
            .iter()
            .map(|pr| Row {
                key: pr.id.to_string(),
                cells: vec![
                    Cell::text(pr.title.clone()),
                    Cell::text(local(pr.created_at)),
                    Cell::text(pr.fix_released_at.map(local).unwrap_or_default()),
                    Cell::duration(pr.fix_released_at.map(|f| f - pr.created_at)),
                ],
            })
            .collect(),
    });
    let mut series = [Vec::new(), Vec::new()];
    let mut trend_rows = Vec::new();
    for (i, iv) in b.intervals.iter().enumerate() {
        let here: Vec<&DeployedRelease> =
            now.releases.iter().filter(|rel| interval_of(&b.intervals, rel.deployed_at) == Some(i)).collect();
        let failed = here.iter().filter(|rel| now.failures.contains_key(&rel.id)).count();
        series[0].push((here.len() - failed) as f64);
        series[1].push(failed as f64);
        trend_rows.push(Row {
            key: iv.first.to_string(),
            cells: vec![
                Cell::text(iv.first.to_string()),
                Cell::int(here.len()),
                Cell::int(failed),
                Cell::share(failed, here.len()),
            ],
        });
    }
    tables.push(Table {
        key: "trend",
        title: format!("Deployments by {}", b.grouping.as_str()),
        note: String::new(),
        columns: vec![
            col("interval", b.grouping.label()),
            col("deployed", "Deployed"),
            col("failed", "Failed"),
            col("change_failure_rate", "Change-failure rate"),
        ],
        rows: trend_rows,
    });
    r.tables = tables;
    let [ok, failed] = series;
    r.charts = vec![Chart {
        key: "trend".into(),
        title: "Deployments".into(),
        style: Style::StackedBars,
        labels: b.interval_labels(),
        series: vec![Series { name: "Succeeded".into(), values: ok }, Series { name: "Failed".into(), values: failed }],
        unit: "releases".into(),
    }];
    Ok(())
}
