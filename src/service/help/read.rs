//! What readers see: the help center's home, categories, articles, search, the sitemap and
//! images; the suggestions on the new-incident form and the article picker on the incident page.

use super::{Card, actor_opt, may_read, readable};
use crate::db::help::{self, Article, Category, Deflection, ImageMeta};
use crate::db::models::User;
use crate::db::{search as fts, users};
use crate::domain::help::{DEFLECTION_WINDOW_MINUTES, Rating};
use crate::domain::policy::{self, Action, Actor, Resource};
use crate::service::{AppState, FieldErrors, ServiceError, ServiceResult, actor_of, authorize};
use chrono::{Duration, NaiveDateTime};
use std::collections::HashMap;

/// How many search results a page shows.
pub const SEARCH_LIMIT: i64 = 50;

/// How many articles a suggestion list shows.
pub const SUGGESTION_LIMIT: i64 = 5;

fn newest(times: impl IntoIterator<Item = NaiveDateTime>) -> NaiveDateTime {
    times.into_iter().max().unwrap_or_default()
}

fn may(actor: Option<&Actor>, action: Action) -> bool {
    policy::allows(actor, action, Resource::None)
}

/// A top-level category with its subcategories, and how many articles the viewer may read in
/// each (a top-level count includes its subcategories').
#[derive(Debug, Clone)]
pub struct CategoryNode {
    pub category: Category,
    pub count: i64,
    pub children: Vec<(Category, i64)>,
}

pub struct HomeView {
    pub categories: Vec<CategoryNode>,
    pub recent: Vec<Card>,
    pub can_write: bool,
    pub can_feedback: bool,
    pub last_modified: NaiveDateTime,
}

/// The category tree as the viewer sees it: readers only see categories holding something
/// they may read; writers see every category.
fn tree(conn: &mut crate::db::DbConnection, actor: Option<&Actor>) -> ServiceResult<Vec<CategoryNode>> {
    let all = help::categories(conn)?;
    let counts = help::counts_by_category(conn, &readable(actor))?;
    let writer = may(actor, Action::WriteHelp);
    let count = |c: &Category| counts.get(&c.id).copied().unwrap_or(0);
    let mut out = Vec::new();
    for top in all.iter().filter(|c| c.parent_id.is_none()) {
        let children: Vec<(Category, i64)> = all
            .iter()
            .filter(|c| c.parent_id == Some(top.id))
            .map(|c| (c.clone(), count(c)))
            .filter(|(_, n)| writer || *n > 0)
            .collect();
        let total = count(top) + children.iter().map(|(_, n)| n).sum::<i64>();
        if writer || total > 0 {
            out.push(CategoryNode { category: top.clone(), count: total, children });
        }
    }
    Ok(out)
}

pub fn home(state: &AppState, user: Option<&User>) -> ServiceResult<HomeView> {
    let actor = actor_opt(user);
    let actor = actor.as_ref();
    let mut conn = state.conn()?;
    let conn = &mut *conn;
    let categories = tree(conn, actor)?;
    let recent = help::recent(conn, &readable(actor), 10)?;
    // Any change to any article or category may change this page (an article archived drops
    // out of the lists), so the newest of all of them is its last modification.
    let last_modified = help::last_change(conn)?;
    Ok(HomeView {
        categories,
        recent: recent.iter().map(Card::of).collect(),
        can_write: may(actor, Action::WriteHelp),
        can_feedback: may(actor, Action::ViewHelpFeedback),
        last_modified,
    })
}

pub struct CategoryView {
    pub category: Category,
    pub parent: Option<Category>,
    pub children: Vec<(Category, i64)>,
    pub articles: Vec<Card>,
    pub can_write: bool,
    pub last_modified: NaiveDateTime,
}

/// A category's page; a category without anything the viewer may read answers 404 (its name
/// alone may say more than a reader should learn).
pub fn category_page(state: &AppState, user: Option<&User>, slug: &str) -> ServiceResult<CategoryView> {
    let actor = actor_opt(user);
    let actor = actor.as_ref();
    let mut conn = state.conn()?;
    let conn = &mut *conn;
    let category = help::category_by_slug(conn, slug)?;
    let nodes = tree(conn, actor)?;
    let (parent, children) = match category.parent_id {
        None => {
            let node = nodes.iter().find(|n| n.category.id == category.id).ok_or(ServiceError::NotFound)?;
            (None, node.children.clone())
        }
        Some(pid) => {
            let node = nodes.iter().find(|n| n.category.id == pid).ok_or(ServiceError::NotFound)?;
            if !node.children.iter().any(|(c, _)| c.id == category.id) {
                return Err(ServiceError::NotFound);
            }
            (Some(node.category.clone()), Vec::new())
        }
    };
    let articles = help::in_category(conn, category.id, &readable(actor), 500)?;
    let last_modified = newest(
        articles
            .iter()
            .map(|a| a.updated_at)
            .chain(std::iter::once(category.updated_at))
            .chain(children.iter().map(|(c, _)| c.updated_at)),
    );
    Ok(CategoryView {
        articles: articles.iter().map(Card::of).collect(),
        can_write: may(actor, Action::WriteHelp),
        category,
        parent,
        children,
        last_modified,
    })
}

pub struct ArticleView {
    pub article: Article,
    pub category: Option<Category>,
    pub parent: Option<Category>,
    pub tags: Vec<String>,
    pub related: Vec<Card>,
    pub author: String,
    pub updated_by: String,
    /// Staff who may see feedback: the votes and what became of suggestion opens.
    pub rating: Option<Rating>,
    pub deflection: Option<Deflection>,
    /// The signed-in viewer's own answer, if any.
    pub my_vote: Option<bool>,
    /// PRB-n when the article is a problem's workaround and the viewer may read problems.
    pub problem_key: Option<String>,
    pub can_write: bool,
    pub last_modified: NaiveDateTime,
}

pub fn article_page(state: &AppState, user: Option<&User>, slug: &str) -> ServiceResult<ArticleView> {
    let actor = actor_opt(user);
    let actor = actor.as_ref();
    let mut conn = state.conn()?;
    let conn = &mut *conn;
    let article = help::find_by_slug(conn, slug)?;
    if !may_read(actor, &article) {
        return Err(ServiceError::NotFound);
    }
    let category = match article.category_id {
        Some(id) => Some(help::category(conn, id)?),
        None => None,
    };
    let parent = match category.as_ref().and_then(|c| c.parent_id) {
        Some(id) => Some(help::category(conn, id)?),
        None => None,
    };
    let tags = help::tags_for(conn, &[article.id])?.into_iter().map(|(_, t)| t).collect();
    let related_ids = help::related_of(conn, article.id)?;
    let mut found: HashMap<i64, Article> =
        help::find_many(conn, &related_ids)?.into_iter().map(|a| (a.id, a)).collect();
    // Every related article counts for the page's last change, also one that left the list.
    let related_changed = found.values().map(|a| a.updated_at).max();
    let related: Vec<Article> = related_ids
        .iter()
        .filter_map(|id| found.remove(id))
        .filter(|a| a.status == "published" && may_read(actor, a))
        .collect();
    let people: HashMap<i64, String> =
        users::list_by_ids(conn, &[article.author_id, article.updated_by].into_iter().flatten().collect::<Vec<_>>())?
            .into_iter()
            .map(|u| (u.id, u.display_name))
            .collect();
    let name = |id: Option<i64>| id.and_then(|i| people.get(&i).cloned()).unwrap_or_else(|| "Firewatch".into());
    let feedback = may(actor, Action::ViewHelpFeedback);
    let (rating, deflection) = if feedback {
        let cutoff = state.clock.now_naive() - Duration::minutes(DEFLECTION_WINDOW_MINUTES);
        (
            Some(help::ratings(conn, Some(&[article.id]))?.remove(&article.id).unwrap_or_default()),
            Some(help::deflections(conn, cutoff, Some(article.id))?.remove(&article.id).unwrap_or_default()),
        )
    } else {
        (None, None)
    };
    let my_vote = match user {
        Some(u) => help::vote_of(conn, article.id, &super::feedback::user_voter(u.id))?.map(|v| v.helpful),
        None => None,
    };
    let problem_key = article.problem_id.filter(|_| may(actor, Action::ViewProblems)).map(crate::domain::problem::key);
    let last_modified = newest(
        std::iter::once(article.updated_at)
            .chain(category.iter().map(|c| c.updated_at))
            .chain(parent.iter().map(|c| c.updated_at))
            .chain(related_changed),
    );
    Ok(ArticleView {
        author: name(article.author_id),
        updated_by: name(article.updated_by),
        related: related.iter().map(Card::of).collect(),
        can_write: may(actor, Action::WriteHelp),
        article,
        category,
        parent,
        tags,
        rating,
        deflection,
        my_vote,
        problem_key,
        last_modified,
    })
}

pub struct SearchHit {
    pub card: Card,
    /// Escaped HTML with the matches in `<mark>`; empty when listing by tag.
    pub snippet_html: String,
    pub updated_at: NaiveDateTime,
}

pub struct SearchView {
    pub hits: Vec<SearchHit>,
    /// The query had no word to search for.
    pub empty_query: bool,
}

/// `/help/search`: articles holding every word of `q` (or carrying `tag`), best first, among
/// those the visitor may read (published, and of the audiences the policy allows them).
pub fn search(state: &AppState, user: Option<&User>, q: &str, tag: &str) -> ServiceResult<SearchView> {
    let actor = actor_opt(user);
    let actor = actor.as_ref();
    let r = readable(actor);
    let mut conn = state.conn()?;
    let conn = &mut *conn;
    let tag = tag.trim().to_lowercase();
    let (ordered, snippets): (Vec<i64>, HashMap<i64, String>) = if !tag.is_empty() {
        (help::with_tag(conn, &tag, &r, SEARCH_LIMIT)?.into_iter().map(|a| a.id).collect(), HashMap::new())
    } else {
        let words = fts::words(q);
        if words.is_empty() {
            return Ok(SearchView { hits: Vec::new(), empty_query: true });
        }
        let hits = help::search(conn, &words, &r, SEARCH_LIMIT)?;
        (
            hits.iter().map(|(id, _)| *id).collect(),
            hits.into_iter().map(|(id, s)| (id, fts::snippet_html(&s))).collect(),
        )
    };
    let mut rows: HashMap<i64, Article> = help::find_many(conn, &ordered)?.into_iter().map(|a| (a.id, a)).collect();
    let hits = ordered
        .iter()
        .filter_map(|id| rows.remove(id))
        // The query keeps to what the visitor may read; the policy has the last word.
        .filter(|a| may_read(actor, a))
        .map(|a| SearchHit {
            snippet_html: snippets.get(&a.id).cloned().unwrap_or_default(),
            updated_at: a.updated_at,
            card: Card::of(&a),
        })
        .collect();
    Ok(SearchView { hits, empty_query: false })
}

/// Published public articles for `/sitemap.xml`: (slug, last change).
pub fn sitemap(state: &AppState) -> ServiceResult<Vec<(String, NaiveDateTime)>> {
    Ok(help::public_published(&mut *state.conn()?, 50_000)?)
}

/// An image of an article the visitor may read, with its bytes.
pub fn image(state: &AppState, user: Option<&User>, id: i64) -> ServiceResult<(ImageMeta, Vec<u8>)> {
    let actor = actor_opt(user);
    let mut conn = state.conn()?;
    let conn = &mut *conn;
    let meta = help::image(conn, id)?;
    let article = help::find(conn, meta.article_id)?;
    if !may_read(actor.as_ref(), &article) {
        return Err(ServiceError::NotFound);
    }
    let data = help::image_data(conn, id)?;
    Ok((meta, data))
}

/// Articles that may answer a report being written (the new-incident form's check step):
/// published ones the user may read that share words with the title and description.
pub fn suggestions(state: &AppState, user: &User, title: &str, description: &str) -> ServiceResult<Vec<Card>> {
    let actor = actor_of(user);
    authorize(&actor, Action::CreateIncident, Resource::None)?;
    let words = fts::similar_words(title, description);
    let mut conn = state.conn()?;
    let conn = &mut *conn;
    let ids = help::matching_any(conn, &words, &readable(Some(&actor)), SUGGESTION_LIMIT)?;
    let mut rows: HashMap<i64, Article> = help::find_many(conn, &ids)?.into_iter().map(|a| (a.id, a)).collect();
    Ok(ids
        .iter()
        .filter_map(|id| rows.remove(id))
        .filter(|a| may_read(Some(&actor), a))
        .map(|a| Card::of(&a))
        .collect())
}

pub struct PickerView {
    pub query: String,
    pub options: Vec<Card>,
}

/// The incident page's article picker: published articles the staff member may read, the best
/// matches for `q` (or the most recently updated ones without a query).
pub fn link_picker(state: &AppState, user: &User, incident_id: i64, q: &str) -> ServiceResult<PickerView> {
    let actor = actor_of(user);
    let mut conn = state.conn()?;
    let conn = &mut *conn;
    crate::service::incidents::load_for(conn, &actor, incident_id, Action::WorkIncident)?;
    let r = readable(Some(&actor));
    let words = fts::words(q);
    let articles = if words.is_empty() {
        help::recent(conn, &r, 30)?
    } else {
        let ids: Vec<i64> = help::search(conn, &words, &r, 30)?.into_iter().map(|(id, _)| id).collect();
        let mut rows: HashMap<i64, Article> = help::find_many(conn, &ids)?.into_iter().map(|a| (a.id, a)).collect();
        ids.iter().filter_map(|id| rows.remove(id)).collect()
    };
    Ok(PickerView {
        query: q.trim().to_string(),
        options: articles.iter().filter(|a| may_read(Some(&actor), a)).map(Card::of).collect(),
    })
}

/// The article a staff member links from a reply: published, and one they may read.
pub fn link_target(state: &AppState, user: &User, incident_id: i64, slug: &str) -> ServiceResult<Card> {
    let actor = actor_of(user);
    let mut conn = state.conn()?;
    let conn = &mut *conn;
    crate::service::incidents::load_for(conn, &actor, incident_id, Action::WorkIncident)?;
    let refuse = || ServiceError::Invalid(FieldErrors::single("article", "Choose a published article from the list."));
    let a = match help::find_by_slug(conn, slug) {
        Ok(a) => a,
        Err(crate::db::DbError::NotFound) => return Err(refuse()),
        Err(e) => return Err(e.into()),
    };
    if a.status != "published" || !may_read(Some(&actor), &a) {
        return Err(refuse());
    }
    Ok(Card::of(&a))
}
