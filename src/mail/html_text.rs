//! HTML mail as plain text, read with a real HTML parser (html5ever through scraper). Quoted
//! history is marked the way plain-text mail marks it, so one set of rules strips both: text in
//! a `blockquote` becomes "> " lines, and Gmail's quote container and everything from Outlook's
//! reply header on is history.

use scraper::{Html, Node};

/// What to do with the quoted history of a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum History {
    /// Mark it ("> " lines) or drop it: this is a reply.
    Strip,
    /// Keep it as text: this is a forward, the history is its content.
    Keep,
}

struct Render {
    lines: Vec<String>,
    line: String,
    quote: usize,
    history: History,
    stopped: bool,
}

impl Render {
    fn newline(&mut self) {
        let line = std::mem::take(&mut self.line);
        let line = line.trim_end();
        if self.quote > 0 && !line.is_empty() {
            self.lines.push(format!("{} {line}", ">".repeat(self.quote)));
        } else if !(line.is_empty() && self.lines.last().is_some_and(String::is_empty)) {
            self.lines.push(line.to_string());
        }
    }

    fn block_break(&mut self) {
        if !self.line.trim().is_empty() {
            self.newline();
        }
    }

    fn text(&mut self, t: &str, pre: bool) {
        if pre {
            let mut first = true;
            for part in t.split('\n') {
                if !first {
                    self.newline();
                }
                self.line.push_str(part.trim_end_matches('\r'));
                first = false;
            }
            return;
        }
        for (i, word) in t.split(char::is_whitespace).enumerate() {
            if i > 0 && !self.line.is_empty() && !self.line.ends_with(' ') {
                self.line.push(' ');
            }
            self.line.push_str(word);
        }
    }

    fn walk(&mut self, node: ego_tree::NodeRef<'_, Node>, pre: bool) {
        if self.stopped {
            return;
        }
        match node.value() {
            Node::Text(t) => self.text(t, pre),
            Node::Element(e) => {
                let name = e.name();
                if matches!(name, "script" | "style" | "head" | "title" | "template") {
                    return;
                }
                let strip = self.history == History::Strip;
                let id = e.id().unwrap_or("");
                let class_has = |c: &str| e.classes().any(|x| x.eq_ignore_ascii_case(c));
                // Outlook (desktop and web): the reply header block, the original after it.
                let style = e.attr("style").unwrap_or("").to_ascii_lowercase().replace(' ', "");
                if strip
                    && (id == "divRplyFwdMsg"
                        || id == "appendonsend"
                        || (name == "div" && style.contains("border-top:solid#e1e1e1"))
                        || (name == "div" && style.contains("border-top:solid#b5c4df")))
                {
                    self.block_break();
                    self.stopped = true;
                    return;
                }
                // Gmail wraps the attribution and the quote in one container; a forward's
                // container holds the forwarded message, which is content.
                if strip && name == "div" && class_has("gmail_quote") && !is_forward_container(node) {
                    self.block_break();
                    return;
                }
                if name == "br" {
                    self.newline();
                    return;
                }
                let block = is_block(name);
                if block {
                    self.block_break();
                }
                let quote = name == "blockquote" && strip;
                if quote {
                    self.quote += 1;
                }
                for child in node.children() {
                    self.walk(child, pre || name == "pre");
                }
                if block {
                    self.block_break();
                }
                if quote {
                    self.quote -= 1;
                }
            }
            _ => {
                for child in node.children() {
                    self.walk(child, pre);
                }
            }
        }
    }
}

fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "blockquote"
            | "pre"
            | "ul"
            | "ol"
            | "li"
            | "table"
            | "tr"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "hr"
            | "section"
            | "article"
            | "header"
            | "footer"
            | "address"
            | "dl"
            | "dt"
            | "dd"
            | "body"
    )
}

fn is_forward_container(node: ego_tree::NodeRef<'_, Node>) -> bool {
    let mut text = String::new();
    for d in node.descendants() {
        if let Node::Text(t) = d.value() {
            text.push_str(t);
            if text.len() > 300 {
                break;
            }
        }
    }
    crate::domain::inbound::is_forward_marker(text.trim_start())
}

/// The text of an HTML body, with quoted history marked or dropped as `history` says.
pub fn html_to_text(html: &str, history: History) -> String {
    let doc = Html::parse_document(html);
    let mut r = Render { lines: Vec::new(), line: String::new(), quote: 0, history, stopped: false };
    r.walk(doc.tree.root(), false);
    r.newline();
    let text = r.lines.join("\n");
    text.trim_matches('\n').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gmail_and_apple_quotes_are_marked_or_dropped() {
        let gmail = r#"<div dir="ltr">Restarted it, works.<br><br>Ann</div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Mon, 2 Mar 2026 at 09:00, Firewatch &lt;help@fw.test&gt; wrote:<br></div><blockquote class="gmail_quote">QUOTED-TEXT</blockquote></div>"#;
        assert_eq!(html_to_text(gmail, History::Strip), "Restarted it, works.\n\nAnn");
        let apple = r#"<html><body>Still broken.<div><br><blockquote type="cite"><div>On 2 Mar 2026, Firewatch wrote:</div><div>QUOTED-TEXT</div></blockquote></div></body></html>"#;
        let text = html_to_text(apple, History::Strip);
        assert!(text.starts_with("Still broken."), "{text}");
        assert!(text.lines().filter(|l| l.contains("QUOTED")).all(|l| l.starts_with('>')), "{text}");
    }

    #[test]
    fn outlook_history_is_cut_and_forwards_are_kept() {
        let outlook = r#"<div>Please check again.</div><hr><div id="divRplyFwdMsg"><b>From:</b> Firewatch<br><b>Sent:</b> Monday</div><div>QUOTED-TEXT</div>"#;
        assert_eq!(html_to_text(outlook, History::Strip), "Please check again.");
        let fwd = r#"<div>FYI</div><div class="gmail_quote">---------- Forwarded message ---------<br>From: Bob<br><br><div>The printer is on fire.</div></div>"#;
        let text = html_to_text(fwd, History::Strip);
        assert!(text.contains("The printer is on fire."), "{text}");
        assert!(html_to_text(outlook, History::Keep).contains("QUOTED-TEXT"));
    }

    #[test]
    fn markup_becomes_lines_and_scripts_vanish() {
        let html = "<p>One <b>bold</b>\n word</p><p>Two<br>Three</p><pre>a  b\nc</pre><script>alert(1)</script>";
        assert_eq!(html_to_text(html, History::Strip), "One bold word\nTwo\nThree\na  b\nc");
    }
}
