-- vdpd schema, version 7: what a signature covers, and what it may be used for once.

-- Text a mail carried outside its signed (or encrypted) content: shown to staff as unsigned, never acted on.
ALTER TABLE messages ADD COLUMN unsigned_text TEXT NOT NULL DEFAULT '';

-- Every signature vdpd accepted as proof (a staff mail, a researcher's key change), by the SHA-256 of the
-- signature packet: a second use of the same signature is a replay.
CREATE TABLE accepted_signatures (
    digest TEXT PRIMARY KEY,
    -- The certificate fingerprint that made it.
    signer TEXT NOT NULL,
    -- staff | key-change
    purpose TEXT NOT NULL,
    intake_id INTEGER REFERENCES intake(id),
    -- When the signature says it was made, and when vdpd accepted it.
    signed_at INTEGER NOT NULL,
    accepted_at INTEGER NOT NULL
) STRICT;
CREATE INDEX accepted_signatures_age ON accepted_signatures(accepted_at);

-- How vdpd came to hold a researcher's key: first-use | signed-change | staff-accepted.
ALTER TABLE openpgp_certs ADD COLUMN trust TEXT NOT NULL DEFAULT 'first-use';

-- Keys offered for an address and not taken (a change not signed by the held key, a first key from mail
-- that failed the DMARC check): staff may take one with `#key accept FINGERPRINT`.
CREATE TABLE openpgp_offers (
    address TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    cert BLOB NOT NULL,
    -- autocrypt | attachment | inline
    source TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    intake_id INTEGER REFERENCES intake(id),
    offered_at INTEGER NOT NULL,
    PRIMARY KEY (address, fingerprint)
) STRICT;

-- An attachment's bytes go last in its row: SQLite streams a file into a zeroblob without building the whole
-- record in memory only when the blob is the record's last field (one hostile mail's files at the
-- decryption cap cost three times the cap otherwise).
CREATE TABLE attachments_new (
    id INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    message_row INTEGER NOT NULL REFERENCES messages(id),
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    -- NULL once retention purged it.
    data BLOB
) STRICT;
INSERT INTO attachments_new (id, ticket_id, message_row, name, content_type, size, sha256, created_at, data)
    SELECT id, ticket_id, message_row, name, content_type, size, sha256, created_at, data FROM attachments;
DROP TABLE attachments;
ALTER TABLE attachments_new RENAME TO attachments;
CREATE INDEX attachments_ticket ON attachments(ticket_id, id);
