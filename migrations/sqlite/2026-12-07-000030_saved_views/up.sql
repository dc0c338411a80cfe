-- Saved queue views: a named filter (the queue's query string), kept by one user (owner_id)
-- or shared with all staff (owner_id NULL), shown as links above the queue with their counts.
CREATE TABLE saved_views (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    query TEXT NOT NULL,
    owner_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX saved_views_owner_name ON saved_views (COALESCE(owner_id, 0), name);
