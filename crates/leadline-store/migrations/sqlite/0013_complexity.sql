-- Hotspots: the complexity of each file after each change (for its trend), and the files at
-- HEAD with theirs (what is ranked). NULL: deleted, binary, or mined before this migration.
ALTER TABLE file_changes ADD COLUMN lines INTEGER;
ALTER TABLE file_changes ADD COLUMN indentation INTEGER;

CREATE TABLE head_files (
    repo_id INTEGER NOT NULL,
    path BLOB NOT NULL,
    blob TEXT NOT NULL,
    lines INTEGER,
    indentation INTEGER,
    PRIMARY KEY (repo_id, path)
);
