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
    pub x_auto_response_suppress: Option<&'a str>,
    /// The top-level media type, lowercased (`multipart/report` for delivery and read reports).
    pub content_type: &'a str,
    pub subject: &'a str,
    pub from: &'a str,
}

/// Why a message is automatic and must not be answered or filed (mail loops, bounces, lists,
/// out-of-office replies).
pub fn automatic(h: &AutoHeaders<'_>) -> Option<String> {
    if let Some(v) = h.auto_submitted {
        let v = first_token(v);
        if !v.is_empty() && v != "no" {
            return Some(format!("automatic mail (Auto-Submitted: {v})"));
        }
    }
    if let Some(v) = h.precedence {
        // "Precedence: list (Mailing list)": the value is the first word; comments follow.
        let v = first_token(v);
        if ["bulk", "junk", "list", "auto_reply"].contains(&v.as_str()) {
            return Some(format!("automatic mail (Precedence: {v})"));
        }
    }
    if h.x_autoreply.is_some_and(|v| !v.trim().is_empty()) {
        return Some("automatic mail (X-Autoreply)".into());
    }
    if h.x_auto_response_suppress.is_some_and(|v| !v.trim().is_empty()) {
        return Some("automatic mail (X-Auto-Response-Suppress)".into());
    }
    if h.content_type.eq_ignore_ascii_case("multipart/report") {
        return Some("a delivery or read report (multipart/report)".into());
    }
    let subject = h.subject.trim_start().to_lowercase();
    let auto_subjects = [
        "automatic reply:",
        "auto-reply:",
        "autoreply:",
        "auto reply:",
        "out of office",
        "abwesenheitsnotiz",
        "automatische antwort:",
        "réponse automatique",
    ];
    if auto_subjects.iter().any(|p| subject.starts_with(p)) {
        return Some("an automatic reply (by its subject)".into());
    }
    let local = h.from.split('@').next().unwrap_or("").to_ascii_lowercase();
    if ["mailer-daemon", "postmaster"].contains(&local.as_str()) {
        return Some(format!("delivery report from {}", h.from));
    }
    None
}

/// A structured header's value without comments or parameters, lowercased.
fn first_token(v: &str) -> String {
    v.split(|c: char| c == '(' || c == ';' || c.is_whitespace())
        .find(|w| !w.is_empty())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// Whether an `Authentication-Results` header (RFC 8601) added by the receiving MTA, named by
/// its authserv-id, says the sender passed DMARC or SPF. Headers of any other authserv-id are
/// ignored: anyone can write one, only our MTA's is evidence (and it removes forged copies).
pub fn authenticated(results: &[String], trusted_authserv_id: &str) -> bool {
    let trusted = trusted_authserv_id.trim();
    !trusted.is_empty()
        && results.iter().any(|r| {
            let mut parts = r.split(';');
            let id = parts.next().unwrap_or("").split_whitespace().next().unwrap_or("");
            id.eq_ignore_ascii_case(trusted)
                && parts.any(|p| {
                    let method = p.split_whitespace().next().unwrap_or("").to_ascii_lowercase();
                    method == "dmarc=pass" || method == "spf=pass"
                })
        })
}

/// A Message-ID as compared: without angle brackets, the domain part lowercased (RFC 5322
/// leaves the local part's case to the sender, the domain is case-insensitive).
pub fn normalize_message_id(id: &str) -> String {
    let id = id.trim().trim_start_matches('<').trim_end_matches('>').trim();
    match id.rsplit_once('@') {
        Some((local, domain)) => format!("{local}@{}", domain.to_ascii_lowercase()),
        None => id.to_string(),
    }
}

/// How many of the oldest and newest References a message keeps: the oldest name the thread's
/// start, the newest the message answered; the middle of a long thread adds nothing.
pub const REFS_HEAD: usize = 5;
pub const REFS_TAIL: usize = 50;

/// The ids a reply is matched by, most recent first, without duplicates: every In-Reply-To id,
/// then the newest and the oldest References. Bounded whatever the headers hold.
pub fn bounded_refs(in_reply_to: &[String], references: &[String]) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let refs = if references.len() > REFS_HEAD + REFS_TAIL {
        let mut kept: Vec<&String> = references[..REFS_HEAD].iter().collect();
        kept.extend(&references[references.len() - REFS_TAIL..]);
        kept
    } else {
        references.iter().collect()
    };
    in_reply_to
        .iter()
        .take(REFS_HEAD)
        .chain(refs.into_iter().rev())
        .map(|r| normalize_message_id(r))
        .filter(|r| !r.is_empty() && r.len() <= 250 && !r.chars().any(char::is_control))
        .filter(|r| seen.insert(r.clone()))
        .collect()
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

/// Whether a subject says the message is a forward: its quoted history is its content.
pub fn is_forward_subject(subject: &str) -> bool {
    let lower = subject.trim_start().to_lowercase();
    ["fw:", "fwd:", "wg:", "tr:", "rv:", "enc:"].iter().any(|p| lower.starts_with(p))
}

/// The line that opens an inline forward (Gmail, Apple Mail, Thunderbird, Outlook.com).
pub fn is_forward_marker(t: &str) -> bool {
    let lower = t.trim().to_lowercase();
    let dashes = lower.trim_start_matches('-').trim_start();
    lower.starts_with('-')
        && (dashes.starts_with("forwarded message")
            || dashes.starts_with("original message")
            || dashes.starts_with("weitergeleitete nachricht"))
        || lower.starts_with("begin forwarded message:")
}

/// The new text of a reply: quoted lines, the "On … wrote:" line that introduces them, the
/// original below Outlook's separator or "From: / Sent: / To: / Subject:" block, and a trailing
/// signature (after "-- ", RFC 3676) are removed. Text before any quote is kept whole, and so
/// is an inline forward ("---------- Forwarded message ---------"): it is content.
pub fn strip_quoted(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let t = line.trim();
        if is_forward_marker(t) && !t.to_lowercase().contains("original message") {
            out.extend(&lines[i..]);
            break;
        }
        if is_history_start(t) || is_header_block(&lines[i..]) {
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
        // Only "-- " (with the space) is a signature delimiter; a bare "--" is text.
        if line.trim_end_matches('\r') == "-- " {
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
    let lower = t.to_lowercase();
    lower.starts_with("-----original message-----")
        || lower.starts_with("-----ursprüngliche nachricht-----")
        || (t.starts_with("________________") && t.chars().all(|c| c == '_'))
}

/// Outlook's reply header without a separator line: "From:" followed within a few lines by
/// "Sent:" (or "Date:") and "Subject:", in English, German or French.
fn is_header_block(lines: &[&str]) -> bool {
    let starts = |l: &str, names: &[&str]| {
        let lower = l.trim().trim_start_matches('*').to_lowercase();
        names.iter().any(|n| lower.starts_with(n))
    };
    let Some(first) = lines.first() else { return false };
    if !starts(first, &["from:", "von:", "de :", "de:"]) {
        return false;
    }
    let next: Vec<&str> = lines.iter().skip(1).take(5).copied().collect();
    next.iter().any(|l| starts(l, &["sent:", "date:", "gesendet:", "datum:", "envoyé :", "envoyé:"]))
        && next.iter().any(|l| starts(l, &["subject:", "betreff:", "objet :", "objet:"]))
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
        .filter(|c| !is_bidi_control(*c))
        .map(|c| if c.is_control() || matches!(c, '"' | ';' | ':' | '*' | '?' | '<' | '>' | '|') { '_' } else { c })
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_string();
    let cleaned: String = cleaned.chars().take(200).collect();
    if cleaned.is_empty() { "attachment".into() } else { cleaned }
}

/// Bidirectional overrides and marks: "invoice\u{202E}fdp.exe" shows as "invoiceexe.pdf".
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// The media type of a file sent from a web form, by its extension (what a browser reports is
/// not trusted, and downloads are offered as attachments whatever the type).
pub fn content_type_for(filename: &str) -> &'static str {
    let ext = filename.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "pdf" => "application/pdf",
        "txt" | "log" => "text/plain",
        "csv" => "text/csv",
        "json" => "application/json",
        "xml" => "application/xml",
        "zip" => "application/zip",
        "gz" | "tgz" => "application/gzip",
        "har" => "application/json",
        "eml" => "message/rfc822",
        _ => "application/octet-stream",
    }
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
    fn web_files_get_their_type_from_the_extension() {
        assert_eq!(content_type_for("Screen Shot.PNG"), "image/png");
        assert_eq!(content_type_for("server.log"), "text/plain");
        assert_eq!(content_type_for("archive.tar.gz"), "application/gzip");
        assert_eq!(content_type_for("page.html"), "application/octet-stream");
        assert_eq!(content_type_for("noextension"), "application/octet-stream");
    }

    #[test]
    fn automatic_mail_is_recognized() {
        let h = |a: Option<&'static str>, p: Option<&'static str>, from: &'static str| AutoHeaders {
            auto_submitted: a,
            precedence: p,
            from,
            ..Default::default()
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
        assert!(automatic(&h(None, Some("list (Mailing list)"), "ann@example.com")).is_some());
        assert!(automatic(&h(Some("auto-generated (loop)"), None, "a@b.c")).is_some());
        let more = |f: &dyn Fn(&mut AutoHeaders<'static>)| {
            let mut x = AutoHeaders { from: "ann@example.com", ..Default::default() };
            f(&mut x);
            automatic(&x)
        };
        assert!(more(&|x| x.x_auto_response_suppress = Some("All")).is_some());
        assert!(more(&|x| x.content_type = "multipart/report").is_some());
        assert!(more(&|x| x.subject = "Automatic reply: Printer").is_some());
        assert!(more(&|x| x.subject = "Out of Office: back Monday").is_some());
        assert!(more(&|x| x.subject = "Printer out of office toner").is_none());
        assert!(more(&|_| {}).is_none());
    }

    #[test]
    fn only_our_mtas_authentication_results_count() {
        let ar = |s: &str| vec![s.to_string()];
        assert!(authenticated(&ar("mx.example.com; spf=pass smtp.mailfrom=a@b.c"), "mx.example.com"));
        assert!(authenticated(
            &ar("MX.example.com 1; dkim=none; dmarc=pass (p=reject) header.from=b.c"),
            "mx.example.com"
        ));
        assert!(!authenticated(&ar("mx.example.com; spf=fail; dmarc=fail"), "mx.example.com"));
        assert!(!authenticated(&ar("evil.example; spf=pass; dmarc=pass"), "mx.example.com"));
        assert!(!authenticated(&ar("mx.example.com; spf=pass"), ""));
        assert!(!authenticated(&[], "mx.example.com"));
    }

    #[test]
    fn references_are_bounded_deduplicated_and_case_folded_in_the_domain() {
        assert_eq!(normalize_message_id(" <Abc@Mail.Example.COM> "), "Abc@mail.example.com");
        let many: Vec<String> = (0..40_000).map(|i| format!("<id{i}@x.example>")).collect();
        let start = std::time::Instant::now();
        let refs = bounded_refs(&["<Last@X.example>".to_string()], &many);
        assert!(start.elapsed().as_millis() < 500);
        assert_eq!(refs.len(), 1 + REFS_HEAD + REFS_TAIL);
        assert_eq!(refs[0], "Last@x.example");
        assert_eq!(refs[1], "id39999@x.example", "newest reference next");
        assert!(refs.contains(&"id0@x.example".to_string()), "the thread's start is kept");
        let dup = bounded_refs(&["<a@b>".into()], &["<a@B>".into(), "<c\u{0}@d>".into()]);
        assert_eq!(dup, vec!["a@b".to_string()]);
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
        let dashes = "Run it like this:\n--\nfw export --all\n--\nThen it works.";
        assert_eq!(strip_quoted(dashes), dashes, "a bare -- is text");
        let header_block = "Done.\n\nFrom: Firewatch <fw@example.com>\nSent: Monday, 2 March 2026 09:00\nTo: Ann\nSubject: [INC-1] x\n\nQUOTED";
        assert_eq!(strip_quoted(header_block), "Done.");
        let from_line = "From: the logs it looks like a timeout.\nSee above.";
        assert_eq!(strip_quoted(from_line), from_line, "a sentence starting with From: stays");
        let forward = "FYI\n\n---------- Forwarded message ---------\nFrom: Bob <b@c.d>\nDate: Mon\nSubject: Down\nTo: ops\n\nThe site is down.";
        assert_eq!(strip_quoted(forward), forward, "a forward is content");
    }

    #[test]
    fn file_names_and_types_are_made_safe() {
        assert_eq!(safe_filename("../../etc/passwd"), "passwd");
        assert_eq!(safe_filename("C:\\Users\\a\\report.pdf"), "report.pdf");
        assert_eq!(safe_filename("a\r\nb\".txt"), "a__b_.txt");
        assert_eq!(safe_filename(".htaccess"), "htaccess");
        assert_eq!(safe_filename(""), "attachment");
        assert_eq!(safe_filename("invoice\u{202E}fdp.exe"), "invoicefdp.exe");
        assert_eq!(safe_content_type("Text/Plain; charset=utf-8"), "text/plain");
        assert_eq!(safe_content_type("text/html\r\nX-Evil: 1"), "application/octet-stream");
        assert_eq!(safe_content_type(""), "application/octet-stream");
        assert_eq!(domain_of("Ann@ACME.example"), Some("acme.example".into()));
    }
}
