-- vdpd schema, version 8: mail is sealed after the transaction that queues it.
--
-- Composing, signing and encrypting a mail cost more than everything else a report causes, and they ran
-- inside the write transaction (and the process-wide writer lock) of the change that caused the mail. Now
-- that transaction records what the mail is (`outbox_seal.composition`: its headers, rendered body,
-- addressees and the certificates it is encrypted to) and its outbox rows wait in `status = 'sealing'`;
-- after the commit the daemon seals it outside any transaction and a short one puts the final bytes in the
-- rows (`status = 'queued'`) and deletes the composition. A crash in between leaves the composition: it is
-- sealed by the next process. Outbox statuses: sealing | queued | sending | sent | failed.
CREATE TABLE outbox_seal (
    id INTEGER PRIMARY KEY,
    composition TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
ALTER TABLE outbox ADD COLUMN seal_id INTEGER;
CREATE INDEX outbox_sealing ON outbox(seal_id) WHERE seal_id IS NOT NULL;

-- Claiming due mail reads each candidate's message row to keep a message's rows together: with it in the
-- queue index, the claim never visits the table for rows it does not take.
CREATE INDEX outbox_queue_message ON outbox(status, next_attempt_at, message_row);
DROP INDEX outbox_queue;

-- Every change of a row's status rewrote its entries in two status indexes. `outbox_status` (status,
-- created_at) served nothing the queue index does not: the counts by status and the oldest undelivered mail
-- read the few rows not yet sent through `outbox_queue_message`.
DROP INDEX outbox_status;
