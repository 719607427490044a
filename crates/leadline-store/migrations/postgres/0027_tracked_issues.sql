-- Issues of an issue tracker (Jira) with their status changes: what planning reads. No person:
-- the assignee only chose the team the issue counts for. Transitions are replaced with the issue.
CREATE TABLE tracked_issues (
    issue_key TEXT PRIMARY KEY,
    project TEXT NOT NULL,
    issue_type TEXT NOT NULL,
    status TEXT NOT NULL,
    category TEXT NOT NULL,
    priority TEXT,
    labels TEXT NOT NULL,
    components TEXT NOT NULL,
    parent TEXT,
    story_points DOUBLE PRECISION,
    team TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    resolved_at BIGINT
);
CREATE INDEX tracked_issues_by_update ON tracked_issues (updated_at);

CREATE TABLE tracked_transitions (
    issue_key TEXT NOT NULL,
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    category TEXT NOT NULL,
    PRIMARY KEY (issue_key, seq)
);
