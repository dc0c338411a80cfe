//! `/reports`: the management reports as pages, CSV and JSON. Every figure follows the written
//! definitions served at `/reports/definitions` (and in the README); the service computes them,
//! this module only lays them out.

use crate::domain::chart::{Chart, Layout};
use crate::error::AppError;
use crate::service::AppState;
use crate::service::reports::{self as svc, Cell, Kind, Raw, Report, ReportQuery, Table};
use crate::web::ctx::{CurrentUser, PageCtx, page};
use crate::web::run;
use actix_web::{HttpResponse, web};
use askama::Template;

#[derive(Template)]
#[template(path = "reports/definitions.html")]
struct DefinitionsPage {
    ctx: PageCtx,
    tz: String,
    reports: Vec<(&'static str, &'static str)>,
}

pub async fn definitions(ctx: PageCtx, cu: CurrentUser) -> Result<HttpResponse, AppError> {
    let reports = svc::readable(&cu.user).into_iter().map(|k| (k.slug(), k.title())).collect();
    page(&DefinitionsPage { ctx, tz: cu.user.time_zone.clone(), reports })
}

/// A figure as a page shows it.
struct CellView {
    text: String,
    /// `data-figure`: table/row/column, for tests and scripts.
    name: String,
    /// The queue filtered to the incidents it counts.
    link: Option<String>,
}

struct RowView {
    cells: Vec<CellView>,
}

struct TableView {
    key: &'static str,
    title: String,
    note: String,
    headings: Vec<&'static str>,
    rows: Vec<RowView>,
    csv: String,
}

struct HeadlineView {
    key: &'static str,
    label: &'static str,
    definition: &'static str,
    now: CellView,
    previous: String,
}

struct ChartView {
    key: String,
    title: String,
    layout: Layout,
    /// The chart's numbers as a table, for screen readers and for reading exact values.
    headings: Vec<String>,
    rows: Vec<(String, Vec<String>)>,
}

impl ChartView {
    fn of(c: &Chart) -> ChartView {
        let fmt = |v: f64| if v.is_finite() { format!("{}", (v * 10.0).round() / 10.0) } else { "—".into() };
        ChartView {
            key: c.key.clone(),
            title: c.title.clone(),
            layout: c.layout(),
            headings: c.series.iter().map(|s| s.name.clone()).collect(),
            rows: c
                .labels
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    (l.clone(), c.series.iter().map(|s| s.values.get(i).map_or("—".into(), |v| fmt(*v))).collect())
                })
                .collect(),
        }
    }
}

fn queue_link(r: &Report, figure: &str) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    s.append_pair("report", r.slug).append_pair("figure", figure);
    for (k, v) in url::form_urlencoded::parse(r.bar.query.encode().as_bytes()) {
        s.append_pair(&format!("r_{k}"), &v);
    }
    format!("/incidents?{}", s.finish())
}

fn cell_view(r: &Report, c: &Cell, name: String) -> CellView {
    let link = c.figure.as_ref().filter(|f| r.sets.counts_any(f)).map(|f| queue_link(r, f));
    CellView { text: c.text.clone(), name, link }
}

fn table_view(r: &Report, t: &Table) -> TableView {
    let base = r.bar.query.encode();
    TableView {
        key: t.key,
        title: t.title.clone(),
        note: t.note.clone(),
        headings: t.columns.iter().map(|c| c.label).collect(),
        rows: t
            .rows
            .iter()
            .map(|row| RowView {
                cells: row
                    .cells
                    .iter()
                    .zip(t.columns.iter())
                    .map(|(c, col)| cell_view(r, c, format!("{}/{}/{}", t.key, row.key, col.key)))
                    .collect(),
            })
            .collect(),
        csv: format!(
            "/reports/{}?{}{}format=csv&table={}",
            r.slug,
            base,
            if base.is_empty() { "" } else { "&" },
            t.key
        ),
    }
}

#[derive(Template)]
#[template(path = "reports/report.html")]
struct ReportPage {
    ctx: PageCtx,
    tz: String,
    title: &'static str,
    first: String,
    last: String,
    q: ReportQuery,
    preset: &'static str,
    group: &'static str,
    groups: Vec<(&'static str, &'static str)>,
    presets: Vec<(&'static str, &'static str)>,
    bar_error: Option<String>,
    pending: usize,
    services: Vec<(i64, String)>,
    organizations: Vec<(i64, String)>,
    tiers: Vec<(i64, String)>,
    severities: Vec<&'static str>,
    headlines: Vec<HeadlineView>,
    charts: Vec<ChartView>,
    tables: Vec<TableView>,
    json: String,
}

/// `?format=csv|json` and, for CSV, which table (or `figure` for the incidents behind one).
#[derive(Debug, Default, serde::Deserialize)]
pub struct Export {
    #[serde(default)]
    format: String,
    #[serde(default)]
    table: String,
    #[serde(default)]
    figure: String,
}

fn raw_json(raw: &Raw) -> serde_json::Value {
    match raw {
        Raw::None => serde_json::Value::Null,
        Raw::Int(n) => (*n).into(),
        Raw::Fraction(f) => serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, serde_json::Value::Number),
        Raw::Seconds(s) => (*s).into(),
        Raw::Text(t) => t.clone().into(),
    }
}

fn raw_csv(raw: &Raw) -> String {
    match raw {
        Raw::None => String::new(),
        Raw::Int(n) | Raw::Seconds(n) => n.to_string(),
        Raw::Fraction(f) => format!("{f:.4}"),
        Raw::Text(t) => t.clone(),
    }
}

/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, carriage return first)
/// gets a leading apostrophe, unless it is a plain number: incident titles are typed by anyone.
fn defuse(cell: String) -> String {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && cell.parse::<f64>().is_err() { format!("'{cell}") } else { cell }
}

fn csv_response(name: &str, rows: Vec<Vec<String>>) -> Result<HttpResponse, AppError> {
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    for row in rows {
        let row: Vec<String> = row.into_iter().map(defuse).collect();
        w.write_record(&row).map_err(|e| AppError::Internal(format!("csv: {e}")))?;
    }
    let body = w.into_inner().map_err(|e| AppError::Internal(format!("csv: {e}")))?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{name}.csv\"")))
        .body(body))
}

fn json_of(r: &Report) -> serde_json::Value {
    let cell_obj = |t: &Table, row: &svc::Row| {
        let mut m = serde_json::Map::new();
        for (c, col) in row.cells.iter().zip(t.columns.iter()) {
            m.insert(col.key.to_string(), raw_json(&c.raw));
        }
        serde_json::Value::Object(m)
    };
    serde_json::json!({
        "report": r.slug,
        "title": r.title,
        "period": {
            "first_day": r.bar.period.first.to_string(),
            "last_day": r.bar.period.last.to_string(),
            "from_utc": r.bar.period.from.and_utc().to_rfc3339(),
            "to_utc": r.bar.period.to.and_utc().to_rfc3339(),
            "time_zone": r.bar.tz.name(),
            "grouping": r.bar.grouping.as_str(),
        },
        "filters": {
            "service": r.bar.filter.service_id,
            "organization": r.bar.filter.organization_id,
            "severity": r.bar.filter.severity,
            "tier": r.bar.filter.tier_id,
        },
        "headlines": r.headlines.iter().map(|h| serde_json::json!({
            "key": h.key, "label": h.label, "value": raw_json(&h.now.raw), "previous": raw_json(&h.previous.raw),
        })).collect::<Vec<_>>(),
        "tables": r.tables.iter().map(|t| serde_json::json!({
            "key": t.key, "title": t.title,
            "rows": t.rows.iter().map(|row| cell_obj(t, row)).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

pub async fn show(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    slug: web::Path<String>,
    q: web::Query<ReportQuery>,
    export: web::Query<Export>,
) -> Result<HttpResponse, AppError> {
    let kind = Kind::parse(&slug).ok_or(AppError::NotFound)?;
    let tz = cu.user.time_zone.clone();
    let q = q.into_inner();
    let user = cu.user.clone();
    let st = state.clone();
    // A CSV of one figure's incidents collects just that figure's.
    let want = (export.format == "csv" && !export.figure.is_empty()).then(|| export.figure.clone());
    let r = run(move || svc::report_wanting(&st, &user, kind, &q, want.as_deref())).await?;
    match export.format.as_str() {
        "json" => return Ok(HttpResponse::Ok().json(json_of(&r))),
        "csv" if !export.figure.is_empty() => {
            let ids = r.sets.found().cloned().ok_or(AppError::NotFound)?;
            let user = cu.user.clone();
            let rows = run(move || svc::incident_rows(&state, &user, &ids)).await?;
            return csv_response(&format!("{}-incidents", r.slug), rows);
        }
        "csv" => {
            let t = if export.table.is_empty() {
                r.tables.first()
            } else {
                r.tables.iter().find(|t| t.key == export.table)
            };
            let t = t.ok_or(AppError::NotFound)?;
            let mut rows = vec![t.columns.iter().map(|c| c.key.to_string()).collect::<Vec<_>>()];
            rows.extend(t.rows.iter().map(|row| row.cells.iter().map(|c| raw_csv(&c.raw)).collect()));
            return csv_response(&format!("{}-{}", r.slug, t.key), rows);
        }
        _ => {}
    }
    let base = r.bar.query.encode();
    page(&ReportPage {
        ctx,
        tz,
        title: r.title,
        first: r.bar.period.first.to_string(),
        last: r.bar.period.last.to_string(),
        preset: r.bar.period.preset,
        group: r.bar.grouping.as_str(),
        groups: crate::domain::report::Grouping::ALL.iter().map(|g| (g.as_str(), g.label())).collect(),
        presets: crate::domain::report::PRESETS.to_vec(),
        bar_error: r.bar.error.clone(),
        pending: r.bar.pending,
        services: r.bar.services.clone(),
        organizations: r.bar.organizations.clone(),
        tiers: r.bar.tiers.clone(),
        severities: crate::domain::incident::Severity::ALL.iter().map(|s| s.as_str()).collect(),
        headlines: r
            .headlines
            .iter()
            .map(|h| HeadlineView {
                key: h.key,
                label: h.label,
                definition: h.definition,
                now: cell_view(&r, &h.now, h.key.to_string()),
                previous: h.previous.text.clone(),
            })
            .collect(),
        charts: r.charts.iter().map(ChartView::of).collect(),
        tables: r.tables.iter().map(|t| table_view(&r, t)).collect(),
        json: format!("/reports/{}?{}{}format=json", r.slug, base, if base.is_empty() { "" } else { "&" }),
        q: r.bar.query.clone(),
    })
}

struct Card {
    slug: &'static str,
    title: &'static str,
    headlines: Vec<HeadlineView>,
    chart: Option<ChartView>,
}

#[derive(Template)]
#[template(path = "reports/overview.html")]
struct OverviewPage {
    ctx: PageCtx,
    tz: String,
    first: String,
    last: String,
    cards: Vec<Card>,
}

pub async fn overview(state: web::Data<AppState>, ctx: PageCtx, cu: CurrentUser) -> Result<HttpResponse, AppError> {
    let tz = cu.user.time_zone.clone();
    let user = cu.user.clone();
    let reports = run(move || svc::overview(&state, &user)).await?;
    let (first, last) =
        reports.first().map(|r| (r.bar.period.first.to_string(), r.bar.period.last.to_string())).unwrap_or_default();
    let cards = reports
        .iter()
        .map(|r| Card {
            slug: r.slug,
            title: r.title,
            headlines: r
                .headlines
                .iter()
                .map(|h| HeadlineView {
                    key: h.key,
                    label: h.label,
                    definition: h.definition,
                    now: cell_view(r, &h.now, format!("card-{}-{}", r.slug, h.key)),
                    previous: h.previous.text.clone(),
                })
                .collect(),
            chart: r.charts.first().map(|c| {
                let mut v = ChartView::of(c);
                v.key = format!("{}-{}", r.slug, v.key);
                v
            }),
        })
        .collect();
    page(&OverviewPage { ctx, tz, first, last, cards })
}
