//! Rules for incoming mail: what counts as automatic mail, how a reply names its incident, and
//! how the new text is told apart from the quoted history.

/// What happens to a new message from an address no user has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownSender {
    /// Create a customer in the organization whose email domain matches the sender's.
    CreateCustomer,
    Reject,
}

impl UnknownSender {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "create_customer" => Some(Self::CreateCustomer),
            "reject" => Some(Self::Reject),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CreateCustomer => "create_customer",
            Self::Reject => "reject",
        }
    }
}

/// What a reply to a closed incident does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClosedReply {
    Reopen,
    /// A new incident, related to the closed one.
    FollowUp,
}

impl ClosedReply {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "reopen" => Some(Self::Reopen),
            "follow_up" => Some(Self::FollowUp),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reopen => "reopen",
            Self::FollowUp => "follow_up",
        }
    }
}

/// The headers that tell automatic mail apart, as received.
#[derive(Debug, Default, Clone)]
pub struct AutoHeaders<'a> {
    pub auto_submitted: Option<&'a str>,
    pub precedence: Option<&'a str>,
    pub x_autoreply: Option<&'a str>,
    pub from: &'a str,
}

/// Why a message is automatic and must not be answered or filed (mail loops, bounces, lists).
pub fn automatic(h: &AutoHeaders<'_>) -> Option<String> {
    if let Some(v) = h.auto_submitted {
        let v = v.trim().to_ascii_lowercase();
        if !v.is_empty() && !v.starts_with("no") {
            return Some(format!("automatic mail (Auto-Submitted: {v})"));
        }
    }
    if let Some(v) = h.precedence {
        let v = v.trim().to_ascii_lowercase();
        if ["bulk", "junk", "list", "auto_reply"].contains(&v.as_str()) {
            return Some(format!("automatic mail (Precedence: {v})"));
        }
    }
    if h.x_autoreply.is_some_and(|v| !v.trim().is_empty()) {
        return Some("automatic mail (X-Autoreply)".into());
    }
    let local = h.from.split('@').next().unwrap_or("").to_ascii_lowercase();
    if ["mailer-daemon", "postmaster"].contains(&local.as_str()) {
        return Some(format!("delivery report from {}", h.from));
    }
    None
}

/// The incident number in a subject's `[INC-n]` tag.
pub fn subject_key(subject: &str) -> Option<i64> {
    let mut rest = subject;
    while let Some(start) = rest.find('[') {
        let after = &rest[start + 1..];
        if let Some(end) = after.find(']')
            && let Some(n) = super::incident::parse_key(after[..end].trim().to_ascii_uppercase().as_str())
        {
            return Some(n);
        }
        rest = after;
    }
    None
}

/// A subject as an incident title: without reply prefixes and our `[INC-n]` tag.
pub fn title_from_subject(subject: &str) -> String {
    let mut s = subject.trim();
    loop {
        let lower = s.to_ascii_lowercase();
        let prefix = ["re:", "fw:", "fwd:", "aw:", "wg:", "sv:", "vs:", "antw:", "tr:"]
            .iter()
            .find(|p| lower.starts_with(**p))
            .map(|p| p.len());
        match prefix {
            Some(n) => s = s[n..].trim_start(),
            None => break,
        }
    }
    let title: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let title = title.chars().take(200).collect::<String>();
    if title.is_empty() { "(no subject)".into() } else { title }
}

/// The new text of a reply: quoted lines, the "On … wrote:" line that introduces them, forwarded
/// originals (Outlook's "-----Original Message-----" and "From:" blocks) and a trailing signature
/// are removed. Text before any quote is kept whole.
pub fn strip_quoted(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let t = line.trim();
        if is_history_start(t) {
            break;
        }
        // "On Mon, 1 Jan 2026, Ann <a@b.c>" wrapped onto a second line ending in "wrote:".
        if is_attribution_start(t) && lines.get(i + 1).is_some_and(|n| n.trim().ends_with("wrote:")) {
            break;
        }
        if is_attribution(t) {
            // Only when quoted text follows (or nothing does): a sentence ending in "wrote:" stays.
            let rest_quoted = lines[i + 1..].iter().map(|l| l.trim()).find(|l| !l.is_empty());
            if rest_quoted.is_none_or(|l| l.starts_with('>')) {
                break;
            }
        }
        if (t == "--" && line.starts_with("-- ")) || line == "--" {
            break;
        }
        if !t.starts_with('>') {
            out.push(line);
        }
        i += 1;
    }
    let joined = out.join("\n");
    joined.trim_matches('\n').trim_end().to_string()
}

fn is_history_start(t: &str) -> bool {
    let lower = t.to_ascii_lowercase();
    lower.starts_with("-----original message-----")
        || lower.starts_with("-----ursprüngliche nachricht-----")
        || lower.starts_with("----- forwarded message")
        || lower.starts_with("---------- forwarded message")
        || (t.starts_with("________________") && t.chars().all(|c| c == '_'))
}

fn is_attribution_start(t: &str) -> bool {
    let lower = t.to_ascii_lowercase();
    lower.starts_with("on ") || lower.starts_with("am ") || lower.starts_with("le ")
}

fn is_attribution(t: &str) -> bool {
    let lower = t.to_ascii_lowercase();
    is_attribution_start(t)
        && (lower.ends_with("wrote:") || lower.ends_with("schrieb:") || lower.ends_with("a écrit :"))
}

/// The domain of an address, lowercased.
pub fn domain_of(address: &str) -> Option<String> {
    let (_, d) = address.rsplit_once('@')?;
    let d = d.trim().trim_end_matches('>').to_ascii_lowercase();
    (!d.is_empty()).then_some(d)
}

/// A file name safe to store and to offer in a Content-Disposition header: no path, no control
/// characters, not empty, at most 200 characters.
pub fn safe_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .map(|c| if c.is_control() || matches!(c, '"' | ';' | ':' | '*' | '?' | '<' | '>' | '|') { '_' } else { c })
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_string();
    let cleaned: String = cleaned.chars().take(200).collect();
    if cleaned.is_empty() { "attachment".into() } else { cleaned }
}

/// A media type as `type/subtype` of token characters, or application/octet-stream.
pub fn safe_content_type(ctype: &str) -> String {
    let ct = ctype.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let token = |s: &str| {
        !s.is_empty() && s.len() <= 100 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
    };
    match ct.split_once('/') {
        Some((t, s)) if token(t) && token(s) => ct,
        _ => "application/octet-stream".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn automatic_mail_is_recognized() {
        let h = |a: Option<&'static str>, p: Option<&'static str>, from: &'static str| AutoHeaders {
            auto_submitted: a,
            precedence: p,
            x_autoreply: None,
            from,
        };
        assert!(automatic(&h(Some("auto-replied"), None, "ann@example.com")).is_some());
        assert!(automatic(&h(Some("auto-generated"), None, "ann@example.com")).is_some());
        assert!(automatic(&h(Some("no"), None, "ann@example.com")).is_none());
        assert!(automatic(&h(None, Some("bulk"), "ann@example.com")).is_some());
        assert!(automatic(&h(None, Some("Junk"), "ann@example.com")).is_some());
        assert!(automatic(&h(None, Some("list"), "ann@example.com")).is_some());
        assert!(automatic(&h(None, Some("first-class"), "ann@example.com")).is_none());
        assert!(automatic(&h(None, None, "MAILER-DAEMON@mx.example.com")).is_some());
        assert!(automatic(&h(None, None, "ann@example.com")).is_none());
    }

    #[test]
    fn subject_tags_name_the_incident() {
        assert_eq!(subject_key("Re: [INC-42] Checkout is down"), Some(42));
        assert_eq!(subject_key("AW: [inc-7] x"), Some(7));
        assert_eq!(subject_key("[urgent] Re: [INC-9]"), Some(9));
        assert_eq!(subject_key("INC-42 without brackets"), None);
        assert_eq!(subject_key("[INC-] [INC-abc]"), None);
    }

    #[test]
    fn titles_lose_reply_prefixes() {
        assert_eq!(title_from_subject("Re: RE: Fwd: Printer on fire"), "Printer on fire");
        assert_eq!(title_from_subject("  "), "(no subject)");
        assert_eq!(title_from_subject("Line\n  two"), "Line two");
    }

    #[test]
    fn quoted_history_is_stripped() {
        let reply = "Thanks, that fixed it.\n\nOn Mon, 23 Nov 2026 at 10:00, Firewatch <fw@example.com> wrote:\n> Please try again.\n> --\n> Firewatch";
        assert_eq!(strip_quoted(reply), "Thanks, that fixed it.");
        let wrapped = "Still broken.\nOn Mon, 23 Nov 2026 at 10:00, Firewatch\n<fw@example.com> wrote:\n> old";
        assert_eq!(strip_quoted(wrapped), "Still broken.");
        let outlook = "See log.\r\n\r\n-----Original Message-----\r\nFrom: Firewatch\r\nSent: today";
        assert_eq!(strip_quoted(outlook), "See log.");
        let underscores = "Yes.\n________________________________\nFrom: Firewatch <fw@example.com>";
        assert_eq!(strip_quoted(underscores), "Yes.");
        let sig = "Works now.\n-- \nAnn Example\nACME";
        assert_eq!(strip_quoted(sig), "Works now.");
        let inline = "> Did it work?\nNo, same error.\n> And the log?\nAttached.";
        assert_eq!(strip_quoted(inline), "No, same error.\nAttached.");
        let sentence = "On Monday the CEO wrote:\nthe numbers are wrong.";
        assert_eq!(strip_quoted(sentence), sentence);
    }

    #[test]
    fn file_names_and_types_are_made_safe() {
        assert_eq!(safe_filename("../../etc/passwd"), "passwd");
        assert_eq!(safe_filename("C:\\Users\\a\\report.pdf"), "report.pdf");
        assert_eq!(safe_filename("a\r\nb\".txt"), "a__b_.txt");
        assert_eq!(safe_filename(".htaccess"), "htaccess");
        assert_eq!(safe_filename(""), "attachment");
        assert_eq!(safe_content_type("Text/Plain; charset=utf-8"), "text/plain");
        assert_eq!(safe_content_type("text/html\r\nX-Evil: 1"), "application/octet-stream");
        assert_eq!(safe_content_type(""), "application/octet-stream");
        assert_eq!(domain_of("Ann@ACME.example"), Some("acme.example".into()));
    }
}
