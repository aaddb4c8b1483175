-- vdpd schema, version 23: a mail's text is rendered after the transaction that queues it.
--
-- Rendering a template ran inside the write transaction of the change that caused the mail, because the
-- ticket's record of the mail (`messages.body_text`, `subject`) holds the text. Now that transaction stores
-- what the text is rendered from (the composition's draft: template and context) and the record's row; the
-- sealing pass renders it after the commit and writes the text into that row in the transaction that puts
-- the mail's bytes in its outbox rows. `message_row` names the record to fill; a purge of the ticket before
-- then unlinks it (sets it NULL), so text the purge removed never comes back.
ALTER TABLE outbox_seal ADD COLUMN message_row INTEGER;
