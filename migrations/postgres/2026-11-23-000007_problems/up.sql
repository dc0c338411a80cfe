-- Root-cause records: what keeps causing incidents, its analysis and the actions against it.
CREATE TABLE problems (
    id BIGSERIAL PRIMARY KEY,
    title TEXT NOT NULL,
    statement TEXT NOT NULL DEFAULT '',
    category TEXT NOT NULL DEFAULT 'unknown' CHECK (category IN ('configuration','code_defect','capacity','dependency','infrastructure','network','data','time','security','process','unknown')),
    analysis TEXT NOT NULL DEFAULT '',
    contributing_factors TEXT NOT NULL DEFAULT '',
    five_whys TEXT NOT NULL DEFAULT '',
    customer_impact TEXT NOT NULL DEFAULT '',
    workaround TEXT NOT NULL DEFAULT '',
    owner_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    status TEXT NOT NULL CHECK (status IN ('investigating','root_cause_identified','fix_in_progress','fix_released','verified','recurred','closed')),
    resolution TEXT NOT NULL DEFAULT '',
    fix_released_at TIMESTAMP,
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    closed_at TIMESTAMP,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX problems_status ON problems (status, updated_at, id);
CREATE INDEX problems_updated ON problems (updated_at, id);

CREATE TABLE problem_services (
    problem_id BIGINT NOT NULL REFERENCES problems (id) ON DELETE CASCADE,
    service_id BIGINT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    PRIMARY KEY (problem_id, service_id)
);

-- after_fix: linked while the fix was out (a recurrence).
CREATE TABLE problem_incidents (
    problem_id BIGINT NOT NULL REFERENCES problems (id) ON DELETE CASCADE,
    incident_id BIGINT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    linked_at TIMESTAMP NOT NULL,
    linked_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    after_fix BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (problem_id, incident_id)
);
CREATE INDEX problem_incidents_incident ON problem_incidents (incident_id);

-- The history of problems, bugs and releases: who changed what, and when.
CREATE TABLE history (
    id BIGSERIAL PRIMARY KEY,
    record TEXT NOT NULL CHECK (record IN ('problem','bug','release')),
    record_id BIGINT NOT NULL,
    at TIMESTAMP NOT NULL,
    actor_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    kind TEXT NOT NULL,
    field TEXT NOT NULL DEFAULT '',
    old_value TEXT NOT NULL DEFAULT '',
    new_value TEXT NOT NULL DEFAULT ''
);
CREATE INDEX history_record ON history (record, record_id, at, id);

-- Corrective and preventive actions.
CREATE TABLE problem_actions (
    id BIGSERIAL PRIMARY KEY,
    problem_id BIGINT NOT NULL REFERENCES problems (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('corrective','preventive')),
    owner_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
    due_date DATE,
    status TEXT NOT NULL CHECK (status IN ('open','in_progress','done','wont_do')),
    reason TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    overdue_notified_at TIMESTAMP
);
CREATE INDEX problem_actions_problem ON problem_actions (problem_id, id);
CREATE INDEX problem_actions_due ON problem_actions (status, due_date, id);
