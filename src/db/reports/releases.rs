//! Release and self-service rows for their reports.

use super::super::schema::{
    help_searches, help_suggestion_opens, help_votes, release_services, release_suspects, releases,
};
use super::super::{DbConnection, DbResult};
use chrono::NaiveDateTime;
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable)]
pub struct DeployedRelease {
    pub id: i64,
    pub version: String,
    pub title: String,
    pub deployed_at: NaiveDateTime,
    pub rolled_back_at: Option<NaiveDateTime>,
}

/// Releases deployed in [from, to), touching the service when one is given, in time order.
pub fn deployed_between(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    to: NaiveDateTime,
    service_id: Option<i64>,
) -> DbResult<Vec<DeployedRelease>> {
    let mut q = releases::table
        .filter(releases::deployed_at.ge(from))
        .filter(releases::deployed_at.lt(to))
        .into_boxed::<super::super::MultiBackend>();
    if let Some(s) = service_id {
        q = q.filter(releases::id.eq_any(
            release_services::table.filter(release_services::service_id.eq(s)).select(release_services::release_id),
        ));
    }
    type Row = (i64, String, String, Option<NaiveDateTime>, Option<NaiveDateTime>);
    let rows: Vec<Row> = q
        .order((releases::deployed_at.asc(), releases::id.asc()))
        .select((releases::id, releases::version, releases::title, releases::deployed_at, releases::rolled_back_at))
        .limit(super::MAX_ROWS)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, version, title, deployed, rolled_back_at)| {
            deployed.map(|deployed_at| DeployedRelease { id, version, title, deployed_at, rolled_back_at })
        })
        .collect())
}

/// (release, incident) of the suspects confirmed as caused by these releases.
pub fn confirmed_suspects(conn: &mut DbConnection, release_ids: &[i64]) -> DbResult<Vec<(i64, i64)>> {
    if release_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(release_suspects::table
        .filter(release_suspects::status.eq("confirmed"))
        .filter(super::super::in_ids(conn, "release_suspects.release_id", release_ids))
        .select((release_suspects::release_id, release_suspects::incident_id))
        .load(conn)?)
}

/// Helpful / not helpful votes last changed in [from, to): (article, helpful).
pub fn votes_between(conn: &mut DbConnection, from: NaiveDateTime, to: NaiveDateTime) -> DbResult<Vec<(i64, bool)>> {
    Ok(help_votes::table
        .filter(help_votes::updated_at.ge(from))
        .filter(help_votes::updated_at.lt(to))
        .select((help_votes::article_id, help_votes::helpful))
        .limit(super::MAX_ROWS)
        .load(conn)?)
}

/// Suggestions opened from the new-incident form in [from, to): (article, opened at, the
/// incident the user filed within the window, if any).
pub fn opens_between(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> DbResult<Vec<(i64, NaiveDateTime, Option<i64>)>> {
    Ok(help_suggestion_opens::table
        .filter(help_suggestion_opens::opened_at.ge(from))
        .filter(help_suggestion_opens::opened_at.lt(to))
        .select((
            help_suggestion_opens::article_id,
            help_suggestion_opens::opened_at,
            help_suggestion_opens::incident_id,
        ))
        .limit(super::MAX_ROWS)
        .load(conn)?)
}

/// Help searches made in [from, to): (normalized query, results found).
pub fn searches_between(
    conn: &mut DbConnection,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> DbResult<Vec<(String, i32)>> {
    Ok(help_searches::table
        .filter(help_searches::at.ge(from))
        .filter(help_searches::at.lt(to))
        .select((help_searches::query, help_searches::results))
        .limit(super::MAX_ROWS)
        .load(conn)?)
}

/// Records a help search and how many articles it found.
pub fn record_search(conn: &mut DbConnection, at: NaiveDateTime, query: &str, results: i32) -> DbResult<()> {
    diesel::insert_into(help_searches::table)
        .values((help_searches::at.eq(at), help_searches::query.eq(query), help_searches::results.eq(results)))
        .execute(conn)?;
    Ok(())
}
