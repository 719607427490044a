-- What `leadline serve` keeps: API tokens (hashes only), every raw webhook delivery (so a
-- mapping can be fixed and replayed), and the forge events deliveries map to.

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    scope TEXT NOT NULL,
    -- SHA-256 of the token, hex; the token itself is shown once and never stored.
    token_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE webhook_deliveries (
    source TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    event TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    body BLOB NOT NULL,
    -- stored, ignored or failed, and what was stored or why not.
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL,
    PRIMARY KEY (source, delivery_id)
);
CREATE INDEX webhook_deliveries_by_time ON webhook_deliveries (received_at);

-- Pull requests (GitHub) and merge requests (GitLab) as last seen; a delivery older than the
-- stored row (updated_at) does not overwrite it.
CREATE TABLE pull_requests (
    forge TEXT NOT NULL,
    repo TEXT NOT NULL,
    number INTEGER NOT NULL,
    title TEXT NOT NULL,
    author TEXT NOT NULL,
    state TEXT NOT NULL,
    draft BOOLEAN NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    merged_at INTEGER,
    closed_at INTEGER,
    base_ref TEXT NOT NULL,
    head_sha TEXT NOT NULL,
    merge_sha TEXT,
    additions INTEGER,
    deletions INTEGER,
    changed_files INTEGER,
    commits INTEGER,
    labels TEXT NOT NULL,
    PRIMARY KEY (forge, repo, number)
);

CREATE TABLE reviews (
    forge TEXT NOT NULL,
    repo TEXT NOT NULL,
    number INTEGER NOT NULL,
    review_id TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    state TEXT NOT NULL,
    submitted_at INTEGER NOT NULL,
    PRIMARY KEY (forge, repo, number, review_id)
);

-- CI runs; one row per attempt (external_id names run and attempt), so reruns stay visible.
CREATE TABLE builds (
    source TEXT NOT NULL,
    external_id TEXT NOT NULL,
    repo TEXT NOT NULL,
    pipeline TEXT NOT NULL,
    sha TEXT NOT NULL,
    branch TEXT,
    attempt INTEGER NOT NULL,
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (source, external_id)
);

-- Commits as pushes announced them (metadata only: file statistics come from git ingest).
CREATE TABLE pushed_commits (
    forge TEXT NOT NULL,
    repo TEXT NOT NULL,
    sha TEXT NOT NULL,
    ref_name TEXT NOT NULL,
    author_name TEXT NOT NULL,
    author_email TEXT NOT NULL,
    committed_at INTEGER NOT NULL,
    pushed_at INTEGER NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (forge, repo, sha)
);
CREATE INDEX pushed_commits_by_time ON pushed_commits (pushed_at);
