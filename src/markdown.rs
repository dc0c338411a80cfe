//! Markdown → safe HTML: pulldown-cmark renders, ammonia removes anything that could run.

use crate::domain::help::HeadingIds;
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd, html};

/// Renders user Markdown to HTML that is safe to embed: scripts, event handlers, styles and
/// `javascript:` links are removed; links get `rel="noopener noreferrer nofollow"`.
pub fn to_html(source: &str) -> String {
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    opts.insert(Options::ENABLE_TASKLISTS);
    let parser = Parser::new_ext(source, opts);
    let mut raw = String::with_capacity(source.len() * 3 / 2);
    html::push_html(&mut raw, parser);
    ammonia::Builder::default()
        .link_rel(Some("noopener noreferrer nofollow"))
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .clean(&raw)
        .to_string()
}

/// A help article's body as safe HTML, with an id on every heading so `#anchors` reach it.
pub struct Article {
    pub html: String,
    /// The second- and third-level headings, in order: (level, id, text), for a table of contents.
    pub headings: Vec<(u8, String, String)>,
}

/// Renders an article body like `to_html`, and gives each heading an id made from its text
/// (`## Install the agent` → `id="install-the-agent"`, unique within the article).
pub fn article(source: &str) -> Article {
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    opts.insert(Options::ENABLE_TASKLISTS);
    let mut events: Vec<Event> = Parser::new_ext(source, opts).collect();
    let mut ids = HeadingIds::default();
    let mut headings = Vec::new();
    let mut i = 0;
    while i < events.len() {
        if let Event::Start(Tag::Heading { level, .. }) = &events[i] {
            let level = *level as u8;
            let mut text = String::new();
            for e in &events[i + 1..] {
                match e {
                    Event::End(TagEnd::Heading(_)) => break,
                    Event::Text(t) | Event::Code(t) => text.push_str(t),
                    _ => {}
                }
            }
            let id = ids.next(&text);
            if let Event::Start(Tag::Heading { id: slot, .. }) = &mut events[i] {
                *slot = Some(id.clone().into());
            }
            if (2..=3).contains(&level) {
                headings.push((level, id, text));
            }
        }
        i += 1;
    }
    let mut raw = String::with_capacity(source.len() * 3 / 2);
    html::push_html(&mut raw, events.into_iter());
    let mut b = ammonia::Builder::default();
    b.link_rel(Some("noopener noreferrer nofollow")).url_schemes(["http", "https", "mailto"].into_iter().collect());
    for h in ["h1", "h2", "h3", "h4", "h5", "h6"] {
        b.add_tag_attributes(h, &["id"]);
    }
    // Only ids of the shape headings get, whoever wrote them (raw HTML may carry its own).
    b.attribute_filter(|element, attribute, value| {
        if attribute == "id" && element.starts_with('h') {
            let ok = !value.is_empty()
                && value.chars().count() <= 100
                && value.chars().all(|c| c.is_alphanumeric() || c == '-');
            return ok.then(|| value.into());
        }
        Some(value.into())
    });
    Article { html: b.clean(&raw).to_string(), headings }
}

#[cfg(test)]
mod tests {
    use super::{article, to_html};

    #[test]
    fn asvs_5_2_1_xss_payloads_are_inert() {
        let payloads = [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "[click](javascript:alert(1))",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<svg onload=alert(1)>",
            "<iframe src=\"https://evil.example\"></iframe>",
            "<div style=\"background:url(javascript:alert(1))\">x</div>",
            "![x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
            "<a href=\"&#106;avascript:alert(1)\">x</a>",
            "<form action=\"https://evil.example\"><input name=x></form>",
        ];
        for p in payloads {
            let html = to_html(p).to_lowercase();
            for bad in ["<script", "onerror", "onload", "javascript:", "<iframe", "style=", "<form", "data:text"] {
                assert!(!html.contains(bad), "{p} → {html}");
            }
        }
    }

    #[test]
    fn ordinary_markdown_survives() {
        let html =
            to_html("# Title\n\n**bold** and `code`\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n[site](https://example.com)");
        assert!(html.contains("<h1>Title</h1>"));
        assert!(html.contains("<strong>bold</strong>"));
        assert!(html.contains("<table>"));
        assert!(html.contains("rel=\"noopener noreferrer nofollow\""));
    }

    #[test]
    fn article_headings_get_anchors_and_stay_safe() {
        let a = article(
            "## Install the agent\n\ntext\n\n## Install the agent\n\n```sh\nrm -rf /tmp/x\n```\n\n<h3 id=\"x onclick=alert(1)\">raw</h3>\n\n![shot](/help/images/4)",
        );
        assert!(a.html.contains("<h2 id=\"install-the-agent\">Install the agent</h2>"), "{}", a.html);
        assert!(a.html.contains("<h2 id=\"install-the-agent-1\">"), "{}", a.html);
        assert!(a.html.contains("<pre><code>rm -rf /tmp/x"), "{}", a.html);
        assert!(a.html.contains("<img src=\"/help/images/4\" alt=\"shot\">"), "{}", a.html);
        assert!(!a.html.contains("onclick"), "{}", a.html);
        assert_eq!(a.headings.len(), 2);
        assert_eq!(a.headings[1].1, "install-the-agent-1");
        for p in ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))"] {
            let html = article(p).html.to_lowercase();
            assert!(!html.contains("<script") && !html.contains("onerror") && !html.contains("javascript:"), "{html}");
        }
    }
}
