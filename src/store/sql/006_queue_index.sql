-- vdpd schema, version 6: the outbox queue by (status, due time).
-- Claiming due mail (`status = 'queued' AND next_attempt_at <= now ORDER BY next_attempt_at, id`) used the
-- status index and sorted every queued row, reading each row's page: in a backlog, most of the delivery
-- loop's time. With this index it is a range scan that stops after the few rows it claims.
CREATE INDEX outbox_queue ON outbox(status, next_attempt_at);
DROP INDEX outbox_due;

-- A message's delivery status (`vdpd tickets show`, staff notifications) looks its outbox rows up by message.
CREATE INDEX outbox_message ON outbox(message_row);
