-- Each repository's commit graph (shas, parents, commit times, authors) in one compact value,
-- written when an ingest finishes: loading it is a few milliseconds where assembling the graph
-- from 100k commit rows costs a tenth of a second (git keeps a commit-graph file for the same
-- reason). `commits` is the repository's commit count when it was written; a store whose count
-- differs (an ingest still running, or killed) is read from the commits table instead.
CREATE TABLE commit_graphs (
    repo_id BIGINT PRIMARY KEY,
    commits BIGINT NOT NULL,
    data BYTEA NOT NULL
);
