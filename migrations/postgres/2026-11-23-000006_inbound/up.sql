-- Settings an admin changes at run time (key → value), e.g. what to do with unknown senders.
CREATE TABLE settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- Every message that reached /mail/inbound, once per Message-ID, with what became of it.
-- The raw message is kept while someone may still need to act on it (review, refused).
CREATE TABLE inbound_messages (
    id BIGSERIAL PRIMARY KEY,
    received_at TIMESTAMP NOT NULL,
    message_id TEXT NOT NULL UNIQUE,
    from_address TEXT NOT NULL DEFAULT '',
    from_name TEXT NOT NULL DEFAULT '',
    subject TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('accepted','review','refused','dismissed')),
    outcome TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    incident_id BIGINT REFERENCES incidents (id) ON DELETE SET NULL,
    comment_id BIGINT REFERENCES comments (id) ON DELETE SET NULL,
    raw BYTEA,
    handled_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    handled_at TIMESTAMP
);
CREATE INDEX inbound_status ON inbound_messages (status, id);
CREATE INDEX inbound_incident ON inbound_messages (incident_id);

-- Files that came with a mail, on the incident (comment_id NULL: with the description) or a comment.
CREATE TABLE attachments (
    id BIGSERIAL PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    comment_id BIGINT REFERENCES comments (id) ON DELETE CASCADE,
    internal BOOLEAN NOT NULL DEFAULT FALSE,
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    data BYTEA NOT NULL,
    created_at TIMESTAMP NOT NULL,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX attachments_incident ON attachments (incident_id, id);
