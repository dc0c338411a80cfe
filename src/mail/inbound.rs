//! Reading one incoming RFC 5322 message with mail-parser: the facts the inbound service needs,
//! with charsets and transfer encodings decoded, HTML turned into text and quoted history removed.

use super::html_text::{History, html_to_text};
use crate::domain::inbound::{
    AutoHeaders, automatic, bounded_refs, is_forward_subject, normalize_message_id, safe_content_type, safe_filename,
    strip_quoted,
};
use mail_parser::{HeaderValue, Message, MessageParser, MimeHeaders};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

#[derive(Debug, Clone, Default)]
pub struct ParsedMail {
    /// Without angle brackets, the domain lowercased. A message without one (or with an unusable
    /// one) gets `sha256-<hash of the bytes>@firewatch`, so the same message delivered twice is
    /// still recognized.
    pub message_id: String,
    /// Lowercased; the single author (From, or Sender when From names several).
    pub from_address: String,
    pub from_name: String,
    pub subject: String,
    /// In-Reply-To then References, without angle brackets, most recent first, bounded.
    pub refs: Vec<String>,
    /// Why this is automatic mail that must not be filed, if it is.
    pub automatic: Option<String>,
    /// Why the message is refused as ambiguous or malformed (several authors, duplicated
    /// headers, control characters in an address), if it is.
    pub malformed: Option<String>,
    /// Sent through a mailing list (List-Id or List-Unsubscribe).
    pub list_mail: bool,
    /// The Authentication-Results headers, as received.
    pub auth_results: Vec<String>,
    /// The new text (quoted history removed; a forward keeps what it forwards).
    pub body: String,
    pub attachments: Vec<Attachment>,
}

/// A header value on one line: control characters (a decoded CR/LF among them) become spaces.
fn one_line(s: &str) -> String {
    s.split(|c: char| c.is_control() || c.is_whitespace()).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
}

/// Text without control characters other than line breaks and tabs (NUL never reaches storage).
fn clean_text(s: &str) -> String {
    s.replace("\r\n", "\n").chars().filter(|c| !c.is_control() || matches!(c, '\n' | '\t')).collect()
}

fn hash_id(raw: &[u8]) -> String {
    format!("sha256-{}@firewatch", hex::encode(Sha256::digest(raw)))
}

/// The ids of an In-Reply-To or References header, as received.
fn id_list(value: &HeaderValue<'_>) -> Vec<String> {
    match (value.as_text_list(), value.as_text()) {
        (Some(list), _) => list.iter().map(|s| s.to_string()).collect(),
        (None, Some(one)) => vec![one.to_string()],
        _ => Vec::new(),
    }
}

/// Headers that must appear at most once (RFC 5322 3.6): with two, which one counts is a guess
/// an attacker can steer.
const SINGLE: [&str; 5] = ["From", "Sender", "Subject", "Message-ID", "In-Reply-To"];

/// Parses a message; None when it is not a mail message at all.
pub fn parse(raw: &[u8]) -> Option<ParsedMail> {
    parse_depth(skip_leading_junk(raw), 0)
}

/// Some MTAs and scripts put a folded (whitespace-led) or blank line before the first header,
/// which a parser takes for the end of an empty header block: skip such lines.
fn skip_leading_junk(mut raw: &[u8]) -> &[u8] {
    for _ in 0..100 {
        if !raw.first().is_some_and(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n')) {
            break;
        }
        match raw.iter().position(|b| *b == b'\n') {
            Some(end) => raw = &raw[end + 1..],
            None => break,
        }
    }
    raw
}

fn parse_depth(raw: &[u8], depth: usize) -> Option<ParsedMail> {
    // mail-parser has debug assertions that hostile input can reach (nested message/rfc822
    // parts); a message it cannot take apart is refused like any unreadable one, never a crash.
    let msg = std::panic::catch_unwind(|| MessageParser::default().parse(raw)).ok().flatten()?;
    let count = |name: &str| msg.headers().iter().filter(|h| h.name().eq_ignore_ascii_case(name)).count();
    let mut malformed =
        SINGLE.iter().find(|h| count(h) > 1).map(|h| format!("the message has more than one {h} header"));
    let from_all: Vec<_> = msg.from().map(|a| a.iter().collect()).unwrap_or_default();
    let author = if from_all.len() > 1 {
        let senders: Vec<_> = msg.sender().map(|a| a.iter().collect()).unwrap_or_default();
        match senders.as_slice() {
            [one] => Some(*one),
            _ => {
                malformed.get_or_insert_with(|| {
                    "the message names more than one author in From and no single Sender".into()
                });
                None
            }
        }
    } else {
        from_all.first().copied()
    };
    let raw_address = author.and_then(|a| a.address()).unwrap_or("").trim();
    if raw_address.chars().any(char::is_control) {
        malformed.get_or_insert_with(|| "the sender address contains control characters".into());
    }
    let from_address: String = raw_address.chars().filter(|c| !c.is_control()).collect::<String>().to_lowercase();
    let from_name = author.and_then(|a| a.name()).unwrap_or("").trim().to_string();
    let subject = one_line(msg.subject().unwrap_or(""));
    let has_text = msg.text_body_count() + msg.html_body_count() + msg.attachment_count() > 0;
    if from_address.is_empty() && subject.is_empty() && !has_text {
        return None;
    }
    let message_id = match msg.message_id().map(str::trim).filter(|m| !m.is_empty()) {
        Some(m) if m.chars().any(char::is_control) => {
            malformed.get_or_insert_with(|| "the Message-ID contains control characters".into());
            hash_id(raw)
        }
        Some(m) if m.len() <= 250 => normalize_message_id(m),
        _ => hash_id(raw),
    };
    let text_of = |name: &str| msg.header(name).and_then(|v| v.as_text()).map(str::to_string);
    let auto_submitted = text_of("Auto-Submitted");
    let precedence = text_of("Precedence");
    let x_autoreply = text_of("X-Autoreply").or_else(|| text_of("X-Autorespond"));
    let suppress = text_of("X-Auto-Response-Suppress");
    let content_type = msg
        .content_type()
        .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or("")).to_ascii_lowercase())
        .unwrap_or_default();
    let automatic = automatic(&AutoHeaders {
        auto_submitted: auto_submitted.as_deref(),
        precedence: precedence.as_deref(),
        x_autoreply: x_autoreply.as_deref(),
        x_auto_response_suppress: suppress.as_deref(),
        content_type: &content_type,
        subject: &subject,
        from: &from_address,
    });
    let refs = bounded_refs(&id_list(msg.in_reply_to()), &id_list(msg.references()));
    let list_mail = count("List-Id") + count("List-Unsubscribe") > 0;
    let auth_results = msg
        .headers()
        .iter()
        .filter(|h| h.name().eq_ignore_ascii_case("Authentication-Results"))
        .filter_map(|h| h.value().as_text().map(one_line))
        .take(20)
        .collect();

    let history = if is_forward_subject(&subject) { History::Keep } else { History::Strip };
    let mut text = body_text(&msg, history);
    let mut attachments = Vec::new();
    let mut forwarded = Vec::new();
    for part in msg.attachments() {
        if let (Some(inner), true) = (part.message(), depth < 3) {
            forwarded.push(forwarded_block(inner));
        }
        let ctype = part
            .content_type()
            .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or("octet-stream")))
            .unwrap_or_default();
        let lower = ctype.to_ascii_lowercase();
        let unnamed = part.attachment_name().is_none() && part.message().is_none();
        // Broken MIME (a lost or mismatched boundary) leaves the text as an unnamed part, or the
        // whole undivided multipart: it is the body, not a file called "attachment".
        if unnamed
            && text.trim().is_empty()
            && lower.starts_with("multipart/")
            && depth < 3
            && let Some(inner) = reparse_multipart(part.contents(), depth)
        {
            text = inner.body;
            attachments.extend(inner.attachments);
            continue;
        }
        if unnamed && text.trim().is_empty() && (lower.is_empty() || lower.starts_with("text/")) {
            text = match part.text_contents() {
                Some(t) if part.is_text_html() => html_to_text(t, history),
                Some(t) => t.to_string(),
                None => String::from_utf8_lossy(part.contents()).into_owned(),
            };
            continue;
        }
        let name = part.attachment_name().unwrap_or(if part.is_message() { "message.eml" } else { "attachment" });
        attachments.push(Attachment {
            filename: safe_filename(name),
            content_type: safe_content_type(&ctype),
            data: part.contents().to_vec(),
        });
    }
    let mut body = match history {
        History::Keep => text.trim().to_string(),
        History::Strip => strip_quoted(&text),
    };
    for f in forwarded {
        if !body.is_empty() {
            body.push_str("\n\n");
        }
        body.push_str(&f);
    }
    Some(ParsedMail {
        message_id,
        from_address,
        from_name: one_line(&from_name).chars().take(120).collect(),
        subject,
        refs,
        automatic,
        malformed,
        list_mail,
        auth_results,
        body: clean_text(&body),
        attachments,
    })
}

/// A multipart body whose declared boundary matched nothing, read with the boundary its first
/// line actually uses.
fn reparse_multipart(contents: &[u8], depth: usize) -> Option<ParsedMail> {
    // The first delimiter line, after any preamble ("This is a multi-part message in MIME format.").
    let boundary = contents
        .split(|b| *b == b'\n')
        .take(50)
        .filter_map(|l| std::str::from_utf8(l).ok())
        .map(str::trim_end)
        .find_map(|l| l.strip_prefix("--").filter(|b| !b.is_empty()))?;
    if boundary.len() > 70 || boundary.contains('"') {
        return None;
    }
    let mut raw = format!("Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n").into_bytes();
    raw.extend_from_slice(contents);
    parse_depth(&raw, depth + 1)
}

/// The text of a message's body parts, HTML read as HTML.
fn body_text(msg: &Message<'_>, history: History) -> String {
    let mut texts = Vec::new();
    for i in 0..msg.text_body_count() {
        let Some(part) = msg.text_part(i as u32) else { continue };
        match part.text_contents() {
            Some(t) if part.is_text_html() => texts.push(html_to_text(t, history)),
            Some(t) => texts.push(t.to_string()),
            None => {}
        }
    }
    if texts.is_empty() {
        for i in 0..msg.html_body_count() {
            if let Some(t) = msg.html_part(i as u32).and_then(|p| p.text_contents()) {
                texts.push(html_to_text(t, history));
            }
        }
    }
    texts.join("\n\n")
}

/// An attached message (`message/rfc822`, a forward as attachment) as text.
fn forwarded_block(inner: &Message<'_>) -> String {
    let from = inner
        .from()
        .and_then(|a| a.first())
        .map(|a| match (a.name(), a.address()) {
            (Some(n), Some(ad)) => format!("{n} <{ad}>"),
            (None, Some(ad)) => ad.to_string(),
            (Some(n), None) => n.to_string(),
            (None, None) => String::new(),
        })
        .unwrap_or_default();
    let mut out = String::from("---------- Forwarded message ----------\n");
    out.push_str(&format!("From: {}\n", one_line(&from)));
    if let Some(d) = inner.date() {
        out.push_str(&format!("Date: {}\n", d.to_rfc822()));
    }
    out.push_str(&format!("Subject: {}\n\n", one_line(inner.subject().unwrap_or(""))));
    out.push_str(body_text(inner, History::Keep).trim());
    out
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn multipart_encoded_message_is_decoded() {
        let raw = concat!(
            "From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <Juergen@ACME.example>\r\n",
            "To: support@firewatch.example\r\n",
            "Subject: =?ISO-8859-1?Q?Dr=FCcker_kaputt?=\r\n",
            "Message-ID: <abc@mail.acme.example>\r\n",
            "In-Reply-To: <incident-4.x@fw.example>\r\n",
            "References: <incident-4@fw.example> <incident-4.x@fw.example>\r\n",
            "MIME-Version: 1.0\r\n",
            "Content-Type: multipart/mixed; boundary=\"b1\"\r\n",
            "\r\n",
            "--b1\r\n",
            "Content-Type: multipart/alternative; boundary=\"b2\"\r\n",
            "\r\n",
            "--b2\r\n",
            "Content-Type: text/plain; charset=iso-8859-1\r\n",
            "Content-Transfer-Encoding: quoted-printable\r\n",
            "\r\n",
            "Der Drucker druckt nicht, Gr=FC=DFe.\r\n",
            "\r\n",
            "On Mon, 23 Nov 2026, Firewatch wrote:\r\n",
            "> old text\r\n",
            "--b2\r\n",
            "Content-Type: text/html; charset=utf-8\r\n",
            "\r\n",
            "<p>HTML version</p>\r\n",
            "--b2--\r\n",
            "--b1\r\n",
            "Content-Type: application/pdf; name=\"../report.pdf\"\r\n",
            "Content-Disposition: attachment; filename=\"../report.pdf\"\r\n",
            "Content-Transfer-Encoding: base64\r\n",
            "\r\n",
            "JVBERi0xLjQK\r\n",
            "--b1--\r\n",
        );
        let m = parse(raw.as_bytes()).expect("parsed");
        assert_eq!(m.from_address, "juergen@acme.example");
        assert_eq!(m.from_name, "Jürgen Müller");
        assert_eq!(m.subject, "Drücker kaputt");
        assert_eq!(m.message_id, "abc@mail.acme.example");
        assert_eq!(m.refs, vec!["incident-4.x@fw.example".to_string(), "incident-4@fw.example".to_string()]);
        assert_eq!(m.body, "Der Drucker druckt nicht, Grüße.");
        assert_eq!(m.attachments.len(), 1);
        assert_eq!(m.attachments[0].filename, "report.pdf");
        assert_eq!(m.attachments[0].content_type, "application/pdf");
        assert_eq!(m.attachments[0].data, b"%PDF-1.4\n");
        assert!(m.automatic.is_none());
    }

    #[test]
    fn html_only_mail_becomes_text_and_auto_replies_are_flagged() {
        let raw = "From: a@b.example\r\nSubject: Out of office\r\nAuto-Submitted: auto-replied\r\nContent-Type: text/html\r\n\r\n<p>I am <b>away</b></p>";
        let m = parse(raw.as_bytes()).expect("parsed");
        assert!(m.body.contains("I am away"), "{}", m.body);
        assert!(m.automatic.is_some());
        assert!(m.message_id.starts_with("sha256-"));
        let again = parse(raw.as_bytes()).expect("parsed");
        assert_eq!(m.message_id, again.message_id);
    }

    fn plain(headers: &str, body: &str) -> Vec<u8> {
        format!("{headers}Subject: Printer\r\nMessage-ID: <m1@x.example>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}").into_bytes()
    }

    #[test]
    fn one_author_per_message() {
        let two_froms = plain("From: mallory@evil.example\r\nFrom: admin@acme.example\r\n", "hi");
        let m = parse(&two_froms).expect("parsed");
        assert!(m.malformed.as_deref().is_some_and(|w| w.contains("more than one From")), "{:?}", m.malformed);
        let two_addrs = plain("From: a@x.example, b@y.example\r\n", "hi");
        assert!(parse(&two_addrs).expect("parsed").malformed.is_some_and(|w| w.contains("more than one author")));
        let with_sender = plain("From: a@x.example, b@y.example\r\nSender: B@y.example\r\n", "hi");
        let m = parse(&with_sender).expect("parsed");
        assert!(m.malformed.is_none());
        assert_eq!(m.from_address, "b@y.example");
        for h in ["Subject: again", "Message-ID: <m2@x.example>", "In-Reply-To: <a@b>\r\nIn-Reply-To: <c@d>"] {
            let raw = plain(&format!("From: a@x.example\r\n{h}\r\n"), "hi");
            assert!(parse(&raw).expect("parsed").malformed.is_some_and(|w| w.contains("more than one")), "{h}");
        }
        assert!(parse(&plain("From: a@x.example\r\n", "hi")).expect("parsed").malformed.is_none());
    }

    #[test]
    fn control_characters_never_reach_storage() {
        let raw = b"From: a\x00b@x.example\r\nSubject: Hi\x00there\r\nMessage-ID: <m\x00@x>\r\n\r\nbody\x00text\r\n";
        let m = parse(raw).expect("parsed");
        assert!(m.malformed.is_some());
        for v in [&m.from_address, &m.subject, &m.message_id, &m.body] {
            assert!(!v.contains('\0'), "{v:?}");
        }
        assert_eq!(m.body, "bodytext");
    }

    #[test]
    fn east_asian_charsets_are_decoded() {
        // "障害" (failure) in Shift_JIS, the subject in ISO-2022-JP.
        let mut raw = b"From: a@x.example\r\nSubject: =?ISO-2022-JP?B?GyRCPmMzMhsoQg==?=\r\nMessage-ID: <j@x>\r\nContent-Type: text/plain; charset=Shift_JIS\r\n\r\n".to_vec();
        raw.extend_from_slice(&[0x8f, 0xe1, 0x8a, 0x51]);
        let m = parse(&raw).expect("parsed");
        assert_eq!(m.body, "障害");
        assert_eq!(m.subject, "障害");
    }

    #[test]
    fn forwards_keep_what_they_forward() {
        let inline = plain(
            "From: a@x.example\r\n",
            "FYI\r\n\r\n---------- Forwarded message ---------\r\nFrom: Bob <b@c.example>\r\nSubject: Down\r\n\r\nThe site is down.\r\n",
        );
        assert!(parse(&inline).expect("parsed").body.contains("The site is down."));
        let attached = concat!(
            "From: a@x.example\r\nSubject: Fwd: Down\r\nMessage-ID: <f@x>\r\nMIME-Version: 1.0\r\n",
            "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n",
            "--b\r\nContent-Type: message/rfc822\r\n\r\n",
            "From: Bob <b@c.example>\r\nSubject: Down\r\nContent-Type: text/plain\r\n\r\nThe site is down.\r\n",
            "--b--\r\n"
        );
        let m = parse(attached.as_bytes()).expect("parsed");
        assert!(m.body.contains("The site is down."), "{}", m.body);
        assert!(m.body.contains("From: Bob <b@c.example>"), "{}", m.body);
    }

    #[test]
    fn broken_mime_and_leading_whitespace_still_give_the_text() {
        let lost_boundary = concat!(
            "From: a@x.example\r\nSubject: Broken\r\nMessage-ID: <b@x>\r\nMIME-Version: 1.0\r\n",
            "Content-Type: multipart/mixed; boundary=\"declared\"\r\n\r\n",
            "--other\r\nContent-Type: text/plain\r\n\r\nThe export fails at row 7.\r\n--other--\r\n"
        );
        let m = parse(lost_boundary.as_bytes()).expect("parsed");
        assert!(m.body.contains("The export fails at row 7."), "{m:?}");
        assert!(m.attachments.iter().all(|a| a.filename != "attachment"), "{:?}", m.attachments);
        let unclosed = concat!(
            "From: a@x.example\r\nSubject: Broken\r\nMessage-ID: <c@x>\r\nMIME-Version: 1.0\r\n",
            "Content-Type: multipart/alternative; boundary=\"b\"\r\n\r\n",
            "--b\r\nContent-Type: text/plain\r\n\r\nNo closing boundary here.\r\n"
        );
        assert!(parse(unclosed.as_bytes()).expect("parsed").body.contains("No closing boundary here."));
        let leading = b" \r\nFrom: a@x.example\r\nSubject: Leading\r\nMessage-ID: <d@x>\r\n\r\nHello there.\r\n";
        let m = parse(leading).expect("parsed");
        assert_eq!((m.from_address.as_str(), m.body.as_str()), ("a@x.example", "Hello there."), "{m:?}");
    }

    #[test]
    fn html_only_replies_lose_their_quotes() {
        let raw = concat!(
            "From: a@x.example\r\nSubject: Re: [INC-1] x\r\nMessage-ID: <h@x>\r\nContent-Type: text/html; charset=utf-8\r\n\r\n",
            "<div dir=\"ltr\">Works now, thanks.</div><div class=\"gmail_quote\"><div class=\"gmail_attr\">On Mon, Firewatch wrote:</div>",
            "<blockquote class=\"gmail_quote\">QUOTED-SECRET</blockquote></div>"
        );
        assert_eq!(parse(raw.as_bytes()).expect("parsed").body, "Works now, thanks.");
    }
}
