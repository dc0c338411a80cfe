//! The help center's tables: categories, articles (with tags, related articles, revisions,
//! images), votes, suggestion opens and events; and its full-text search (SQLite FTS5 kept in
//! step by triggers, PostgreSQL a generated tsvector with a GIN index).

use super::schema::{
    help_article_tags, help_articles, help_categories, help_events, help_images, help_old_slugs, help_related,
    help_revisions, help_suggestion_opens, help_votes,
};
use super::search::{fts5_any, fts5_query, pg_any, pg_query};
use super::{DbConnection, DbResult};
use crate::domain::help::Rating;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};
use std::collections::HashMap;

mod categories;
mod feedback;
mod revisions;
mod search;

pub use categories::*;
pub use feedback::*;
pub use revisions::*;
pub use search::*;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = help_categories)]
pub struct Category {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub position: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, AsChangeset, Insertable)]
#[diesel(table_name = help_categories)]
pub struct CategoryFields {
    #[diesel(treat_none_as_null = true)]
    pub parent_id: Option<i64>,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub position: i32,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = help_articles)]
pub struct Article {
    pub id: i64,
    pub category_id: Option<i64>,
    pub title: String,
    pub slug: String,
    pub summary: String,
    pub body: String,
    pub visibility: String,
    pub status: String,
    pub author_id: Option<i64>,
    pub updated_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub published_at: Option<NaiveDateTime>,
    pub revision: i32,
    pub problem_id: Option<i64>,
    pub fixed_in_release: String,
    pub review_reason: String,
    pub review_flagged_at: Option<NaiveDateTime>,
    /// The body as plain text (None until derived, see `service::help::derive_texts`).
    pub body_text: Option<String>,
    /// The start of `body_text`, for cards of articles without a summary.
    pub excerpt: String,
}

/// An article as lists show it: everything but the body (lists never load bodies).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = help_articles)]
pub struct ArticleSummary {
    pub id: i64,
    pub category_id: Option<i64>,
    pub title: String,
    pub slug: String,
    pub summary: String,
    pub excerpt: String,
    pub visibility: String,
    pub status: String,
    pub updated_at: NaiveDateTime,
    pub problem_id: Option<i64>,
    pub fixed_in_release: String,
    pub review_reason: String,
    pub review_flagged_at: Option<NaiveDateTime>,
}

/// What a writer sets on an article.
#[derive(Debug, Clone, AsChangeset, Insertable)]
#[diesel(table_name = help_articles)]
pub struct ArticleFields {
    #[diesel(treat_none_as_null = true)]
    pub category_id: Option<i64>,
    pub title: String,
    pub slug: String,
    pub summary: String,
    pub body: String,
    pub visibility: String,
    pub status: String,
    #[diesel(treat_none_as_null = true)]
    pub problem_id: Option<i64>,
    /// Derived from `body` by the service (`markdown::plain_text`), never typed.
    pub body_text: Option<String>,
    pub excerpt: String,
    pub fixed_in_release: String,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = help_revisions)]
pub struct Revision {
    pub id: i64,
    pub article_id: i64,
    pub number: i32,
    pub title: String,
    pub slug: String,
    pub summary: String,
    pub body: String,
    pub visibility: String,
    pub status: String,
    pub category_id: Option<i64>,
    pub tags: String,
    pub note: String,
    pub author_id: Option<i64>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = help_images)]
pub struct ImageMeta {
    pub id: i64,
    pub article_id: i64,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = help_votes)]
pub struct Vote {
    pub id: i64,
    pub article_id: i64,
    pub voter: String,
    pub user_id: Option<i64>,
    pub helpful: bool,
    pub comment: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub ip_hash: String,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = help_events)]
pub struct Event {
    pub id: i64,
    pub article_id: i64,
    pub at: NaiveDateTime,
    pub actor_id: Option<i64>,
    pub kind: String,
    pub detail: String,
}

/// Which articles a reader may see in lists and search: the audiences (fixed strings from
/// `Audience::as_str`) and whether only published ones.
#[derive(Debug, Clone)]
pub struct Readable {
    pub audiences: Vec<&'static str>,
    pub published_only: bool,
}

impl Readable {
    /// The condition as SQL over the alias `a`. Only fixed words go in: audiences come from
    /// `Audience::as_str`, never from a request.
    fn sql(&self) -> String {
        let allowed: Vec<&str> =
            self.audiences.iter().copied().filter(|a| crate::domain::help::Audience::parse(a).is_some()).collect();
        let list = if allowed.is_empty() {
            "''".to_string()
        } else {
            allowed.iter().map(|a| format!("'{a}'")).collect::<Vec<_>>().join(",")
        };
        let status = if self.published_only { " AND a.status = 'published'" } else { "" };
        format!("a.visibility IN ({list}){status}")
    }
}

macro_rules! readable_filter {
    ($q:expr, $r:expr) => {{
        let mut q = $q.filter(help_articles::visibility.eq_any($r.audiences.clone()));
        if $r.published_only {
            q = q.filter(help_articles::status.eq("published"));
        }
        q
    }};
}

// ---------- articles ----------

pub fn insert(conn: &mut DbConnection, f: &ArticleFields, author: i64, now: NaiveDateTime) -> DbResult<Article> {
    let published_at = (f.status == "published").then_some(now);
    Ok(diesel::insert_into(help_articles::table)
        .values((
            f,
            help_articles::author_id.eq(Some(author)),
            help_articles::updated_by.eq(Some(author)),
            help_articles::created_at.eq(now),
            help_articles::updated_at.eq(now),
            help_articles::published_at.eq(published_at),
            help_articles::revision.eq(1),
        ))
        .returning(help_articles::all_columns)
        .get_result(conn)?)
}

pub fn find(conn: &mut DbConnection, id: i64) -> DbResult<Article> {
    Ok(help_articles::table.find(id).select(Article::as_select()).first(conn)?)
}

pub fn find_by_slug(conn: &mut DbConnection, slug: &str) -> DbResult<Article> {
    Ok(help_articles::table.filter(help_articles::slug.eq(slug)).select(Article::as_select()).first(conn)?)
}

/// The summaries (no bodies) of these articles, in no particular order.
pub fn find_many(conn: &mut DbConnection, ids: &[i64]) -> DbResult<Vec<ArticleSummary>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(help_articles::table.filter(help_articles::id.eq_any(ids)).select(ArticleSummary::as_select()).load(conn)?)
}

pub fn summary_of(conn: &mut DbConnection, id: i64) -> DbResult<ArticleSummary> {
    Ok(help_articles::table.find(id).select(ArticleSummary::as_select()).first(conn)?)
}

/// (slug, id) of the articles at these slugs, as many as exist.
pub fn find_by_slugs(conn: &mut DbConnection, slugs: &[String]) -> DbResult<Vec<(String, i64)>> {
    if slugs.is_empty() {
        return Ok(Vec::new());
    }
    Ok(help_articles::table
        .filter(help_articles::slug.eq_any(slugs))
        .select((help_articles::slug, help_articles::id))
        .load(conn)?)
}

/// The summary of the article now at `slug`.
pub fn summary_by_slug(conn: &mut DbConnection, slug: &str) -> DbResult<ArticleSummary> {
    Ok(help_articles::table.filter(help_articles::slug.eq(slug)).select(ArticleSummary::as_select()).first(conn)?)
}

pub fn slug_taken(conn: &mut DbConnection, slug: &str, except: Option<i64>) -> DbResult<bool> {
    let mut q = help_articles::table.filter(help_articles::slug.eq(slug)).select(help_articles::id).into_boxed();
    if let Some(id) = except {
        q = q.filter(help_articles::id.ne(id));
    }
    Ok(q.first::<i64>(conn).optional()?.is_some())
}

/// Saves the fields as the next revision if the article is still at `revision`; None when
/// someone saved in between. `published_at` is stamped on the first publication.
pub fn update_if_at(
    conn: &mut DbConnection,
    a: &Article,
    revision: i32,
    f: &ArticleFields,
    by: i64,
    now: NaiveDateTime,
) -> DbResult<Option<Article>> {
    let published_at = a.published_at.or((f.status == "published").then_some(now));
    let n = diesel::update(help_articles::table.find(a.id).filter(help_articles::revision.eq(revision)))
        .set((
            f,
            help_articles::updated_by.eq(Some(by)),
            help_articles::updated_at.eq(now),
            help_articles::published_at.eq(published_at),
            help_articles::revision.eq(revision + 1),
        ))
        .execute(conn)?;
    if n == 0 { Ok(None) } else { Ok(Some(find(conn, a.id)?)) }
}

/// Articles the reader may see in a category, by title, keyset-paged on (title, id): those
/// after `after`, at most `limit`.
pub fn in_category(
    conn: &mut DbConnection,
    category_id: i64,
    r: &Readable,
    after: Option<(&str, i64)>,
    limit: i64,
) -> DbResult<Vec<ArticleSummary>> {
    let mut q = help_articles::table.filter(help_articles::category_id.eq(category_id)).into_boxed();
    if let Some((title, id)) = after {
        q = q.filter(
            help_articles::title
                .gt(title.to_string())
                .or(help_articles::title.eq(title.to_string()).and(help_articles::id.gt(id))),
        );
    }
    Ok(readable_filter!(q, r)
        .select(ArticleSummary::as_select())
        .order((help_articles::title.asc(), help_articles::id.asc()))
        .limit(limit)
        .load(conn)?)
}

/// The (title, id) an article's keyset cursor stands for.
pub fn title_of(conn: &mut DbConnection, id: i64) -> DbResult<Option<String>> {
    Ok(help_articles::table.find(id).select(help_articles::title).first(conn).optional()?)
}

/// How many articles the reader may see in each category.
pub fn counts_by_category(conn: &mut DbConnection, r: &Readable) -> DbResult<HashMap<i64, i64>> {
    let statuses: Vec<&str> = if r.published_only { vec!["published"] } else { vec!["draft", "published", "archived"] };
    let rows: Vec<(Option<i64>, i64)> = help_articles::table
        .filter(help_articles::category_id.is_not_null())
        .filter(help_articles::visibility.eq_any(r.audiences.clone()))
        .filter(help_articles::status.eq_any(statuses))
        .group_by(help_articles::category_id)
        .select((help_articles::category_id, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows.into_iter().filter_map(|(c, n)| c.map(|c| (c, n))).collect())
}

/// The most recently updated articles the reader may see.
pub fn recent(conn: &mut DbConnection, r: &Readable, limit: i64) -> DbResult<Vec<ArticleSummary>> {
    let q = help_articles::table.into_boxed();
    Ok(readable_filter!(q, r)
        .select(ArticleSummary::as_select())
        .order((help_articles::updated_at.desc(), help_articles::id.desc()))
        .limit(limit)
        .load(conn)?)
}

/// The newest change to any article or category (the help center home's Last-Modified).
pub fn last_change(conn: &mut DbConnection) -> DbResult<NaiveDateTime> {
    let a: Option<NaiveDateTime> =
        help_articles::table.select(diesel::dsl::max(help_articles::updated_at)).first(conn)?;
    let c: Option<NaiveDateTime> =
        help_categories::table.select(diesel::dsl::max(help_categories::updated_at)).first(conn)?;
    Ok(a.max(c).unwrap_or_default())
}

/// Marks categories changed (an article in them was saved, came or went), so their pages'
/// Last-Modified moves.
pub fn touch_categories(conn: &mut DbConnection, ids: &[i64], now: NaiveDateTime) -> DbResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    diesel::update(help_categories::table.filter(help_categories::id.eq_any(ids)))
        .set(help_categories::updated_at.eq(now))
        .execute(conn)?;
    Ok(())
}

/// Every article for the writers' list, newest change first, keyset-paged on (updated_at, id).
pub fn manage_page(
    conn: &mut DbConnection,
    status: Option<&str>,
    after: Option<(NaiveDateTime, i64)>,
    limit: i64,
) -> DbResult<Vec<ArticleSummary>> {
    let mut q = help_articles::table.select(ArticleSummary::as_select()).into_boxed();
    if let Some(s) = status {
        q = q.filter(help_articles::status.eq(s.to_string()));
    }
    if let Some((t, id)) = after {
        q = q.filter(help_articles::updated_at.lt(t).or(help_articles::updated_at.eq(t).and(help_articles::id.lt(id))));
    }
    Ok(q.order((help_articles::updated_at.desc(), help_articles::id.desc())).limit(limit).load(conn)?)
}

/// Articles carrying a tag that the reader may see, by title.
pub fn with_tag(conn: &mut DbConnection, tag: &str, r: &Readable, limit: i64) -> DbResult<Vec<ArticleSummary>> {
    let ids = help_article_tags::table.filter(help_article_tags::tag.eq(tag)).select(help_article_tags::article_id);
    let q = help_articles::table.filter(help_articles::id.eq_any(ids)).into_boxed();
    Ok(readable_filter!(q, r)
        .select(ArticleSummary::as_select())
        .order((help_articles::title.asc(), help_articles::id.asc()))
        .limit(limit)
        .load(conn)?)
}

/// Published public articles for the sitemap: (slug, updated_at), newest first.
pub fn public_published(conn: &mut DbConnection, limit: i64) -> DbResult<Vec<(String, NaiveDateTime)>> {
    Ok(help_articles::table
        .filter(help_articles::status.eq("published"))
        .filter(help_articles::visibility.eq("public"))
        .select((help_articles::slug, help_articles::updated_at))
        .order((help_articles::updated_at.desc(), help_articles::id.desc()))
        .limit(limit)
        .load(conn)?)
}

/// Articles that are a problem's known-error workaround.
pub fn for_problem(conn: &mut DbConnection, problem_id: i64) -> DbResult<Vec<ArticleSummary>> {
    Ok(help_articles::table
        .filter(help_articles::problem_id.eq(problem_id))
        .select(ArticleSummary::as_select())
        .order(help_articles::id.asc())
        .load(conn)?)
}

/// Articles whose plain text has not been derived yet: (id, body), at most `limit`.
pub fn without_text(conn: &mut DbConnection, limit: i64) -> DbResult<Vec<(i64, String)>> {
    Ok(help_articles::table
        .filter(help_articles::body_text.is_null())
        .select((help_articles::id, help_articles::body))
        .order(help_articles::id.asc())
        .limit(limit)
        .load(conn)?)
}

/// Stores the plain text derived from an article's body (and its excerpt), without a revision.
pub fn set_text(conn: &mut DbConnection, id: i64, body_text: &str, excerpt: &str) -> DbResult<()> {
    diesel::update(help_articles::table.find(id))
        .set((help_articles::body_text.eq(Some(body_text)), help_articles::excerpt.eq(excerpt)))
        .execute(conn)?;
    Ok(())
}

/// Flags an article for review (or clears the flag with `None`), without a new revision.
pub fn set_review(conn: &mut DbConnection, id: i64, flag: Option<(&str, NaiveDateTime)>) -> DbResult<()> {
    diesel::update(help_articles::table.find(id))
        .set((
            help_articles::review_reason.eq(flag.map(|f| f.0).unwrap_or("")),
            help_articles::review_flagged_at.eq(flag.map(|f| f.1)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Records (or, with "", clears) the release that fixed the article's problem. The article's
/// `updated_at` moves so cached copies of its page are refreshed.
pub fn set_fixed_in(conn: &mut DbConnection, id: i64, release: &str, now: NaiveDateTime) -> DbResult<()> {
    diesel::update(help_articles::table.find(id))
        .set((help_articles::fixed_in_release.eq(release), help_articles::updated_at.eq(now)))
        .execute(conn)?;
    Ok(())
}

/// Articles flagged for review, oldest flag first.
pub fn flagged(conn: &mut DbConnection, limit: i64) -> DbResult<Vec<ArticleSummary>> {
    Ok(help_articles::table
        .filter(help_articles::review_flagged_at.is_not_null())
        .select(ArticleSummary::as_select())
        .order((help_articles::review_flagged_at.asc(), help_articles::id.asc()))
        .limit(limit)
        .load(conn)?)
}

// ---------- tags and related articles ----------

pub fn set_tags(conn: &mut DbConnection, id: i64, tags: &[String]) -> DbResult<()> {
    diesel::delete(help_article_tags::table.filter(help_article_tags::article_id.eq(id))).execute(conn)?;
    for t in tags {
        diesel::insert_into(help_article_tags::table)
            .values((help_article_tags::article_id.eq(id), help_article_tags::tag.eq(t)))
            .execute(conn)?;
    }
    Ok(())
}

/// The tags of these articles, (article id, tag), by tag.
pub fn tags_for(conn: &mut DbConnection, ids: &[i64]) -> DbResult<Vec<(i64, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(help_article_tags::table
        .filter(help_article_tags::article_id.eq_any(ids))
        .select((help_article_tags::article_id, help_article_tags::tag))
        .order((help_article_tags::article_id.asc(), help_article_tags::tag.asc()))
        .load(conn)?)
}

pub fn set_related(conn: &mut DbConnection, id: i64, related: &[i64]) -> DbResult<()> {
    diesel::delete(help_related::table.filter(help_related::article_id.eq(id))).execute(conn)?;
    for (n, r) in related.iter().enumerate() {
        diesel::insert_into(help_related::table)
            .values((
                help_related::article_id.eq(id),
                help_related::related_id.eq(*r),
                help_related::position.eq(i32::try_from(n).unwrap_or(i32::MAX)),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The ids of an article's related articles, in the order the writer gave.
pub fn related_of(conn: &mut DbConnection, id: i64) -> DbResult<Vec<i64>> {
    Ok(help_related::table
        .filter(help_related::article_id.eq(id))
        .select(help_related::related_id)
        .order(help_related::position.asc())
        .load(conn)?)
}

// ---------- events ----------

pub fn insert_event(
    conn: &mut DbConnection,
    article_id: i64,
    actor_id: Option<i64>,
    kind: &str,
    detail: &str,
    now: NaiveDateTime,
) -> DbResult<()> {
    diesel::insert_into(help_events::table)
        .values((
            help_events::article_id.eq(article_id),
            help_events::at.eq(now),
            help_events::actor_id.eq(actor_id),
            help_events::kind.eq(kind),
            help_events::detail.eq(detail),
        ))
        .execute(conn)?;
    Ok(())
}

/// An article's events, newest first.
pub fn events_of(conn: &mut DbConnection, article_id: i64) -> DbResult<Vec<Event>> {
    Ok(help_events::table
        .filter(help_events::article_id.eq(article_id))
        .select(Event::as_select())
        .order((help_events::at.desc(), help_events::id.desc()))
        .limit(200)
        .load(conn)?)
}

#[cfg(test)]
mod tests {
    use super::Readable;

    #[test]
    fn the_readable_condition_holds_only_known_audiences() {
        let r = Readable { audiences: vec!["public", "customers"], published_only: true };
        assert_eq!(r.sql(), "a.visibility IN ('public','customers') AND a.status = 'published'");
        let odd = Readable { audiences: vec!["public') OR 1=1 --"], published_only: false };
        assert_eq!(odd.sql(), "a.visibility IN ('')");
    }
}
