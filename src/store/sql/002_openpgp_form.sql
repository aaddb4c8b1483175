-- vdpd schema, version 2: OpenPGP and the report form.

-- What OpenPGP said about each message: encrypted (1) or not, the signature verdict
-- (none | good | unknown | bad) with the signer's fingerprint (good), the issuer (unknown) or the reason (bad),
-- and why it could not be decrypted, if it could not.
ALTER TABLE messages ADD COLUMN encrypted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN signature TEXT NOT NULL DEFAULT 'none';
ALTER TABLE messages ADD COLUMN signer TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN crypto_error TEXT NOT NULL DEFAULT '';

-- What the report form established.
ALTER TABLE tickets ADD COLUMN asset TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN weakness TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN severity TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN cvss_vector TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN cvss_score REAL;
ALTER TABLE tickets ADD COLUMN form_complete_at INTEGER;

-- The sections of a ticket's report form, the latest answer for each.
CREATE TABLE form_sections (
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    section TEXT NOT NULL,
    value TEXT NOT NULL,
    message_row INTEGER REFERENCES messages(id),
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (ticket_id, section)
) STRICT;

-- Researchers' OpenPGP certificates, one per address: every mail to that address is encrypted to it.
CREATE TABLE openpgp_certs (
    address TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    cert BLOB NOT NULL,
    -- autocrypt | attachment | inline
    source TEXT NOT NULL,
    added_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- A key request answered without a ticket is an outcome too: a second delivery of it is a duplicate.
DROP INDEX intake_dedup;
CREATE UNIQUE INDEX intake_dedup ON intake(dedup_key)
    WHERE status IN ('ticket', 'correspondence', 'dropped', 'answered');
