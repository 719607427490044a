-- The postmortem action items a pull request names (a JSON array of `PM-ID/A1`): evidence that
-- an action was done. Nothing else of a description is kept.
ALTER TABLE pull_requests ADD COLUMN actions TEXT NOT NULL DEFAULT '[]';
