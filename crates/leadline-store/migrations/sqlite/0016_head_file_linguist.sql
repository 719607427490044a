-- What `.gitattributes` at HEAD say about a file, GitHub Linguist's way: 'generated',
-- 'vendored', 'by_hand' (the attribute explicitly unset), or NULL (nothing said). Hotspots leave
-- generated and vendored files out.
ALTER TABLE head_files ADD COLUMN linguist TEXT;
-- Stores ingested before this column re-read HEAD's attributes at their next ingest (the git
-- cursor is what lets an unchanged repository skip that).
DELETE FROM ingest_cursors WHERE source = 'git';
