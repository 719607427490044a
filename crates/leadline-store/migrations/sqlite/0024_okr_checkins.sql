-- A person's check-in on a key result: their confidence (0 to 10) at a time, with a note.
-- The key results themselves live in okrs.toml, reviewed like code.
CREATE TABLE okr_checkins (
    key_result TEXT NOT NULL,
    at INTEGER NOT NULL,
    confidence INTEGER NOT NULL,
    note TEXT,
    PRIMARY KEY (key_result, at)
);
