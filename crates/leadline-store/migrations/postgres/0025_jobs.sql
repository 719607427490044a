-- The fleet's work queue. One row per (kind, target), re-armed when the target is due again,
-- so a target is never pending twice. A worker holds a job under a lease it renews; a lease
-- that expires (a worker killed) lets another worker take the job over, and the work resumes
-- from the ingest's own cursor.
CREATE TABLE jobs (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    -- 1 when the target was armed again while it ran: it becomes pending when the run ends.
    again BIGINT NOT NULL DEFAULT 0,
    next_at BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until BIGINT,
    -- The owner whose expired lease the last claim took over, for the record of that run.
    taken_from TEXT,
    started_at BIGINT,
    finished_at BIGINT,
    last_success BIGINT,
    last_error TEXT,
    UNIQUE (kind, target)
);
CREATE INDEX jobs_due ON jobs (state, next_at);

-- Every finished run of a job: done, retry, failed, or abandoned (taken over after its lease
-- expired). Durations and failures for /metrics, and the evidence that no job completed twice.
CREATE TABLE job_runs (
    id BIGSERIAL PRIMARY KEY,
    job_id BIGINT NOT NULL,
    owner TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    outcome TEXT NOT NULL,
    error TEXT
);
CREATE INDEX job_runs_by_job ON job_runs (job_id);
