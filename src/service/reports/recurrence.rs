//! Recurrence: incidents created in the period after their problem's fix was released, fix
//! effectiveness over the watch periods that ended in the period, repeat incidents, recurring
//! root-cause categories, and the corrective actions still open. Every count goes by the
//! incidents' own creation dates, never by when a link was made.

use super::{Cell, Headline, Report, Row, Sets, Table, col, distinct};
use crate::db::DbConnection;
use crate::db::models::Problem;
use crate::db::reports::{self, Timing};
use crate::db::users;
use crate::domain::chart::{Chart, Series, Style};
use crate::domain::problem::category_label;
use crate::domain::report::{Period, interval_of};
use crate::service::ServiceResult;
use chrono::{Duration, NaiveDateTime};
use std::collections::{BTreeSet, HashMap};

/// The end of a problem's watch period, if its fix was released.
fn watch_end(p: &Problem) -> Option<NaiveDateTime> {
    p.fix_released_at.map(|r| r + Duration::days(i64::from(p.watch_days)))
}

/// Incidents created in the period and linked to a problem, their links, and which of them are recurrences
/// (created at or after their problem's fix was released) and repeats (their problem had an
/// incident created before the period).
struct Linked {
    created: Vec<Timing>,
    /// (problem, incident)
    links: Vec<(i64, i64)>,
    problems: HashMap<i64, Problem>,
    recurrences: Vec<(i64, i64)>,
    repeats: Vec<(i64, i64)>,
}

fn linked(conn: &mut DbConnection, p: &Period, f: &reports::Filter) -> ServiceResult<Linked> {
    // Only incidents linked to a problem count here.
    let created = super::facts::created_linked(conn, p, f)?;
    let ids: Vec<i64> = created.iter().map(|t| t.id).collect();
    let links = reports::problem_links_of(conn, &ids)?;
    let pids = distinct(links.iter().map(|(p, _)| *p));
    let problems: HashMap<i64, Problem> =
        reports::problems_by_ids(conn, &pids)?.into_iter().map(|p| (p.id, p)).collect();
    let first: HashMap<i64, Option<NaiveDateTime>> = reports::first_incident_of(conn, &pids)?.into_iter().collect();
    let created_at: HashMap<i64, NaiveDateTime> = created.iter().map(|t| (t.id, t.created_at)).collect();
    let recurrences = links
        .iter()
        .filter(|(pid, iid)| {
            let released = problems.get(pid).and_then(|p| p.fix_released_at);
            matches!((released, created_at.get(iid)), (Some(r), Some(c)) if *c >= r)
        })
        .copied()
        .collect();
    let repeats = links
        .iter()
        .filter(|(pid, _)| first.get(pid).copied().flatten().is_some_and(|f| f < p.from))
        .copied()
        .collect();
    Ok(Linked { created, links, problems, recurrences, repeats })
}

/// Fix outcomes of the watch periods that ended in [from, to): (problem, recurred?). A watch
/// recurred when an incident linked to the problem was created within it.
fn watch_outcomes(
    conn: &mut DbConnection,
    p: &Period,
    service: Option<i64>,
) -> ServiceResult<Vec<(Problem, Vec<i64>)>> {
    let mut ended: Vec<Problem> = reports::problems_with_fix(conn)?
        .into_iter()
        .filter(|pr| watch_end(pr).is_some_and(|e| p.contains(e)))
        .collect();
    if let Some(s) = service {
        let ids: Vec<i64> = ended.iter().map(|p| p.id).collect();
        let with: BTreeSet<i64> =
            reports::problem_services_of(conn, &ids)?.into_iter().filter(|(_, sv)| *sv == s).map(|(p, _)| p).collect();
        ended.retain(|p| with.contains(&p.id));
    }
    let ids: Vec<i64> = ended.iter().map(|p| p.id).collect();
    let mut during: HashMap<i64, Vec<i64>> = HashMap::new();
    for (pid, iid, created) in reports::linked_incident_dates(conn, &ids)? {
        let Some(pr) = ended.iter().find(|p| p.id == pid) else { continue };
        if let (Some(r), Some(e)) = (pr.fix_released_at, watch_end(pr))
            && created >= r
            && created < e
        {
            during.entry(pid).or_default().push(iid);
        }
    }
    Ok(ended
        .into_iter()
        .map(|p| {
            let ids = during.remove(&p.id).unwrap_or_default();
            (p, ids)
        })
        .collect())
}

fn effectiveness(outcomes: &[(Problem, Vec<i64>)]) -> Cell {
    let recurred = outcomes.iter().filter(|(_, ids)| !ids.is_empty()).count();
    Cell::share(outcomes.len() - recurred, outcomes.len())
}

fn count_table(
    sets: &mut Sets,
    key: &'static str,
    title: &str,
    note: &str,
    pairs: &[(i64, i64)],
    group: impl Fn(i64, i64) -> (String, String),
    count_label: &'static str,
) -> Table {
    let mut groups: Vec<((String, String), Vec<i64>)> = Vec::new();
    for (pid, iid) in pairs {
        let g = group(*pid, *iid);
        match groups.iter_mut().find(|(k, _)| *k == g) {
            Some((_, v)) => v.push(*iid),
            None => groups.push((g, vec![*iid])),
        }
    }
    for (_, v) in &mut groups {
        v.sort_unstable();
        v.dedup();
    }
    groups.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.1.cmp(&b.0.1)));
    Table {
        key,
        title: title.into(),
        note: note.into(),
        columns: vec![col("group", "Group"), col("incidents", count_label)],
        rows: groups
            .into_iter()
            .map(|((gk, label), ids)| Row {
                key: gk.clone(),
                cells: vec![Cell::text(label), Cell::int(ids.len()).counts(sets, format!("{key}/{gk}/incidents"), ids)],
            })
            .collect(),
    }
}

pub(super) fn build(conn: &mut DbConnection, r: &mut Report, now: NaiveDateTime) -> ServiceResult<()> {
    let b = &r.bar;
    let p = &b.period;
    let prev = p.previous(b.tz);
    let l = linked(conn, p, &b.filter)?;
    let lp = linked(conn, &prev, &b.filter)?;
    let watches = watch_outcomes(conn, p, b.filter.service_id)?;
    let watches_prev = watch_outcomes(conn, &prev, b.filter.service_id)?;
    let actions = reports::all_open_actions(conn)?;
    let today = crate::domain::sla::utc(now).with_timezone(&b.tz).date_naive();
    let overdue: Vec<_> = actions.iter().filter(|a| a.due_date.is_some_and(|d| d < today)).collect();
    let action_problems = reports::problems_by_ids(conn, &distinct(actions.iter().map(|a| a.problem_id)))?;
    let problem_title: HashMap<i64, String> = l
        .problems
        .values()
        .chain(action_problems.iter())
        .chain(watches.iter().map(|(p, _)| p))
        .map(|p| (p.id, p.title.clone()))
        .collect();
    let owners = users::names_by_ids(conn, &actions.iter().filter_map(|a| a.owner_id).collect::<Vec<_>>())?;
    let owner: HashMap<i64, String> = owners.into_iter().collect();
    let by_id: HashMap<i64, &Timing> = l.created.iter().map(|t| (t.id, t)).collect();

    let sets = &mut r.sets;
    let rec_ids = distinct(l.recurrences.iter().map(|(_, i)| *i));
    let rep_ids = distinct(l.repeats.iter().map(|(_, i)| *i));
    r.headlines = vec![
        Headline {
            key: "recurrences",
            label: "Recurrences",
            definition: "recurrence",
            now: Cell::int(rec_ids.len()).counts(sets, "headline/recurrences", rec_ids.clone()),
            previous: Cell::int(distinct(lp.recurrences.iter().map(|(_, i)| *i)).len()),
        },
        Headline {
            key: "fix-effectiveness",
            label: "Fix effectiveness",
            definition: "fix-effectiveness",
            now: effectiveness(&watches),
            previous: effectiveness(&watches_prev),
        },
        Headline {
            key: "repeats",
            label: "Repeat incidents",
            definition: "repeat",
            now: Cell::int(rep_ids.len()).counts(sets, "headline/repeats", rep_ids.clone()),
            previous: Cell::int(distinct(lp.repeats.iter().map(|(_, i)| *i)).len()),
        },
        Headline {
            key: "overdue-actions",
            label: "Overdue corrective actions",
            definition: "actions",
            now: Cell::int(overdue.len()),
            previous: Cell::text(""),
        },
    ];

    let service_of = |iid: i64| {
        by_id
            .get(&iid)
            .map_or((String::new(), String::new()), |t| (t.service_id.to_string(), b.service_name(t.service_id)))
    };
    let mut tables = vec![
        count_table(
            sets,
            "problem",
            "Recurrences by problem",
            "Incidents created in the period after the problem’s fix was released.",
            &l.recurrences,
            |pid, _| (pid.to_string(), problem_title.get(&pid).cloned().unwrap_or_else(|| format!("Problem #{pid}"))),
            "Recurrences",
        ),
        count_table(
            sets,
            "recurrence_service",
            "Recurrences by service",
            "",
            &l.recurrences,
            |_, iid| service_of(iid),
            "Recurrences",
        ),
        count_table(
            sets,
            "repeat_service",
            "Repeat incidents by service",
            "Incidents created in the period linked to a problem that already had an incident created before the period.",
            &l.repeats,
            |_, iid| service_of(iid),
            "Repeat incidents",
        ),
        count_table(
            sets,
            "repeat_organization",
            "Repeat incidents by organization",
            "",
            &l.repeats,
            |_, iid| {
                let org = by_id.get(&iid).and_then(|t| t.organization_id);
                (org.map_or("none".into(), |o| o.to_string()), b.organization_name(org))
            },
            "Repeat incidents",
        ),
        count_table(
            sets,
            "category",
            "Recurring root-cause categories",
            "Repeat incidents and recurrences, by the category of their problem.",
            &{
                let mut v = l.repeats.clone();
                v.extend(l.recurrences.iter().copied());
                v
            },
            |pid, _| {
                let cat = l.problems.get(&pid).map_or("", |p| p.category.as_str()).to_string();
                let label = category_label(&cat).to_string();
                (cat, label)
            },
            "Incidents",
        ),
    ];

    tables.push(Table {
        key: "watch",
        title: "Fix effectiveness: watch periods that ended in the period".into(),
        note: "Verified: no incident linked to the problem was created between the fix’s release and the end of its watch. Recurred: at least one was.".into(),
        columns: vec![col("problem", "Problem"), col("fix_released_at", "Fix released"), col("watch_ended_at", "Watch ended"), col("outcome", "Outcome"), col("recurrences", "Recurrences in the watch")],
        rows: watches
            .iter()
            .map(|(pr, ids)| Row {
                key: pr.id.to_string(),
                cells: vec![
                    Cell::text(pr.title.clone()),
                    Cell::text(pr.fix_released_at.map(|t| t.date().to_string()).unwrap_or_default()),
                    Cell::text(watch_end(pr).map(|t| t.date().to_string()).unwrap_or_default()),
                    Cell::text(if ids.is_empty() { "Verified" } else { "Recurred" }),
                    Cell::int(ids.len()).counts(sets, format!("watch/{}/recurrences", pr.id), ids.clone()),
                ],
            })
            .collect(),
    });
    tables.push(Table {
        key: "actions",
        title: "Open corrective actions".into(),
        note: format!("Open or in progress now; overdue: due before today ({today})."),
        columns: vec![
            col("problem", "Problem"),
            col("action", "Action"),
            col("owner", "Owner"),
            col("due", "Due"),
            col("overdue", "Overdue"),
        ],
        rows: actions
            .iter()
            .take(500)
            .map(|a| Row {
                key: a.id.to_string(),
                cells: vec![
                    Cell::text(problem_title.get(&a.problem_id).cloned().unwrap_or_default()),
                    Cell::text(a.title.clone()),
                    Cell::text(a.owner_id.and_then(|o| owner.get(&o).cloned()).unwrap_or_else(|| "Nobody".into())),
                    Cell::text(a.due_date.map(|d| d.to_string()).unwrap_or_default()),
                    Cell::text(if a.due_date.is_some_and(|d| d < today) { "yes" } else { "no" }),
                ],
            })
            .collect(),
    });

    // Trend: linked incidents, repeats and recurrences per interval, by creation date.
    let mut series = [Vec::new(), Vec::new()];
    let mut trend_rows = Vec::new();
    for (i, iv) in b.intervals.iter().enumerate() {
        let here = |pairs: &[(i64, i64)]| -> Vec<i64> {
            distinct(
                pairs
                    .iter()
                    .filter(|(_, iid)| {
                        by_id.get(iid).is_some_and(|t| interval_of(&b.intervals, t.created_at) == Some(i))
                    })
                    .map(|(_, iid)| *iid),
            )
        };
        let (rep, rec) = (here(&l.repeats), here(&l.recurrences));
        series[0].push(rep.len() as f64);
        series[1].push(rec.len() as f64);
        let key = iv.first.to_string();
        trend_rows.push(Row {
            key: key.clone(),
            cells: vec![
                Cell::text(key.clone()),
                Cell::int(here(&l.links).len()).counts(sets, format!("trend/{key}/linked"), here(&l.links)),
                Cell::int(rep.len()).counts(sets, format!("trend/{key}/repeats"), rep),
                Cell::int(rec.len()).counts(sets, format!("trend/{key}/recurrences"), rec),
            ],
        });
    }
    tables.push(Table {
        key: "trend",
        title: format!("Linked, repeat and recurring incidents by {}", b.grouping.as_str()),
        note: "By the incidents’ creation dates.".into(),
        columns: vec![
            col("interval", b.grouping.label()),
            col("linked", "Linked to a problem"),
            col("repeats", "Repeat incidents"),
            col("recurrences", "Recurrences"),
        ],
        rows: trend_rows,
    });
    r.tables = tables;
    let [rep, rec] = series;
    r.charts = vec![Chart {
        key: "trend".into(),
        title: "Repeat incidents and recurrences".into(),
        style: Style::Lines,
        labels: b.interval_labels(),
        series: vec![
            Series { name: "Repeat incidents".into(), values: rep },
            Series { name: "Recurrences".into(), values: rec },
        ],
        unit: "incidents".into(),
    }];
    Ok(())
}
