-- Schema version 7: no case is ever invisible, and the caseworker sees what is new (issue 16).

-- Choices made once for the whole deployment (`python -m bot setup`): key -> value.
-- 'default_organisation' holds the id of the organisation that gets the cases of people who
-- came through no association's link (or through the link of one nobody belongs to).
CREATE TABLE deployment (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Cases, rebuilt so that a case may wait for an organisation (org_id NULL: opened before any
-- caseworker account existed; the first admin created receives it), with a French title, the
-- outcome given at closing (for the association's statistics), and the announcement to the
-- team (log line, e-mail, Telegram notice) done once after the turn committed, with retries.
CREATE TABLE cases_v7 (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    user_key         TEXT NOT NULL,
    org_id           INTEGER REFERENCES organisations (id),  -- NULL: waiting for one
    status           TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    reason           TEXT NOT NULL,
    title            TEXT NOT NULL DEFAULT '',  -- French, from the summary
    summary          TEXT NOT NULL,
    api_end          TEXT,
    locale           TEXT NOT NULL,
    opened_at        TEXT NOT NULL,
    closed_at        TEXT,
    assigned_to      INTEGER REFERENCES caseworkers (id),
    outcome          TEXT CHECK (outcome IN ('solved', 'redirected', 'no_answer')),
    announced_at     TEXT,               -- NULL: the team was not told yet
    announce_tries   INTEGER NOT NULL DEFAULT 0,
    announce_after   TEXT                -- the next try, after a failure
);
INSERT INTO cases_v7 (id, user_key, org_id, status, reason, summary, api_end, locale,
                      opened_at, closed_at, assigned_to, announced_at)
    SELECT id, user_key, org_id, status, reason, summary, api_end, locale, opened_at,
           closed_at, assigned_to, opened_at FROM cases;  -- old cases are not announced again
DROP TABLE cases;
ALTER TABLE cases_v7 RENAME TO cases;
CREATE UNIQUE INDEX cases_one_open ON cases (user_key) WHERE status = 'open';
CREATE INDEX cases_org ON cases (org_id, status, api_end, opened_at);
CREATE INDEX cases_unannounced ON cases (announced_at) WHERE announced_at IS NULL;

-- Per caseworker, the last transcript row they saw of a case: what came after is "new".
CREATE TABLE case_reads (
    case_id       INTEGER NOT NULL,
    caseworker_id INTEGER NOT NULL REFERENCES caseworkers (id),
    seen_id       INTEGER NOT NULL,  -- transcript.id
    PRIMARY KEY (case_id, caseworker_id)
);

-- What the assistant understood of a person's message, in French, for the caseworker (the
-- French label of the button tapped, the problem recognised, the date typed, normalised...).
ALTER TABLE transcript ADD COLUMN understood TEXT NOT NULL DEFAULT '';

-- Ready replies an admin adds in the inbox, in the five languages (all required).
CREATE TABLE ready_replies (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id     INTEGER NOT NULL REFERENCES organisations (id),
    texts      TEXT NOT NULL,  -- JSON: locale -> text (fr, fa_AF, ps, ar, en)
    created_by INTEGER NOT NULL REFERENCES caseworkers (id),
    created_at TEXT NOT NULL
);
