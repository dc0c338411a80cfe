//! The incident page's help article picker: "Find" lists matching articles, "Insert link" adds
//! a Markdown link to the typed reply (no JavaScript; nothing is posted until the reply is sent).

use super::SelectOption;
use crate::domain::help::Audience;
use crate::error::AppError;
use crate::service::help as svc;
use crate::service::{AppState, FieldErrors, ServiceError};
use crate::web::ctx::{CurrentUser, PageCtx, render};
use crate::web::{blocking, run};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

/// The picker in the incident page's reply form.
#[derive(Debug, Clone, Default)]
pub struct HelpPicker {
    pub query: String,
    pub options: Vec<SelectOption>,
    /// More articles match than the picker offers.
    pub more: bool,
    /// The options are for an internal note (internal articles included).
    pub internal: bool,
}

impl HelpPicker {
    pub(crate) fn of(v: svc::PickerView, chosen: &str) -> HelpPicker {
        HelpPicker {
            more: v.more,
            internal: v.internal,
            options: SelectOption::list(
                v.options.iter().map(|c| {
                    let label = match c.audience {
                        Audience::Internal => format!("{} (internal: customers cannot open it)", c.title),
                        Audience::Customers => format!("{} (signed-in customers)", c.title),
                        Audience::Public => c.title.clone(),
                    };
                    (c.slug.clone(), label)
                }),
                chosen,
            ),
            query: v.query,
        }
    }
}

/// Fills the incident page's article picker (the most recently updated articles, or the best
/// matches for `q`) for those who work incidents: for a public reply only articles the reporter
/// may open, for an internal note internal ones too.
#[derive(Debug, Default, Deserialize)]
pub struct PickerForm {
    #[serde(default)]
    body: String,
    #[serde(default)]
    visibility: String,
    #[serde(default)]
    article_q: String,
    #[serde(default)]
    article: String,
    /// "find" or "insert".
    #[serde(default)]
    article_action: String,
}

/// The picker's buttons post the reply form here: "Find" lists matching articles, "Insert
/// link" appends a Markdown link to the chosen one to the typed reply. Nothing is posted; the
/// incident page comes back with the reply box filled in.
pub async fn insert_link(
    state: web::Data<AppState>,
    ctx: PageCtx,
    cu: CurrentUser,
    key_text: web::Path<String>,
    form: web::Form<PickerForm>,
) -> Result<HttpResponse, AppError> {
    let id = crate::web::view::id_of(&key_text)?;
    let form = form.into_inner();
    let mut body = form.body.clone();
    let mut errors = FieldErrors::default();
    let internal = form.visibility == "internal";
    if form.article_action == "insert" {
        let (st, u, slug) = (state.clone(), cu.user.clone(), form.article.trim().to_string());
        match blocking(move || svc::link_target(&st, &u, id, &slug, internal)).await? {
            Ok(c) => {
                let base = state.config.base_url.trim_end_matches('/');
                let title = c.title.replace(['[', ']'], "");
                if !body.is_empty() && !body.ends_with('\n') {
                    body.push('\n');
                }
                body.push_str(&format!("[{title}]({base}/help/articles/{})", c.slug));
            }
            Err(ServiceError::Invalid(e)) => errors = e,
            Err(e) => return Err(e.into()),
        }
    }
    let (st, user) = (state.clone(), cu.user.clone());
    let ask = crate::service::incidents::PickerAsk { query: form.article_q.clone(), internal };
    let p = run(move || crate::service::incidents::incident_page(&st, &user, id, &ask)).await?;
    let kept = super::incident_page::Kept { body, internal, article: form.article, ..Default::default() };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render(status, &super::incident_page::show_page(ctx, p, kept, errors))
}
