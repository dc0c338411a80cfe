//! Reading one incoming RFC 5322 message with mail-parser: the facts the inbound service needs,
//! with charsets and transfer encodings decoded, HTML turned into text and quoted history removed.

use crate::domain::inbound::{AutoHeaders, automatic, safe_content_type, safe_filename, strip_quoted};
use mail_parser::{MessageParser, MimeHeaders};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

#[derive(Debug, Clone, Default)]
pub struct ParsedMail {
    /// Without angle brackets. A message without one gets `sha256-<hash of the bytes>@firewatch`,
    /// so the same message delivered twice is still recognized.
    pub message_id: String,
    /// Lowercased.
    pub from_address: String,
    pub from_name: String,
    pub subject: String,
    /// In-Reply-To then References, without angle brackets, most recent first.
    pub refs: Vec<String>,
    /// Why this is automatic mail that must not be filed, if it is.
    pub automatic: Option<String>,
    /// The new text (quoted history removed).
    pub body: String,
    pub attachments: Vec<Attachment>,
}

/// A header value on one line: control characters (a decoded CR/LF among them) become spaces.
fn one_line(s: &str) -> String {
    s.split(|c: char| c.is_control() || c.is_whitespace()).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
}

/// Parses a message; None when it is not a mail message at all.
pub fn parse(raw: &[u8]) -> Option<ParsedMail> {
    let msg = MessageParser::default().parse(raw)?;
    let from = msg.from().and_then(|a| a.first());
    let from_address = from.and_then(|a| a.address()).unwrap_or("").trim().to_lowercase();
    let from_name = from.and_then(|a| a.name()).unwrap_or("").trim().to_string();
    if from_address.is_empty() && msg.subject().is_none() && msg.body_text(0).is_none() {
        return None;
    }
    let message_id = match msg.message_id().map(str::trim).filter(|m| !m.is_empty()) {
        Some(m) => m.to_string(),
        None => format!("sha256-{}@firewatch", hex::encode(Sha256::digest(raw))),
    };
    let text_of = |name: &str| msg.header(name).and_then(|v| v.as_text()).map(str::to_string);
    let auto_submitted = text_of("Auto-Submitted");
    let precedence = text_of("Precedence");
    let x_autoreply = text_of("X-Autoreply").or_else(|| text_of("X-Autorespond"));
    let automatic = automatic(&AutoHeaders {
        auto_submitted: auto_submitted.as_deref(),
        precedence: precedence.as_deref(),
        x_autoreply: x_autoreply.as_deref(),
        from: &from_address,
    });
    let mut refs: Vec<String> = Vec::new();
    for header in [msg.in_reply_to(), msg.references()] {
        let ids: Vec<String> = match (header.as_text_list(), header.as_text()) {
            (Some(list), _) => list.iter().map(|s| s.to_string()).collect(),
            (None, Some(one)) => vec![one.to_string()],
            _ => Vec::new(),
        };
        // References lists the oldest first; the most recent is the likeliest match.
        for id in ids.into_iter().rev() {
            let id = id.trim().trim_start_matches('<').trim_end_matches('>').to_string();
            if !id.is_empty() && !refs.contains(&id) {
                refs.push(id);
            }
        }
    }
    let texts: Vec<String> = (0..msg.text_body_count()).filter_map(|i| msg.body_text(i)).map(|t| t.into()).collect();
    let text = if texts.is_empty() {
        (0..msg.html_body_count()).filter_map(|i| msg.body_text(i)).map(String::from).collect::<Vec<_>>().join("\n\n")
    } else {
        texts.join("\n\n")
    };
    let body = strip_quoted(&text);
    let attachments = msg
        .attachments()
        .map(|part| {
            let ctype = part
                .content_type()
                .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or("octet-stream")))
                .unwrap_or_default();
            let name = part.attachment_name().unwrap_or(if part.is_message() { "message.eml" } else { "attachment" });
            Attachment {
                filename: safe_filename(name),
                content_type: safe_content_type(&ctype),
                data: part.contents().to_vec(),
            }
        })
        .collect();
    Some(ParsedMail {
        message_id,
        from_address,
        from_name: one_line(&from_name).chars().take(120).collect(),
        subject: one_line(msg.subject().unwrap_or("")),
        refs,
        automatic,
        body,
        attachments,
    })
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
}
