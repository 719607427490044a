-- Product analytics events: the user is only ever a keyed pseudonym (the raw id never reaches
-- the store), the id is the source's (id, messageId, uuid) or a digest of the event, so a
-- re-import changes nothing.
CREATE TABLE product_events (
    id TEXT PRIMARY KEY,
    at INTEGER NOT NULL,
    user_key TEXT NOT NULL,
    event TEXT NOT NULL,
    properties TEXT
);
CREATE INDEX product_events_by_time ON product_events (at);

-- Samples of metrics that live elsewhere (revenue, NPS): name, time, labels (a canonical JSON
-- object) and value; one value per (name, time, labels).
CREATE TABLE samples (
    name TEXT NOT NULL,
    at INTEGER NOT NULL,
    labels TEXT NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (name, at, labels)
);
