-- Line comments a review left (review depth). Forge APIs tell it; webhooks do not, so a
-- delivery never clears it.
ALTER TABLE reviews ADD COLUMN comments BIGINT;
