-- Canned responses ("macros"): reusable reply or note texts with placeholders, kept by one
-- agent (owner_id) or shared with all staff (owner_id NULL), that may also set the incident's
-- status, move it to a tier and add tags when the reply is sent.
CREATE TABLE macros (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    internal BOOLEAN NOT NULL DEFAULT FALSE,
    owner_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
    set_status TEXT,
    set_tier_id INTEGER REFERENCES tiers (id) ON DELETE SET NULL,
    add_tags TEXT NOT NULL DEFAULT '',
    uses BIGINT NOT NULL DEFAULT 0,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
-- One name per owner (shared ones count as owner 0); the list reads by owner then name.
CREATE UNIQUE INDEX macros_owner_name ON macros (COALESCE(owner_id, 0), name);
