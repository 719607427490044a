-- The issue keys (`PAY-12`, a JSON array) a pull request's title, description and head branch
-- name: what links it to a tracker's issues. Nothing else of a description or branch is kept.
ALTER TABLE pull_requests ADD COLUMN issue_keys TEXT NOT NULL DEFAULT '[]';
