-- vdpd schema, version 4: the policy engine (clocks, status enquiries, retention, erasure).

-- diagnosed_at: when staff first answered the researcher or decided the report (stops the diagnosis clock).
-- last_update_at: when the researcher last heard from us with news (acknowledgement, staff words, status);
-- the periodic status mail counts from here. last_enquiry_at: the last status enquiry answered with the
-- status (the throttle counts from here). purged_at: report content deleted by retention. erased_at: the
-- researcher's personal data deleted on request.
ALTER TABLE tickets ADD COLUMN diagnosed_at INTEGER;
ALTER TABLE tickets ADD COLUMN last_update_at INTEGER;
ALTER TABLE tickets ADD COLUMN last_enquiry_at INTEGER;
ALTER TABLE tickets ADD COLUMN purged_at INTEGER;
ALTER TABLE tickets ADD COLUMN erased_at INTEGER;
-- The researcher's own answer to "may we credit you" ('' until they answer; 'none' when they decline).
ALTER TABLE tickets ADD COLUMN credit_consent TEXT NOT NULL DEFAULT '';
UPDATE tickets SET last_update_at = acknowledged_at;

-- Times a ticket waited on the researcher (details asked for): the diagnosis clock can stand still meanwhile.
-- ended_at NULL: still waiting. reason: form | staff.
CREATE TABLE ticket_waits (
    id INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    started_at INTEGER NOT NULL,
    ended_at INTEGER,
    reason TEXT NOT NULL
) STRICT;
CREATE INDEX ticket_waits_ticket ON ticket_waits(ticket_id, started_at);

-- Timers are now planned from the ticket's clocks: the kind names the clock and the event
-- ('diagnosis:breach', 'fix:reminder:2 business days', 'status-update:<ms>', 'retention'), and
-- a ticket's unfired timers are replaced whenever its facts change. Fired rows stay: the record that a
-- reminder went out or a promise was broken, and the guard against doing it twice.
CREATE INDEX timers_ticket ON timers(ticket_id);

-- The duplicate hint looks for tickets with the same weakness (stored normalised: CWE-79).
CREATE INDEX tickets_weakness ON tickets(weakness) WHERE weakness != '';
