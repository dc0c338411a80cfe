//! Help center rules: who an article is for, its publication status, slugs, ratings, the
//! deflection window and the line diff between two revisions.

use similar::{ChangeTag, TextDiff};

/// Who may read an article.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Audience {
    /// Anyone, signed in or not.
    Public,
    /// Signed-in users (customers and staff).
    Customers,
    /// Staff only.
    Internal,
}

impl Audience {
    pub const ALL: [Audience; 3] = [Audience::Public, Audience::Customers, Audience::Internal];

    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Public => "public",
            Audience::Customers => "customers",
            Audience::Internal => "internal",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Audience::Public => "Public: anyone, without signing in",
            Audience::Customers => "Customers: signed-in users",
            Audience::Internal => "Internal: staff only",
        }
    }

    pub fn short(self) -> &'static str {
        match self {
            Audience::Public => "Public",
            Audience::Customers => "Customers",
            Audience::Internal => "Internal",
        }
    }

    pub fn parse(s: &str) -> Option<Audience> {
        Audience::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// Where an article is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArticleStatus {
    Draft,
    Published,
    Archived,
}

impl ArticleStatus {
    pub const ALL: [ArticleStatus; 3] = [ArticleStatus::Draft, ArticleStatus::Published, ArticleStatus::Archived];

    pub fn as_str(self) -> &'static str {
        match self {
            ArticleStatus::Draft => "draft",
            ArticleStatus::Published => "published",
            ArticleStatus::Archived => "archived",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ArticleStatus::Draft => "Draft",
            ArticleStatus::Published => "Published",
            ArticleStatus::Archived => "Archived",
        }
    }

    pub fn parse(s: &str) -> Option<ArticleStatus> {
        ArticleStatus::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// The longest slug accepted.
pub const SLUG_MAX: usize = 80;

/// A URL slug made from a title: lowercase ASCII letters and digits, words joined by '-'.
/// Letters outside ASCII are dropped (a title in another script gets "article").
pub fn slugify(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
        if out.len() >= SLUG_MAX {
            break;
        }
    }
    let s = out.trim_matches('-').to_string();
    if s.is_empty() { "article".to_string() } else { s }
}

/// Checks a slug typed by a writer; an empty one is made from the title.
pub fn check_slug(slug: &str, title: &str) -> Result<String, &'static str> {
    let slug = slug.trim().to_lowercase();
    if slug.is_empty() {
        return Ok(slugify(title));
    }
    if slug.len() > SLUG_MAX {
        return Err("Use at most 80 characters.");
    }
    let ok_chars = slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !ok_chars || slug.starts_with('-') || slug.ends_with('-') || slug.contains("--") {
        return Err("Use lowercase letters, digits and single hyphens, like reset-your-password.");
    }
    Ok(slug)
}

/// The id a heading gets so that `#anchors` reach it: like a slug, but any Unicode letter
/// stays (lowercased); never empty.
pub fn heading_id(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if (c.is_whitespace() || c == '-' || c == '_') && !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
        if out.chars().count() >= SLUG_MAX {
            break;
        }
    }
    let s = out.trim_matches('-').to_string();
    if s.is_empty() { "section".to_string() } else { s }
}

/// Ids the pages that show an article body already use (the layout, the article page, the
/// editor with its preview). A heading whose id would be one of these, or would start with one
/// of `PAGE_ID_PREFIXES` (form fields, image rows), gets `h-` in front instead. A unit test in
/// `markdown.rs` checks this list against the templates.
pub const PAGE_IDS: &[&str] = &[
    "main",
    "article-h",
    "fixed-in",
    "toc-h",
    "related",
    "related-h",
    "feedback",
    "feedback-h",
    "staff-panel",
    "staff-h",
    "votes",
    "deflections",
    "preview",
    "preview-h",
    "editor-notice",
    "help-q",
    "images",
];

pub const PAGE_ID_PREFIXES: &[&str] = &["f-", "img-"];

/// Whether the page around an article already uses this id.
pub fn page_uses_id(id: &str) -> bool {
    PAGE_IDS.contains(&id) || PAGE_ID_PREFIXES.iter().any(|p| id.starts_with(p))
}

/// Makes heading ids unique within a page: the second "install" becomes "install-1"; an id the
/// page uses itself gets `h-` in front (`for_page`).
#[derive(Debug, Default)]
pub struct HeadingIds(Vec<String>);

impl HeadingIds {
    /// Ids for an article body shown inside a page: never one of `PAGE_IDS`.
    pub fn for_page() -> HeadingIds {
        HeadingIds(PAGE_IDS.iter().map(|s| s.to_string()).collect())
    }

    pub fn next(&mut self, text: &str) -> String {
        let mut base = heading_id(text);
        if page_uses_id(&base) {
            base = format!("h-{base}");
        }
        let mut id = base.clone();
        let mut n = 1;
        while self.0.contains(&id) {
            id = format!("{base}-{n}");
            n += 1;
        }
        self.0.push(id.clone());
        id
    }
}

/// Votes below which a rating says nothing yet.
pub const MIN_VOTES_FOR_REVIEW: i64 = 3;

/// "Was this article helpful?" answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rating {
    pub yes: i64,
    pub no: i64,
}

impl Rating {
    pub fn total(self) -> i64 {
        self.yes + self.no
    }

    /// The share of helpful answers, 0–100; None without votes.
    pub fn helpful_percent(self) -> Option<i64> {
        (self.total() > 0).then(|| (100 * self.yes + self.total() / 2) / self.total())
    }

    /// Enough votes, and fewer than half of them helpful: the article needs a look.
    pub fn poorly_rated(self) -> bool {
        self.total() >= MIN_VOTES_FOR_REVIEW && 2 * self.yes < self.total()
    }
}

/// A suggestion opened from the new-incident form counts as a deflection when the same user
/// files no incident within this many minutes afterwards.
pub const DEFLECTION_WINDOW_MINUTES: i64 = 30;

/// The longest comment kept with a "No" vote.
pub const VOTE_COMMENT_MAX: usize = 2000;

/// Whether a problem's fix is out and holding, so that its workaround articles may say "Fixed in
/// release X": fix released or verified, or closed after its fix was released. A recurred
/// problem's fix did not hold; any earlier status means the fix is not out (again).
pub fn fix_shipped(problem_status: &str, fix_released: bool) -> bool {
    use super::problem::ProblemStatus;
    match ProblemStatus::parse(problem_status) {
        Some(ProblemStatus::FixReleased | ProblemStatus::Verified) => true,
        Some(ProblemStatus::Closed) => fix_released,
        _ => false,
    }
}

/// The largest image a writer may upload to an article.
pub const IMAGE_MAX_BYTES: usize = 5 * 1024 * 1024;

/// The image type of uploaded bytes, recognized by their first bytes (never by the name or the
/// type the browser claimed): PNG, JPEG, GIF or WebP. SVG is refused, as it can carry script.
pub fn image_type(data: &[u8]) -> Option<&'static str> {
    if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if data.starts_with(b"GIF87a") || data.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if data.len() >= 12 && data.starts_with(b"RIFF") && &data[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// One line of a diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    pub kind: DiffKind,
    /// 1-based line numbers on each side (None where the line does not exist on that side).
    pub old_no: Option<usize>,
    pub new_no: Option<usize>,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffKind {
    Same,
    Removed,
    Added,
}

impl DiffKind {
    pub fn sign(self) -> &'static str {
        match self {
            DiffKind::Same => " ",
            DiffKind::Removed => "−",
            DiffKind::Added => "+",
        }
    }

    pub fn css(self) -> &'static str {
        match self {
            DiffKind::Same => "same",
            DiffKind::Removed => "removed",
            DiffKind::Added => "added",
        }
    }
}

/// Lines of context kept around each change.
pub const DIFF_CONTEXT: usize = 3;

/// A line diff of two texts (Myers, via `similar`), as hunks of changed lines with
/// `DIFF_CONTEXT` lines of context around them. No hunks when the texts are equal.
pub fn line_diff(old: &str, new: &str) -> Vec<Vec<DiffLine>> {
    let diff = TextDiff::configure().timeout(std::time::Duration::from_secs(2)).diff_lines(old, new);
    diff.grouped_ops(DIFF_CONTEXT)
        .iter()
        .map(|group| {
            group
                .iter()
                .flat_map(|op| diff.iter_changes(op))
                .map(|c| DiffLine {
                    kind: match c.tag() {
                        ChangeTag::Equal => DiffKind::Same,
                        ChangeTag::Delete => DiffKind::Removed,
                        ChangeTag::Insert => DiffKind::Added,
                    },
                    old_no: c.old_index().map(|i| i + 1),
                    new_no: c.new_index().map(|i| i + 1),
                    text: c.to_string_lossy().trim_end_matches(['\n', '\r']).to_string(),
                })
                .collect()
        })
        .collect()
}

/// The text of a revision that the history page compares: its fields, one a line, then the body.
pub struct RevisionText<'a> {
    pub title: &'a str,
    pub slug: &'a str,
    pub summary: &'a str,
    pub audience: &'a str,
    pub status: &'a str,
    pub category: &'a str,
    pub tags: &'a str,
    pub body: &'a str,
}

impl RevisionText<'_> {
    pub fn render(&self) -> String {
        format!(
            "Title: {}\nSlug: {}\nSummary: {}\nVisibility: {}\nStatus: {}\nCategory: {}\nTags: {}\n\n{}\n",
            self.title,
            self.slug,
            self.summary.replace('\n', " "),
            self.audience,
            self.status,
            self.category,
            self.tags,
            self.body.trim_end()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_come_from_titles_and_are_checked() {
        assert_eq!(slugify("Reset your password (SSO)!"), "reset-your-password-sso");
        assert_eq!(slugify("Ünïcode — only"), "n-code-only");
        assert_eq!(slugify("!!!"), "article");
        assert_eq!(check_slug("", "VPN: how to connect"), Ok("vpn-how-to-connect".into()));
        assert_eq!(check_slug(" My-Slug ", "x"), Ok("my-slug".into()));
        assert!(check_slug("bad slug", "x").is_err());
        assert!(check_slug("-edge", "x").is_err());
        assert!(check_slug("a--b", "x").is_err());
        assert!(check_slug("../etc", "x").is_err());
        assert!(check_slug(&"a".repeat(81), "x").is_err());
    }

    #[test]
    fn heading_ids_are_unique_and_readable() {
        let mut ids = HeadingIds::default();
        assert_eq!(ids.next("Install the agent"), "install-the-agent");
        assert_eq!(ids.next("Install the agent"), "install-the-agent-1");
        assert_eq!(ids.next("Étape 2: configurer"), "étape-2-configurer");
        assert_eq!(ids.next("<script>"), "script");
        assert_eq!(ids.next("!!"), "section");
        let mut page = HeadingIds::for_page();
        assert_eq!(page.next("Main"), "h-main");
        assert_eq!(page.next("Main"), "h-main-1");
        assert_eq!(page.next("F title"), "h-f-title");
        assert_eq!(page.next("Install"), "install");
        assert!(PAGE_IDS.iter().all(|id| !id.starts_with("h-")), "a prefixed id is never reserved");
    }

    #[test]
    fn ratings_flag_poor_articles_once_there_are_enough_votes() {
        assert!(!Rating { yes: 0, no: 2 }.poorly_rated(), "two votes say little");
        assert!(Rating { yes: 1, no: 2 }.poorly_rated());
        assert!(!Rating { yes: 2, no: 2 }.poorly_rated(), "half helpful is not poor");
        assert_eq!(Rating { yes: 2, no: 1 }.helpful_percent(), Some(67));
        assert_eq!(Rating::default().helpful_percent(), None);
    }

    #[test]
    fn the_diff_shows_changed_lines_with_context() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\ni\n";
        let new = "a\nb\nc\nd\nE\nf\ng\nh\ni\nj\n";
        let hunks = line_diff(old, new);
        assert_eq!(hunks.len(), 1, "{hunks:?}");
        let lines = &hunks[0];
        let removed: Vec<&str> =
            lines.iter().filter(|l| l.kind == DiffKind::Removed).map(|l| l.text.as_str()).collect();
        let added: Vec<&str> = lines.iter().filter(|l| l.kind == DiffKind::Added).map(|l| l.text.as_str()).collect();
        assert_eq!(removed, ["e"]);
        assert_eq!(added, ["E", "j"]);
        assert_eq!(lines[0].text, "b", "three lines of context before the change");
        let e = lines.iter().find(|l| l.text == "e").map(|l| (l.old_no, l.new_no));
        assert_eq!(e, Some((Some(5), None)));
        assert!(line_diff("same\n", "same\n").is_empty());
    }

    #[test]
    fn only_a_shipped_fix_that_holds_makes_a_workaround_fixed() {
        assert!(fix_shipped("fix_released", true));
        assert!(fix_shipped("verified", true));
        assert!(fix_shipped("closed", true));
        assert!(!fix_shipped("closed", false), "closed without a fix");
        assert!(!fix_shipped("recurred", true), "the fix did not hold");
        assert!(!fix_shipped("fix_in_progress", false));
        assert!(!fix_shipped("investigating", false));
    }

    #[test]
    fn images_are_recognized_by_their_bytes() {
        assert_eq!(image_type(b"\x89PNG\r\n\x1a\n\0\0"), Some("image/png"));
        assert_eq!(image_type(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(image_type(b"GIF89a.."), Some("image/gif"));
        assert_eq!(image_type(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(image_type(b"<svg onload=alert(1)>"), None);
        assert_eq!(image_type(b"<html><script>"), None);
        assert_eq!(image_type(b""), None);
    }

    #[test]
    fn revision_text_puts_fields_before_the_body() {
        let t = RevisionText {
            title: "T",
            slug: "t",
            summary: "one\ntwo",
            audience: "public",
            status: "draft",
            category: "",
            tags: "a, b",
            body: "Body\n\n",
        }
        .render();
        assert!(t.starts_with("Title: T\nSlug: t\nSummary: one two\n"));
        assert!(t.ends_with("\n\nBody\n"));
    }
}
