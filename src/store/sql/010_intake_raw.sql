-- vdpd schema, version 10: a message's raw bytes are stored apart from its intake row.
--
-- The row changes after it is written: its outcome (status, reason, sender, subject, ticket) when processing
-- ends, its attempts, and SQLite writes a record anew when its length changes — the raw bytes with it, which
-- for a report with a proof-of-concept attached are megabytes written to the WAL again (and copied back by
-- the checkpoint) for a change of a few bytes. Now the bytes are written once, into `intake_raw`, and
-- deleted when retention purges them.
CREATE TABLE intake_raw (
    intake_id INTEGER PRIMARY KEY REFERENCES intake(id),
    raw BLOB NOT NULL
) STRICT;
INSERT INTO intake_raw (intake_id, raw) SELECT id, raw FROM intake WHERE raw IS NOT NULL;
ALTER TABLE intake DROP COLUMN raw;
