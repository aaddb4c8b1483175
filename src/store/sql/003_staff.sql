-- vdpd schema, version 3: staff working tickets by mail.

-- What staff decided. outcome: '' (open question) | duplicate | not-applicable | informative; outcome_detail:
-- the clause or the ticket it duplicates (never shown to the researcher). disclose_on: a negotiated date
-- (YYYY-MM-DD). credit: NULL until confirmed, '' for "no public credit".
ALTER TABLE tickets ADD COLUMN assignee TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN outcome TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN outcome_detail TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN bounty_tier TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN bounty_amount INTEGER;
ALTER TABLE tickets ADD COLUMN bounty_awarded_at INTEGER;
ALTER TABLE tickets ADD COLUMN bounty_paid_at INTEGER;
ALTER TABLE tickets ADD COLUMN disclose_on TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN credit TEXT;
ALTER TABLE tickets ADD COLUMN resolved_at INTEGER;
ALTER TABLE tickets ADD COLUMN closed_at INTEGER;

-- Files researchers sent (decrypted when their mail was encrypted), for staff and `vdpd tickets show`.
CREATE TABLE attachments (
    id INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    message_row INTEGER NOT NULL REFERENCES messages(id),
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    -- NULL once retention purged it.
    data BLOB,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX attachments_ticket ON attachments(ticket_id, id);

-- Security-relevant events staff were (or, past the daily cap, were not) warned about: mail claiming to be
-- from staff that failed authentication, quarantined mail.
CREATE TABLE staff_warnings (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL,
    ticket_id INTEGER REFERENCES tickets(id),
    intake_id INTEGER REFERENCES intake(id),
    -- 1 if a warning mail was queued, 0 if the daily cap held it back.
    mailed INTEGER NOT NULL
) STRICT;
CREATE INDEX staff_warnings_at ON staff_warnings(at);
