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

// ---------- categories ----------

pub fn categories(conn: &mut DbConnection) -> DbResult<Vec<Category>> {
    Ok(help_categories::table
        .select(Category::as_select())
        .order((help_categories::position.asc(), help_categories::name.asc(), help_categories::id.asc()))
        .load(conn)?)
}

pub fn category(conn: &mut DbConnection, id: i64) -> DbResult<Category> {
    Ok(help_categories::table.find(id).select(Category::as_select()).first(conn)?)
}

pub fn category_by_slug(conn: &mut DbConnection, slug: &str) -> DbResult<Category> {
    Ok(help_categories::table.filter(help_categories::slug.eq(slug)).select(Category::as_select()).first(conn)?)
}

pub fn category_slug_taken(conn: &mut DbConnection, slug: &str, except: Option<i64>) -> DbResult<bool> {
    let mut q = help_categories::table.filter(help_categories::slug.eq(slug)).select(help_categories::id).into_boxed();
    if let Some(id) = except {
        q = q.filter(help_categories::id.ne(id));
    }
    Ok(q.first::<i64>(conn).optional()?.is_some())
}

pub fn has_children(conn: &mut DbConnection, id: i64) -> DbResult<bool> {
    Ok(help_categories::table
        .filter(help_categories::parent_id.eq(id))
        .select(help_categories::id)
        .first::<i64>(conn)
        .optional()?
        .is_some())
}

pub fn insert_category(conn: &mut DbConnection, f: &CategoryFields, now: NaiveDateTime) -> DbResult<Category> {
    Ok(diesel::insert_into(help_categories::table)
        .values((f, help_categories::created_at.eq(now), help_categories::updated_at.eq(now)))
        .returning(help_categories::all_columns)
        .get_result(conn)?)
}

pub fn update_category(conn: &mut DbConnection, id: i64, f: &CategoryFields, now: NaiveDateTime) -> DbResult<()> {
    let n =
        diesel::update(help_categories::table.find(id)).set((f, help_categories::updated_at.eq(now))).execute(conn)?;
    if n == 0 { Err(super::DbError::NotFound) } else { Ok(()) }
}

/// Whether any article (of any status or audience) is in the category.
pub fn category_has_articles(conn: &mut DbConnection, id: i64) -> DbResult<bool> {
    Ok(help_articles::table
        .filter(help_articles::category_id.eq(id))
        .select(help_articles::id)
        .first::<i64>(conn)
        .optional()?
        .is_some())
}

pub fn delete_category(conn: &mut DbConnection, id: i64) -> DbResult<()> {
    diesel::delete(
        help_old_slugs::table.filter(help_old_slugs::kind.eq("category")).filter(help_old_slugs::target_id.eq(id)),
    )
    .execute(conn)?;
    let n = diesel::delete(help_categories::table.find(id)).execute(conn)?;
    if n == 0 { Err(super::DbError::NotFound) } else { Ok(()) }
}

// ---------- old addresses ----------

/// Remembers that `kind` ("article" / "category") `target_id` was at `slug`. The current
/// address of anything else always wins: a slug taken again is dropped from the history
/// (`forget_old_slug`).
pub fn remember_old_slug(
    conn: &mut DbConnection,
    kind: &str,
    slug: &str,
    target_id: i64,
    now: NaiveDateTime,
) -> DbResult<()> {
    forget_old_slug(conn, kind, slug)?;
    diesel::insert_into(help_old_slugs::table)
        .values((
            help_old_slugs::kind.eq(kind),
            help_old_slugs::slug.eq(slug),
            help_old_slugs::target_id.eq(target_id),
            help_old_slugs::changed_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// The slug is in use now: it no longer leads anywhere else.
pub fn forget_old_slug(conn: &mut DbConnection, kind: &str, slug: &str) -> DbResult<()> {
    diesel::delete(help_old_slugs::table.filter(help_old_slugs::kind.eq(kind)).filter(help_old_slugs::slug.eq(slug)))
        .execute(conn)?;
    Ok(())
}

/// What used to be at `slug`, if anything.
pub fn old_slug_target(conn: &mut DbConnection, kind: &str, slug: &str) -> DbResult<Option<i64>> {
    Ok(help_old_slugs::table
        .filter(help_old_slugs::kind.eq(kind))
        .filter(help_old_slugs::slug.eq(slug))
        .select(help_old_slugs::target_id)
        .first(conn)
        .optional()?)
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

// ---------- revisions ----------

pub struct NewRevision<'a> {
    pub article: &'a Article,
    pub tags: &'a str,
    pub note: &'a str,
    pub author_id: i64,
    pub now: NaiveDateTime,
}

/// Stores the article as it now is under its current revision number.
pub fn insert_revision(conn: &mut DbConnection, r: &NewRevision<'_>) -> DbResult<()> {
    let a = r.article;
    diesel::insert_into(help_revisions::table)
        .values((
            help_revisions::article_id.eq(a.id),
            help_revisions::number.eq(a.revision),
            help_revisions::title.eq(&a.title),
            help_revisions::slug.eq(&a.slug),
            help_revisions::summary.eq(&a.summary),
            help_revisions::body.eq(&a.body),
            help_revisions::visibility.eq(&a.visibility),
            help_revisions::status.eq(&a.status),
            help_revisions::category_id.eq(a.category_id),
            help_revisions::tags.eq(r.tags),
            help_revisions::note.eq(r.note),
            help_revisions::author_id.eq(Some(r.author_id)),
            help_revisions::created_at.eq(r.now),
        ))
        .execute(conn)?;
    Ok(())
}

/// An article's revisions, newest first.
pub fn revisions(conn: &mut DbConnection, article_id: i64) -> DbResult<Vec<Revision>> {
    Ok(help_revisions::table
        .filter(help_revisions::article_id.eq(article_id))
        .select(Revision::as_select())
        .order(help_revisions::number.desc())
        .load(conn)?)
}

pub fn revision(conn: &mut DbConnection, article_id: i64, number: i32) -> DbResult<Revision> {
    Ok(help_revisions::table
        .filter(help_revisions::article_id.eq(article_id))
        .filter(help_revisions::number.eq(number))
        .select(Revision::as_select())
        .first(conn)?)
}

// ---------- images ----------

pub struct NewImage<'a> {
    pub article_id: i64,
    pub filename: &'a str,
    pub content_type: &'a str,
    pub data: &'a [u8],
    pub created_by: i64,
    pub now: NaiveDateTime,
}

pub fn insert_image(conn: &mut DbConnection, i: &NewImage<'_>) -> DbResult<i64> {
    Ok(diesel::insert_into(help_images::table)
        .values((
            help_images::article_id.eq(i.article_id),
            help_images::filename.eq(i.filename),
            help_images::content_type.eq(i.content_type),
            help_images::size.eq(i64::try_from(i.data.len()).unwrap_or(i64::MAX)),
            help_images::data.eq(i.data),
            help_images::created_at.eq(i.now),
            help_images::created_by.eq(Some(i.created_by)),
        ))
        .returning(help_images::id)
        .get_result(conn)?)
}

pub fn image(conn: &mut DbConnection, id: i64) -> DbResult<ImageMeta> {
    Ok(help_images::table.find(id).select(ImageMeta::as_select()).first(conn)?)
}

pub fn image_data(conn: &mut DbConnection, id: i64) -> DbResult<Vec<u8>> {
    Ok(help_images::table.find(id).select(help_images::data).first(conn)?)
}

/// Deletes an image of an article; false when there was none with this id on that article.
pub fn delete_image(conn: &mut DbConnection, article_id: i64, image_id: i64) -> DbResult<bool> {
    Ok(diesel::delete(help_images::table.find(image_id).filter(help_images::article_id.eq(article_id)))
        .execute(conn)?
        > 0)
}

pub fn images_of(conn: &mut DbConnection, article_id: i64) -> DbResult<Vec<ImageMeta>> {
    Ok(help_images::table
        .filter(help_images::article_id.eq(article_id))
        .select(ImageMeta::as_select())
        .order(help_images::id.asc())
        .load(conn)?)
}

// ---------- votes ----------

pub fn vote_of(conn: &mut DbConnection, article_id: i64, voter: &str) -> DbResult<Option<Vote>> {
    Ok(help_votes::table
        .filter(help_votes::article_id.eq(article_id))
        .filter(help_votes::voter.eq(voter))
        .select(Vote::as_select())
        .first(conn)
        .optional()?)
}

pub struct NewVote<'a> {
    pub article_id: i64,
    pub voter: &'a str,
    pub user_id: Option<i64>,
    pub helpful: bool,
    pub comment: &'a str,
    /// HMAC of the IP address for anonymous votes; empty for signed-in users.
    pub ip_hash: &'a str,
    pub now: NaiveDateTime,
}

pub fn insert_vote(conn: &mut DbConnection, v: &NewVote<'_>) -> DbResult<()> {
    diesel::insert_into(help_votes::table)
        .values((
            help_votes::article_id.eq(v.article_id),
            help_votes::voter.eq(v.voter),
            help_votes::user_id.eq(v.user_id),
            help_votes::helpful.eq(v.helpful),
            help_votes::comment.eq(v.comment),
            help_votes::created_at.eq(v.now),
            help_votes::updated_at.eq(v.now),
            help_votes::ip_hash.eq(v.ip_hash),
        ))
        .execute(conn)?;
    Ok(())
}

/// How many anonymous votes on the article came from this (hashed) IP address since `since`.
pub fn anonymous_votes_from(
    conn: &mut DbConnection,
    article_id: i64,
    ip_hash: &str,
    since: NaiveDateTime,
) -> DbResult<i64> {
    Ok(help_votes::table
        .filter(help_votes::article_id.eq(article_id))
        .filter(help_votes::ip_hash.eq(ip_hash))
        .filter(help_votes::created_at.ge(since))
        .filter(help_votes::user_id.is_null())
        .count()
        .get_result(conn)?)
}

pub fn change_vote(conn: &mut DbConnection, id: i64, helpful: bool, comment: &str, now: NaiveDateTime) -> DbResult<()> {
    diesel::update(help_votes::table.find(id))
        .set((help_votes::helpful.eq(helpful), help_votes::comment.eq(comment), help_votes::updated_at.eq(now)))
        .execute(conn)?;
    Ok(())
}

/// Yes/no counts per article, for the given articles (all when `ids` is None).
pub fn ratings(conn: &mut DbConnection, ids: Option<&[i64]>) -> DbResult<HashMap<i64, Rating>> {
    let rows: Vec<(i64, bool, i64)> = match ids {
        Some([]) => return Ok(HashMap::new()),
        Some(ids) => help_votes::table
            .filter(help_votes::article_id.eq_any(ids.to_vec()))
            .group_by((help_votes::article_id, help_votes::helpful))
            .select((help_votes::article_id, help_votes::helpful, diesel::dsl::count_star()))
            .load(conn)?,
        None => help_votes::table
            .group_by((help_votes::article_id, help_votes::helpful))
            .select((help_votes::article_id, help_votes::helpful, diesel::dsl::count_star()))
            .load(conn)?,
    };
    let mut out: HashMap<i64, Rating> = HashMap::new();
    for (id, helpful, n) in rows {
        let r = out.entry(id).or_default();
        if helpful {
            r.yes += n;
        } else {
            r.no += n;
        }
    }
    Ok(out)
}

/// The latest "No" answers that came with a comment: (article id, comment, when).
pub fn recent_complaints(conn: &mut DbConnection, limit: i64) -> DbResult<Vec<(i64, String, NaiveDateTime)>> {
    Ok(help_votes::table
        .filter(help_votes::helpful.eq(false))
        .filter(help_votes::comment.ne(""))
        .select((help_votes::article_id, help_votes::comment, help_votes::updated_at))
        .order((help_votes::updated_at.desc(), help_votes::id.desc()))
        .limit(limit)
        .load(conn)?)
}

// ---------- suggestion opens (deflection) ----------

pub fn insert_open(conn: &mut DbConnection, article_id: i64, user_id: i64, now: NaiveDateTime) -> DbResult<()> {
    diesel::insert_into(help_suggestion_opens::table)
        .values((
            help_suggestion_opens::article_id.eq(article_id),
            help_suggestion_opens::user_id.eq(user_id),
            help_suggestion_opens::opened_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// The user filed an incident: their opens since `since` were not deflections after all.
pub fn settle_opens(conn: &mut DbConnection, user_id: i64, since: NaiveDateTime, incident_id: i64) -> DbResult<usize> {
    Ok(diesel::update(
        help_suggestion_opens::table
            .filter(help_suggestion_opens::user_id.eq(user_id))
            .filter(help_suggestion_opens::incident_id.is_null())
            .filter(help_suggestion_opens::opened_at.ge(since)),
    )
    .set(help_suggestion_opens::incident_id.eq(Some(incident_id)))
    .execute(conn)?)
}

/// What became of the suggestions opened from the new-incident form, per article.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Deflection {
    pub opens: i64,
    /// No incident from the same user within the window, and the window is over.
    pub deflected: i64,
    /// The user filed an incident within the window.
    pub filed: i64,
}

#[derive(QueryableByName)]
struct DeflectionRow {
    #[diesel(sql_type = BigInt)]
    article_id: i64,
    #[diesel(sql_type = BigInt)]
    opens: i64,
    #[diesel(sql_type = BigInt)]
    deflected: i64,
    #[diesel(sql_type = BigInt)]
    filed: i64,
}

/// Deflection counts per article; `window_closed_before` is now minus the window (opens after
/// it are still undecided). One grouped query, the same SQL on both engines.
pub fn deflections(
    conn: &mut DbConnection,
    window_closed_before: NaiveDateTime,
    article: Option<i64>,
) -> DbResult<HashMap<i64, Deflection>> {
    let sql = format!(
        "SELECT article_id, COUNT(*) AS opens, \
           COALESCE(SUM(CASE WHEN incident_id IS NULL AND opened_at <= $1 THEN 1 ELSE 0 END), 0) AS deflected, \
           COALESCE(SUM(CASE WHEN incident_id IS NOT NULL THEN 1 ELSE 0 END), 0) AS filed \
         FROM help_suggestion_opens {} GROUP BY article_id",
        if article.is_some() { "WHERE article_id = $2" } else { "" }
    );
    let q = diesel::sql_query(sql).bind::<Timestamp, _>(window_closed_before);
    let rows: Vec<DeflectionRow> = match article {
        Some(id) => q.bind::<BigInt, _>(id).load(conn)?,
        None => q.load(conn)?,
    };
    Ok(rows
        .into_iter()
        .map(|r| (r.article_id, Deflection { opens: r.opens, deflected: r.deflected, filed: r.filed }))
        .collect())
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

// ---------- search ----------

#[derive(QueryableByName)]
struct HitRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    snippet: String,
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// Full-text search over title, summary and body: the best `limit` articles the reader may
/// see that hold every word, best first, each with a snippet whose matches sit between
/// `MARK_START` and `MARK_END` (see `snippets::snippet_html`). The words are quoted for FTS5 and
/// passed through `plainto_tsquery` on PostgreSQL, so no user text is read as query syntax.
pub fn search(conn: &mut DbConnection, words: &[String], r: &Readable, limit: i64) -> DbResult<Vec<(i64, String)>> {
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let filter = r.sql();
    let rows: Vec<HitRow> = match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(format!(
            "SELECT a.id AS id, snippet(help_fts, -1, char(1), char(2), '…', 24) AS snippet \
             FROM help_fts JOIN help_articles a ON a.id = help_fts.rowid \
             WHERE help_fts MATCH ? AND {filter} \
             ORDER BY bm25(help_fts, 10.0, 4.0, 1.0), a.id DESC LIMIT {limit}"
        ))
        .bind::<Text, _>(fts5_query(words))
        .load(c)?,
        DbConnection::Pg(c) => diesel::sql_query(format!(
            "SELECT a.id, ts_headline('english', a.summary || ' ' || COALESCE(a.body_text, ''), plainto_tsquery('english', $1), \
               'StartSel=' || chr(1) || ', StopSel=' || chr(2) || ', MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=\" … \"') AS snippet \
             FROM help_articles a \
             WHERE a.tsv @@ plainto_tsquery('english', $1) AND {filter} \
             ORDER BY ts_rank(a.tsv, plainto_tsquery('english', $1)) DESC, a.id DESC LIMIT {limit}"
        ))
        .bind::<Text, _>(pg_query(words))
        .load(c)?,
    };
    Ok(rows.into_iter().map(|h| (h.id, h.snippet)).collect())
}

/// Articles holding ANY of the words (the new-incident form's suggestions and the incident
/// page's article picker), best first.
pub fn matching_any(conn: &mut DbConnection, words: &[String], r: &Readable, limit: i64) -> DbResult<Vec<i64>> {
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let filter = r.sql();
    let rows: Vec<IdRow> = match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(format!(
            "SELECT a.id AS id FROM help_fts JOIN help_articles a ON a.id = help_fts.rowid \
             WHERE help_fts MATCH ? AND {filter} ORDER BY bm25(help_fts, 10.0, 4.0, 1.0), a.id DESC LIMIT {limit}"
        ))
        .bind::<Text, _>(fts5_any(words))
        .load(c)?,
        DbConnection::Pg(c) => diesel::sql_query(format!(
            "SELECT a.id FROM help_articles a WHERE a.tsv @@ to_tsquery('english', $1) AND {filter} \
             ORDER BY ts_rank(a.tsv, to_tsquery('english', $1)) DESC, a.id DESC LIMIT {limit}"
        ))
        .bind::<Text, _>(pg_any(words))
        .load(c)?,
    };
    Ok(rows.into_iter().map(|r| r.id).collect())
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
