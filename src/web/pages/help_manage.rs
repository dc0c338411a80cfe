//! Writing the help center (`/help/manage…`, writers only): the article list, the editor with
//! its server-rendered preview and image upload, the history with diff and restore, categories;
//! and `/help/review` (ratings, review flags, deflections) for staff.

use super::SelectOption;
use super::help::CardView;
use crate::domain::help::{ArticleStatus, Audience};
use crate::error::AppError;
use crate::service::help::{self as svc, ArticleInput, CategoryInput};
use crate::service::{AppState, FieldErrors, ServiceError};
use crate::web::ctx::{CurrentUser, Meta, PageCtx, invalid, page, redirect, render};
use crate::web::{blocking, form_outcome, multipart, run};
use actix_web::http::StatusCode;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::NaiveDateTime;
use futures_util::StreamExt;
use serde::Deserialize;

/// What the editor posts (the same names in its multipart variant, the image upload).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ArticleForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    slug: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    audience: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    tags: String,
    #[serde(default)]
    related: String,
    #[serde(default)]
    problem: String,
    #[serde(default)]
    revision: String,
    /// The upload's description of its image (kept when the editor comes back).
    #[serde(default)]
    image_alt: String,
    /// "preview" shows the rendered body and saves nothing; anything else saves.
    #[serde(default)]
    action: String,
}

impl ArticleForm {
    fn input(&self) -> ArticleInput {
        ArticleInput {
            title: self.title.clone(),
            slug: self.slug.clone(),
            summary: self.summary.clone(),
            body: self.body.clone(),
            category: self.category.clone(),
            audience: self.audience.clone(),
            status: self.status.clone(),
            tags: self.tags.clone(),
            related: self.related.clone(),
            problem: self.problem.clone(),
            revision: self.revision.trim().parse().unwrap_or(0),
        }
    }

    fn from_parts(parts: &[multipart::Part]) -> ArticleForm {
        let f = |n: &str| multipart::field(parts, n).replace("\r\n", "\n");
        ArticleForm {
            title: f("title"),
            slug: f("slug"),
            summary: f("summary"),
            body: f("body"),
            category: f("category"),
            audience: f("audience"),
            status: f("status"),
            tags: f("tags"),
            related: f("related"),
            problem: f("problem"),
            revision: f("revision"),
            image_alt: f("image_alt"),
            action: String::new(),
        }
    }
}

pub struct ImageRow {
    pub id: i64,
    pub filename: String,
    pub markdown: String,
}

#[derive(Template)]
#[template(path = "help/editor.html")]
struct EditorPage {
    ctx: PageCtx,
    article_id: Option<i64>,
    /// The saved article's address, for "View".
    saved_slug: String,
    input: ArticleInput,
    errors: FieldErrors,
    categories: Vec<SelectOption>,
    audiences: Vec<SelectOption>,
    statuses: Vec<SelectOption>,
    images: Vec<ImageRow>,
    image_alt: String,
    preview_html: Option<String>,
    notice: Option<String>,
}

async fn editor_page(
    state: &web::Data<AppState>,
    ctx: PageCtx,
    cu: &CurrentUser,
    id: Option<i64>,
    typed: Option<ArticleInput>,
    errors: FieldErrors,
) -> Result<EditorPage, AppError> {
    let (st, user) = (state.clone(), cu.user.clone());
    let v = run(move || svc::editor(&st, &user, id, typed)).await?;
    let mut cats = vec![(String::new(), "No category".to_string())];
    cats.extend(v.categories.iter().map(|(c, parent)| {
        let label = match parent {
            Some(p) => format!("{p} › {}", c.name),
            None => c.name.clone(),
        };
        (c.id.to_string(), label)
    }));
    Ok(EditorPage {
        article_id: v.article.as_ref().map(|a| a.id),
        saved_slug: v.article.as_ref().map(|a| a.slug.clone()).unwrap_or_default(),
        categories: SelectOption::list(cats, &v.input.category),
        audiences: SelectOption::list(Audience::ALL.iter().map(|a| (a.as_str(), a.label())), &v.input.audience),
        statuses: SelectOption::list(ArticleStatus::ALL.iter().map(|s| (s.as_str(), s.label())), &v.input.status),
        images: v
            .images
            .iter()
            .map(|i| ImageRow {
                id: i.id,
                filename: i.filename.clone(),
                markdown: format!("![{}](/help/images/{})", i.filename, i.id),
            })
            .collect(),
        input: v.input,
        errors,
        image_alt: String::new(),
        preview_html: None,
        notice: None,
        ctx,
    })
}

fn preview(input: &ArticleInput) -> String {
    crate::markdown::article(&input.body).html
}

fn article_id(id: &str) -> Result<i64, AppError> {
    id.parse::<i64>().map_err(|_| AppError::NotFound)
}

pub async fn new_form(state: web::Data<AppState>, ctx: PageCtx, cu: CurrentUser) -> Result<HttpResponse, AppError> {
    page(&editor_page(&state, ctx, &cu, None, None, FieldErrors::default()).await?)
}

pub async fn create(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    form: web::Form<ArticleForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let input = form.input();
    if form.action == "preview" {
        let mut p = editor_page(&state, ctx, &cu, None, Some(input.clone()), FieldErrors::default()).await?;
        p.preview_html = Some(preview(&input));
        return page(&p);
    }
    let (st, user, i) = (state.clone(), cu.user.clone(), input.clone());
    match form_outcome(blocking(move || svc::create(&st, &meta, &user, &i)).await?)? {
        Ok(a) => Ok(redirect(&format!("/help/articles/{}", a.slug), Some("Article saved as revision 1."))),
        Err(errors) => invalid(&editor_page(&state, ctx, &cu, None, Some(input), errors).await?),
    }
}

pub async fn edit_form(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = article_id(&id)?;
    page(&editor_page(&state, ctx, &cu, Some(id), None, FieldErrors::default()).await?)
}

pub async fn save(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    id: web::Path<String>,
    form: web::Form<ArticleForm>,
) -> Result<HttpResponse, AppError> {
    let id = article_id(&id)?;
    let form = form.into_inner();
    let mut input = form.input();
    if form.action == "preview" {
        let mut p = editor_page(&state, ctx, &cu, Some(id), Some(input.clone()), FieldErrors::default()).await?;
        p.preview_html = Some(preview(&input));
        return page(&p);
    }
    let (st, user, i) = (state.clone(), cu.user.clone(), input.clone());
    match blocking(move || svc::update(&st, &meta, &user, id, &i)).await? {
        Ok(a) => Ok(redirect(
            &format!("/help/articles/{}", a.slug),
            Some(&format!("Article saved as revision {}.", a.revision)),
        )),
        Err(ServiceError::Invalid(errors)) => {
            invalid(&editor_page(&state, ctx, &cu, Some(id), Some(input), errors).await?)
        }
        Err(ServiceError::Stale { current_version }) => {
            let seen = input.revision;
            // Saving again now replaces their revision with this text, knowingly.
            input.revision = current_version;
            let mut p = editor_page(&state, ctx, &cu, Some(id), Some(input), FieldErrors::default()).await?;
            p.notice = Some(format!(
                "Somebody saved revision {current_version} while you were editing revision {seen}. Your text is below, not saved yet; compare their changes in the history, then save again to replace them."
            ));
            render(StatusCode::CONFLICT, &p)
        }
        Err(e) => Err(e.into()),
    }
}

/// The editor posted as multipart by its "Upload and insert" button: the image is stored and
/// its Markdown appended to the body, and the editor comes back with everything as typed. The
/// session middleware has read the form (`multipart::Upload`); a refused upload (too large, not
/// an image, no file, more than the server reads) brings the editor back with a 422, the reason
/// next to the file field and every typed value kept.
pub async fn upload(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    req: HttpRequest,
    id: web::Path<String>,
    mut payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let id = article_id(&id)?;
    let upload = req.extensions_mut().remove::<multipart::Upload>();
    // Without a multipart form, the middleware replayed the (size-checked) urlencoded body.
    let mut body = web::BytesMut::new();
    if upload.is_none() {
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|_| AppError::BadRequest("The request body could not be read.".into()))?;
            if body.len() + chunk.len() > crate::web::middleware::MAX_BODY {
                break;
            }
            body.extend_from_slice(&chunk);
        }
    }
    let refused = |form: &ArticleForm, message: &str| {
        let mut errors = FieldErrors::default();
        errors.add("image", message);
        (form.input(), form.image_alt.clone(), errors)
    };
    let Some(upload) = upload else {
        // Posted as an ordinary form (a browser that ignored the button's formenctype): nothing
        // to upload, the editor back as typed.
        let form: ArticleForm = serde_urlencoded::from_bytes(&body).unwrap_or_default();
        let (input, alt, errors) = refused(&form, "Choose an image file, then press “Upload and insert”.");
        return editor_refusal(&state, ctx, &cu, id, input, alt, errors).await;
    };
    let form = ArticleForm::from_parts(&upload.parts);
    if upload.cut_short {
        let max = crate::web::middleware::MAX_UPLOAD / (1024 * 1024);
        let (input, alt, errors) = refused(
            &form,
            &format!("The file is far larger than an image may be (over {max} MB were sent; up to 5 MB is accepted)."),
        );
        return editor_refusal(&state, ctx, &cu, id, input, alt, errors).await;
    }
    let mut input = form.input();
    let file = upload.parts.iter().find(|p| p.name == "image" && p.filename.is_some());
    let filename = file.and_then(|f| f.filename.clone()).unwrap_or_default();
    let data = file.map(|f| f.data.clone()).unwrap_or_default();
    let alt = form.image_alt.clone();
    let (st, user) = (state.clone(), cu.user.clone());
    match form_outcome(blocking(move || svc::upload_image(&st, &user, id, &filename, &alt, &data)).await?)? {
        Ok(img) => {
            if !input.body.is_empty() && !input.body.ends_with('\n') {
                input.body.push('\n');
            }
            input.body.push('\n');
            input.body.push_str(&img.markdown);
            input.body.push('\n');
            let mut p = editor_page(&state, ctx, &cu, Some(id), Some(input), FieldErrors::default()).await?;
            p.notice =
                Some(format!("Image uploaded; {} is at the end of the body. Save to keep it there.", img.markdown));
            page(&p)
        }
        Err(errors) => editor_refusal(&state, ctx, &cu, id, input, form.image_alt, errors).await,
    }
}

/// The editor back after a refused upload: 422, the reason, everything typed.
async fn editor_refusal(
    state: &web::Data<AppState>,
    ctx: PageCtx,
    cu: &CurrentUser,
    id: i64,
    input: ArticleInput,
    image_alt: String,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let mut p = editor_page(state, ctx, cu, Some(id), Some(input), errors).await?;
    p.image_alt = image_alt;
    p.notice = Some("Nothing was uploaded. Your text is below as you typed it, not saved yet.".into());
    invalid(&p)
}

/// Takes `![…](/help/images/ID)` out of a body.
fn without_image(body: &str, image_id: i64) -> String {
    let target = format!("](/help/images/{image_id})");
    let mut out = body.to_string();
    while let Some(end) = out.find(&target) {
        let Some(start) = out[..end].rfind("![") else { break };
        out.replace_range(start..end + target.len(), "");
    }
    out
}

/// The editor's "Delete" button of an image (a `formaction`, so the typed editor comes along):
/// the image stops being served, its Markdown leaves the typed body, and the editor comes back
/// with everything else as typed.
pub async fn delete_image(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    path: web::Path<(String, String)>,
    form: web::Form<ArticleForm>,
) -> Result<HttpResponse, AppError> {
    let (id, image) = path.into_inner();
    let id = article_id(&id)?;
    let image = article_id(&image)?;
    let form = form.into_inner();
    // Posted from the editor, the typed text comes along; posted from anywhere else, the
    // editor shows the article as saved.
    let typed = (!form.revision.trim().is_empty()).then(|| form.input());
    let (st, user) = (state.clone(), cu.user.clone());
    let outcome = blocking(move || svc::delete_image(&st, &meta, &user, id, image)).await?;
    let (typed, notice) = match outcome {
        Ok(name) => {
            let mut typed = typed;
            let mut note = format!("Image “{name}” deleted: it is no longer served.");
            if let Some(t) = typed.as_mut() {
                let body = without_image(&t.body, image);
                if body != t.body {
                    t.body = body;
                    note.push_str(" Its Markdown was taken out of the body below: save to keep the change.");
                }
            }
            (typed, note)
        }
        Err(ServiceError::NotFound) => (typed, "That image was deleted already.".to_string()),
        Err(e) => return Err(e.into()),
    };
    let mut p = editor_page(&state, ctx, &cu, Some(id), typed, FieldErrors::default()).await?;
    p.image_alt = form.image_alt;
    p.notice = Some(notice);
    page(&p)
}

// ---------- history ----------

pub struct DiffLineView {
    pub css: &'static str,
    pub sign: &'static str,
    pub old_no: String,
    pub new_no: String,
    pub text: String,
}

pub struct RevisionView {
    pub number: i32,
    pub author: String,
    pub at: String,
    pub note: String,
    pub title: String,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "help/history.html")]
struct HistoryPage {
    ctx: PageCtx,
    id: i64,
    slug: String,
    title: String,
    revisions: Vec<RevisionView>,
    from: i32,
    to: i32,
    hunks: Vec<Vec<DiffLineView>>,
    events: Vec<(String, String, String)>,
}

#[derive(Debug, Default, Deserialize)]
pub struct HistoryQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

pub async fn history(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    id: web::Path<String>,
    q: web::Query<HistoryQuery>,
) -> Result<HttpResponse, AppError> {
    let id = article_id(&id)?;
    let (from, to) = (q.from.parse().ok(), q.to.parse().ok());
    let v = run(move || svc::history(&state, &cu.user, id, from, to)).await?;
    let current = v.article.revision;
    let num = |n: Option<usize>| n.map(|n| n.to_string()).unwrap_or_default();
    page(&HistoryPage {
        id,
        slug: v.article.slug.clone(),
        title: v.article.title.clone(),
        revisions: v
            .revisions
            .iter()
            .map(|r| RevisionView {
                number: r.number,
                author: r.author.clone(),
                at: ctx.time(&r.at),
                note: r.note.clone(),
                title: r.title.clone(),
                current: r.number == current,
            })
            .collect(),
        from: v.from,
        to: v.to,
        hunks: v
            .diff
            .iter()
            .map(|h| {
                h.iter()
                    .map(|l| DiffLineView {
                        css: l.kind.css(),
                        sign: l.kind.sign(),
                        old_no: num(l.old_no),
                        new_no: num(l.new_no),
                        text: l.text.clone(),
                    })
                    .collect()
            })
            .collect(),
        events: v.events.iter().map(|(at, who, what)| (ctx.time(at), who.clone(), what.clone())).collect(),
        ctx,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct RestoreForm {
    #[serde(default)]
    number: String,
}

pub async fn restore(
    state: web::Data<AppState>,
    cu: CurrentUser,
    Meta(meta): Meta,
    id: web::Path<String>,
    form: web::Form<RestoreForm>,
) -> Result<HttpResponse, AppError> {
    let id = article_id(&id)?;
    let number: i32 = form.number.trim().parse().map_err(|_| AppError::NotFound)?;
    let a = run(move || svc::restore(&state, &meta, &cu.user, id, number)).await?;
    Ok(redirect(
        &format!("/help/manage/articles/{id}/history"),
        Some(&format!("Revision {number} restored as revision {}.", a.revision)),
    ))
}

pub async fn reviewed(
    state: web::Data<AppState>,
    cu: CurrentUser,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = article_id(&id)?;
    let a = run(move || svc::mark_reviewed(&state, &cu.user, id)).await?;
    Ok(redirect(&format!("/help/articles/{}", a.slug), Some("Marked as reviewed.")))
}

// ---------- the writers' list ----------

pub struct ManageRowView {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub status: &'static str,
    pub status_code: String,
    pub audience: &'static str,
    pub category: String,
    pub updated: String,
    pub votes: String,
    pub flagged: bool,
}

#[derive(Template)]
#[template(path = "help/manage.html")]
struct ManagePage {
    ctx: PageCtx,
    rows: Vec<ManageRowView>,
    statuses: Vec<SelectOption>,
    next: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ManageQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    after: String,
}

const CURSOR_TIME: &str = "%Y%m%dT%H%M%S%.f";

pub async fn list(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    q: web::Query<ManageQuery>,
) -> Result<HttpResponse, AppError> {
    let q = q.into_inner();
    let status = ArticleStatus::parse(&q.status);
    let after = q
        .after
        .split_once('_')
        .and_then(|(t, id)| Some((NaiveDateTime::parse_from_str(t, CURSOR_TIME).ok()?, id.parse::<i64>().ok()?)));
    let v = run(move || svc::manage(&state, &cu.user, status, after)).await?;
    let next = v.next.map(|(t, id)| {
        format!(
            "/help/manage?status={}&after={}_{id}",
            status.map(ArticleStatus::as_str).unwrap_or(""),
            t.format(CURSOR_TIME)
        )
    });
    let rows = v
        .rows
        .iter()
        .map(|r| ManageRowView {
            id: r.article.id,
            slug: r.article.slug.clone(),
            title: r.article.title.clone(),
            status: ArticleStatus::parse(&r.article.status).map(ArticleStatus::label).unwrap_or("?"),
            status_code: r.article.status.clone(),
            audience: Audience::parse(&r.article.visibility).map(Audience::short).unwrap_or("?"),
            category: r.category.clone(),
            updated: ctx.time(&r.article.updated_at),
            votes: if r.rating.total() == 0 {
                String::new()
            } else {
                format!("{} yes / {} no", r.rating.yes, r.rating.no)
            },
            flagged: r.article.review_flagged_at.is_some(),
        })
        .collect();
    let mut statuses = vec![(String::new(), "Any status".to_string())];
    statuses.extend(ArticleStatus::ALL.iter().map(|s| (s.as_str().to_string(), s.label().to_string())));
    page(&ManagePage {
        ctx,
        rows,
        statuses: SelectOption::list(statuses, status.map(ArticleStatus::as_str).unwrap_or("")),
        next,
    })
}

// ---------- categories ----------

pub struct CategoryRow {
    pub id: i64,
    /// The saved name (the heading and labels).
    pub saved_name: String,
    pub saved_slug: String,
    /// The form's values: as saved, or as typed when this row's form came back.
    pub name: String,
    pub slug: String,
    pub description: String,
    pub position: String,
    pub parent: String,
    pub parents: Vec<SelectOption>,
    pub is_child: bool,
    /// This row's form came back with `errors`.
    pub failed: bool,
}

#[derive(Template)]
#[template(path = "help/categories.html")]
struct CategoriesPage {
    ctx: PageCtx,
    rows: Vec<CategoryRow>,
    new_parents: Vec<SelectOption>,
    input: CategoryInput,
    errors: FieldErrors,
    /// The row whose form (edit or delete) came back with errors.
    failed: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
pub struct CategoryForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    slug: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    parent: String,
    #[serde(default)]
    position: String,
}

impl CategoryForm {
    fn input(self) -> CategoryInput {
        CategoryInput {
            name: self.name,
            slug: self.slug,
            description: self.description,
            parent: self.parent,
            position: self.position,
        }
    }
}

/// The categories page. `failed` is the row whose form came back (with what was typed in it);
/// `input` is the new-category form's values.
async fn categories_page(
    state: &web::Data<AppState>,
    ctx: PageCtx,
    cu: &CurrentUser,
    input: CategoryInput,
    errors: FieldErrors,
    failed: Option<(i64, Option<CategoryInput>)>,
) -> Result<CategoriesPage, AppError> {
    let (st, user) = (state.clone(), cu.user.clone());
    let all = run(move || svc::manage_categories(&st, &user)).await?;
    let tops: Vec<(String, String)> =
        all.iter().filter(|(c, _)| c.parent_id.is_none()).map(|(c, _)| (c.id.to_string(), c.name.clone())).collect();
    let parents_for = |current: &str, except: Option<i64>| {
        let mut v = vec![(String::new(), "Top level".to_string())];
        v.extend(tops.iter().filter(|(id, _)| Some(id.as_str()) != except.map(|e| e.to_string()).as_deref()).cloned());
        SelectOption::list(v, current)
    };
    let failed_id = failed.as_ref().map(|(id, _)| *id);
    let rows = all
        .iter()
        .map(|(c, parent)| {
            let typed = failed.as_ref().filter(|(id, _)| *id == c.id).and_then(|(_, t)| t.clone());
            let saved = CategoryInput {
                name: c.name.clone(),
                slug: c.slug.clone(),
                description: c.description.clone(),
                parent: c.parent_id.map(|p| p.to_string()).unwrap_or_default(),
                position: c.position.to_string(),
            };
            let shown = typed.unwrap_or(saved);
            CategoryRow {
                id: c.id,
                saved_name: c.name.clone(),
                saved_slug: c.slug.clone(),
                parents: parents_for(&shown.parent, Some(c.id)),
                name: shown.name,
                slug: shown.slug,
                description: shown.description,
                position: shown.position,
                parent: parent.clone().unwrap_or_default(),
                is_child: c.parent_id.is_some(),
                failed: failed_id == Some(c.id),
            }
        })
        .collect();
    Ok(CategoriesPage { ctx, rows, new_parents: parents_for(&input.parent, None), input, errors, failed: failed_id })
}

pub async fn categories(state: web::Data<AppState>, ctx: PageCtx, cu: CurrentUser) -> Result<HttpResponse, AppError> {
    page(&categories_page(&state, ctx, &cu, CategoryInput::default(), FieldErrors::default(), None).await?)
}

pub async fn create_category(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    form: web::Form<CategoryForm>,
) -> Result<HttpResponse, AppError> {
    let input = form.into_inner().input();
    let (st, user, i) = (state.clone(), cu.user.clone(), input.clone());
    match form_outcome(blocking(move || svc::create_category(&st, &user, &i)).await?)? {
        Ok(c) => Ok(redirect("/help/manage/categories", Some(&format!("Category “{}” added.", c.name)))),
        Err(errors) => invalid(&categories_page(&state, ctx, &cu, input, errors, None).await?),
    }
}

pub async fn update_category(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    id: web::Path<String>,
    form: web::Form<CategoryForm>,
) -> Result<HttpResponse, AppError> {
    let id = article_id(&id)?;
    let input = form.into_inner().input();
    let (st, user, i) = (state.clone(), cu.user.clone(), input.clone());
    match form_outcome(blocking(move || svc::update_category(&st, &user, id, &i)).await?)? {
        Ok(()) => Ok(redirect("/help/manage/categories", Some("Category saved."))),
        Err(errors) => invalid(
            &categories_page(&state, ctx, &cu, CategoryInput::default(), errors, Some((id, Some(input)))).await?,
        ),
    }
}

/// Deletes an empty category; one holding articles or subcategories comes back refused, with
/// the reason on its row.
pub async fn delete_category(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    Meta(meta): Meta,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = article_id(&id)?;
    let (st, user) = (state.clone(), cu.user.clone());
    match form_outcome(blocking(move || svc::delete_category(&st, &meta, &user, id)).await?)? {
        Ok(name) => Ok(redirect("/help/manage/categories", Some(&format!("Category “{name}” deleted.")))),
        Err(errors) => {
            invalid(&categories_page(&state, ctx, &cu, CategoryInput::default(), errors, Some((id, None))).await?)
        }
    }
}

// ---------- review ----------

pub struct ReviewRowView {
    pub card: CardView,
    pub id: i64,
    pub votes: String,
    pub opens: i64,
    pub deflected: i64,
    pub filed: i64,
    pub reason: String,
    pub flagged: String,
}

#[derive(Template)]
#[template(path = "help/review.html")]
struct ReviewPage {
    ctx: PageCtx,
    flagged: Vec<ReviewRowView>,
    more_flagged: bool,
    poorly_rated: Vec<ReviewRowView>,
    complaints: Vec<(CardView, String, String)>,
    deflections: Vec<ReviewRowView>,
    total_opens: i64,
    total_deflected: i64,
    total_filed: i64,
    can_write: bool,
}

pub async fn review(state: web::Data<AppState>, ctx: PageCtx, cu: CurrentUser) -> Result<HttpResponse, AppError> {
    let v = run(move || svc::review(&state, &cu.user)).await?;
    let view = |r: &svc::ReviewRow| ReviewRowView {
        card: CardView::of(&r.card),
        id: r.id,
        votes: format!(
            "{} yes / {} no{}",
            r.rating.yes,
            r.rating.no,
            r.rating.helpful_percent().map(|p| format!(" ({p} % helpful)")).unwrap_or_default()
        ),
        opens: r.deflection.opens,
        deflected: r.deflection.deflected,
        filed: r.deflection.filed,
        reason: r.review_reason.clone(),
        flagged: r.flagged_at.map(|t| ctx.time(&t)).unwrap_or_default(),
    };
    page(&ReviewPage {
        flagged: v.flagged.iter().map(view).collect(),
        more_flagged: v.more_flagged,
        poorly_rated: v.poorly_rated.iter().map(view).collect(),
        complaints: v.complaints.iter().map(|(c, text, at)| (CardView::of(c), text.clone(), ctx.time(at))).collect(),
        deflections: v.deflections.iter().map(view).collect(),
        total_opens: v.total.opens,
        total_deflected: v.total.deflected,
        total_filed: v.total.filed,
        can_write: v.can_write,
        ctx,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_multipart_editor_keeps_every_field() {
        let parts = vec![
            multipart::Part { name: "title".into(), filename: None, data: b"T".to_vec(), size: 1 },
            multipart::Part { name: "body".into(), filename: None, data: b"a\r\nb".to_vec(), size: 4 },
            multipart::Part { name: "revision".into(), filename: None, data: b"3".to_vec(), size: 1 },
        ];
        let f = ArticleForm::from_parts(&parts);
        let i = f.input();
        assert_eq!((i.title.as_str(), i.body.as_str(), i.revision), ("T", "a\nb", 3));
        assert_eq!(crate::domain::help::DiffKind::Added.sign(), "+");
    }

    #[test]
    fn a_deleted_image_leaves_the_body() {
        let body = "Look:\n\n![The screen](/help/images/12)\n\n![Other](/help/images/1)\nend";
        assert_eq!(without_image(body, 12), "Look:\n\n\n\n![Other](/help/images/1)\nend");
        assert_eq!(without_image(body, 1), "Look:\n\n![The screen](/help/images/12)\n\n\nend");
        assert_eq!(without_image(body, 7), body);
    }
}
