-- Schema version 9: an outbox row claimed by a sender that died before the channel saw it is
-- sent again after the crash; only one whose request may have started is left uncertain.
-- `claim_token`: which claim took the row ('sending'); `posted_at`: when that claim's request
-- to the channel was about to start (committed just before it). Recovery puts back to
-- 'pending' the 'sending' rows with no `posted_at`; a sender posts a row only if its claim
-- still holds it (bot/sender.py).
ALTER TABLE outbox ADD COLUMN claim_token INTEGER;
ALTER TABLE outbox ADD COLUMN posted_at TEXT;
