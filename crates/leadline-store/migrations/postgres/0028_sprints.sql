-- Sprints of Jira's agile API, and each issue's sprints now and its moves between sprints (JSON:
-- [[at, [from ids], [to ids]], …], oldest first): what planning accuracy reads.
ALTER TABLE tracked_issues ADD COLUMN sprints TEXT NOT NULL DEFAULT '[]';
ALTER TABLE tracked_issues ADD COLUMN sprint_changes TEXT NOT NULL DEFAULT '[]';

CREATE TABLE tracked_sprints (
    sprint_id BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    state TEXT NOT NULL,
    started_at BIGINT,
    ends_at BIGINT,
    completed_at BIGINT
);
