-- vdpd schema, version 21: how many tickets use a word, remembered between queries.
--
-- The similar-ticket query asks only for the words that can still rank: those fewer than half the index's
-- rows use (vdpd_core::search::ranks). Counting a word's rows in the index (ticket_search_words, fts5vocab)
-- walks its whole list of rows, so a query of 48 words common to a flood of one report read 48 lists of
-- every ticket: a fifth of the daemon's CPU in a 2,000-report backlog, and growing with the store.
--
-- search_changes: how many times ticket_search has been written (store/search.rs `put`, its only writer).
--   Each write replaces one row, so it changes any word's count by one at most. compact_pending: a purge
--   emptied a row since the index was last compacted (FTS5 keeps a deleted row's words in its pages, behind
--   a tombstone, until a merge reaches them; `Store::scrub_if_pending` compacts then).
-- search_words: a word's count as last read from the index (docs) and the change count then (at_change).
--   A count read k changes ago is off by k at most: when even that cannot move the word across the half
--   (vdpd_core::search::ranks_surely), it decides as an exact count would; otherwise the word is counted
--   again. The verdicts are exactly those of counting every time. Only words a query asked for are here;
--   compacting removes those no row has any more (a purged report's own words), as it removes them from
--   the index.
CREATE TABLE search_changes (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    changes INTEGER NOT NULL,
    compact_pending INTEGER NOT NULL
) STRICT;
INSERT INTO search_changes(id, changes, compact_pending) VALUES (1, 0, 0);
CREATE TABLE search_words (
    term TEXT PRIMARY KEY,
    docs INTEGER NOT NULL,
    at_change INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
