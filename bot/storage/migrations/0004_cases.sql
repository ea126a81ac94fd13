-- Schema version 4: the caseworker inbox (issue 8).
-- A user belongs to one organisation (an association); its caseworkers see only its cases.

CREATE TABLE organisations (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    code       TEXT NOT NULL UNIQUE,  -- short slug, as in a start link (t.me/bot?start=CODE)
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL
);

ALTER TABLE users ADD COLUMN org_id INTEGER REFERENCES organisations (id);

CREATE TABLE caseworkers (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id               INTEGER NOT NULL REFERENCES organisations (id),
    email                TEXT NOT NULL UNIQUE,  -- stored lower-cased
    password_hash        TEXT NOT NULL,         -- scrypt$n$r$p$salt$hash (bot/inbox/passwords.py)
    is_admin             INTEGER NOT NULL DEFAULT 0,
    must_change_password INTEGER NOT NULL DEFAULT 1,  -- a one-time password was handed out
    active               INTEGER NOT NULL DEFAULT 1,  -- accounts are disabled, never deleted:
                                                      -- the audit log keeps naming them
    created_at           TEXT NOT NULL
);

-- Failed logins are counted per typed address (its SHA-256), whether or not an account has it:
-- a lockout then says nothing about which addresses exist.
CREATE TABLE login_failures (
    email_hash   TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL,
    locked_until TEXT
);

-- Only a hash of the cookie's token is kept: a copy of the database opens no session.
CREATE TABLE staff_sessions (
    token_hash    TEXT PRIMARY KEY,
    caseworker_id INTEGER NOT NULL REFERENCES caseworkers (id),
    csrf          TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL
);
CREATE INDEX staff_sessions_caseworker ON staff_sessions (caseworker_id);

-- `user_key` makes /delete erase a user's cases with the rest of their rows.
CREATE TABLE cases (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_key    TEXT NOT NULL,
    org_id      INTEGER NOT NULL REFERENCES organisations (id),
    status      TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    reason      TEXT NOT NULL,
    summary     TEXT NOT NULL,  -- French, written by the conversation when the case opens
    api_end     TEXT,           -- YYYY-MM-DD: the API's end date, for urgency
    locale      TEXT NOT NULL,
    opened_at   TEXT NOT NULL,
    closed_at   TEXT,
    assigned_to INTEGER REFERENCES caseworkers (id)
);
CREATE UNIQUE INDEX cases_one_open ON cases (user_key) WHERE status = 'open';
CREATE INDEX cases_org ON cases (org_id, status, api_end, opened_at);

-- Who did what to which case, and when. Ids only, no user_key: the rows outlive an erased
-- user's case without naming them (and so no foreign key to cases).
CREATE TABLE audit (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    at            TEXT NOT NULL,
    org_id        INTEGER NOT NULL,
    caseworker_id INTEGER NOT NULL,
    action        TEXT NOT NULL,  -- view, assign, reply, canned, close, staff_add, ...
    case_id       INTEGER,
    target_id     INTEGER         -- the caseworker an admin action was about
);
CREATE INDEX audit_org ON audit (org_id, id);
