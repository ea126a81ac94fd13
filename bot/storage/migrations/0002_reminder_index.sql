-- Schema version 2: deciding whether a due reminder is superseded by a later one of the same
-- user and topic looks up exactly these columns (see SQLiteTransaction.due_reminders).
CREATE INDEX scheduled_topic_due ON scheduled (user_key, topic, status, due_at);
