-- Look-ups of commits by sha alone (deployments, incident causes, unknown-sha warnings).
CREATE INDEX commits_by_sha ON commits (sha);
