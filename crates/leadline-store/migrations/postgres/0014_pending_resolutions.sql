-- Alerts arrive out of order: a resolution for an incident the store has not seen open yet
-- is kept here and applied when the incident arrives (if it resolves it after it opened).
CREATE TABLE pending_resolutions (
    source TEXT NOT NULL,
    external_id TEXT NOT NULL,
    resolved_at BIGINT NOT NULL,
    PRIMARY KEY (source, external_id)
);
