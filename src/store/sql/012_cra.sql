-- vdpd schema, version 12: the EU Cyber Resilience Act's reporting duties (Article 14) and products.
--
-- exploited_at: when the desk became aware that the vulnerability is actively exploited (the start of the
--   24-hour and 72-hour clocks); NULL when it is not known to be, or staff withdrew it (#exploited no).
-- exploited_by: who said so: a staff member's address, or 'researcher' for the report's own answer.
-- mitigated_at: when a corrective or mitigating measure became available (#mitigated; #resolved implies it):
--   the start of the 14-day clock of the final report.
-- product: the [[products]] id staff gave the ticket (#product), '' for none.
ALTER TABLE tickets ADD COLUMN exploited_at INTEGER;
ALTER TABLE tickets ADD COLUMN exploited_by TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN mitigated_at INTEGER;
ALTER TABLE tickets ADD COLUMN product TEXT NOT NULL DEFAULT '';

-- One row per filing on ENISA's single reporting platform: stage is early-warning | notification | final.
-- A stage is filed once per ticket; the platform's own identifier is kept when staff give it.
CREATE TABLE cra_filings (
    id INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    stage TEXT NOT NULL,
    filed_at INTEGER NOT NULL,
    platform_id TEXT NOT NULL DEFAULT '',
    filed_by TEXT NOT NULL,
    UNIQUE (ticket_id, stage)
);
