//! The help center: reading (pages, search, suggestions, sitemap, images), writing (articles
//! with revisions, categories, images) and feedback (votes, deflection, review flags, the
//! known-error loop with problems and releases).

mod feedback;
mod read;
mod write;

/// The rows the help pages show, as the reading services return them.
pub use crate::db::help::{Category, Deflection, ImageMeta};
pub(crate) use feedback::incident_filed;
pub use feedback::{ANON_VOTES_PER_IP_PER_DAY, ReviewRow, ReviewView, Voter, mark_reviewed, record_open, review, vote};
pub(crate) use feedback::{fix_released, problem_changed};
pub(crate) use read::check_public_reply;
pub use read::{
    ArticleView, CategoryNode, CategoryView, Found, HomeView, ImageAnswer, PickerView, SEARCH_LIMIT, SearchHit,
    SearchView, article_page, category_page, home, image, link_target, picker_for, search, sitemap, suggestions,
};
pub use write::{
    ArticleInput, CategoryInput, EditorView, HistoryView, ManageRow, ManageView, UploadedImage, create,
    create_category, delete_category, delete_image, derive_texts, editor, history, manage, manage_categories, restore,
    update, update_category, upload_image,
};

use crate::db::DbConnection;
use crate::db::help::{Article, ArticleSummary, Readable};
use crate::db::models::{Incident, User};
use crate::domain::help::{ArticleStatus, Audience};
use crate::domain::policy::{self, Actor};
use crate::service::{ServiceResult, actor_of};

/// The articles a visitor may find in lists and search: published ones of the audiences the
/// policy lets them read.
pub fn readable(actor: Option<&Actor>) -> Readable {
    Readable {
        audiences: Audience::ALL
            .into_iter()
            .filter(|a| policy::may_read_article(actor, *a, true))
            .map(Audience::as_str)
            .collect(),
        published_only: true,
    }
}

/// What a public reply on this incident may link to: published articles its reporter may read,
/// and never internal ones (customers of a sharing organization read public replies too). A
/// reporter who can no longer sign in counts as an anonymous visitor.
pub(crate) fn public_reply_readable(conn: &mut DbConnection, inc: &Incident) -> ServiceResult<Readable> {
    Ok(readable_by_reporter(reporter_of(conn, inc)?.as_ref()))
}

/// The incident's reporter; None when the user no longer exists.
pub(crate) fn reporter_of(conn: &mut DbConnection, inc: &Incident) -> ServiceResult<Option<User>> {
    match crate::db::users::find(conn, inc.reporter_id) {
        Ok(u) => Ok(Some(u)),
        Err(crate::db::DbError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// `public_reply_readable` with the reporter already at hand (None: no such user).
pub(crate) fn readable_by_reporter(reporter: Option<&User>) -> Readable {
    let actor = reporter.filter(|u| u.active).map(actor_of);
    let mut r = readable(actor.as_ref());
    r.audiences.retain(|a| *a != Audience::Internal.as_str());
    r
}

pub(crate) fn actor_opt(user: Option<&User>) -> Option<Actor> {
    user.map(actor_of)
}

/// An article's audience and status, whether loaded whole or as a summary.
pub trait Listed {
    fn visibility(&self) -> &str;
    fn status(&self) -> &str;
}

impl Listed for Article {
    fn visibility(&self) -> &str {
        &self.visibility
    }
    fn status(&self) -> &str {
        &self.status
    }
}

impl Listed for ArticleSummary {
    fn visibility(&self) -> &str {
        &self.visibility
    }
    fn status(&self) -> &str {
        &self.status
    }
}

/// Whether the visitor may open this article (drafts and archived ones: writers only).
pub fn may_read(actor: Option<&Actor>, a: &impl Listed) -> bool {
    let audience = Audience::parse(a.visibility()).unwrap_or(Audience::Internal);
    let published = a.status() == ArticleStatus::Published.as_str();
    policy::may_read_article(actor, audience, published)
}

/// Whether `r` (a list's rule) takes the article in.
pub(crate) fn within(r: &Readable, a: &impl Listed) -> bool {
    r.audiences.contains(&a.visibility()) && (!r.published_only || a.status() == ArticleStatus::Published.as_str())
}

/// An article as lists show it.
#[derive(Debug, Clone)]
pub struct Card {
    pub id: i64,
    pub slug: String,
    pub title: String,
    /// The writer's summary, or (without one) the start of the article's text.
    pub summary: String,
    pub audience: Audience,
    pub status: ArticleStatus,
}

impl Card {
    pub fn of(a: &ArticleSummary) -> Card {
        Card {
            id: a.id,
            slug: a.slug.clone(),
            title: a.title.clone(),
            summary: if a.summary.trim().is_empty() { a.excerpt.clone() } else { a.summary.clone() },
            audience: Audience::parse(&a.visibility).unwrap_or(Audience::Internal),
            status: ArticleStatus::parse(&a.status).unwrap_or(ArticleStatus::Draft),
        }
    }
}
