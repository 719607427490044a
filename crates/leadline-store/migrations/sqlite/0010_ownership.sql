-- What decides a pull request's team beyond its author: the files it changes, and the
-- repository's CODEOWNERS rules (both replaced whole on each sync).
CREATE TABLE pull_request_files (
    forge TEXT NOT NULL,
    repo TEXT NOT NULL,
    number INTEGER NOT NULL,
    path TEXT NOT NULL,
    PRIMARY KEY (forge, repo, number, path)
);

CREATE TABLE code_owners (
    forge TEXT NOT NULL,
    repo TEXT NOT NULL,
    position INTEGER NOT NULL,
    pattern TEXT NOT NULL,
    -- Space-separated owners; empty: unowned.
    owners TEXT NOT NULL,
    PRIMARY KEY (forge, repo, position)
);
