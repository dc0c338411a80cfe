-- The public status page: incidents staff show there, their customer-safe updates, and the
-- people who follow them by mail.
CREATE TABLE status_incidents (
    id BIGSERIAL PRIMARY KEY,
    incident_id BIGINT NOT NULL UNIQUE REFERENCES incidents (id) ON DELETE CASCADE,
    shown BOOLEAN NOT NULL DEFAULT TRUE,
    public_title TEXT NOT NULL,
    -- NULL: the state follows the incident's severity.
    state_override TEXT CHECK (state_override IN ('operational','degraded','partial_outage','major_outage')),
    published_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX status_incidents_shown ON status_incidents (shown, published_at, id);
CREATE INDEX status_incidents_updated ON status_incidents (shown, updated_at);

CREATE TABLE status_updates (
    id BIGSERIAL PRIMARY KEY,
    status_incident_id BIGINT NOT NULL REFERENCES status_incidents (id) ON DELETE CASCADE,
    phase TEXT NOT NULL CHECK (phase IN ('investigating','identified','monitoring','resolved')),
    body TEXT NOT NULL,
    author_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX status_updates_incident ON status_updates (status_incident_id, created_at, id);
CREATE INDEX status_updates_created ON status_updates (created_at, id);

-- Only hashes of the one-time confirmation token and of the unsubscribe token are stored; the
-- unsubscribe token is an HMAC of the seed under the application secret.
CREATE TABLE status_subscribers (
    id BIGSERIAL PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    confirm_hash TEXT UNIQUE,
    confirm_expires_at TIMESTAMP,
    confirm_sent_at TIMESTAMP,
    confirmed_at TIMESTAMP,
    unsubscribe_seed TEXT NOT NULL,
    unsubscribe_hash TEXT NOT NULL UNIQUE,
    request_ip TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX status_subscribers_confirmed ON status_subscribers (confirmed_at, id);
CREATE INDEX status_subscribers_ip ON status_subscribers (request_ip, confirm_sent_at);

-- Mail to subscribers carries a List-Unsubscribe header (RFC 2369 / 8058).
ALTER TABLE outbox ADD COLUMN list_unsubscribe TEXT NOT NULL DEFAULT '';
