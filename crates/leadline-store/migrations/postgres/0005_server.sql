-- What `leadline serve` keeps: API tokens (hashes only), every raw webhook delivery (so a
-- mapping can be fixed and replayed), and the forge events deliveries map to.

CREATE TABLE api_tokens (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT COLLATE "C" NOT NULL UNIQUE,
    scope TEXT NOT NULL,
    -- SHA-256 of the token, hex; the token itself is shown once and never stored.
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE webhook_deliveries (
    source TEXT COLLATE "C" NOT NULL,
    delivery_id TEXT COLLATE "C" NOT NULL,
    event TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    body BYTEA NOT NULL,
    -- stored, ignored or failed, and what was stored or why not.
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL,
    PRIMARY KEY (source, delivery_id)
);
CREATE INDEX webhook_deliveries_by_time ON webhook_deliveries (received_at);

-- Pull requests (GitHub) and merge requests (GitLab) as last seen; a delivery older than the
-- stored row (updated_at) does not overwrite it.
CREATE TABLE pull_requests (
    forge TEXT COLLATE "C" NOT NULL,
    repo TEXT COLLATE "C" NOT NULL,
    number BIGINT NOT NULL,
    title TEXT NOT NULL,
    author TEXT NOT NULL,
    state TEXT NOT NULL,
    draft BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    merged_at BIGINT,
    closed_at BIGINT,
    base_ref TEXT NOT NULL,
    head_sha TEXT NOT NULL,
    merge_sha TEXT,
    additions BIGINT,
    deletions BIGINT,
    changed_files BIGINT,
    commits BIGINT,
    labels TEXT NOT NULL,
    PRIMARY KEY (forge, repo, number)
);

CREATE TABLE reviews (
    forge TEXT COLLATE "C" NOT NULL,
    repo TEXT COLLATE "C" NOT NULL,
    number BIGINT NOT NULL,
    review_id TEXT COLLATE "C" NOT NULL,
    reviewer TEXT NOT NULL,
    state TEXT NOT NULL,
    submitted_at BIGINT NOT NULL,
    PRIMARY KEY (forge, repo, number, review_id)
);

-- CI runs; one row per attempt (external_id names run and attempt), so reruns stay visible.
CREATE TABLE builds (
    source TEXT COLLATE "C" NOT NULL,
    external_id TEXT COLLATE "C" NOT NULL,
    repo TEXT NOT NULL,
    pipeline TEXT NOT NULL,
    sha TEXT NOT NULL,
    branch TEXT,
    attempt BIGINT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (source, external_id)
);

-- Commits as pushes announced them (metadata only: file statistics come from git ingest).
CREATE TABLE pushed_commits (
    forge TEXT COLLATE "C" NOT NULL,
    repo TEXT COLLATE "C" NOT NULL,
    sha TEXT COLLATE "C" NOT NULL,
    ref_name TEXT NOT NULL,
    author_name TEXT NOT NULL,
    author_email TEXT NOT NULL,
    committed_at BIGINT NOT NULL,
    pushed_at BIGINT NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (forge, repo, sha)
);
CREATE INDEX pushed_commits_by_time ON pushed_commits (pushed_at);
