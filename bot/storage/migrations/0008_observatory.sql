-- Schema version 8: the observatory of ANEF's failures, and the documents waiting for their
-- delivery (issue 19).

-- One fact a person reported WITH CONSENT, derived from a turn's events and session changes
-- (never from a transcript): a problem recognised, a contact on the support ladder, an answer
-- to it, an API renewed (its length), days without a valid document. The inbox shows only
-- aggregates of them, every cell of fewer than 5 people hidden. `user_key` is there only so
-- that /delete (and the retention rule) removes the person's rows; no page or export shows it.
CREATE TABLE observations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_key    TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('problem', 'contact', 'answer', 'api_renewed',
                                              'without_document')),
    on_day      TEXT NOT NULL,   -- ISO date, in the association's time zone
    value       TEXT NOT NULL DEFAULT '',  -- the problem id, or the ladder step
    days        INTEGER,         -- answer: days since the first contact of that step;
                                 -- api_renewed: days between the old and the new end date;
                                 -- without_document: days between the old end and the new API
    status      TEXT,            -- protection status, when the person gave it
    request     TEXT,            -- first card or renewal, when given
    departement TEXT             -- the département's code, when given
);
CREATE INDEX observations_user ON observations (user_key);
CREATE INDEX observations_kind ON observations (kind, on_day);

-- A document (the note about the API, the complaint) waiting to be delivered or downloaded:
-- the person's facts, not the PDF, which is rendered again when it is sent or fetched. The
-- token is the web chat's unguessable download link; the row goes once expired, and with
-- everything else at /delete.
CREATE TABLE documents (
    token      TEXT PRIMARY KEY,
    user_key   TEXT NOT NULL,
    facts      TEXT NOT NULL,   -- bot.documents.note.NoteFacts as JSON
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX documents_user ON documents (user_key);
CREATE INDEX documents_expiry ON documents (expires_at);
