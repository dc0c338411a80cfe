//! Escalations: the rate and funnel over incidents created in the period, the tier moves made
//! in the period by reason, kind, service and organization, and the time spent in each tier.

use super::{Cell, Headline, Report, Row, Sets, Table, col, distinct};
use crate::db::DbConnection;
use crate::db::reports::{self, EscalationRow, Filter, Timing};
use crate::db::tiers;
use crate::domain::chart::{Chart, Series, Style};
use crate::domain::oncall::reason_label;
use crate::domain::report::{by_interval, summarize};
use crate::service::ServiceResult;
use std::collections::{BTreeSet, HashMap};

/// Grouped counts of upward moves: (key, label) → moves; one row per group, biggest first.
fn moves_table(
    sets: &mut Sets,
    key: &'static str,
    title: &str,
    moves: &[(&EscalationRow, &Timing)],
    group: impl Fn(&EscalationRow, &Timing) -> (String, String),
) -> Table {
    type Group<'a> = ((String, String), Vec<(&'a EscalationRow, &'a Timing)>);
    let mut groups: Vec<Group> = Vec::new();
    for m in moves {
        let g = group(m.0, m.1);
        match groups.iter_mut().find(|(k, _)| *k == g) {
            Some((_, v)) => v.push(*m),
            None => groups.push((g, vec![*m])),
        }
    }
    groups.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.1.cmp(&b.0.1)));
    let rows = groups
        .into_iter()
        .map(|((gk, label), ms)| {
            let k = |c: &str| format!("{key}/{gk}/{c}");
            let auto = ms.iter().filter(|(e, _)| e.automatic).count();
            let incidents = distinct(ms.iter().map(|(e, _)| e.incident_id));
            Row {
                key: gk.clone(),
                cells: vec![
                    Cell::text(label),
                    Cell::int(ms.len()).counts(sets, k("escalations"), incidents.clone()),
                    Cell::int(incidents.len()),
                    Cell::int(ms.len() - auto).counts(
                        sets,
                        k("manual"),
                        distinct(ms.iter().filter(|(e, _)| !e.automatic).map(|(e, _)| e.incident_id)),
                    ),
                    Cell::int(auto).counts(
                        sets,
                        k("automatic"),
                        distinct(ms.iter().filter(|(e, _)| e.automatic).map(|(e, _)| e.incident_id)),
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

pub(super) fn build(conn: &mut DbConnection, r: &mut Report) -> ServiceResult<()> {
    let b = &r.bar;
    let p = &b.period;
    let prev = p.previous(b.tz);
    let tier_list = tiers::all(conn)?;
    let position: HashMap<i64, i32> = tier_list.iter().map(|t| (t.id, t.position)).collect();
    let pos = |id: i64| position.get(&id).copied().unwrap_or(0);
    let upward = |e: &EscalationRow| pos(e.to_tier_id) > pos(e.from_tier_id);

    // Rate and funnel: incidents created in the period, each with its highest tier reached.
    // The facts hold each incident's starting tier and the highest an upward move took it to.
    let rows = super::facts::created_rows(conn, p, &b.filter)?;
    let before = super::facts::created_brief(conn, &prev, &b.filter)?;
    let created: Vec<Timing> = rows.iter().map(|r| super::facts::timing(&r.g)).collect();
    let top: foldhash::HashMap<i64, i64> =
        rows.iter().filter_map(|r| r.top_tier_id.map(|t| (r.g.incident_id, t))).collect();
    let start: foldhash::HashMap<i64, i64> =
        rows.iter().filter_map(|r| r.start_tier_id.map(|t| (r.g.incident_id, t))).collect();
    let highest = |id: i64| -> Option<i64> { top.get(&id).copied() };
    let escalated: Vec<i64> = created.iter().filter(|t| highest(t.id).is_some()).map(|t| t.id).collect();

    // Moves made in the period, of incidents that pass the filter.
    let moves_all = reports::escalations_between(conn, p.from, p.to)?;
    let moved_ids = distinct(moves_all.iter().map(|e| e.incident_id));
    let moved: HashMap<i64, Timing> =
        super::facts::incidents_of(conn, &moved_ids, &b.filter)?.into_iter().map(|t| (t.id, t)).collect();
    let in_filter: Vec<(&EscalationRow, &Timing)> =
        moves_all.iter().filter_map(|e| moved.get(&e.incident_id).map(|t| (e, t))).collect();
    let ups: Vec<(&EscalationRow, &Timing)> = in_filter.iter().filter(|(e, _)| upward(e)).copied().collect();
    let downs: Vec<(&EscalationRow, &Timing)> = in_filter.iter().filter(|(e, _)| !upward(e)).copied().collect();
    let prev_moves = reports::escalations_between(conn, prev.from, prev.to)?;
    let prev_ids = distinct(prev_moves.iter().map(|e| e.incident_id));
    let prev_in: BTreeSet<i64> = if b.filter == Filter::default() {
        prev_ids.iter().copied().collect()
    } else {
        super::facts::incidents_of(conn, &prev_ids, &b.filter)?.iter().map(|t| t.id).collect()
    };
    let prev_ups = prev_moves.iter().filter(|e| prev_in.contains(&e.incident_id) && upward(e)).count();

    let sets = &mut r.sets;
    let created_ids: Vec<i64> = created.iter().map(|t| t.id).collect();
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
            now: Cell::int(ups.len()).counts(
                sets,
                "headline/escalations",
                distinct(ups.iter().map(|(e, _)| e.incident_id)),
            ),
            previous: Cell::int(prev_ups),
        },
        Headline {
            key: "automatic",
            label: "Automatic (SLA breach)",
            definition: "escalation",
            now: Cell::share(ups.iter().filter(|(e, _)| e.automatic).count(), ups.len()),
            previous: Cell::share(
                prev_moves.iter().filter(|e| prev_in.contains(&e.incident_id) && upward(e) && e.automatic).count(),
                prev_ups,
            ),
        },
        Headline {
            key: "deescalations",
            label: "De-escalations",
            definition: "escalation",
            now: Cell::int(downs.len()).counts(
                sets,
                "headline/deescalations",
                distinct(downs.iter().map(|(e, _)| e.incident_id)),
            ),
            previous: Cell::int(prev_moves.iter().filter(|e| prev_in.contains(&e.incident_id) && !upward(e)).count()),
        },
    ];

    // The funnel, over tiers in order.
    let mut funnel_rows = Vec::new();
    let mut funnel_values = Vec::new();
    for t in &tier_list {
        let at_least: Vec<i64> = created
            .iter()
            .filter(|c| match highest(c.id) {
                Some(h) => pos(h) >= t.position,
                None => pos(start.get(&c.id).copied().unwrap_or(c.tier_id)) >= t.position,
            })
            .map(|c| c.id)
            .collect();
        let top: Vec<i64> = escalated.iter().copied().filter(|id| highest(*id) == Some(t.id)).collect();
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
    tables.push(moves_table(sets, "reason", "Escalations made in the period by reason", &ups, |e, _| {
        (e.reason_code.clone(), reason_label(&e.reason_code).unwrap_or(&e.reason_code).to_string())
    }));
    tables.push(moves_table(sets, "to_tier", "Escalations made in the period by tier reached", &ups, |e, _| {
        (e.to_tier_id.to_string(), b.tier_name(e.to_tier_id))
    }));
    tables.push(moves_table(
        sets,
        "service",
        "Escalations made in the period by service (top escalated first)",
        &ups,
        |_, t| (t.service_id.to_string(), b.service_name(t.service_id)),
    ));
    tables.push(moves_table(sets, "organization", "Escalations made in the period by organization", &ups, |_, t| {
        (t.organization_id.map_or("none".into(), |o| o.to_string()), b.organization_name(t.organization_id))
    }));
    tables.push(moves_table(
        sets,
        "deescalation",
        "De-escalations made in the period, by tier left",
        &downs,
        |e, _| (e.from_tier_id.to_string(), b.tier_name(e.from_tier_id)),
    ));

    // Time in each tier, over incidents first resolved in the period.
    let mut per_tier: HashMap<i64, Vec<(i64, chrono::Duration)>> = HashMap::new();
    for (id, stints) in super::facts::stints(conn, p, &b.filter)? {
        for (tier, d) in stints.split(';').filter_map(|s| s.split_once(':')) {
            if let (Ok(tier), Ok(d)) = (tier.parse::<i64>(), d.parse::<i64>()) {
                per_tier.entry(tier).or_default().push((id, chrono::Duration::seconds(d)));
            }
        }
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
    let buckets = by_interval(&b.intervals, &in_filter, |(e, _)| e.at);
    for (iv, bucket) in b.intervals.iter().zip(buckets) {
        let here = |pred: &dyn Fn(&EscalationRow) -> bool| -> Vec<i64> {
            bucket.iter().filter(|(e, _)| pred(e)).map(|(e, _)| e.incident_id).collect()
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
