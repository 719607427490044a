-- An incident's lifecycle: when the impact began, was detected, acknowledged and mitigated,
-- and the fingerprint (alert dedup key or tag) that ties repeats of one problem together.
ALTER TABLE incidents ADD COLUMN started_at BIGINT;
ALTER TABLE incidents ADD COLUMN detected_at BIGINT;
ALTER TABLE incidents ADD COLUMN acknowledged_at BIGINT;
ALTER TABLE incidents ADD COLUMN mitigated_at BIGINT;
ALTER TABLE incidents ADD COLUMN fingerprint TEXT;

-- Alerts that acknowledge or resolve an incident the store has not seen open yet wait here,
-- one row per stage, and are applied when the incident arrives.
CREATE TABLE pending_milestones (
    source TEXT NOT NULL,
    external_id TEXT NOT NULL,
    stage TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (source, external_id, stage)
);
INSERT INTO pending_milestones (source, external_id, stage, at)
    SELECT source, external_id, 'resolved', resolved_at FROM pending_resolutions;
DROP TABLE pending_resolutions;
