-- Relais schema, version 1.
-- Every table that holds something about a user has a `user_key` column ("channel:address"):
-- erasing a user deletes their rows from each of them (tests check no table is forgotten).

CREATE TABLE users (
    user_key     TEXT PRIMARY KEY,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    reachable    INTEGER NOT NULL DEFAULT 1  -- 0 once the channel says the user blocked us
);

CREATE TABLE sessions (
    user_key   TEXT PRIMARY KEY,
    data       TEXT NOT NULL,     -- JSON of bot.core.model.Session
    version    INTEGER NOT NULL,  -- optimistic concurrency: bumped by every saved turn
    updated_at TEXT NOT NULL
);

-- Channel message ids already accepted: a redelivered message is answered once. Only a hash
-- of (user, message id) is kept, so the rows need not be erased with the user: a replay after
-- /delete must still not be answered twice. They are pruned after a few weeks.
CREATE TABLE inbound (
    digest      TEXT PRIMARY KEY,
    received_at TEXT NOT NULL
);

-- The transactional outbox: written in the same transaction as the turn, drained by the sender.
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_key     TEXT NOT NULL,
    kind         TEXT NOT NULL,
    locale       TEXT NOT NULL,
    body         TEXT NOT NULL,   -- JSON {text, choices}; emptied once sent
    status       TEXT NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'uncertain')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    created_at   TEXT NOT NULL,
    available_at TEXT NOT NULL,
    sent_at      TEXT,
    channel_ref  TEXT,
    last_error   TEXT
);
CREATE INDEX outbox_ready ON outbox (status, available_at, id);
CREATE INDEX outbox_user ON outbox (user_key, id);

-- Timers: at `due_at` the scheduler brings `name` back into the engine, in one transaction
-- with the turn it causes. `topic` groups timers that replace each other.
CREATE TABLE scheduled (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_key   TEXT NOT NULL,
    name       TEXT NOT NULL,
    topic      TEXT NOT NULL,
    due_at     TEXT NOT NULL,
    payload    TEXT NOT NULL DEFAULT '{}',
    status     TEXT NOT NULL DEFAULT 'pending'
               CHECK (status IN ('pending', 'done', 'cancelled', 'skipped')),
    created_at TEXT NOT NULL,
    done_at    TEXT
);
CREATE INDEX scheduled_due ON scheduled (status, due_at, id);
CREATE INDEX scheduled_user ON scheduled (user_key, topic);

-- The conversation, kept only with the user's consent (for the caseworker and the web chat).
CREATE TABLE transcript (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    user_key  TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    at        TEXT NOT NULL,
    text      TEXT NOT NULL
);
CREATE INDEX transcript_user ON transcript (user_key, id);

-- /human before the caseworker inbox exists: the request is recorded.
CREATE TABLE handoff_requests (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_key     TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    reason       TEXT NOT NULL
);
CREATE INDEX handoff_user ON handoff_requests (user_key);
