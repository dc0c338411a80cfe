//! Escalations: the rate and funnel over incidents created in the period, the tier moves made
//! in the period by reason, kind, service and organization, and the time spent in each tier.

use super::facts;
use super::parallel::together;
use super::{Cell, Headline, Report, Row, Sets, Table, col, distinct};
use crate::db::reports::MoveRow;
use crate::db::tiers;
use crate::db::{Database, DbConnection};
use crate::domain::chart::{Chart, Series, Style};
use crate::domain::oncall::reason_label;
use crate::domain::report::{by_interval, summarize};
use crate::service::ServiceResult;

/// Grouped counts of upward moves: moves by group (`group`, named by `label` as (key, label));
/// one row per group, biggest first.
fn moves_table<'a, K: std::hash::Hash + Eq + Copy>(
    sets: &mut Sets,
    (key, title): (&'static str, &str),
    moves: &[&'a MoveRow],
    group: impl Fn(&'a MoveRow) -> K,
    label: impl Fn(K) -> (String, String),
) -> Table {
    let mut by: foldhash::HashMap<K, Vec<&MoveRow>> = Default::default();
    for m in moves {
        by.entry(group(m)).or_default().push(m);
    }
    let mut groups: Vec<((String, String), Vec<&MoveRow>)> = by.into_iter().map(|(k, v)| (label(k), v)).collect();
    groups.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.1.cmp(&b.0.1)));
    let rows = groups
        .into_iter()
        .map(|((gk, label), ms)| {
            let k = |c: &str| format!("{key}/{gk}/{c}");
            let auto = ms.iter().filter(|e| e.automatic).count();
            let incidents = distinct(ms.iter().map(|e| e.incident_id));
            Row {
                key: gk.clone(),
                cells: vec![
                    Cell::text(label),
                    Cell::int(ms.len()).counts(sets, k("escalations"), incidents.clone()),
                    Cell::int(incidents.len()),
                    Cell::int(ms.len() - auto).counts(
                        sets,
                        k("manual"),
                        distinct(ms.iter().filter(|e| !e.automatic).map(|e| e.incident_id)),
                    ),
                    Cell::int(auto).counts(
                        sets,
                        k("automatic"),
                        distinct(ms.iter().filter(|e| e.automatic).map(|e| e.incident_id)),
                    ),
                ],
            }
        })
        .collect();
    Table {
        key,
        title: title.to_string(),
        note: String::new(),
        columns: vec![
            col("group", "Group"),
            col("escalations", "Escalations"),
            col("incidents", "Incidents"),
            col("manual", "Manual"),
            col("automatic", "Automatic (SLA breach)"),
        ],
        rows,
    }
}

pub(super) fn build(db: &Database, conn: &mut DbConnection, r: &mut Report) -> ServiceResult<()> {
    let b = &r.bar;
    let p = &b.period;
    let prev = p.previous(b.tz);
    let tier_list = tiers::all(conn)?;
    let position: foldhash::HashMap<i64, i32> = tier_list.iter().map(|t| (t.id, t.position)).collect();
    let pos = |id: i64| position.get(&id).copied().unwrap_or(0);
    let upward = |e: &MoveRow| pos(e.to_tier_id) > pos(e.from_tier_id);

    // Rate and funnel: incidents created in the period, each with its highest tier reached.
    // The facts hold each incident's starting tier and the highest an upward move took it to.
    // Alongside: the moves made in the period and the previous one, of incidents that pass the
    // filter.
    let f = &b.filter;
    let ((created, before, stints), (in_filter, before_moves)) = together(
        db,
        conn,
        |c| Ok((facts::created_tiers(c, p, f)?, facts::created_brief(c, &prev, f)?, facts::stints(c, p, f)?)),
        |c| Ok((facts::moves(c, p, f)?, facts::moves(c, &prev, f)?)),
    )?;
    let escalated: Vec<i64> = created.iter().filter(|t| t.3.is_some()).map(|t| t.0).collect();

    let ups: Vec<&MoveRow> = in_filter.iter().filter(|e| upward(e)).collect();
    let downs: Vec<&MoveRow> = in_filter.iter().filter(|e| !upward(e)).collect();
    let prev_ups = before_moves.iter().filter(|e| upward(e)).count();
    let prev_automatic = before_moves.iter().filter(|e| upward(e) && e.automatic).count();
    let prev_downs = before_moves.len() - prev_ups;

    let sets = &mut r.sets;
    let created_ids: Vec<i64> = created.iter().map(|t| t.0).collect();
    sets.insert("headline/created".into(), created_ids.clone());
    r.headlines = vec![
        Headline {
            key: "escalation-rate",
            label: "Escalation rate",
            definition: "escalation",
            now: Cell::share(escalated.len(), created.len()).counts(sets, "headline/escalated", escalated.clone()),
            previous: Cell::share(before.escalated, before.created),
        },
        Headline {
            key: "escalations",
            label: "Escalations made",
            definition: "escalation",
            now: Cell::int(ups.len()).counts(sets, "headline/escalations", distinct(ups.iter().map(|e| e.incident_id))),
            previous: Cell::int(prev_ups),
        },
        Headline {
            key: "automatic",
            label: "Automatic (SLA breach)",
            definition: "escalation",
            now: Cell::share(ups.iter().filter(|e| e.automatic).count(), ups.len()),
            previous: Cell::share(prev_automatic, prev_ups),
        },
        Headline {
            key: "deescalations",
            label: "De-escalations",
            definition: "escalation",
            now: Cell::int(downs.len()).counts(
                sets,
                "headline/deescalations",
                distinct(downs.iter().map(|e| e.incident_id)),
            ),
            previous: Cell::int(prev_downs),
        },
    ];

    // The funnel, over tiers in order.
    let mut funnel_rows = Vec::new();
    let mut funnel_values = Vec::new();
    // The position of the highest tier each incident was in (its start, if never escalated).
    let reached: Vec<i32> =
        created.iter().map(|&(_, tier, start, top)| pos(top.unwrap_or(start.unwrap_or(tier)))).collect();
    for t in &tier_list {
        let at_least: Vec<i64> =
            created.iter().zip(&reached).filter(|(_, r)| **r >= t.position).map(|(c, _)| c.0).collect();
        let top: Vec<i64> = created.iter().filter(|c| c.3 == Some(t.id)).map(|c| c.0).collect();
        funnel_values.push(at_least.len() as f64);
        let k = |c: &str| format!("funnel/{}/{c}", t.id);
        funnel_rows.push(Row {
            key: t.id.to_string(),
            cells: vec![
                Cell::text(t.name.clone()),
                Cell::int(at_least.len()).counts(sets, k("reached"), at_least),
                Cell::int(top.len()).counts(sets, k("highest"), top),
            ],
        });
    }
    let mut tables = vec![Table {
        key: "funnel",
        title: "Funnel: incidents created in the period by tier reached".into(),
        note: "Reached: the incident was in this tier or a higher one at some point. Highest: the highest tier an escalation took it to.".into(),
        columns: vec![col("tier", "Tier"), col("reached", "Reached"), col("highest", "Highest tier reached")],
        rows: funnel_rows,
    }];
    tables.push(moves_table(
        sets,
        ("reason", "Escalations made in the period by reason"),
        &ups,
        |e| e.reason_code.as_str(),
        |c| (c.to_string(), reason_label(c).unwrap_or(c).to_string()),
    ));
    let tier = |id: i64| (id.to_string(), b.tier_name(id));
    tables.push(moves_table(
        sets,
        ("to_tier", "Escalations made in the period by tier reached"),
        &ups,
        |e| e.to_tier_id,
        tier,
    ));
    tables.push(moves_table(
        sets,
        ("service", "Escalations made in the period by service (top escalated first)"),
        &ups,
        |e| e.service_id,
        |id| (id.to_string(), b.service_name(id)),
    ));
    tables.push(moves_table(
        sets,
        ("organization", "Escalations made in the period by organization"),
        &ups,
        |e| e.organization_id,
        |o| (o.map_or("none".into(), |o| o.to_string()), b.organization_name(o)),
    ));
    tables.push(moves_table(
        sets,
        ("deescalation", "De-escalations made in the period, by tier left"),
        &downs,
        |e| e.from_tier_id,
        tier,
    ));

    // Time in each tier, over incidents first resolved in the period.
    let mut per_tier: foldhash::HashMap<i64, Vec<(i64, chrono::Duration)>> = Default::default();
    for (id, tier, d) in stints {
        per_tier.entry(tier).or_default().push((id, chrono::Duration::seconds(d)));
    }
    let mut tier_rows = Vec::new();
    for t in &tier_list {
        let v = per_tier.remove(&t.id).unwrap_or_default();
        let s = summarize(v.iter().map(|(_, d)| *d).collect());
        tier_rows.push(Row {
            key: t.id.to_string(),
            cells: vec![
                Cell::text(t.name.clone()),
                Cell::int(s.count).counts(sets, format!("time_in_tier/{}/incidents", t.id), v.iter().map(|(i, _)| *i)),
                Cell::duration(s.median),
                Cell::duration(s.p90),
            ],
        });
    }
    tables.push(Table {
        key: "time_in_tier",
        title: "Time spent in each tier".into(),
        note: "Over incidents first resolved in the period: the time from creation to that resolution, split at each tier move, summed per tier.".into(),
        columns: vec![col("tier", "Tier"), col("incidents", "Incidents"), col("median_s", "Median"), col("p90_s", "p90")],
        rows: tier_rows,
    });

    // Trend: moves per interval.
    let mut series = [Vec::new(), Vec::new(), Vec::new()];
    let mut trend_rows = Vec::new();
    let buckets = by_interval(&b.intervals, &in_filter, |e| super::facts::time(e.at_s));
    for (iv, bucket) in b.intervals.iter().zip(buckets) {
        let here = |pred: &dyn Fn(&MoveRow) -> bool| -> Vec<i64> {
            bucket.iter().filter(|e| pred(e)).map(|e| e.incident_id).collect()
        };
        let manual = here(&|e| upward(e) && !e.automatic);
        let automatic = here(&|e| upward(e) && e.automatic);
        let down = here(&|e| !upward(e));
        series[0].push(manual.len() as f64);
        series[1].push(automatic.len() as f64);
        series[2].push(down.len() as f64);
        let key = iv.first.to_string();
        trend_rows.push(Row {
            key: key.clone(),
            cells: vec![
                Cell::text(key.clone()),
                Cell::int(manual.len()).counts(sets, format!("trend/{key}/manual"), distinct(manual.into_iter())),
                Cell::int(automatic.len()).counts(
                    sets,
                    format!("trend/{key}/automatic"),
                    distinct(automatic.into_iter()),
                ),
                Cell::int(down.len()).counts(sets, format!("trend/{key}/deescalations"), distinct(down.into_iter())),
            ],
        });
    }
    tables.push(Table {
        key: "trend",
        title: format!("Tier moves by {}", b.grouping.as_str()),
        note: String::new(),
        columns: vec![
            col("interval", b.grouping.label()),
            col("manual", "Manual escalations"),
            col("automatic", "Automatic escalations"),
            col("deescalations", "De-escalations"),
        ],
        rows: trend_rows,
    });
    let [manual, automatic, down] = series;
    let top: Vec<&Row> =
        tables.iter().find(|t| t.key == "service").map(|t| t.rows.iter().take(5).collect()).unwrap_or_default();
    let top_chart = Chart {
        key: "top_services".into(),
        title: "Top escalated services".into(),
        style: Style::Funnel,
        labels: top.iter().map(|r| r.cells[0].text.clone()).collect(),
        series: vec![Series {
            name: "Escalations".into(),
            values: top.iter().map(|r| if let super::Raw::Int(n) = r.cells[1].raw { n as f64 } else { 0.0 }).collect(),
        }],
        unit: "escalations".into(),
    };
    r.charts = vec![
        Chart {
            key: "trend".into(),
            title: "Tier moves".into(),
            style: Style::StackedBars,
            labels: b.interval_labels(),
            series: vec![
                Series { name: "Manual".into(), values: manual },
                Series { name: "Automatic".into(), values: automatic },
                Series { name: "De-escalations".into(), values: down },
            ],
            unit: "moves".into(),
        },
        Chart {
            key: "funnel".into(),
            title: "Funnel".into(),
            style: Style::Funnel,
            labels: tier_list.iter().map(|t| t.name.clone()).collect(),
            series: vec![Series { name: "Reached".into(), values: funnel_values }],
            unit: "incidents".into(),
        },
        top_chart,
    ];
    r.tables = tables;
    Ok(())
}
