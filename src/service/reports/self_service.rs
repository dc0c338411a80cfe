//! Self-service: how help articles are rated, how often a suggested article answered the
//! question before an incident was filed (deflections), and what end users searched for and
//! did not find.

use super::{Cell, Headline, Report, Row, Table, col};
use crate::db::DbConnection;
use crate::db::{help, reports};
use crate::domain::chart::{Chart, Series, Style};
use crate::domain::help::DEFLECTION_WINDOW_MINUTES;
use crate::domain::report::{Period, interval_of};
use crate::service::ServiceResult;
use chrono::{Duration, NaiveDateTime};
use std::collections::HashMap;

struct Figures {
    votes: Vec<(i64, bool)>,
    /// (article, opened at, filed incident)
    opens: Vec<(i64, NaiveDateTime, Option<i64>)>,
    searches: Vec<(String, i32)>,
}

fn figures(conn: &mut DbConnection, p: &Period) -> ServiceResult<Figures> {
    Ok(Figures {
        votes: reports::votes_between(conn, p.from, p.to)?,
        opens: reports::opens_between(conn, p.from, p.to)?,
        searches: reports::searches_between(conn, p.from, p.to)?,
    })
}

/// An open deflected when its window is over and no incident was filed within it.
fn deflected(open: &(i64, NaiveDateTime, Option<i64>), now: NaiveDateTime) -> bool {
    open.2.is_none() && open.1 + Duration::minutes(DEFLECTION_WINDOW_MINUTES) <= now
}

impl Figures {
    fn helpful(&self) -> Cell {
        Cell::share(self.votes.iter().filter(|v| v.1).count(), self.votes.len())
    }
    fn deflections(&self, now: NaiveDateTime) -> usize {
        self.opens.iter().filter(|o| deflected(o, now)).count()
    }
    fn no_result(&self) -> usize {
        self.searches.iter().filter(|s| s.1 == 0).count()
    }
}

pub(super) fn build(conn: &mut DbConnection, r: &mut Report, now: NaiveDateTime) -> ServiceResult<()> {
    let b = &r.bar;
    let p = &b.period;
    let f = figures(conn, p)?;
    let fp = figures(conn, &p.previous(b.tz))?;
    r.headlines = vec![
        Headline {
            key: "helpful",
            label: "Rated helpful",
            definition: "self-service",
            now: f.helpful(),
            previous: fp.helpful(),
        },
        Headline {
            key: "deflections",
            label: "Deflections",
            definition: "self-service",
            now: Cell::int(f.deflections(now)),
            previous: Cell::int(fp.deflections(now)),
        },
        Headline {
            key: "no-result",
            label: "Searches with no result",
            definition: "self-service",
            now: Cell::share(f.no_result(), f.searches.len()),
            previous: Cell::share(fp.no_result(), fp.searches.len()),
        },
        Headline {
            key: "searches",
            label: "Help searches",
            definition: "self-service",
            now: Cell::int(f.searches.len()),
            previous: Cell::int(fp.searches.len()),
        },
    ];

    // Per article: votes and suggestion outcomes.
    let mut articles: Vec<i64> = f.votes.iter().map(|v| v.0).chain(f.opens.iter().map(|o| o.0)).collect();
    articles.sort_unstable();
    articles.dedup();
    let titles: HashMap<i64, String> = help::find_many(conn, &articles)?.into_iter().map(|a| (a.id, a.title)).collect();
    let mut rows: Vec<(usize, Row)> = articles
        .iter()
        .map(|id| {
            let votes: Vec<bool> = f.votes.iter().filter(|v| v.0 == *id).map(|v| v.1).collect();
            let yes = votes.iter().filter(|v| **v).count();
            let opens: Vec<_> = f.opens.iter().filter(|o| o.0 == *id).collect();
            let defl = opens.iter().filter(|o| deflected(o, now)).count();
            let filed = opens.iter().filter(|o| o.2.is_some()).count();
            (
                votes.len() + opens.len(),
                Row {
                    key: id.to_string(),
                    cells: vec![
                        Cell::text(titles.get(id).cloned().unwrap_or_else(|| format!("Article #{id}"))),
                        Cell::int(yes),
                        Cell::int(votes.len() - yes),
                        Cell::share(yes, votes.len()),
                        Cell::int(opens.len()),
                        Cell::int(defl),
                        Cell::int(filed),
                    ],
                },
            )
        })
        .collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.0));
    let mut tables = vec![Table {
        key: "articles",
        title: "Articles: ratings and suggestions".into(),
        note: format!(
            "Votes cast or changed in the period; suggestions opened from the new-incident form in the period. Deflected: no incident filed by the same user within {DEFLECTION_WINDOW_MINUTES} minutes of opening it."
        ),
        columns: vec![
            col("article", "Article"),
            col("helpful", "Helpful"),
            col("not_helpful", "Not helpful"),
            col("helpful_ratio", "Helpful ratio"),
            col("suggestion_opens", "Opened as a suggestion"),
            col("deflected", "Deflected"),
            col("filed", "Filed an incident anyway"),
        ],
        rows: rows.into_iter().map(|(_, r)| r).collect(),
    }];
    let mut missing: HashMap<&str, usize> = HashMap::new();
    for (q, n) in &f.searches {
        if *n == 0 {
            *missing.entry(q.as_str()).or_default() += 1;
        }
    }
    let mut missing: Vec<(&str, usize)> = missing.into_iter().collect();
    missing.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    tables.push(Table {
        key: "no_result",
        title: "Searches with no result".into(),
        note: "What end users (not staff) searched the help centre for and found nothing; most frequent first.".into(),
        columns: vec![col("query", "Words searched"), col("searches", "Searches")],
        rows: missing
            .iter()
            .take(100)
            .map(|(q, n)| Row { key: q.to_string(), cells: vec![Cell::text(q.to_string()), Cell::int(*n)] })
            .collect(),
    });
    r.tables = tables;
    let mut series = [Vec::new(), Vec::new()];
    for (i, _) in b.intervals.iter().enumerate() {
        let here = f.opens.iter().filter(|o| interval_of(&b.intervals, o.1) == Some(i));
        let (mut d, mut filed) = (0.0, 0.0);
        for o in here {
            if deflected(o, now) {
                d += 1.0;
            } else if o.2.is_some() {
                filed += 1.0;
            }
        }
        series[0].push(d);
        series[1].push(filed);
    }
    let [d, filed] = series;
    r.charts = vec![Chart {
        key: "deflections".into(),
        title: "Suggestions opened: deflected or filed".into(),
        style: Style::StackedBars,
        labels: b.interval_labels(),
        series: vec![
            Series { name: "Deflected".into(), values: d },
            Series { name: "Filed anyway".into(), values: filed },
        ],
        unit: "suggestions".into(),
    }];
    Ok(())
}
