-- An incident may name what fixed it: the deployment that carried the fix, or the fix's commit.
-- Deployments carrying a fix count as rework.
ALTER TABLE incidents ADD COLUMN fix_deployment TEXT;
ALTER TABLE incidents ADD COLUMN fix_sha TEXT;
