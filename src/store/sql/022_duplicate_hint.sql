-- vdpd schema, version 22: the duplicate hint reads an index, not the tickets.
--
-- A staff notification names the open or recent tickets of the same weakness on the same asset; it reads up
-- to 200 candidates of the weakness (store::tickets::SAME_WEAKNESS_MAX) and compares their assets. Through
-- `tickets_weakness` (migration 4) each candidate was a seek into the tickets table and a read of its wide
-- row: in a flood of one report, 200 seeks for every notification (a twentieth of the daemon's CPU in the
-- shipped backlog). This index holds every column the query reads for an open ticket, so SQLite seeks a
-- ticket's row only for a closed one (whose end time it compares) — and the columns it holds change rarely
-- (a state, an outcome, an answer naming the asset or the weakness, an erasure), unlike `updated_at`.
DROP INDEX tickets_weakness;
CREATE INDEX tickets_weakness ON tickets(weakness, id, asset, state, outcome, erased_at, reference)
    WHERE weakness != '';
