-- Commits pushed to a pull request after its first review by someone else (rework). Forge APIs
-- tell it; webhooks do not, so a delivery never clears it.
ALTER TABLE pull_requests ADD COLUMN rework_commits BIGINT;
