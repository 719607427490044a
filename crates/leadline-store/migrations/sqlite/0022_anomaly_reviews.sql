-- A person's judgement of an anomaly proposal. Proposals are recomputed from the data on every
-- read, with an id derived from (metric, scope, week); only the judgement is stored, so a
-- dismissed week can be left out of later baselines and the live precision can be counted.
CREATE TABLE anomaly_reviews (
    id TEXT PRIMARY KEY,
    metric TEXT NOT NULL,
    scope TEXT NOT NULL,
    week TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT,
    note TEXT,
    reviewed_at INTEGER NOT NULL
);
