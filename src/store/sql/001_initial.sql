-- vdpd schema, version 1.
-- Conventions: timestamps are INTEGER milliseconds since the Unix epoch (UTC); columns are NOT NULL with a
-- DEFAULT wherever "absent" has a natural value; every INSERT names its columns.

-- Per-year ticket sequence. A row is only ever incremented, so a reference is never reused, even after its
-- ticket's data was deleted by retention.
CREATE TABLE ticket_sequence (
    year INTEGER PRIMARY KEY,
    last INTEGER NOT NULL
) STRICT;

CREATE TABLE tickets (
    id INTEGER PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL DEFAULT 'new',
    subject TEXT NOT NULL DEFAULT '',
    reporter TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    -- When vdpd took in the first message of the ticket (the start of the acknowledgement clock).
    received_at INTEGER NOT NULL,
    -- When SMTP accepted the acknowledgement, and how long after received_at that was.
    acknowledged_at INTEGER,
    ack_latency_ms INTEGER
) STRICT;
CREATE INDEX tickets_state ON tickets(state);
CREATE INDEX tickets_reporter_created ON tickets(reporter, created_at);

CREATE TABLE participants (
    id INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    address TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    role TEXT NOT NULL,
    added_at INTEGER NOT NULL,
    UNIQUE (ticket_id, address)
) STRICT;
CREATE INDEX participants_address ON participants(address);

-- Every message vdpd took in, whatever became of it. The row is written (status 'pending') before the
-- message is parsed, so that a message that kills the process is recognised on restart and quarantined
-- instead of being fetched and fed to the parser forever.
CREATE TABLE intake (
    id INTEGER PRIMARY KEY,
    -- imap:<mailbox>:<uidvalidity>:<uid> for fetched mail, sha256:<hex of the bytes> for ingested mail.
    intake_key TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    mailbox TEXT,
    uidvalidity INTEGER,
    uid INTEGER,
    size INTEGER NOT NULL,
    -- The message as received; only its header when it was over limits.max_message_bytes (truncated = 1).
    raw BLOB,
    truncated INTEGER NOT NULL DEFAULT 0,
    fetched_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    -- pending | ticket | correspondence | dropped | duplicate | quarantined
    status TEXT NOT NULL DEFAULT 'pending',
    -- Why it was dropped, what it duplicates, or the error that quarantined it.
    reason TEXT NOT NULL DEFAULT '',
    message_id TEXT,
    -- The identity used to recognise a second delivery of the same message.
    dedup_key TEXT,
    from_addr TEXT NOT NULL DEFAULT '',
    subject TEXT NOT NULL DEFAULT '',
    ticket_id INTEGER REFERENCES tickets(id),
    processed_at INTEGER,
    -- 1 once the message was flagged or moved on the IMAP server (always 1 for ingested mail).
    server_done INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE UNIQUE INDEX intake_dedup ON intake(dedup_key)
    WHERE status IN ('ticket', 'correspondence', 'dropped');
CREATE INDEX intake_status ON intake(status, fetched_at);
CREATE INDEX intake_server_pending ON intake(mailbox, uidvalidity) WHERE server_done = 0;

-- The conversation of a ticket, in and out. Outgoing raw bytes live in the outbox row.
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    direction TEXT NOT NULL,
    kind TEXT NOT NULL,
    message_id TEXT NOT NULL,
    intake_id INTEGER REFERENCES intake(id),
    from_addr TEXT NOT NULL,
    to_addr TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX messages_ticket ON messages(ticket_id, created_at);
CREATE INDEX messages_message_id ON messages(message_id);

-- One row per recipient: a rejected recipient must not block the others, and later mail is encrypted per
-- recipient. Written in the same transaction as the change that causes it.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    message_row INTEGER REFERENCES messages(id),
    ticket_id INTEGER REFERENCES tickets(id),
    kind TEXT NOT NULL,
    auto_reply INTEGER NOT NULL DEFAULT 0,
    envelope_from TEXT NOT NULL,
    recipient TEXT NOT NULL,
    raw BLOB NOT NULL,
    -- queued | sending | sent | failed
    status TEXT NOT NULL DEFAULT 'queued',
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    last_attempt_at INTEGER,
    sent_at INTEGER,
    last_error TEXT NOT NULL DEFAULT '',
    smtp_response TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE status = 'queued';
CREATE INDEX outbox_status ON outbox(status, created_at);
CREATE INDEX outbox_ticket ON outbox(ticket_id, created_at);

CREATE TABLE timeline (
    id INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    event TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX timeline_ticket ON timeline(ticket_id, at);

-- The IMAP cursor: advanced in the same transaction that records a message's outcome.
CREATE TABLE mailbox_state (
    mailbox TEXT PRIMARY KEY,
    uidvalidity INTEGER NOT NULL,
    last_uid INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- What `vdpd status` shows: written by the daemon, read by the CLI.
CREATE TABLE health (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- Clocks. A timer fires once: fired_at is set in the same transaction as its effects.
CREATE TABLE timers (
    id INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    kind TEXT NOT NULL,
    due_at INTEGER NOT NULL,
    fired_at INTEGER,
    cancelled_at INTEGER,
    UNIQUE (ticket_id, kind)
) STRICT;
CREATE INDEX timers_due ON timers(due_at) WHERE fired_at IS NULL AND cancelled_at IS NULL;

CREATE VIEW quarantine AS
    SELECT id, fetched_at, from_addr, subject, size, reason AS error FROM intake WHERE status = 'quarantined';
CREATE VIEW dropped AS
    SELECT id, fetched_at, from_addr, subject, size, reason, ticket_id FROM intake WHERE status = 'dropped';
