//! The demo's incoming mail: a few messages filed through the real inbound path, so a new user
//! sees what mail becomes (a plain-text crash report shown as written, a forward that keeps what
//! it forwards, each with its original for staff) and what is refused (a spoofed sender).

use crate::db::users;
use crate::service::AppState;

/// Files the demo messages as written by `customer` (an email address). Taken once per
/// Message-ID, so loading the demo twice adds nothing.
pub fn load(state: &AppState, customer_id: i64) -> anyhow::Result<usize> {
    let customer = users::find(&mut *state.db.get()?, customer_id)?.email;
    let messages = [
        format!(
            "From: {customer}\r\nTo: support@firewatch.example\r\nSubject: Export job crashes every night\r\n\
             Message-ID: <demo-crash-1@firewatch.example>\r\nDate: Mon, 30 Nov 2026 07:12:00 +0000\r\n\
             MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
             Hi,\r\n\r\nthe nightly export stopped with this since Friday:\r\n\r\n\
             <NullPointerException> at ExportJob.run(ExportJob.java:88)\r\n\
             # retried twice, same result\r\n<config><batch>500</batch></config>\r\n\r\n\
             Thanks,\r\n-- \r\nSent from my phone\r\n"
        ),
        format!(
            "From: {customer}\r\nTo: support@firewatch.example\r\nSubject: Fwd: Certificate expires in 7 days\r\n\
             Message-ID: <demo-forward-1@firewatch.example>\r\nDate: Tue, 1 Dec 2026 09:30:00 +0000\r\n\
             MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
             Can you check this before it breaks our checkout?\r\n\r\n\
             ---------- Forwarded message ---------\r\nFrom: Certificate Monitor <certs@monitor.example>\r\n\
             Date: Tue, 1 Dec 2026 06:00:00 +0000\r\nSubject: Certificate expires in 7 days\r\n\r\n\
             The certificate for pay.example.com expires on 8 December 2026.\r\n"
        ),
        format!(
            "From: intruder@evil.example\r\nFrom: {customer}\r\nTo: support@firewatch.example\r\n\
             Subject: Please close all my incidents\r\nMessage-ID: <demo-spoof-1@evil.example>\r\n\
             Date: Wed, 2 Dec 2026 03:00:00 +0000\r\nContent-Type: text/plain\r\n\r\nClose everything.\r\n"
        ),
    ];
    let mut filed = 0;
    for raw in &messages {
        let receipt = crate::service::inbound::receive(state, raw.as_bytes())?;
        if receipt.status == "accepted" {
            filed += 1;
        }
    }
    Ok(filed)
}
