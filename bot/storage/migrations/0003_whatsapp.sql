-- Schema version 3: WhatsApp.
-- Status callbacks (sent, delivered, read, failed) name a message by the id WhatsApp gave it
-- (wamid...), which the sender stores in `channel_ref`: find the row by it.
CREATE INDEX outbox_channel_ref ON outbox (channel_ref) WHERE channel_ref IS NOT NULL;

-- The last status the channel reported about a sent message, and when (a callback that comes
-- late never moves it back). `status` stays the sender's view; a reported failure sets both.
ALTER TABLE outbox ADD COLUMN peer_status TEXT;
ALTER TABLE outbox ADD COLUMN peer_status_at TEXT;

-- How a message went out when not as plain free text ("template:<name>:<language>"), and the
-- user's locale when its template was missing and another language was sent instead: the
-- fallback is recorded here, counted by stats(), never logged with the user.
ALTER TABLE outbox ADD COLUMN sent_as TEXT;
ALTER TABLE outbox ADD COLUMN fallback_from TEXT;
