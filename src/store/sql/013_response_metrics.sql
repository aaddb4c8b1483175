-- vdpd schema, version 13: the moments the standard response metrics are measured from (CISA BOD 20-01).
--
-- validated_at: when staff first took the report as valid (the ticket moved to accepted, fixing or
--   resolved); kept through a later reopening.
-- first_response_at: when a person first answered the researcher (a staff member's mail relayed to them),
--   apart from the automatic acknowledgement; kept when retention deletes the messages.
ALTER TABLE tickets ADD COLUMN validated_at INTEGER;
ALTER TABLE tickets ADD COLUMN first_response_at INTEGER;

-- Tickets of before: from what their timeline and messages recorded.
UPDATE tickets SET validated_at = (
    SELECT min(at) FROM timeline
    WHERE timeline.ticket_id = tickets.id
      AND ((event = 'state changed'
            AND (detail LIKE '% → accepted' OR detail LIKE '% → fixing' OR detail LIKE '% → resolved'))
           OR event = 'resolved')
);
UPDATE tickets SET first_response_at = (
    SELECT min(created_at) FROM messages
    WHERE messages.ticket_id = tickets.id AND direction = 'out' AND kind = 'staff-reply'
);
