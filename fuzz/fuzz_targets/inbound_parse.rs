//! Fuzzes the inbound mail parser with arbitrary bytes as `/mail/inbound` receives them, and the
//! quoted-history stripper with the same bytes as text. Besides crashes, hangs and runaway memory,
//! it checks what the inbound service relies on from a parsed message.

#![no_main]

use firewatch::domain::inbound::strip_quoted;
use firewatch::mail::inbound::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(mail) = parse(data) {
        assert!(!mail.message_id.is_empty(), "every message gets a Message-ID");
        assert!(!mail.subject.chars().any(char::is_control), "the subject is one line: {:?}", mail.subject);
        assert!(!mail.from_name.chars().any(char::is_control), "the sender's name is one line: {:?}", mail.from_name);
        for a in &mail.attachments {
            assert!(!a.filename.is_empty(), "an attachment always has a name");
            assert!(
                !a.filename.chars().any(|c| c.is_control() || c == '/' || c == '\\'),
                "an attachment name has no path and no control characters: {:?}",
                a.filename
            );
            assert!(a.content_type.contains('/') && a.content_type.is_ascii(), "a media type: {:?}", a.content_type);
        }
        // The body is already stripped; stripping again must not fail either.
        let _ = strip_quoted(&mail.body);
    }
    let _ = strip_quoted(&String::from_utf8_lossy(data));
});
