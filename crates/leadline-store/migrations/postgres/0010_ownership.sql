-- What decides a pull request's team beyond its author: the files it changes, and the
-- repository's CODEOWNERS rules (both replaced whole on each sync).
CREATE TABLE pull_request_files (
    forge TEXT COLLATE "C" NOT NULL,
    repo TEXT COLLATE "C" NOT NULL,
    number BIGINT NOT NULL,
    path TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (forge, repo, number, path)
);

CREATE TABLE code_owners (
    forge TEXT COLLATE "C" NOT NULL,
    repo TEXT COLLATE "C" NOT NULL,
    position BIGINT NOT NULL,
    pattern TEXT NOT NULL,
    -- Space-separated owners; empty: unowned.
    owners TEXT NOT NULL,
    PRIMARY KEY (forge, repo, position)
);
