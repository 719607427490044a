-- When a pull request opened as a draft was first marked ready for review: pickup starts there.
ALTER TABLE pull_requests ADD COLUMN ready_at BIGINT;
