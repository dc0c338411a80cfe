//! Following the status page by mail: subscribe (the same answer for any address, limited per
//! address and per IP), confirm, unsubscribe with the one-click link.

use super::*;

/// Asks for a subscription. The answer is the same whether the address is new, pending or
/// confirmed; at most one confirmation mail goes to an address per hour, and requests from one
/// IP address cause at most `IP_CONFIRMATIONS_PER_HOUR` of them.
pub fn subscribe(state: &AppState, meta: &RequestMeta, email: &str) -> ServiceResult<()> {
    let email =
        crate::domain::validate::email(email).map_err(|e| ServiceError::Invalid(FieldErrors::single("email", e)))?;
    let r = state.tx(|conn| {
        let now = state.clock.now_naive();
        db::prune_unconfirmed(conn, now - Duration::days(FORGET_UNCONFIRMED_DAYS))?;
        // Checked before looking at the address, so that this answer says nothing about it.
        if db::confirmations_from_ip(conn, &meta.ip, now - Duration::hours(1))? >= IP_CONFIRMATIONS_PER_HOUR {
            return Err(ServiceError::Invalid(FieldErrors::single(
                "email",
                "Too many subscription requests came from your network. Please try again in an hour.",
            )));
        }
        let existing = db::subscriber_by_email(conn, &email)?;
        let outcome = match &existing {
            Some(s) => subscribe_outcome(s.confirmed_at.is_some(), s.confirm_sent_at, now),
            None => SubscribeOutcome::SendConfirmation,
        };
        if outcome == SubscribeOutcome::Quiet {
            return Ok(());
        }
        let token = random_token(32);
        let expires = now + Duration::hours(CONFIRMATION_VALID_HOURS);
        let subscriber = match existing {
            Some(s) => {
                db::renew_confirmation(conn, s.id, &sha256_hex(&token), expires, &meta.ip, now)?;
                s
            }
            None => {
                let seed = random_token(32);
                db::insert_subscriber(
                    conn,
                    &db::NewSubscriber {
                        email: &email,
                        confirm_hash: &sha256_hex(&token),
                        confirm_expires_at: expires,
                        unsubscribe_seed: &seed,
                        unsubscribe_hash: &sha256_hex(&crate::mail::status_page::unsubscribe_token(state, &seed)),
                        request_ip: &meta.ip,
                        now,
                    },
                )?
            }
        };
        let confirm_link = format!("{}/status/confirm/{token}", state.config.base());
        crate::mail::status_page::confirmation(state, conn, &subscriber, &confirm_link, expires)?;
        Ok(())
    });
    match r {
        // Two requests for one new address at once: the other one sent the mail.
        Err(ServiceError::Conflict(_)) => Ok(()),
        other => other,
    }
}

/// "a•••@example.com": enough for the owner to recognise, not a full address on a page.
pub fn masked(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}•••@{domain}")
        }
        None => "•••".into(),
    }
}

/// The (masked) address a live confirmation link is for; NotFound when used or expired.
pub fn pending_confirmation(state: &AppState, token: &str) -> ServiceResult<String> {
    let mut conn = state.conn()?;
    let s = db::by_live_confirmation(&mut conn, &sha256_hex(token), state.clock.now_naive())?
        .ok_or(ServiceError::NotFound)?;
    Ok(masked(&s.email))
}

/// Confirms a subscription with its one-time link; returns the unsubscribe address.
pub fn confirm(state: &AppState, token: &str) -> ServiceResult<String> {
    state.tx(|conn| {
        let s = db::confirm(conn, &sha256_hex(token), state.clock.now_naive())?.ok_or(ServiceError::NotFound)?;
        Ok(crate::mail::status_page::unsubscribe_link(state, &s))
    })
}

/// The (masked) address an unsubscribe link is for, if it still is subscribed.
pub fn subscription_for(state: &AppState, token: &str) -> ServiceResult<Option<String>> {
    let mut conn = state.conn()?;
    Ok(db::by_unsubscribe(&mut conn, &sha256_hex(token))?.map(|s| masked(&s.email)))
}

/// Ends a subscription (pending or confirmed) and forgets the address. Unknown or used links
/// answer the same: nothing is sent to that address any more either way.
pub fn unsubscribe(state: &AppState, token: &str) -> ServiceResult<bool> {
    state.tx(|conn| match db::by_unsubscribe(conn, &sha256_hex(token))? {
        Some(s) => Ok(db::delete_subscriber(conn, s.id)?),
        None => Ok(false),
    })
}
