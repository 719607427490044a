-- Repositories, git history, refs, people and ingest cursors.
-- Instants are UTC epoch milliseconds; offsets are minutes east of UTC.
-- High-volume tables carry no foreign keys: the store deletes dependent rows itself, and
-- unenforced keys would only cost insert time.

CREATE TABLE repositories (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    location TEXT NOT NULL UNIQUE
);

CREATE TABLE people (
    email TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

-- Identities as written in commits that .mailmap maps to a person.
CREATE TABLE person_aliases (
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    person_email TEXT NOT NULL,
    PRIMARY KEY (email, name)
);

CREATE TABLE commits (
    repo_id INTEGER NOT NULL,
    sha TEXT NOT NULL,
    parents TEXT NOT NULL,
    author_email TEXT NOT NULL,
    author_name TEXT NOT NULL,
    authored_at INTEGER NOT NULL,
    author_offset INTEGER NOT NULL,
    committer_email TEXT NOT NULL,
    committer_name TEXT NOT NULL,
    committed_at INTEGER NOT NULL,
    committer_offset INTEGER NOT NULL,
    is_merge BOOLEAN NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (repo_id, sha)
) WITHOUT ROWID;
CREATE INDEX commits_by_time ON commits (repo_id, committed_at, sha);

CREATE TABLE commit_trailers (
    repo_id INTEGER NOT NULL,
    sha TEXT NOT NULL,
    position INTEGER NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (repo_id, sha, position)
) WITHOUT ROWID;

CREATE TABLE file_changes (
    repo_id INTEGER NOT NULL,
    sha TEXT NOT NULL,
    path BLOB NOT NULL,
    added INTEGER,
    deleted INTEGER,
    status TEXT NOT NULL,
    PRIMARY KEY (repo_id, sha, path)
) WITHOUT ROWID;

CREATE TABLE refs (
    repo_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    commit_sha TEXT NOT NULL,
    annotated BOOLEAN NOT NULL,
    tagger_at INTEGER,
    tagger_offset INTEGER,
    PRIMARY KEY (repo_id, name)
) WITHOUT ROWID;

CREATE TABLE ingest_cursors (
    source TEXT NOT NULL,
    scope TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (source, scope)
);
