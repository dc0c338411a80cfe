-- Bugs behind problems and incidents, tracked to a fix (and, later, the release that ships it).
CREATE TABLE bugs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    service_id INTEGER REFERENCES services (id) ON DELETE SET NULL,
    severity TEXT NOT NULL CHECK (severity IN ('SEV1','SEV2','SEV3','SEV4')),
    status TEXT NOT NULL CHECK (status IN ('open','in_progress','fixed','released','verified','wont_fix')),
    external_ref TEXT NOT NULL DEFAULT '',
    assignee_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    fix_ineffective BOOLEAN NOT NULL DEFAULT FALSE,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX bugs_status ON bugs (status, updated_at, id);

CREATE TABLE bug_problems (
    bug_id INTEGER NOT NULL REFERENCES bugs (id) ON DELETE CASCADE,
    problem_id INTEGER NOT NULL REFERENCES problems (id) ON DELETE CASCADE,
    PRIMARY KEY (bug_id, problem_id)
);
CREATE INDEX bug_problems_problem ON bug_problems (problem_id);

CREATE TABLE bug_incidents (
    bug_id INTEGER NOT NULL REFERENCES bugs (id) ON DELETE CASCADE,
    incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    PRIMARY KEY (bug_id, incident_id)
);
CREATE INDEX bug_incidents_incident ON bug_incidents (incident_id);

