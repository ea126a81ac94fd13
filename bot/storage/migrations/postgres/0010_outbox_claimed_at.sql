-- Schema version 10, as in SQLite's 0010_outbox_claimed_at.sql: when a sender claimed the row.
ALTER TABLE outbox ADD COLUMN claimed_at TEXT;
