-- Deployments and incidents, imported or received; natural key (source, external_id).
CREATE TABLE deployments (
    source TEXT NOT NULL,
    external_id TEXT NOT NULL,
    service TEXT NOT NULL,
    environment TEXT NOT NULL,
    sha TEXT NOT NULL,
    started_at INTEGER,
    finished_at INTEGER NOT NULL,
    status TEXT NOT NULL,
    repo TEXT,
    PRIMARY KEY (source, external_id)
);
CREATE INDEX deployments_by_service ON deployments (service, environment, finished_at);

CREATE TABLE incidents (
    source TEXT NOT NULL,
    external_id TEXT NOT NULL,
    service TEXT NOT NULL,
    opened_at INTEGER NOT NULL,
    resolved_at INTEGER,
    severity TEXT,
    title TEXT,
    cause_deployment TEXT,
    cause_sha TEXT,
    postmortem_url TEXT,
    PRIMARY KEY (source, external_id)
);
CREATE INDEX incidents_by_service ON incidents (service, opened_at);
