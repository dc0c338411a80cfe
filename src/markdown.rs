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

/// Plain text (mail) as HTML: escaped, paragraphs and line breaks kept, nothing interpreted.
pub fn text_to_html(source: &str) -> String {
    let mut out = String::with_capacity(source.len() + 32);
    for para in source.replace("\r\n", "\n").split("\n\n").filter(|p| !p.trim().is_empty()) {
        out.push_str("<p class=\"plain\">");
        for (i, line) in para.trim_matches('\n').split('\n').enumerate() {
            if i > 0 {
                out.push_str("<br>\n");
            }
            for c in line.chars() {
                match c {
                    '&' => out.push_str("&amp;"),
                    '<' => out.push_str("&lt;"),
                    '>' => out.push_str("&gt;"),
                    '"' => out.push_str("&quot;"),
                    '\'' => out.push_str("&#x27;"),
                    c => out.push(c),
                }
            }
        }
        out.push_str("</p>\n");
    }
    out
}

/// A description or comment as safe HTML, by the format it was written in.
pub fn body_html(source: &str, format: &str) -> String {
    match crate::domain::incident::BodyFormat::parse(format) {
        crate::domain::incident::BodyFormat::Markdown => to_html(source),
        crate::domain::incident::BodyFormat::Text => text_to_html(source),
    }
}

/// A help article's body as safe HTML, with an id on every heading so `#anchors` reach it.
pub struct Article {
    pub html: String,
    /// The second- and third-level headings, in order: (level, id, text), for a table of contents.
    pub headings: Vec<(u8, String, String)>,
}

/// Renders an article body like `to_html`, and gives each heading an id made from its text
/// (`## Install the agent` → `id="install-the-agent"`, unique within the article and never one
/// the page around it uses: `## Main` gets `h-main`, see `domain::help::PAGE_IDS`).
pub fn article(source: &str) -> Article {
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    opts.insert(Options::ENABLE_TASKLISTS);
    let mut events: Vec<Event> = Parser::new_ext(source, opts).collect();
    let mut ids = HeadingIds::for_page();
    let mut headings = Vec::new();
    // The ids given here carry a mark raw HTML cannot know, so that only they survive: an id
    // written in raw HTML (`<h2 id="main">`) could repeat one of the page's own or a heading's.
    let mark = format!("fw{}-", crate::crypto::random_token(8));
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
                *slot = Some(format!("{mark}{id}").into());
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
    b.attribute_filter(move |element, attribute, value| {
        if attribute == "id" && element.starts_with('h') {
            return value.strip_prefix(mark.as_str()).map(|id| id.to_string().into());
        }
        Some(value.into())
    });
    Article { html: b.clean(&raw).to_string(), headings }
}

/// The words of a Markdown body as a reader sees them: rendered and sanitized like `article`,
/// then without tags (HTML comments, scripts, link targets and image addresses are gone; block
/// ends become spaces), entities decoded, whitespace collapsed. Search indexes this text, and
/// summaries, snippets and meta descriptions are cut from it.
pub fn plain_text(source: &str) -> String {
    strip_tags(&to_html(source))
}

/// The first `max` characters of `text`, cut at a word boundary with "…" when it is longer.
pub fn excerpt(text: &str, max: usize) -> String {
    let mut out = String::new();
    for w in text.split_whitespace() {
        let extra = w.chars().count() + usize::from(!out.is_empty());
        if out.chars().count() + extra > max {
            if out.is_empty() {
                out = w.chars().take(max).collect();
            }
            out.push('…');
            return out;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(w);
    }
    out
}

/// Tags whose end separates words.
const BLOCK_TAGS: &[&str] = &[
    "p",
    "br",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "pre",
    "blockquote",
    "tr",
    "td",
    "th",
    "table",
    "thead",
    "tbody",
    "div",
    "hr",
    "dd",
    "dt",
    "dl",
    "img",
];

/// Text of sanitized HTML (as ammonia writes it: quoted attributes, no comments left).
fn strip_tags(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut chars = html.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '<' {
            text.push(c);
            continue;
        }
        let mut tag = String::new();
        let mut quote: Option<char> = None;
        for t in chars.by_ref() {
            match (quote, t) {
                (None, '>') => break,
                (None, '"' | '\'') => quote = Some(t),
                (Some(q), t) if t == q => quote = None,
                _ => {}
            }
            tag.push(t);
        }
        if tag.starts_with("!--") {
            continue;
        }
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if BLOCK_TAGS.contains(&name.as_str()) {
            text.push(' ');
        }
    }
    decode_entities(&text).split_whitespace().collect::<Vec<_>>().join(" ")
}

fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest[..rest.len().min(12)].find(';') else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let name = &rest[1..end];
        let decoded = match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some(' '),
            n if n.starts_with("#x") || n.starts_with("#X") => {
                u32::from_str_radix(&n[2..], 16).ok().and_then(char::from_u32)
            }
            n if n.starts_with('#') => n[1..].parse::<u32>().ok().and_then(char::from_u32),
            _ => None,
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::{article, excerpt, plain_text, to_html};

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

    #[test]
    fn headings_never_take_an_id_the_page_uses() {
        let a = article(
            "## Main\n\n## Feedback\n\n## Related\n\n## F title\n\n<h2 id=\"main\">raw</h2>\n\n<h2 id=\"install\">raw</h2>\n\n## Install",
        );
        assert!(a.html.contains("<h2 id=\"h-main\">Main</h2>"), "{}", a.html);
        assert!(a.html.contains("<h2 id=\"h-feedback\">"), "{}", a.html);
        assert!(a.html.contains("<h2 id=\"h-related\">"), "{}", a.html);
        assert!(a.html.contains("<h2 id=\"h-f-title\">"), "{}", a.html);
        assert!(!a.html.contains("id=\"main\""), "a raw id is dropped: {}", a.html);
        assert_eq!(a.html.matches("id=\"install\"").count(), 1, "{}", a.html);
        assert!(a.html.contains("<h2 id=\"install\">Install</h2>"), "{}", a.html);
    }

    #[test]
    fn plain_text_is_what_a_reader_sees() {
        let t = plain_text(
            "# Title\n\n<!-- internal: ask Bob -->\n\nSome <!-- hidden -->**bold** [link text](https://example.com/x) and `code`.\n\n- one\n- two\n\n![shot](/help/images/4)\n\nAT&amp;T &lt;3 <script>alert(1)</script>",
        );
        assert_eq!(t, "Title Some bold link text and code. one two AT&T <3");
        assert_eq!(excerpt("one two three", 7), "one two…");
        assert_eq!(excerpt("one two", 7), "one two");
        assert_eq!(excerpt("abcdefghij", 4), "abcd…");
    }

    #[test]
    fn every_id_of_the_pages_around_an_article_is_reserved() {
        let pages = [
            include_str!("../templates/base.html"),
            include_str!("../templates/macros.html"),
            include_str!("../templates/help/article.html"),
            include_str!("../templates/help/editor.html"),
            include_str!("../templates/help/_search_form.html"),
        ];
        for page in pages {
            for piece in page.split(" id=\"").skip(1) {
                let id = piece.split('"').next().unwrap_or_default();
                // Ids built in the template: check their fixed start.
                let fixed = id.split("{{").next().unwrap_or_default();
                if fixed.is_empty() {
                    continue;
                }
                let fixed_ok = if id.contains("{{") {
                    crate::domain::help::PAGE_ID_PREFIXES.iter().any(|p| fixed.starts_with(p))
                } else {
                    crate::domain::help::page_uses_id(id)
                };
                assert!(fixed_ok, "id {id:?} of a page showing an article is not in domain::help::PAGE_IDS");
            }
        }
    }
}
