-- Schema version 9, as in SQLite's 0009_outbox_posted.sql: which claim took an outbox row,
-- and when its request to the channel was about to start.
ALTER TABLE outbox ADD COLUMN claim_token BIGINT;
ALTER TABLE outbox ADD COLUMN posted_at TEXT;
