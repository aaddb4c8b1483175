-- vdpd schema, version 9: a mail's bytes are stored once, apart from the rows that deliver them.
--
-- An outbox row changes status two or three times (queued → sending → sent) and each change rewrote the
-- whole row, the mail's bytes with it: a status of another length makes SQLite write the record anew,
-- overflow pages and all. A report under the shipped policy queued about 25 KB of mail (the acknowledgement
-- with our key and the form, the team's encrypted notification once per member) and the status changes
-- wrote it to the WAL three times over. Now the bytes live in `outbox_body`, written once when the mail is
-- made (or sealed); the rows of one message — a notification to every team member — share one body, and a
-- status change writes a short row.
CREATE TABLE outbox_body (
    id INTEGER PRIMARY KEY,
    raw BLOB NOT NULL
) STRICT;

-- The rows queued before this version: one body each (the same id); a row still waiting to be sealed has
-- none yet.
INSERT INTO outbox_body (id, raw) SELECT id, raw FROM outbox WHERE status != 'sealing';
ALTER TABLE outbox ADD COLUMN body_id INTEGER REFERENCES outbox_body(id);
UPDATE outbox SET body_id = id WHERE status != 'sealing';
ALTER TABLE outbox DROP COLUMN raw;
CREATE INDEX outbox_body_rows ON outbox(body_id) WHERE body_id IS NOT NULL;
