-- vdpd schema, version 11: two lookups that read a whole table.
--
-- Found by running EXPLAIN QUERY PLAN over every statement of the store:
-- - the daily cap on automatic replies to an address outside any ticket (a key request) counted the whole
--   outbox for every such mail — a flood of key requests from forged senders made each one dearer;
-- - purging a ticket (the retention timer, one ticket at a time) read every intake row to find the ticket's
--   raw mail.
CREATE INDEX outbox_auto_replies ON outbox(recipient, created_at) WHERE auto_reply = 1;
CREATE INDEX intake_ticket ON intake(ticket_id) WHERE ticket_id IS NOT NULL;
