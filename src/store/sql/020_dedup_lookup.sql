-- vdpd schema, version 20: a second delivery of a message is found by its identity, not by reading the journal.
--
-- `intake_dedup` (unique, migration 2) holds only the outcomes a second delivery duplicates at the time it was
-- made; the hourly cap's 'held' reports count as such outcomes too (migration 18), and a lookup that asks for
-- them could no longer use that index: SQLite searched `intake_status` for every 'ticket' row instead, one
-- read of most of the journal per message (6 % of the daemon's CPU in a 2,000-report backlog, growing with
-- the store). This index serves the lookup whatever the statuses it asks for.
CREATE INDEX intake_dedup_key ON intake(dedup_key) WHERE dedup_key IS NOT NULL;
