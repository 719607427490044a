-- Bot authors are now found in the stored commit graphs (0006); the author index cost every
-- ingest more than it saved.
DROP INDEX commits_by_author;
