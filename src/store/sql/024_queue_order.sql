-- vdpd schema, version 24: the queue index in the order the outbox claims mail.
--
-- Claiming due mail asks for `status = 'queued' AND next_attempt_at <= now ORDER BY next_attempt_at, id`.
-- The index of schema 8 (status, next_attempt_at, message_row) orders rows of the same due time by their
-- message, not their id, so SQLite sorted every row due at the same instant before it could return the first
-- ("USE TEMP B-TREE FOR RIGHT PART OF ORDER BY"): in a backlog, the rows a whole batch of reports queued at
-- once, for every mail delivered. With `id` before `message_row` the index is in the claim's own order, still
-- covering, and the claim stops after the rows it takes.
CREATE INDEX outbox_queue_order ON outbox(status, next_attempt_at, id, message_row);
DROP INDEX outbox_queue_message;
