-- vdpd schema, version 18: the slow lane (`[limits] trial_reports_per_month`).
--
-- lane: 'normal', or 'slow' for a report of a sender on trial beyond the month's quota — acknowledged and
--   ticketed as usual, staff told in the daily digest instead of at once.
-- digested_at: when the digest listed a slow-lane ticket (NULL: not yet).
ALTER TABLE tickets ADD COLUMN lane TEXT NOT NULL DEFAULT 'normal';
ALTER TABLE tickets ADD COLUMN digested_at INTEGER;
CREATE INDEX tickets_undigested ON tickets(created_at) WHERE lane = 'slow' AND digested_at IS NULL;
