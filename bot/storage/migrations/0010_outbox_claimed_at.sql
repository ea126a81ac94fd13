-- Schema version 10: when a sender claimed an outbox row ('sending'). A row still 'sending'
-- long after was claimed by a sender that died with no election following (the web chat's
-- relay on an instance that does not lead): the leader recovers it (bot/sender.py,
-- `recover_abandoned`), as an election recovers the rows of a leader that died.
ALTER TABLE outbox ADD COLUMN claimed_at TEXT;
