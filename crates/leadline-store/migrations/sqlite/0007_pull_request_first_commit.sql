-- When a pull request's first commit was written: the start of its coding phase. Forge APIs
-- tell it; webhooks do not, so a delivery never clears it.
ALTER TABLE pull_requests ADD COLUMN first_commit_at INTEGER;
