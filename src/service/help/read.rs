//! What readers see: the help center's home, categories, articles, search, the sitemap and
//! images; the suggestions on the new-incident form and the article picker on the incident page.
//! Lists load summaries (`db::help::ArticleSummary`: no bodies) and say when there is more than
//! they show.

use super::{Card, actor_opt, may_read, public_reply_readable, readable, readable_by_reporter, reporter_of, within};
use crate::db::help::{self, Article, ArticleSummary, Category, Deflection, ImageMeta};
use crate::db::models::{Incident, User};
use crate::db::{DbConnection, search as fts, users};
use crate::domain::help::{ArticleStatus, Audience, DEFLECTION_WINDOW_MINUTES, Rating};
use crate::domain::policy::{self, Action, Actor, Resource};
use crate::service::{AppState, FieldErrors, ServiceError, ServiceResult, actor_of, authorize};
use chrono::{Duration, NaiveDateTime};
use std::collections::HashMap;

/// How many search results a page shows.
pub const SEARCH_LIMIT: i64 = 50;

/// How many articles a suggestion list shows.
pub const SUGGESTION_LIMIT: i64 = 5;

/// How many articles a category page shows at a time.
pub const CATEGORY_PAGE: i64 = 50;

/// How many articles the incident page's picker offers.
pub const PICKER_LIMIT: i64 = 30;

fn newest(times: impl IntoIterator<Item = NaiveDateTime>) -> NaiveDateTime {
    times.into_iter().max().unwrap_or_default()
}

fn may(actor: Option<&Actor>, action: Action) -> bool {
    policy::allows(actor, action, Resource::None)
}

/// A page found at its address, or at an address it had before (answered with a 301 to the
/// current one).
pub enum Found<T> {
    Here(T),
    Moved(String),
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
fn tree(conn: &mut DbConnection, actor: Option<&Actor>) -> ServiceResult<Vec<CategoryNode>> {
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

/// How many recently updated articles the home page lists (a fixed "latest ten", not a cap).
pub const RECENT: i64 = 10;

pub fn home(state: &AppState, user: Option<&User>) -> ServiceResult<HomeView> {
    let actor = actor_opt(user);
    let actor = actor.as_ref();
    let mut conn = state.conn()?;
    let conn = &mut *conn;
    let categories = tree(conn, actor)?;
    let recent = help::recent(conn, &readable(actor), RECENT)?;
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
    /// The id to continue after (`?after=`) when there are more articles than this page shows.
    pub next: Option<i64>,
    /// This is a later page (`?after=` was given).
    pub continued: bool,
    /// How many articles the viewer may read here in all.
    pub total: i64,
    pub can_write: bool,
    pub last_modified: NaiveDateTime,
}

/// A category's page, `CATEGORY_PAGE` articles at a time by title (keyset on title and id:
/// `after` is the last article of the previous page). A category without anything the viewer
/// may read answers 404 (its name alone may say more than a reader should learn); an address the
/// category had before answers with its current one.
pub fn category_page(
    state: &AppState,
    user: Option<&User>,
    slug: &str,
    after: Option<i64>,
) -> ServiceResult<Found<CategoryView>> {
    let actor = actor_opt(user);
    let actor = actor.as_ref();
    let mut conn = state.conn()?;
    let conn = &mut *conn;
    let category = match help::category_by_slug(conn, slug) {
        Ok(c) => c,
        Err(crate::db::DbError::NotFound) => {
            let Some(id) = help::old_slug_target(conn, "category", slug)? else {
                return Err(ServiceError::NotFound);
            };
            let c = help::category(conn, id)?;
            // Only where the visitor could follow it (the tree check below) is the new
            // address told.
            let visible = tree(conn, actor)?
                .iter()
                .any(|n| n.category.id == c.id || n.children.iter().any(|(ch, _)| ch.id == c.id));
            return if visible { Ok(Found::Moved(c.slug)) } else { Err(ServiceError::NotFound) };
        }
        Err(e) => return Err(e.into()),
    };
    let nodes = tree(conn, actor)?;
    let (parent, children, total) = match category.parent_id {
        None => {
            let node = nodes.iter().find(|n| n.category.id == category.id).ok_or(ServiceError::NotFound)?;
            let own = node.count - node.children.iter().map(|(_, n)| n).sum::<i64>();
            (None, node.children.clone(), own)
        }
        Some(pid) => {
            let node = nodes.iter().find(|n| n.category.id == pid).ok_or(ServiceError::NotFound)?;
            let Some((_, n)) = node.children.iter().find(|(c, _)| c.id == category.id) else {
                return Err(ServiceError::NotFound);
            };
            (Some(node.category.clone()), Vec::new(), *n)
        }
    };
    let cursor = match after {
        Some(id) => help::title_of(conn, id)?.map(|t| (t, id)),
        None => None,
    };
    let r = readable(actor);
    let mut articles =
        help::in_category(conn, category.id, &r, cursor.as_ref().map(|(t, id)| (t.as_str(), *id)), CATEGORY_PAGE + 1)?;
    let more = articles.len() as i64 > CATEGORY_PAGE;
    articles.truncate(usize::try_from(CATEGORY_PAGE).unwrap_or(50));
    let articles: Vec<ArticleSummary> = articles.into_iter().filter(|a| may_read(actor, a)).collect();
    let next = if more { articles.last().map(|a| a.id) } else { None };
    let last_modified = newest(
        articles
            .iter()
            .map(|a| a.updated_at)
            .chain(std::iter::once(category.updated_at))
            .chain(children.iter().map(|(c, _)| c.updated_at)),
    );
    Ok(Found::Here(CategoryView {
        articles: articles.iter().map(Card::of).collect(),
        next,
        continued: cursor.is_some(),
        total,
        can_write: may(actor, Action::WriteHelp),
        category,
        parent,
        children,
        last_modified,
    }))
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

/// The article at `slug`, for a visitor who may read it. An address the article had before
/// answers `Moved` with the current one (only to a visitor who may read the article: to anyone
/// else it is missing, like the article).
pub fn article_page(state: &AppState, user: Option<&User>, slug: &str) -> ServiceResult<Found<ArticleView>> {
    let actor = actor_opt(user);
    let actor = actor.as_ref();
    let mut conn = state.conn()?;
    let conn = &mut *conn;
    let article = match help::find_by_slug(conn, slug) {
        Ok(a) => a,
        Err(crate::db::DbError::NotFound) => {
            let Some(id) = help::old_slug_target(conn, "article", slug)? else {
                return Err(ServiceError::NotFound);
            };
            let a = help::summary_of(conn, id)?;
            return if may_read(actor, &a) { Ok(Found::Moved(a.slug)) } else { Err(ServiceError::NotFound) };
        }
        Err(e) => return Err(e.into()),
    };
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
    let mut found: HashMap<i64, ArticleSummary> =
        help::find_many(conn, &related_ids)?.into_iter().map(|a| (a.id, a)).collect();
    // Every related article counts for the page's last change, also one that left the list.
    let related_changed = found.values().map(|a| a.updated_at).max();
    let related: Vec<ArticleSummary> = related_ids
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
    Ok(Found::Here(ArticleView {
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
    }))
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
    /// More articles match than the `SEARCH_LIMIT` shown.
    pub more: bool,
}

/// `/help/search`: articles holding every word of `q` (or carrying `tag`), best first, among
/// those the visitor may read (published, and of the audiences the policy allows them). At most
/// `SEARCH_LIMIT`; `more` says when there were others.
pub fn search(state: &AppState, user: Option<&User>, q: &str, tag: &str) -> ServiceResult<SearchView> {
    let actor = actor_opt(user);
    let actor = actor.as_ref();
    let r = readable(actor);
    let mut conn = state.conn()?;
    let conn = &mut *conn;
    let tag = tag.trim().to_lowercase();
    let (mut ordered, snippets): (Vec<i64>, HashMap<i64, String>) = if !tag.is_empty() {
        (help::with_tag(conn, &tag, &r, SEARCH_LIMIT + 1)?.into_iter().map(|a| a.id).collect(), HashMap::new())
    } else {
        let words = fts::words(q);
        if words.is_empty() {
            return Ok(SearchView { hits: Vec::new(), empty_query: true, more: false });
        }
        let hits = help::search(conn, &words, &r, SEARCH_LIMIT + 1)?;
        // Self-service reporting counts what end users looked for and did not find; staff
        // searches would blur it. Only the words are kept.
        if !actor.is_some_and(|a| a.role.is_staff()) {
            let query: String = words.join(" ").chars().take(200).collect();
            let found = i32::try_from(hits.len()).unwrap_or(i32::MAX);
            crate::db::reports::record_search(conn, state.clock.now_naive(), &query, found)?;
        }
        (
            hits.iter().map(|(id, _)| *id).collect(),
            hits.into_iter().map(|(id, s)| (id, crate::db::snippets::snippet_html(&s))).collect(),
        )
    };
    let more = ordered.len() as i64 > SEARCH_LIMIT;
    ordered.truncate(usize::try_from(SEARCH_LIMIT).unwrap_or(50));
    let mut rows: HashMap<i64, ArticleSummary> =
        help::find_many(conn, &ordered)?.into_iter().map(|a| (a.id, a)).collect();
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
    Ok(SearchView { hits, empty_query: false, more })
}

/// The most URLs one sitemap file may hold (sitemaps.org).
pub const SITEMAP_MAX: i64 = 50_000;

/// Published public articles for `/sitemap.xml`: (slug, last change), the newest
/// `SITEMAP_MAX`.
pub fn sitemap(state: &AppState) -> ServiceResult<Vec<(String, NaiveDateTime)>> {
    Ok(help::public_published(&mut *state.conn()?, SITEMAP_MAX)?)
}

/// What `/help/images/{id}` answers.
pub struct ImageAnswer {
    pub meta: ImageMeta,
    /// The image of a published public article: the same for everyone, so shared caches may
    /// keep it (they revalidate each time, so a retracted image or an article made internal
    /// stops being served).
    pub public: bool,
    /// None when `skip_data` said the client has it already (a 304).
    pub data: Option<Vec<u8>>,
}

/// An image of an article the visitor may read. `skip_data` is asked, once the visitor may have
/// it, whether the bytes are needed at all (they are not for a 304).
pub fn image(
    state: &AppState,
    user: Option<&User>,
    id: i64,
    skip_data: impl FnOnce(&ImageMeta, bool) -> bool,
) -> ServiceResult<ImageAnswer> {
    let actor = actor_opt(user);
    let mut conn = state.conn()?;
    let conn = &mut *conn;
    let meta = help::image(conn, id)?;
    let article = help::summary_of(conn, meta.article_id)?;
    if !may_read(actor.as_ref(), &article) {
        return Err(ServiceError::NotFound);
    }
    let public = policy::may_read_article(
        None,
        Audience::parse(&article.visibility).unwrap_or(Audience::Internal),
        article.status == ArticleStatus::Published.as_str(),
    );
    let data = if skip_data(&meta, public) { None } else { Some(help::image_data(conn, id)?) };
    Ok(ImageAnswer { meta, public, data })
}

/// Articles that may answer a report being written (the new-incident form's check step):
/// published ones the user may read that share words with the title and description.
pub fn suggestions(state: &AppState, user: &User, title: &str, description: &str) -> ServiceResult<Vec<Card>> {
    let actor = actor_of(user);
    authorize(&actor, Action::CreateIncident, Resource::None)?;
    let words = crate::db::similar::similar_words(title, description);
    let mut conn = state.conn()?;
    let conn = &mut *conn;
    let ids = help::matching_any(conn, &words, &readable(Some(&actor)), SUGGESTION_LIMIT)?;
    let mut rows: HashMap<i64, ArticleSummary> = help::find_many(conn, &ids)?.into_iter().map(|a| (a.id, a)).collect();
    Ok(ids
        .iter()
        .filter_map(|id| rows.remove(id))
        .filter(|a| may_read(Some(&actor), a))
        .map(|a| Card::of(&a))
        .collect())
}

#[derive(Debug, Clone)]
pub struct PickerView {
    pub query: String,
    pub options: Vec<Card>,
    /// More articles match than the picker offers.
    pub more: bool,
    /// The options are for an internal note (internal articles included).
    pub internal: bool,
}

/// The articles a reply may link to: for an internal note, published ones the staff member may
/// read; for a public reply, only those the incident's reporter may read too (never internal).
fn reply_readable(actor: &Actor, reporter: Option<&User>, internal: bool) -> crate::db::help::Readable {
    let mut r = readable(Some(actor));
    if !internal {
        let reporter = readable_by_reporter(reporter);
        r.audiences.retain(|a| reporter.audiences.contains(a));
    }
    r
}

/// The incident page's article picker: the best matches for `q` (or the most recently updated
/// articles without a query) that the reply may link (`reply_readable`), at most
/// `PICKER_LIMIT`, for an incident already loaded and allowed.
pub fn picker_for(
    conn: &mut DbConnection,
    actor: &Actor,
    reporter: Option<&User>,
    q: &str,
    internal: bool,
) -> ServiceResult<PickerView> {
    let actor = *actor;
    let r = reply_readable(&actor, reporter, internal);
    let words = fts::words(q);
    let mut articles = if words.is_empty() {
        help::recent(conn, &r, PICKER_LIMIT + 1)?
    } else {
        let ids: Vec<i64> = help::search(conn, &words, &r, PICKER_LIMIT + 1)?.into_iter().map(|(id, _)| id).collect();
        let mut rows: HashMap<i64, ArticleSummary> =
            help::find_many(conn, &ids)?.into_iter().map(|a| (a.id, a)).collect();
        ids.iter().filter_map(|id| rows.remove(id)).collect()
    };
    let more = articles.len() as i64 > PICKER_LIMIT;
    articles.truncate(usize::try_from(PICKER_LIMIT).unwrap_or(30));
    Ok(PickerView {
        query: q.trim().to_string(),
        options: articles.iter().filter(|a| may_read(Some(&actor), *a) && within(&r, *a)).map(Card::of).collect(),
        more,
        internal,
    })
}

/// The article a staff member links from a reply: published, one they may read, and for a
/// public reply one the reporter may read too.
pub fn link_target(state: &AppState, user: &User, incident_id: i64, slug: &str, internal: bool) -> ServiceResult<Card> {
    let actor = actor_of(user);
    let mut conn = state.conn()?;
    let conn = &mut *conn;
    let (inc, _) = crate::service::incidents::load_for(conn, &actor, incident_id, Action::WorkIncident)?;
    let refuse = |m: &str| ServiceError::Invalid(FieldErrors::single("article", m));
    let a = match help::summary_by_slug(conn, slug) {
        Ok(a) => a,
        Err(crate::db::DbError::NotFound) => return Err(refuse("Choose a published article from the list.")),
        Err(e) => return Err(e.into()),
    };
    if a.status != "published" || !may_read(Some(&actor), &a) {
        return Err(refuse("Choose a published article from the list."));
    }
    let reporter = if internal { None } else { reporter_of(conn, &inc)? };
    if !within(&reply_readable(&actor, reporter.as_ref(), internal), &a) {
        return Err(refuse(
            "The reporter cannot open this article: link it in an internal note, or choose another article for the public reply.",
        ));
    }
    Ok(Card::of(&a))
}

/// Slugs of help article links in a text (`…/help/articles/<slug>`), each once.
fn linked_slugs(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for piece in text.split("/help/articles/").skip(1) {
        let slug: String = piece.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
        let slug = slug.to_lowercase();
        if !slug.is_empty() && !out.contains(&slug) {
            out.push(slug);
        }
        if out.len() >= 50 {
            break;
        }
    }
    out
}

/// Called by a public reply (or its edit) from someone who reads internal articles: a link to
/// an article the incident's reporter may not read (internal, unpublished, for signed-in
/// customers when the reporter cannot sign in) is refused, so neither the reply nor its mail
/// names it. Customers' own replies are not checked: they cannot know such articles.
pub(crate) fn check_public_reply(
    conn: &mut DbConnection,
    author: &User,
    inc: &Incident,
    body: &str,
    field: &'static str,
) -> ServiceResult<()> {
    let actor = actor_of(author);
    if !policy::may_read_article(Some(&actor), Audience::Internal, true) {
        return Ok(());
    }
    let slugs = linked_slugs(body);
    if slugs.is_empty() {
        return Ok(());
    }
    let r = public_reply_readable(conn, inc)?;
    let mut hidden = Vec::new();
    for slug in slugs {
        let a = match help::summary_by_slug(conn, &slug) {
            Ok(a) => Some(a),
            Err(crate::db::DbError::NotFound) => match help::old_slug_target(conn, "article", &slug)? {
                Some(id) => Some(help::summary_of(conn, id)?),
                None => None,
            },
            Err(e) => return Err(e.into()),
        };
        if let Some(a) = a.filter(|a| !within(&r, a)) {
            hidden.push(format!("“{}”", a.title));
        }
    }
    if hidden.is_empty() {
        return Ok(());
    }
    Err(ServiceError::Invalid(FieldErrors::single(
        field,
        format!(
            "The reporter cannot open {}: remove the link from this public reply, or post it as an internal note.",
            hidden.join(", ")
        ),
    )))
}

#[cfg(test)]
mod tests {
    use super::linked_slugs;

    #[test]
    fn links_to_articles_are_found_in_replies() {
        let text = "See [A](https://fw.example/help/articles/reset-vpn) and /help/articles/Reset-VPN.\n\
                    Also (/help/articles/escalation-runbook) and /help/articles/ alone.";
        assert_eq!(linked_slugs(text), vec!["reset-vpn".to_string(), "escalation-runbook".to_string()]);
    }
}
