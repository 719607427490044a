-- Who (logins) or which teams a pull request asks for review, as a JSON array, as last seen.
ALTER TABLE pull_requests ADD COLUMN review_requests TEXT NOT NULL DEFAULT '[]';
