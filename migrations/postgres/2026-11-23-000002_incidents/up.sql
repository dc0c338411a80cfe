CREATE TABLE services (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX services_name_lower ON services (lower(name));

CREATE TABLE incidents (
    id BIGSERIAL PRIMARY KEY,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    service_id BIGINT NOT NULL REFERENCES services (id),
    impact TEXT NOT NULL CHECK (impact IN ('high','medium','low')),
    urgency TEXT NOT NULL CHECK (urgency IN ('high','medium','low')),
    priority TEXT NOT NULL CHECK (priority IN ('P1','P2','P3','P4')),
    severity TEXT NOT NULL CHECK (severity IN ('SEV1','SEV2','SEV3','SEV4')),
    status TEXT NOT NULL CHECK (status IN ('new','triaged','in_progress','waiting_on_customer','resolved','closed')),
    is_open BOOLEAN NOT NULL DEFAULT TRUE,
    reporter_id BIGINT NOT NULL REFERENCES users (id),
    organization_id BIGINT REFERENCES organizations (id) ON DELETE SET NULL,
    assignee_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    acknowledged_at TIMESTAMP,
    resolved_at TIMESTAMP,
    closed_at TIMESTAMP,
    resolution TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX incidents_open_priority ON incidents (is_open, priority, created_at, id);
CREATE INDEX incidents_priority ON incidents (priority, created_at, id);
CREATE INDEX incidents_created ON incidents (created_at, id);
CREATE INDEX incidents_updated ON incidents (updated_at, id);
CREATE INDEX incidents_status ON incidents (status, severity, priority, created_at, id);
CREATE INDEX incidents_severity ON incidents (severity, status, priority, created_at, id);
CREATE INDEX incidents_service ON incidents (service_id, status, severity, priority, created_at, id);
CREATE INDEX incidents_assignee ON incidents (assignee_id, is_open, priority, created_at, id);
CREATE INDEX incidents_reporter ON incidents (reporter_id, created_at, id);
CREATE INDEX incidents_organization ON incidents (organization_id, status, created_at, id);

CREATE TABLE incident_tags (
    incident_id BIGINT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (incident_id, tag)
);
CREATE INDEX incident_tags_tag ON incident_tags (tag, incident_id);

CREATE TABLE incident_watchers (
    incident_id BIGINT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (incident_id, user_id)
);
CREATE INDEX incident_watchers_user ON incident_watchers (user_id);

CREATE TABLE comments (
    id BIGSERIAL PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    author_id BIGINT NOT NULL REFERENCES users (id),
    body TEXT NOT NULL,
    internal BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    edited_at TIMESTAMP
);
CREATE INDEX comments_incident ON comments (incident_id, created_at, id);

CREATE TABLE incident_events (
    id BIGSERIAL PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    at TIMESTAMP NOT NULL,
    actor_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    kind TEXT NOT NULL,
    field TEXT NOT NULL DEFAULT '',
    old_value TEXT NOT NULL DEFAULT '',
    new_value TEXT NOT NULL DEFAULT '',
    internal BOOLEAN NOT NULL DEFAULT FALSE,
    comment_id BIGINT REFERENCES comments (id) ON DELETE SET NULL,
    version INTEGER NOT NULL
);
CREATE INDEX incident_events_incident ON incident_events (incident_id, at, id);

CREATE TABLE incident_links (
    id BIGSERIAL PRIMARY KEY,
    from_id BIGINT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    to_id BIGINT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('duplicate_of','related_to','parent_of')),
    created_at TIMESTAMP NOT NULL,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX incident_links_pair ON incident_links (from_id, to_id, kind);
CREATE INDEX incident_links_to ON incident_links (to_id);

-- Full text: one document per incident (title + description) and one per comment, with a
-- generated tsvector and a GIN index.
CREATE TABLE search_docs (
    id BIGSERIAL PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    comment_id BIGINT REFERENCES comments (id) ON DELETE CASCADE,
    internal BOOLEAN NOT NULL DEFAULT FALSE,
    title TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL DEFAULT '',
    tsv tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', body), 'B')
    ) STORED
);
CREATE INDEX search_docs_incident ON search_docs (incident_id);
CREATE UNIQUE INDEX search_docs_comment ON search_docs (comment_id);
CREATE INDEX search_docs_tsv ON search_docs USING GIN (tsv);
