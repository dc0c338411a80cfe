//! Writing the help center: articles (every save a revision, with optimistic locking), restore,
//! images, categories; and the writers' views (the editor, the list, the history with its diff).

use crate::db::help::{
    self, Article, ArticleFields, ArticleSummary, Category, CategoryFields, ImageMeta, NewImage, NewRevision,
};
use crate::db::models::User;
use crate::db::{DbConnection, problems, users};
use crate::domain::help::{
    ArticleStatus, Audience, DiffLine, IMAGE_MAX_BYTES, Rating, RevisionText, check_slug, image_type, line_diff,
    slugify,
};
use crate::domain::incident::parse_tags;
use crate::domain::policy::{Action, Resource};
use crate::service::{AppState, FieldErrors, RequestMeta, ServiceError, ServiceResult, actor_of, authorize};

/// How long the excerpt kept for cards and meta descriptions is, in characters.
pub const EXCERPT_MAX: usize = 200;

/// The plain text of a body and its excerpt, as stored with the article.
fn texts(body: &str) -> (Option<String>, String) {
    let text = crate::markdown::plain_text(body);
    let excerpt = crate::markdown::excerpt(&text, EXCERPT_MAX);
    (Some(text), excerpt)
}
use chrono::NaiveDateTime;
use std::collections::HashMap;

pub const TITLE_MAX: usize = 200;
pub const SUMMARY_MAX: usize = 300;
pub const BODY_MAX: usize = 200_000;
pub const RELATED_MAX: usize = 10;

/// What the article editor sends.
#[derive(Debug, Clone, Default)]
pub struct ArticleInput {
    pub title: String,
    /// Empty: made from the title.
    pub slug: String,
    pub summary: String,
    pub body: String,
    /// A category id, or empty for none.
    pub category: String,
    pub audience: String,
    pub status: String,
    /// Comma-separated.
    pub tags: String,
    /// Slugs of related articles, separated by commas, spaces or lines.
    pub related: String,
    /// PRB-n when the article is that problem's known-error workaround, or empty.
    pub problem: String,
    /// The revision the editor was opened at (optimistic locking); 0 for a new article.
    pub revision: i32,
}

fn authorize_writer(user: &User) -> ServiceResult<()> {
    authorize(&actor_of(user), Action::WriteHelp, Resource::None)
}

/// Checks the editor's input (against the article as it was, `before`, when editing); returns
/// the fields, the tags and the related article ids.
fn validate(
    conn: &mut DbConnection,
    input: &ArticleInput,
    before: Option<&Article>,
) -> ServiceResult<(ArticleFields, Vec<String>, Vec<i64>)> {
    let except = before.map(|a| a.id);
    let mut errors = FieldErrors::default();
    let title = input.title.trim().to_string();
    if title.is_empty() {
        errors.add("title", "Give the article a title.");
    } else if title.chars().count() > TITLE_MAX {
        errors.add("title", format!("Use at most {TITLE_MAX} characters."));
    }
    let slug = match check_slug(&input.slug, &title) {
        Ok(s) => {
            if help::slug_taken(conn, &s, except)? {
                errors.add("slug", "Another article already has this address.");
            }
            s
        }
        Err(m) => {
            errors.add("slug", m);
            String::new()
        }
    };
    let summary = input.summary.trim().to_string();
    if summary.chars().count() > SUMMARY_MAX {
        errors.add("summary", format!("Keep the summary to {SUMMARY_MAX} characters: it is what search shows."));
    }
    if input.body.chars().count() > BODY_MAX {
        errors.add("body", "The article is too long: split it into several.");
    }
    let category_id = match input.category.trim() {
        "" => None,
        c => match c.parse::<i64>() {
            Ok(id) => match help::category(conn, id) {
                Ok(cat) => Some(cat.id),
                Err(crate::db::DbError::NotFound) => {
                    errors.add("category", "Choose a category from the list.");
                    None
                }
                Err(e) => return Err(e.into()),
            },
            Err(_) => {
                errors.add("category", "Choose a category from the list.");
                None
            }
        },
    };
    let audience = Audience::parse(&input.audience);
    if audience.is_none() {
        errors.add("audience", "Choose who may read the article.");
    }
    let status = ArticleStatus::parse(&input.status);
    if status.is_none() {
        errors.add("status", "Choose draft, published or archived.");
    }
    let tags = match parse_tags(&input.tags) {
        Ok(t) => t,
        Err(e) => {
            errors.add("tags", e);
            Vec::new()
        }
    };
    let wanted: Vec<String> = input
        .related
        .split(|c: char| c == ',' || c.is_whitespace())
        .map(|s| s.trim().trim_start_matches("/help/articles/").to_lowercase())
        .filter(|s| !s.is_empty())
        .fold(Vec::new(), |mut v, s| {
            if !v.contains(&s) {
                v.push(s);
            }
            v
        });
    let mut related = Vec::new();
    if wanted.len() > RELATED_MAX {
        errors.add("related", format!("Relate at most {RELATED_MAX} articles."));
    } else {
        let found: HashMap<String, i64> = help::find_by_slugs(conn, &wanted)?.into_iter().collect();
        for s in &wanted {
            match found.get(s) {
                _ if *s == slug => errors.add("related", "An article cannot be related to itself."),
                Some(id) if Some(*id) == except => errors.add("related", "An article cannot be related to itself."),
                Some(id) => related.push(*id),
                None => errors.add("related", format!("There is no article at {s}.")),
            }
        }
    }
    let problem_id = match input.problem.trim() {
        "" => None,
        k => match crate::domain::problem::parse_key(k) {
            Some(id) => match problems::find(conn, id) {
                // A new link to a problem whose fix is out already: nobody needs the workaround
                // (an article linked before the fix shipped keeps its link and its note).
                Ok(p)
                    if before.and_then(|a| a.problem_id) != Some(p.id)
                        && crate::domain::help::fix_shipped(&p.status, p.fix_released_at.is_some()) =>
                {
                    errors.add(
                        "problem",
                        format!(
                            "{}'s fix has shipped already, so it needs no workaround article. Leave this empty, or link a problem still waiting for its fix.",
                            crate::domain::problem::key(p.id)
                        ),
                    );
                    None
                }
                Ok(p) => Some(p.id),
                Err(crate::db::DbError::NotFound) => {
                    errors.add("problem", "There is no problem with that key.");
                    None
                }
                Err(e) => return Err(e.into()),
            },
            None => {
                errors.add("problem", "Enter a problem key like PRB-7, or leave it empty.");
                None
            }
        },
    };
    errors.into_result()?;
    let (Some(audience), Some(status)) = (audience, status) else {
        return Err(ServiceError::Internal("validated fields missing".into()));
    };
    let body = input.body.replace("\r\n", "\n");
    let (body_text, excerpt) = texts(&body);
    // "Fixed in release X" belongs to the problem the article was the workaround of when the
    // fix shipped: it goes with a change of problem.
    let fixed_in_release = match before {
        Some(b) if b.problem_id == problem_id => b.fixed_in_release.clone(),
        _ => String::new(),
    };
    Ok((
        ArticleFields {
            category_id,
            title,
            slug,
            summary,
            body,
            visibility: audience.as_str().to_string(),
            status: status.as_str().to_string(),
            problem_id,
            body_text,
            excerpt,
            fixed_in_release,
        },
        tags,
        related,
    ))
}

/// Writes a new article and its first revision.
pub fn create(state: &AppState, _meta: &RequestMeta, user: &User, input: &ArticleInput) -> ServiceResult<Article> {
    authorize_writer(user)?;
    state.tx(|conn| {
        let (fields, tags, related) = validate(conn, input, None)?;
        let now = state.clock.now_naive();
        let a = help::insert(conn, &fields, user.id, now).map_err(|e| slug_conflict(e.into()))?;
        // The address is this article's now, whatever had it before.
        help::forget_old_slug(conn, "article", &a.slug)?;
        help::touch_categories(conn, &a.category_id.into_iter().collect::<Vec<_>>(), now)?;
        help::set_tags(conn, a.id, &tags)?;
        help::set_related(conn, a.id, &related)?;
        let tags = tags.join(", ");
        help::insert_revision(
            conn,
            &NewRevision { article: &a, tags: &tags, note: "Created", author_id: user.id, now },
        )?;
        Ok(a)
    })
}

/// A unique-index violation on the slug (two writers at once) reads like the validation message.
fn slug_conflict(e: ServiceError) -> ServiceError {
    match e {
        ServiceError::Conflict(_) => {
            ServiceError::Invalid(FieldErrors::single("slug", "Another article already has this address."))
        }
        other => other,
    }
}

/// Saves the editor's input as the next revision. Somebody else's save since the editor was
/// opened gives `Stale` (the editor comes back with the typed text).
pub fn update(
    state: &AppState,
    _meta: &RequestMeta,
    user: &User,
    id: i64,
    input: &ArticleInput,
) -> ServiceResult<Article> {
    authorize_writer(user)?;
    state.tx(|conn| {
        let before = help::find(conn, id)?;
        let (fields, tags, related) = validate(conn, input, Some(&before))?;
        let now = state.clock.now_naive();
        let a = help::update_if_at(conn, &before, input.revision, &fields, user.id, now)
            .map_err(|e| slug_conflict(e.into()))?
            .ok_or(ServiceError::Stale { current_version: before.revision })?;
        touch_both(conn, &before, &a, now)?;
        moved(conn, "article", &before.slug, &a.slug, a.id, now)?;
        help::set_tags(conn, a.id, &tags)?;
        help::set_related(conn, a.id, &related)?;
        let note = if before.status != a.status {
            format!("{} → {}", status_label(&before.status), status_label(&a.status))
        } else {
            String::new()
        };
        let tags = tags.join(", ");
        help::insert_revision(conn, &NewRevision { article: &a, tags: &tags, note: &note, author_id: user.id, now })?;
        Ok(a)
    })
}

/// An address change: the old address keeps leading here (a 301), the new one is nobody
/// else's old address any more.
fn moved(conn: &mut DbConnection, kind: &str, old: &str, new: &str, id: i64, now: NaiveDateTime) -> ServiceResult<()> {
    if old != new {
        help::forget_old_slug(conn, kind, new)?;
        help::remember_old_slug(conn, kind, old, id, now)?;
    }
    Ok(())
}

/// The categories an article left and joined show the change on their pages.
fn touch_both(conn: &mut DbConnection, before: &Article, after: &Article, now: NaiveDateTime) -> ServiceResult<()> {
    let ids: Vec<i64> = [before.category_id, after.category_id].into_iter().flatten().collect();
    Ok(help::touch_categories(conn, &ids, now)?)
}

fn status_label(s: &str) -> &'static str {
    ArticleStatus::parse(s).map(ArticleStatus::label).unwrap_or("?")
}

/// Brings back an earlier revision's title, address, summary, body, visibility, category and
/// tags as a new revision (the history keeps everything in between). The status stays as it
/// is: publishing is its own decision.
pub fn restore(state: &AppState, _meta: &RequestMeta, user: &User, id: i64, number: i32) -> ServiceResult<Article> {
    authorize_writer(user)?;
    state.tx(|conn| {
        let before = help::find(conn, id)?;
        let old = help::revision(conn, id, number)?;
        if help::slug_taken(conn, &old.slug, Some(id))? {
            return Err(ServiceError::Conflict(format!(
                "Revision {number} used the address {}, which another article has now. Change that article's address first.",
                old.slug
            )));
        }
        let category_id = match old.category_id {
            Some(c) => help::category(conn, c).ok().map(|c| c.id),
            None => None,
        };
        let (body_text, excerpt) = texts(&old.body);
        let fields = ArticleFields {
            category_id,
            title: old.title.clone(),
            slug: old.slug.clone(),
            summary: old.summary.clone(),
            body: old.body.clone(),
            visibility: old.visibility.clone(),
            status: before.status.clone(),
            problem_id: before.problem_id,
            body_text,
            excerpt,
            fixed_in_release: before.fixed_in_release.clone(),
        };
        let now = state.clock.now_naive();
        let a = help::update_if_at(conn, &before, before.revision, &fields, user.id, now)?
            .ok_or(ServiceError::Stale { current_version: before.revision })?;
        touch_both(conn, &before, &a, now)?;
        moved(conn, "article", &before.slug, &a.slug, a.id, now)?;
        let tags = parse_tags(&old.tags).unwrap_or_default();
        help::set_tags(conn, a.id, &tags)?;
        let note = format!("Restored revision {number}");
        let tags = tags.join(", ");
        help::insert_revision(conn, &NewRevision { article: &a, tags: &tags, note: &note, author_id: user.id, now })?;
        Ok(a)
    })
}

pub struct UploadedImage {
    pub id: i64,
    /// What to put into the body: `![alt](/help/images/ID)`.
    pub markdown: String,
}

/// Stores an image with an article. The type comes from the bytes; anything but PNG, JPEG, GIF
/// and WebP is refused, and so is anything over `IMAGE_MAX_BYTES`.
pub fn upload_image(
    state: &AppState,
    user: &User,
    article_id: i64,
    filename: &str,
    alt: &str,
    data: &[u8],
) -> ServiceResult<UploadedImage> {
    authorize_writer(user)?;
    let invalid = |m: &str| ServiceError::Invalid(FieldErrors::single("image", m));
    if data.is_empty() {
        return Err(invalid("Choose an image file to upload."));
    }
    if data.len() > IMAGE_MAX_BYTES {
        return Err(invalid("The image is larger than 5 MB."));
    }
    let Some(content_type) = image_type(data) else {
        return Err(invalid("Upload a PNG, JPEG, GIF or WebP image."));
    };
    let filename = crate::domain::inbound::safe_filename(filename);
    state.tx(|conn| {
        let a = help::summary_of(conn, article_id)?;
        let now = state.clock.now_naive();
        let id = help::insert_image(
            conn,
            &NewImage { article_id: a.id, filename: &filename, content_type, data, created_by: user.id, now },
        )?;
        help::insert_event(conn, a.id, Some(user.id), "image_added", &filename, now)?;
        let alt: String =
            alt.trim().chars().filter(|c| !matches!(c, '[' | ']' | '\n' | '\r')).take(200).collect::<String>();
        let alt = if alt.is_empty() {
            filename.rsplit_once('.').map(|(n, _)| n).unwrap_or(&filename).to_string()
        } else {
            alt
        };
        Ok(UploadedImage { id, markdown: format!("![{alt}](/help/images/{id})") })
    })
}

/// Takes an image off an article: it is no longer served (404), the article's history says so
/// and the audit log records who did it. Returns the file name.
pub fn delete_image(
    state: &AppState,
    meta: &RequestMeta,
    user: &User,
    article_id: i64,
    image_id: i64,
) -> ServiceResult<String> {
    authorize_writer(user)?;
    state.tx(|conn| {
        let a = help::summary_of(conn, article_id)?;
        let img = help::image(conn, image_id)?;
        if img.article_id != a.id || !help::delete_image(conn, a.id, img.id)? {
            return Err(ServiceError::NotFound);
        }
        let now = state.clock.now_naive();
        help::insert_event(conn, a.id, Some(user.id), "image_removed", &img.filename, now)?;
        state.audit(
            conn,
            meta,
            Some(user),
            "help.image_delete",
            &format!("help_image:{}", img.id),
            &format!("{} from article {} ({})", img.filename, a.id, a.slug),
        )?;
        Ok(img.filename)
    })
}

/// Derives the plain text and excerpt of every article that has none yet (articles written
/// before plain text was kept); run at startup after the migrations. Returns how many.
pub fn derive_texts(state: &AppState) -> ServiceResult<usize> {
    let mut done = 0;
    loop {
        let batch = state.tx(|conn| {
            let rows = help::without_text(conn, 200)?;
            for (id, body) in &rows {
                let (text, excerpt) = texts(body);
                help::set_text(conn, *id, text.as_deref().unwrap_or(""), &excerpt)?;
            }
            Ok(rows.len())
        })?;
        done += batch;
        if batch == 0 {
            return Ok(done);
        }
    }
}

/// Everything the editor shows.
pub struct EditorView {
    pub article: Option<Article>,
    pub input: ArticleInput,
    /// Every category, with its parent's name for the label.
    pub categories: Vec<(Category, Option<String>)>,
    pub images: Vec<ImageMeta>,
}

fn categories_with_parents(conn: &mut DbConnection) -> ServiceResult<Vec<(Category, Option<String>)>> {
    let all = help::categories(conn)?;
    let names: HashMap<i64, String> = all.iter().map(|c| (c.id, c.name.clone())).collect();
    let mut out = Vec::new();
    for top in all.iter().filter(|c| c.parent_id.is_none()) {
        out.push((top.clone(), None));
        for child in all.iter().filter(|c| c.parent_id == Some(top.id)) {
            out.push((child.clone(), names.get(&top.id).cloned()));
        }
    }
    Ok(out)
}

/// The editor for an article (or a new one), with the article's current values; `typed`
/// replaces them when the form comes back (errors, preview, an uploaded image).
pub fn editor(
    state: &AppState,
    user: &User,
    id: Option<i64>,
    typed: Option<ArticleInput>,
) -> ServiceResult<EditorView> {
    authorize_writer(user)?;
    let mut conn = state.conn()?;
    let conn = &mut *conn;
    let categories = categories_with_parents(conn)?;
    let Some(id) = id else {
        let input = typed.unwrap_or_else(|| ArticleInput {
            audience: Audience::Public.as_str().into(),
            status: ArticleStatus::Draft.as_str().into(),
            ..Default::default()
        });
        return Ok(EditorView { article: None, input, categories, images: Vec::new() });
    };
    let a = help::find(conn, id)?;
    let images = help::images_of(conn, a.id)?;
    let input = match typed {
        Some(t) => t,
        None => {
            let tags: Vec<String> = help::tags_for(conn, &[a.id])?.into_iter().map(|(_, t)| t).collect();
            let related_ids = help::related_of(conn, a.id)?;
            let mut related: HashMap<i64, String> =
                help::find_many(conn, &related_ids)?.into_iter().map(|r| (r.id, r.slug)).collect();
            ArticleInput {
                title: a.title.clone(),
                slug: a.slug.clone(),
                summary: a.summary.clone(),
                body: a.body.clone(),
                category: a.category_id.map(|c| c.to_string()).unwrap_or_default(),
                audience: a.visibility.clone(),
                status: a.status.clone(),
                tags: tags.join(", "),
                related: related_ids.iter().filter_map(|i| related.remove(i)).collect::<Vec<_>>().join("\n"),
                problem: a.problem_id.map(crate::domain::problem::key).unwrap_or_default(),
                revision: a.revision,
            }
        }
    };
    Ok(EditorView { article: Some(a), input, categories, images })
}

pub struct RevisionRow {
    pub number: i32,
    pub author: String,
    pub at: NaiveDateTime,
    pub note: String,
    pub title: String,
}

pub struct HistoryView {
    pub article: Article,
    pub revisions: Vec<RevisionRow>,
    /// The two revisions compared (older, newer) and their line diff.
    pub from: i32,
    pub to: i32,
    pub diff: Vec<Vec<DiffLine>>,
    /// Flags, reviews, images and fix releases: (when, who, what).
    pub events: Vec<(NaiveDateTime, String, String)>,
}

fn revision_text(r: &help::Revision, categories: &HashMap<i64, String>) -> String {
    RevisionText {
        title: &r.title,
        slug: &r.slug,
        summary: &r.summary,
        audience: Audience::parse(&r.visibility).map(Audience::short).unwrap_or("?"),
        status: status_label(&r.status),
        category: r.category_id.and_then(|c| categories.get(&c)).map(String::as_str).unwrap_or("(none)"),
        tags: &r.tags,
        body: &r.body,
    }
    .render()
}

/// The article's revisions, and the diff between two of them (by default the latest and the
/// one before it).
pub fn history(
    state: &AppState,
    user: &User,
    id: i64,
    from: Option<i32>,
    to: Option<i32>,
) -> ServiceResult<HistoryView> {
    authorize_writer(user)?;
    let mut conn = state.conn()?;
    let conn = &mut *conn;
    let article = help::find(conn, id)?;
    let revs = help::revisions(conn, id)?;
    let events = help::events_of(conn, id)?;
    let mut people: Vec<i64> = revs.iter().filter_map(|r| r.author_id).collect();
    people.extend(events.iter().filter_map(|e| e.actor_id));
    let names: HashMap<i64, String> =
        users::list_by_ids(conn, &people)?.into_iter().map(|u| (u.id, u.display_name)).collect();
    let name = |id: Option<i64>| id.and_then(|i| names.get(&i).cloned()).unwrap_or_else(|| "Firewatch".into());
    let categories: HashMap<i64, String> = help::categories(conn)?.into_iter().map(|c| (c.id, c.name)).collect();
    let latest = revs.first().map(|r| r.number).unwrap_or(1);
    let to = to.filter(|n| revs.iter().any(|r| r.number == *n)).unwrap_or(latest);
    let from = from.filter(|n| revs.iter().any(|r| r.number == *n)).unwrap_or((to - 1).max(1));
    let (from, to) = if from > to { (to, from) } else { (from, to) };
    let text_of = |n: i32| revs.iter().find(|r| r.number == n).map(|r| revision_text(r, &categories));
    let diff = match (text_of(from), text_of(to)) {
        (Some(a), Some(b)) if from != to => line_diff(&a, &b),
        _ => Vec::new(),
    };
    Ok(HistoryView {
        revisions: revs
            .iter()
            .map(|r| RevisionRow {
                number: r.number,
                author: name(r.author_id),
                at: r.created_at,
                note: r.note.clone(),
                title: r.title.clone(),
            })
            .collect(),
        events: events.iter().map(|e| (e.at, name(e.actor_id), describe_event(&e.kind, &e.detail))).collect(),
        article,
        from,
        to,
        diff,
    })
}

fn describe_event(kind: &str, detail: &str) -> String {
    match kind {
        "fix_released" => format!("Flagged for review: {detail}"),
        "fix_withdrawn" => format!("Fix withdrawn: {detail}"),
        "reviewed" => "Marked as reviewed".to_string(),
        "image_added" => format!("Image added: {detail}"),
        "image_removed" => format!("Image deleted: {detail}"),
        other => format!("{}: {detail}", other.replace('_', " ")),
    }
}

pub struct ManageRow {
    pub article: ArticleSummary,
    pub category: String,
    pub rating: Rating,
}

pub struct ManageView {
    pub rows: Vec<ManageRow>,
    /// The keyset cursor of the next page, when there is one.
    pub next: Option<(NaiveDateTime, i64)>,
}

pub const MANAGE_PAGE: i64 = 50;

/// Every article for writers (drafts and archived included), most recently changed first.
pub fn manage(
    state: &AppState,
    user: &User,
    status: Option<ArticleStatus>,
    after: Option<(NaiveDateTime, i64)>,
) -> ServiceResult<ManageView> {
    authorize_writer(user)?;
    let mut conn = state.conn()?;
    let conn = &mut *conn;
    let mut list = help::manage_page(conn, status.map(ArticleStatus::as_str), after, MANAGE_PAGE + 1)?;
    let more = list.len() as i64 > MANAGE_PAGE;
    list.truncate(usize::try_from(MANAGE_PAGE).unwrap_or(50));
    let ids: Vec<i64> = list.iter().map(|a| a.id).collect();
    let ratings = help::ratings(conn, Some(&ids))?;
    let categories: HashMap<i64, String> = help::categories(conn)?.into_iter().map(|c| (c.id, c.name)).collect();
    let next = if more { list.last().map(|a| (a.updated_at, a.id)) } else { None };
    Ok(ManageView {
        rows: list
            .into_iter()
            .map(|a| ManageRow {
                category: a.category_id.and_then(|c| categories.get(&c).cloned()).unwrap_or_default(),
                rating: ratings.get(&a.id).copied().unwrap_or_default(),
                article: a,
            })
            .collect(),
        next,
    })
}

/// What the category form sends.
#[derive(Debug, Clone, Default)]
pub struct CategoryInput {
    pub name: String,
    pub slug: String,
    pub description: String,
    /// A top-level category's id, or empty for a top-level category.
    pub parent: String,
    pub position: String,
}

/// Every category, top-level ones each followed by their subcategories.
pub fn manage_categories(state: &AppState, user: &User) -> ServiceResult<Vec<(Category, Option<String>)>> {
    authorize_writer(user)?;
    categories_with_parents(&mut *state.conn()?)
}

fn check_category(conn: &mut DbConnection, input: &CategoryInput, id: Option<i64>) -> ServiceResult<CategoryFields> {
    let mut errors = FieldErrors::default();
    let name = input.name.trim().to_string();
    if name.is_empty() {
        errors.add("name", "Give the category a name.");
    } else if name.chars().count() > 80 {
        errors.add("name", "Use at most 80 characters.");
    }
    let slug = if input.slug.trim().is_empty() { slugify(&name) } else { input.slug.trim().to_lowercase() };
    match check_slug(&slug, &name) {
        Ok(s) if help::category_slug_taken(conn, &s, id)? => errors.add("slug", "Another category has this address."),
        Ok(_) => {}
        Err(m) => errors.add("slug", m),
    }
    if input.description.chars().count() > 500 {
        errors.add("description", "Use at most 500 characters.");
    }
    let position = match input.position.trim() {
        "" => 0,
        p => p.parse::<i32>().unwrap_or_else(|_| {
            errors.add("position", "Enter a whole number.");
            0
        }),
    };
    let parent_id = match input.parent.trim() {
        "" => None,
        p => match p.parse::<i64>().ok().map(|pid| help::category(conn, pid)) {
            Some(Ok(parent)) if Some(parent.id) == id => {
                errors.add("parent", "A category cannot be inside itself.");
                None
            }
            Some(Ok(parent)) if parent.parent_id.is_some() => {
                errors.add("parent", "Categories nest one level deep: choose a top-level category.");
                None
            }
            Some(Ok(parent)) => Some(parent.id),
            Some(Err(crate::db::DbError::NotFound)) | None => {
                errors.add("parent", "Choose a category from the list.");
                None
            }
            Some(Err(e)) => return Err(e.into()),
        },
    };
    if let (Some(_), Some(id)) = (parent_id, id)
        && help::has_children(conn, id)?
    {
        errors.add("parent", "This category has subcategories, so it must stay at the top level.");
    }
    errors.into_result()?;
    Ok(CategoryFields { parent_id, name, slug, description: input.description.trim().to_string(), position })
}

pub fn create_category(state: &AppState, user: &User, input: &CategoryInput) -> ServiceResult<Category> {
    authorize_writer(user)?;
    state.tx(|conn| {
        let f = check_category(conn, input, None)?;
        let c = help::insert_category(conn, &f, state.clock.now_naive())?;
        help::forget_old_slug(conn, "category", &c.slug)?;
        Ok(c)
    })
}

pub fn update_category(state: &AppState, user: &User, id: i64, input: &CategoryInput) -> ServiceResult<()> {
    authorize_writer(user)?;
    state.tx(|conn| {
        let before = help::category(conn, id)?;
        let f = check_category(conn, input, Some(id))?;
        let now = state.clock.now_naive();
        help::update_category(conn, id, &f, now)?;
        moved(conn, "category", &before.slug, &f.slug, id, now)
    })
}

/// Deletes an empty category: one still holding articles (of any status) or subcategories is
/// refused with a message saying what to move first. Audited. Returns the category's name.
pub fn delete_category(state: &AppState, meta: &RequestMeta, user: &User, id: i64) -> ServiceResult<String> {
    authorize_writer(user)?;
    state.tx(|conn| {
        let c = help::category(conn, id)?;
        if help::has_children(conn, id)? {
            return Err(ServiceError::Invalid(FieldErrors::single(
                "delete",
                format!("“{}” has subcategories: delete them or move them to another category first.", c.name),
            )));
        }
        if help::category_has_articles(conn, id)? {
            return Err(ServiceError::Invalid(FieldErrors::single(
                "delete",
                format!(
                    "“{}” still holds articles (drafts and archived ones count): move them to another category first.",
                    c.name
                ),
            )));
        }
        help::delete_category(conn, id)?;
        state.audit(conn, meta, Some(user), "help.category_delete", &format!("help_category:{id}"), &c.name)?;
        Ok(c.name)
    })
}
