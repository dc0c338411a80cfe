//! The help center: reading (pages, search, suggestions, sitemap, images), writing (articles
//! with revisions, categories, images) and feedback (votes, deflection, review flags, the
//! known-error loop with problems and releases).

mod feedback;
mod read;
mod write;

pub use feedback::{ReviewRow, ReviewView, Voter, mark_reviewed, record_open, review, vote};
pub(crate) use feedback::{fix_released, fix_withdrawn, incident_filed};
pub use read::{
    ArticleView, CategoryNode, CategoryView, HomeView, PickerView, SearchHit, SearchView, article_page, category_page,
    home, image, link_picker, link_target, search, sitemap, suggestions,
};
pub use write::{
    ArticleInput, CategoryInput, EditorView, HistoryView, ManageRow, ManageView, UploadedImage, create,
    create_category, editor, history, manage, manage_categories, restore, update, update_category, upload_image,
};

use crate::db::help::{Article, Readable};
use crate::db::models::User;
use crate::domain::help::{ArticleStatus, Audience};
use crate::domain::policy::{self, Actor};
use crate::service::actor_of;

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

pub(crate) fn actor_opt(user: Option<&User>) -> Option<Actor> {
    user.map(actor_of)
}

/// Whether the visitor may open this article (drafts and archived ones: writers only).
pub fn may_read(actor: Option<&Actor>, a: &Article) -> bool {
    let audience = Audience::parse(&a.visibility).unwrap_or(Audience::Internal);
    let published = a.status == ArticleStatus::Published.as_str();
    policy::may_read_article(actor, audience, published)
}

/// An article as lists show it.
#[derive(Debug, Clone)]
pub struct Card {
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub audience: Audience,
    pub status: ArticleStatus,
}

impl Card {
    pub fn of(a: &Article) -> Card {
        Card {
            slug: a.slug.clone(),
            title: a.title.clone(),
            summary: a.summary.clone(),
            audience: Audience::parse(&a.visibility).unwrap_or(Audience::Internal),
            status: ArticleStatus::parse(&a.status).unwrap_or(ArticleStatus::Draft),
        }
    }
}
