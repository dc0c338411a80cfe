-- Releases: what ships the fixes, through a readiness check, a deployment and a watch window.
CREATE TABLE releases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    version TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    notes TEXT NOT NULL DEFAULT '',
    deployment_type TEXT NOT NULL CHECK (deployment_type IN ('serverless','self_hosted','sovereign')),
    window_start TIMESTAMP,
    window_end TIMESTAMP,
    rollback_plan TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('planned','ready','deploying','deployed','monitoring','closed','rolled_back')),
    monitor_hours INTEGER NOT NULL DEFAULT 72,
    approved_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    approved_at TIMESTAMP,
    override_reason TEXT NOT NULL DEFAULT '',
    deployed_at TIMESTAMP,
    monitor_until TIMESTAMP,
    rolled_back_at TIMESTAMP,
    rollback_reason TEXT NOT NULL DEFAULT '',
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    lock_version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX releases_status ON releases (status, monitor_until, id);
CREATE INDEX releases_window ON releases (window_start, id);

CREATE TABLE release_services (
    release_id INTEGER NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    service_id INTEGER NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    PRIMARY KEY (release_id, service_id)
);
CREATE INDEX release_services_service ON release_services (service_id);

-- The admin-defined readiness checklist every new release starts with.
CREATE TABLE checklist_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    position INTEGER NOT NULL,
    label TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE
);
INSERT INTO checklist_items (position, label) VALUES
    (1, 'Code merged and QA approved'),
    (2, 'Release notes written'),
    (3, 'Rollback plan reviewed'),
    (4, 'Backup verified'),
    (5, 'Documentation updated'),
    (6, 'Support and sales briefed'),
    (7, 'On-call assigned');

CREATE TABLE release_checks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    release_id INTEGER NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    label TEXT NOT NULL,
    checked_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    checked_at TIMESTAMP
);
CREATE INDEX release_checks_release ON release_checks (release_id, position);

-- Incidents opened on an affected service during the watch window.
CREATE TABLE release_suspects (
    release_id INTEGER NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    status TEXT NOT NULL CHECK (status IN ('suspect','confirmed','dismissed')),
    decided_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    decided_at TIMESTAMP,
    PRIMARY KEY (release_id, incident_id)
);


ALTER TABLE bugs ADD COLUMN release_id INTEGER REFERENCES releases (id) ON DELETE SET NULL;
CREATE INDEX bugs_release ON bugs (release_id);
ALTER TABLE problems ADD COLUMN watch_days INTEGER NOT NULL DEFAULT 30;
CREATE INDEX problems_fix_released ON problems (status, fix_released_at);
