-- Reverts are a handful among 100k commits; without this index finding them scans every message.
-- The predicate is written exactly as `reverts()` queries it, so that the planner uses it.
CREATE INDEX commits_reverts ON commits (sha) WHERE body LIKE '%This reverts commit %';

-- The distinct authors (to find bots) from a covering index, a tenth of a table scan.
CREATE INDEX commits_by_author ON commits (author_name, author_email);
