-- Schema version 5: the timer indexes hold pending rows only.
-- Every query that looks for due or superseded timers asks for status = 'pending'; done rows
-- are history. With partial indexes, finishing a day's 100,000 reminders only removes index
-- entries instead of moving them, and the indexes stay as small as the pending work.
DROP INDEX scheduled_due;
DROP INDEX scheduled_topic_due;
DROP INDEX scheduled_user;
CREATE INDEX scheduled_due ON scheduled (due_at, id) WHERE status = 'pending';
CREATE INDEX scheduled_pending_topic ON scheduled (user_key, topic, due_at)
    WHERE status = 'pending';
-- Erasing a user finds all their rows, whatever their status.
CREATE INDEX scheduled_user ON scheduled (user_key);
