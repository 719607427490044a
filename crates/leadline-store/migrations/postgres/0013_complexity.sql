-- Hotspots: the complexity of each file after each change (for its trend), and the files at
-- HEAD with theirs (what is ranked). NULL: deleted, binary, or mined before this migration.
ALTER TABLE file_changes ADD COLUMN lines BIGINT;
ALTER TABLE file_changes ADD COLUMN indentation BIGINT;

CREATE TABLE head_files (
    repo_id BIGINT NOT NULL,
    path BYTEA NOT NULL,
    blob TEXT NOT NULL,
    lines BIGINT,
    indentation BIGINT,
    PRIMARY KEY (repo_id, path)
);
