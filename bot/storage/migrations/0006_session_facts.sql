-- Schema version 6: the few session facts a due reminder depends on, in their own columns.
-- A day's reminders are decided inside SQLite for 100,000 users; reading these from the whole
-- session JSON (menus, labels...) parsed it four times per user.
ALTER TABLE sessions ADD COLUMN locale TEXT;
ALTER TABLE sessions ADD COLUMN consent INTEGER;
ALTER TABLE sessions ADD COLUMN reminders INTEGER NOT NULL DEFAULT 1;
ALTER TABLE sessions ADD COLUMN dates TEXT NOT NULL DEFAULT '{}';  -- the kept end dates, JSON
UPDATE sessions SET
    locale = json_extract(data, '$.locale'),
    consent = json_extract(data, '$.consent'),
    reminders = COALESCE(json_extract(data, '$.reminders'), 1),
    dates = json_object('api_end', json_extract(data, '$.slots.api_end'),
                        'card_end', json_extract(data, '$.slots.card_end'));
