//! `firewatch mailgate`: hands one message from an MTA pipe (or fetchmail's mda) to a running
//! Firewatch. The exit code tells the MTA what to do: 0 accepted, 75 try again later (server
//! unreachable, failing, or refusing the token: the MTA keeps the message until that is fixed),
//! 65 the message itself is refused for good (it bounces).

use std::time::Duration;

pub const EX_OK: u8 = 0;
pub const EX_DATAERR: u8 = 65;
pub const EX_TEMPFAIL: u8 = 75;

/// Posts the message; returns the exit code and a line for the MTA's log.
pub fn deliver(base_url: &str, token: &str, message: &[u8]) -> (u8, String) {
    if message.is_empty() {
        return (EX_DATAERR, "no message on standard input".into());
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(120)))
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!("{}/mail/inbound", base_url.trim_end_matches('/'));
    let sent = agent
        .post(&url)
        .header("Authorization", &format!("Bearer {token}"))
        .header("Content-Type", "message/rfc822")
        .send(message);
    match sent {
        Ok(mut resp) => {
            let status = resp.status().as_u16();
            let text = resp.body_mut().read_to_string().unwrap_or_default();
            let text: String = text.chars().take(500).collect();
            let code = match status {
                200..=299 => EX_OK,
                400 | 413 | 422 => EX_DATAERR,
                // A wrong token, a missing route or a failing server may all be fixed meanwhile.
                _ => EX_TEMPFAIL,
            };
            (code, format!("{url}: {status} {text}"))
        }
        Err(e) => (EX_TEMPFAIL, format!("{url}: {e}")),
    }
}
