//! Fuzzes the inbound mail parser with arbitrary bytes as `/mail/inbound` receives them, and the
//! quoted-history stripper with the same bytes as text. Besides crashes, hangs and runaway memory,
//! it checks what the inbound service relies on from a parsed message.

#![no_main]

use firewatch::domain::inbound::strip_quoted;
use firewatch::mail::inbound::parse;
use libfuzzer_sys::fuzz_target;

static QUIET_MAIL_PARSER: std::sync::Once = std::sync::Once::new();

fuzz_target!(|data: &[u8]| {
    // `parse` catches the debug assertions mail-parser can hit on hostile input (release builds
    // skip them); libfuzzer-sys's hook would abort before the catch. Any other panic still
    // reaches libfuzzer-sys, which aborts and records the crash.
    QUIET_MAIL_PARSER.call_once(|| {
        let report = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !info.location().is_some_and(|l| l.file().contains("mail-parser")) {
                report(info);
            }
        }));
    });
    if let Some(mail) = parse(data) {
        assert!(!mail.body.contains('\0') && !mail.from_address.contains('\0'), "no NUL reaches storage");
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
