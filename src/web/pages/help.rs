//! The help center as readers see it (`/help`, public): home, categories, articles, search,
//! "was this helpful?", images and `/sitemap.xml`; the new-incident form's suggestion opens (the
//! incident page's article picker is `help_picker.rs`). Pages anonymous visitors get are the
//! same for all of them and are cached by `web::http_cache`.

use crate::crypto::random_token;
use crate::domain::help::{ArticleStatus, Audience, Rating};
use crate::error::AppError;
use crate::service::User;
use crate::service::help::{self as svc, Card, Found, Voter};
use crate::service::{AppState, FieldErrors, ServiceError};
use crate::web::ctx::{CurrentUser, Meta, PageCtx, invalid, page, redirect};
use crate::web::http_cache::{cached, etag_matches, html_page, moved_to, shareable, shared_answer};
use crate::web::{blocking, run};
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::NaiveDateTime;
use serde::Deserialize;

/// The signed-in user, if any (public routes have no gate to insist on one).
pub fn viewer(req: &HttpRequest) -> Option<User> {
    req.extensions().get::<CurrentUser>().map(|c| c.user.clone())
}

/// An article in a list.
pub struct CardView {
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub audience: &'static str,
    pub audience_code: &'static str,
    /// "Draft" / "Archived" for writers' lists; empty when published.
    pub status: &'static str,
}

impl CardView {
    pub fn of(c: &Card) -> CardView {
        CardView {
            slug: c.slug.clone(),
            title: c.title.clone(),
            summary: c.summary.clone(),
            audience: c.audience.short(),
            audience_code: c.audience.as_str(),
            status: if c.status == ArticleStatus::Published { "" } else { c.status.label() },
        }
    }
}

fn cards(list: &[Card]) -> Vec<CardView> {
    list.iter().map(CardView::of).collect()
}

fn date(t: &NaiveDateTime) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// The meta description: the summary, or the start of what a reader sees of the body (the
/// rendered, sanitized text: no Markdown syntax, HTML comments or link targets).
fn description(summary: &str, body: &str) -> String {
    let source = if summary.trim().is_empty() {
        crate::markdown::plain_text(body)
    } else {
        summary.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    crate::markdown::excerpt(&source, 155)
}

/// `(href, label)` links from the help center down to a category.
fn trail(parent: Option<&svc::Category>, category: Option<&svc::Category>) -> Vec<(String, String)> {
    let mut out = vec![("/help".to_string(), "Help center".to_string())];
    for c in [parent, category].into_iter().flatten() {
        out.push((format!("/help/categories/{}", c.slug), c.name.clone()));
    }
    out
}

// ---------- home ----------

pub struct NodeView {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub count: i64,
    pub children: Vec<(String, String, i64)>,
}

#[derive(Template)]
#[template(path = "help/home.html")]
struct HomePage {
    ctx: PageCtx,
    categories: Vec<NodeView>,
    recent: Vec<CardView>,
    can_write: bool,
    can_feedback: bool,
}

pub async fn home(state: web::Data<AppState>, ctx: PageCtx, req: HttpRequest) -> Result<HttpResponse, AppError> {
    let user = viewer(&req);
    let v = run(move || svc::home(&state, user.as_ref())).await?;
    let tpl = HomePage {
        categories: v
            .categories
            .iter()
            .map(|n| NodeView {
                slug: n.category.slug.clone(),
                name: n.category.name.clone(),
                description: n.category.description.clone(),
                count: n.count,
                children: n.children.iter().map(|(c, k)| (c.slug.clone(), c.name.clone(), *k)).collect(),
            })
            .collect(),
        recent: cards(&v.recent),
        can_write: v.can_write,
        can_feedback: v.can_feedback,
        ctx,
    };
    html_page(&req, &tpl, v.last_modified)
}

// ---------- category ----------

#[derive(Template)]
#[template(path = "help/category.html")]
struct CategoryPage {
    ctx: PageCtx,
    slug: String,
    name: String,
    description: String,
    trail: Vec<(String, String)>,
    children: Vec<(String, String, i64)>,
    articles: Vec<CardView>,
    /// "Next page" when there are more articles than the page shows.
    next: Option<String>,
    continued: bool,
    total: i64,
    can_write: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct CategoryQuery {
    #[serde(default)]
    after: String,
}

pub async fn category(
    state: web::Data<AppState>,
    ctx: PageCtx,
    req: HttpRequest,
    slug: web::Path<String>,
    q: web::Query<CategoryQuery>,
) -> Result<HttpResponse, AppError> {
    let user = viewer(&req);
    let slug = slug.into_inner();
    let after = q.after.trim().parse::<i64>().ok();
    let s = slug.clone();
    let v = match run(move || svc::category_page(&state, user.as_ref(), &s, after)).await? {
        Found::Here(v) => v,
        Found::Moved(to) => return Ok(moved_to(&format!("/help/categories/{to}"))),
    };
    let mut crumbs = trail(v.parent.as_ref(), None);
    if v.parent.is_none() {
        crumbs.truncate(1);
    }
    let tpl = CategoryPage {
        next: v.next.map(|id| format!("/help/categories/{}?after={id}", v.category.slug)),
        continued: v.continued,
        total: v.total,
        slug: v.category.slug.clone(),
        name: v.category.name.clone(),
        description: v.category.description.clone(),
        trail: crumbs,
        children: v.children.iter().map(|(c, n)| (c.slug.clone(), c.name.clone(), *n)).collect(),
        articles: cards(&v.articles),
        can_write: v.can_write,
        ctx,
    };
    html_page(&req, &tpl, v.last_modified)
}

// ---------- article ----------

#[derive(Template)]
#[template(path = "help/article.html")]
struct ArticlePage {
    ctx: PageCtx,
    id: i64,
    slug: String,
    title: String,
    summary: String,
    meta_description: String,
    canonical: String,
    html: String,
    headings: Vec<(u8, String, String)>,
    trail: Vec<(String, String)>,
    tags: Vec<String>,
    related: Vec<CardView>,
    updated: String,
    author: String,
    updated_by: String,
    fixed_in: String,
    /// "Draft" / "Archived" when the article is not published (writers only see it then).
    unpublished: &'static str,
    audience: &'static str,
    /// Not public: search engines are asked not to index it.
    restricted: bool,
    signed_in: bool,
    my_vote: Option<bool>,
    rating: Option<Rating>,
    helpful_percent: String,
    deflection: Option<svc::Deflection>,
    problem_key: Option<String>,
    can_write: bool,
    review_reason: String,
}

pub async fn article(
    state: web::Data<AppState>,
    ctx: PageCtx,
    req: HttpRequest,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let user = viewer(&req);
    let slug = slug.into_inner();
    let st = state.clone();
    let v = match run(move || svc::article_page(&st, user.as_ref(), &slug)).await? {
        Found::Here(v) => v,
        Found::Moved(to) => return Ok(moved_to(&format!("/help/articles/{to}"))),
    };
    let a = &v.article;
    let body = crate::markdown::article(&a.body);
    let status = ArticleStatus::parse(&a.status).unwrap_or(ArticleStatus::Draft);
    let tpl = ArticlePage {
        id: a.id,
        slug: a.slug.clone(),
        title: a.title.clone(),
        summary: a.summary.clone(),
        meta_description: description(&a.summary, &a.body),
        canonical: format!("{}/help/articles/{}", state.config.base_url.trim_end_matches('/'), a.slug),
        html: body.html,
        headings: body.headings,
        trail: trail(v.parent.as_ref(), v.category.as_ref()),
        tags: v.tags.clone(),
        related: cards(&v.related),
        updated: date(&a.updated_at),
        author: v.author.clone(),
        updated_by: v.updated_by.clone(),
        fixed_in: a.fixed_in_release.clone(),
        unpublished: if status == ArticleStatus::Published { "" } else { status.label() },
        audience: Audience::parse(&a.visibility).map(Audience::label).unwrap_or(""),
        restricted: a.visibility != Audience::Public.as_str(),
        signed_in: ctx.user.is_some(),
        my_vote: v.my_vote,
        helpful_percent: v.rating.and_then(|r| r.helpful_percent()).map(|p| format!("{p} %")).unwrap_or_default(),
        rating: v.rating,
        deflection: v.deflection,
        problem_key: v.problem_key.clone(),
        can_write: v.can_write,
        review_reason: a.review_reason.clone(),
        ctx,
    };
    html_page(&req, &tpl, v.last_modified)
}

// ---------- search ----------

#[derive(Debug, Default, Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    tag: String,
}

pub struct HitView {
    pub card: CardView,
    pub snippet: String,
    pub updated: String,
}

#[derive(Template)]
#[template(path = "help/search.html")]
struct SearchPage {
    ctx: PageCtx,
    q: String,
    tag: String,
    hits: Vec<HitView>,
    empty_query: bool,
    /// More articles match than the page lists.
    more: bool,
    limit: i64,
    /// `/incidents/new?title=…`: the no-result offer, prefilled with the query.
    report_href: String,
}

pub async fn search(
    state: web::Data<AppState>,
    ctx: PageCtx,
    req: HttpRequest,
    q: web::Query<SearchQuery>,
) -> Result<HttpResponse, AppError> {
    let user = viewer(&req);
    let SearchQuery { q, tag } = q.into_inner();
    let q: String = q.chars().take(200).collect();
    let tag: String = tag.chars().take(40).collect();
    let (qq, tt) = (q.clone(), tag.clone());
    let v = run(move || svc::search(&state, user.as_ref(), &qq, &tt)).await?;
    let title: String = q.trim().chars().take(120).collect();
    let report_href = format!(
        "/incidents/new?{}",
        url::form_urlencoded::Serializer::new(String::new()).append_pair("title", &title).finish()
    );
    let tpl = SearchPage {
        hits: v
            .hits
            .iter()
            .map(|h| HitView {
                card: CardView::of(&h.card),
                snippet: h.snippet_html.clone(),
                updated: date(&h.updated_at),
            })
            .collect(),
        empty_query: v.empty_query && tag.trim().is_empty(),
        more: v.more,
        limit: svc::SEARCH_LIMIT,
        q,
        tag,
        report_href,
        ctx,
    };
    page(&tpl)
}

// ---------- "was this helpful?" ----------

#[derive(Template)]
#[template(path = "help/feedback.html")]
struct FeedbackPage {
    ctx: PageCtx,
    slug: String,
    title: String,
    helpful: String,
    comment: String,
    errors: FieldErrors,
}

#[derive(Debug, Default, Deserialize)]
pub struct FeedbackQuery {
    #[serde(default)]
    helpful: String,
}

/// The answer form on its own page: what anonymous visitors reach from an article (whose
/// shared, cacheable page carries no form token), and where a refused answer comes back.
pub async fn feedback_form(
    state: web::Data<AppState>,
    ctx: PageCtx,
    req: HttpRequest,
    slug: web::Path<String>,
    q: web::Query<FeedbackQuery>,
) -> Result<HttpResponse, AppError> {
    let user = viewer(&req);
    let slug = slug.into_inner();
    let s = slug.clone();
    let v = match run(move || svc::article_page(&state, user.as_ref(), &s)).await? {
        Found::Here(v) => v,
        Found::Moved(to) => {
            let helpful = url::form_urlencoded::byte_serialize(q.helpful.as_bytes()).collect::<String>();
            return Ok(moved_to(&format!("/help/articles/{to}/feedback?helpful={helpful}")));
        }
    };
    if v.article.status != ArticleStatus::Published.as_str() {
        return Err(AppError::NotFound);
    }
    let helpful = match q.helpful.as_str() {
        "yes" | "no" => q.helpful.clone(),
        _ => v.my_vote.map(|y| if y { "yes" } else { "no" }.to_string()).unwrap_or_default(),
    };
    page(&FeedbackPage {
        ctx,
        slug,
        title: v.article.title,
        helpful,
        comment: String::new(),
        errors: FieldErrors::default(),
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct VoteForm {
    #[serde(default)]
    helpful: String,
    #[serde(default)]
    comment: String,
}

fn visitor_cookie_name(state: &AppState) -> &'static str {
    if state.config.is_https() { "__Host-fw_visitor" } else { "fw_visitor" }
}

pub async fn vote(
    state: web::Data<AppState>,
    ctx: PageCtx,
    req: HttpRequest,
    Meta(meta): Meta,
    slug: web::Path<String>,
    form: web::Form<VoteForm>,
) -> Result<HttpResponse, AppError> {
    let slug = slug.into_inner();
    let form = form.into_inner();
    let user = viewer(&req);
    let name = visitor_cookie_name(&state);
    // Anonymous visitors are told apart by a long-lived random cookie, made on their first answer.
    let existing = req.cookie(name).map(|c| c.value().to_string()).filter(|v| v.len() == 32);
    let new_visitor = if user.is_none() && existing.is_none() { Some(random_token(16)) } else { None };
    let token = existing.or_else(|| new_visitor.clone()).unwrap_or_default();
    let (st, s, f) = (state.clone(), slug.clone(), (form.helpful.clone(), form.comment.clone()));
    let outcome = blocking(move || {
        let voter = match &user {
            Some(u) => Voter::User(u),
            None => Voter::Visitor(&token),
        };
        svc::vote(&st, voter, &meta.ip, &s, &f.0, &f.1)
    })
    .await?;
    match outcome {
        Ok(replaced) => {
            let msg = if replaced { "Your answer is updated. Thank you." } else { "Thank you for your answer." };
            let mut res = redirect(&format!("/help/articles/{slug}#feedback"), Some(msg));
            if let Some(t) = new_visitor {
                let c = Cookie::build(name, t)
                    .path("/")
                    .http_only(true)
                    .secure(state.config.is_https())
                    .same_site(SameSite::Lax)
                    .max_age(actix_web::cookie::time::Duration::days(365))
                    .finish();
                res.add_cookie(&c).ok();
            }
            Ok(res)
        }
        Err(ServiceError::Invalid(errors)) => {
            let user = viewer(&req);
            let s = slug.clone();
            let Found::Here(v) = run(move || svc::article_page(&state, user.as_ref(), &s)).await? else {
                return Err(AppError::NotFound);
            };
            invalid(&FeedbackPage {
                ctx,
                slug,
                title: v.article.title,
                helpful: form.helpful,
                comment: form.comment,
                errors,
            })
        }
        Err(e) => Err(e.into()),
    }
}

// ---------- suggestions opened from the new-incident form ----------

/// A suggestion's button on the new-incident form posts here (in a new tab, so the typed
/// report stays): the open is recorded for deflection counting, then the article opens.
pub async fn opened(
    state: web::Data<AppState>,
    cu: CurrentUser,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let slug = slug.into_inner();
    let slug = run(move || svc::record_open(&state, &cu.user, &slug)).await?;
    Ok(redirect(&format!("/help/articles/{slug}"), None))
}

// ---------- images ----------

/// An article's image, for those who may read the article, with the headers incident
/// attachments get (a download, nosniff, a sandboxing CSP), so a file can never run as a page.
/// The image of a published public article, fetched anonymously, may be kept by shared caches
/// (`public`, revalidated every time, so a deleted image or an article made internal stops being
/// served), with an ETag (an image never changes under its id) and Last-Modified, and 304s;
/// everything else stays `private, no-store`.
pub async fn image(state: web::Data<AppState>, req: HttpRequest, id: web::Path<i64>) -> Result<HttpResponse, AppError> {
    use actix_web::http::header::{
        CacheControl, CacheDirective, ContentDisposition, DispositionParam, DispositionType,
    };
    let user = viewer(&req);
    let id = id.into_inner();
    let shareable = shareable(&req);
    let etag_of = |m: &svc::ImageMeta| format!("\"img-{}-{}\"", m.id, m.size);
    let client_has = req.headers().get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).map(str::to_string);
    let answer = run(move || {
        svc::image(&state, user.as_ref(), id, |m, public| {
            public && shareable && client_has.as_deref().is_some_and(|v| etag_matches(v, &etag_of(m)))
        })
    })
    .await?;
    let meta = &answer.meta;
    let Some(data) = answer.data else {
        // The client's copy is current (only ever for a shared image).
        return Ok(shared_answer(&req, &etag_of(meta), meta.created_at).1.finish());
    };
    let ascii: String = meta
        .filename
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' })
        .collect();
    let mut b = if answer.public && shareable {
        let (fresh, mut b) = shared_answer(&req, &etag_of(meta), meta.created_at);
        if fresh {
            return Ok(b.finish());
        }
        b
    } else {
        let mut b = HttpResponse::Ok();
        b.insert_header(CacheControl(vec![CacheDirective::Private, CacheDirective::NoStore]));
        b
    };
    Ok(b.content_type(crate::domain::inbound::safe_content_type(&meta.content_type))
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(ascii)],
        })
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Content-Security-Policy", "sandbox; default-src 'none'"))
        .body(data))
}

// ---------- sitemap ----------

#[derive(Template)]
#[template(path = "help/sitemap.xml")]
struct Sitemap {
    base: String,
    help_lastmod: String,
    urls: Vec<(String, String)>,
}

/// `/sitemap.xml`: the help center and its published public articles, with their last change.
pub async fn sitemap(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, AppError> {
    let base = state.config.base_url.trim_end_matches('/').to_string();
    let list = run(move || svc::sitemap(&state)).await?;
    let last = list.iter().map(|(_, t)| *t).max().unwrap_or_default();
    let lastmod = |t: &NaiveDateTime| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let tpl = Sitemap {
        help_lastmod: lastmod(&last),
        urls: list.iter().map(|(slug, t)| (format!("{base}/help/articles/{slug}"), lastmod(t))).collect(),
        base,
    };
    Ok(cached(&req, "application/xml; charset=utf-8", tpl.render()?, last))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_descriptions_are_plain_and_short() {
        assert_eq!(description("", "# Title\n\nSome **bold** text"), "Title Some bold text");
        assert_eq!(
            description("", "<!-- draft note -->\n\nSee [the guide](https://example.com/guide) first."),
            "See the guide first."
        );
        assert_eq!(description("The summary", "body"), "The summary");
        let long = "word ".repeat(100);
        let d = description(&long, "");
        assert!(d.chars().count() <= 157 && d.ends_with('…'), "{d}");
    }
}
