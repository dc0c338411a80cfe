CREATE TABLE tiers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    position INTEGER NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
INSERT INTO tiers (id, name, position, created_at, updated_at) VALUES
    (1, 'Tier 1 Support', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
    (2, 'Tier 2 DevOps', 2, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
    (3, 'Tier 3 Engineering', 3, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
    (4, 'Tier 4 Management', 4, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP);

CREATE TABLE tier_members (
    tier_id INTEGER NOT NULL REFERENCES tiers (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (tier_id, user_id)
);
CREATE INDEX tier_members_user ON tier_members (user_id);

CREATE TABLE oncall_rotations (
    tier_id INTEGER PRIMARY KEY NOT NULL REFERENCES tiers (id) ON DELETE CASCADE,
    shift_days INTEGER NOT NULL CHECK (shift_days >= 1),
    start_date DATE NOT NULL
);

CREATE TABLE oncall_members (
    tier_id INTEGER NOT NULL REFERENCES tiers (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (tier_id, position)
);

CREATE TABLE oncall_overrides (
    tier_id INTEGER NOT NULL REFERENCES tiers (id) ON DELETE CASCADE,
    day DATE NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (tier_id, day)
);

CREATE TABLE escalations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    at TIMESTAMP NOT NULL,
    actor_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    from_tier_id INTEGER NOT NULL REFERENCES tiers (id),
    to_tier_id INTEGER NOT NULL REFERENCES tiers (id),
    reason_code TEXT NOT NULL,
    reason_text TEXT NOT NULL DEFAULT '',
    automatic BOOLEAN NOT NULL DEFAULT 0
);
CREATE INDEX escalations_incident ON escalations (incident_id, at);
CREATE INDEX escalations_at ON escalations (at);

-- SQLite cannot add a column with both REFERENCES and a non-NULL default; the service layer
-- only ever writes existing tier ids.
ALTER TABLE incidents ADD COLUMN tier_id INTEGER NOT NULL DEFAULT 1;
CREATE INDEX incidents_tier ON incidents (tier_id, is_open, priority, created_at, id);
