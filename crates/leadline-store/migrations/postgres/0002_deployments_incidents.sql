-- Deployments and incidents, imported or received; natural key (source, external_id).
CREATE TABLE deployments (
    source TEXT COLLATE "C" NOT NULL,
    external_id TEXT COLLATE "C" NOT NULL,
    service TEXT COLLATE "C" NOT NULL,
    environment TEXT COLLATE "C" NOT NULL,
    sha TEXT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT NOT NULL,
    status TEXT NOT NULL,
    repo TEXT,
    PRIMARY KEY (source, external_id)
);
CREATE INDEX deployments_by_service ON deployments (service, environment, finished_at);

CREATE TABLE incidents (
    source TEXT COLLATE "C" NOT NULL,
    external_id TEXT COLLATE "C" NOT NULL,
    service TEXT COLLATE "C" NOT NULL,
    opened_at BIGINT NOT NULL,
    resolved_at BIGINT,
    severity TEXT,
    title TEXT,
    cause_deployment TEXT,
    cause_sha TEXT,
    postmortem_url TEXT,
    PRIMARY KEY (source, external_id)
);
CREATE INDEX incidents_by_service ON incidents (service, opened_at);
