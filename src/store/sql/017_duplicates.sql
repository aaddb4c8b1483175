-- vdpd schema, version 17: duplicates found by content, and the advisories published.
--
-- ticket_search: SQLite's full-text index (FTS5) over each ticket's words; rowid = tickets.id. The shell
--   rewrites a ticket's row whenever a mail, staff or a purge changes what it says (store/search.rs): the
--   title (subject), the asset, the weakness, the description (the first report's text and the form's
--   descriptive sections, at most 32 KiB) and the published advisory's title and summary. Words as
--   written (unicode61, case and diacritics folded), not stemmed: a query's words are then the index's own,
--   so ticket_search_words can say how many tickets use each (on the project's corpus, stemming found no
--   more duplicates). Contentless: the index keeps no second copy of any report's text (the
--   store's own rows are the text), and contentless_delete lets a row be replaced or removed.
--   secure-delete: a purged report's words leave the index's pages, not only its lists, like the rows they
--   came from.
CREATE VIRTUAL TABLE ticket_search USING fts5(
    title, asset, weakness, description, advisory,
    tokenize = 'unicode61 remove_diacritics 2',
    content = '', contentless_delete = 1
);
INSERT INTO ticket_search(ticket_search, rank) VALUES ('secure-delete', 1);
-- How many rows use each word, by the word: what tells a query which words can still rank.
CREATE VIRTUAL TABLE ticket_search_words USING fts5vocab(ticket_search, row);
-- Two hundred background rows (negative rowids, one made-up word, never found). BM25 weighs a word by how
-- few tickets use it, log((N - n + 0.5) / (n + 0.5)), which is zero or less — and FTS5 then counts it as
-- nothing — for a word in half the tickets or more: on a young desk with four tickets, the very words two
-- reports of one flaw share. Counted among N, these rows keep every shared word's weight positive and
-- rarer words weightier, as on a desk with years of reports. Their length is a typical report's (a short
-- title, an asset, a CWE, a hundred-odd words), so that BM25's length normalisation compares a report with
-- reports. The word is no word a report could use (letters only, so FTS5 keeps it whole).
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200),
     w(t, k) AS (SELECT 'vdpdbackgroundrow', 1 UNION ALL SELECT t || ' vdpdbackgroundrow', k + 1 FROM w WHERE k < 120)
INSERT INTO ticket_search(rowid, title, asset, weakness, description, advisory)
SELECT -i, (SELECT t FROM w WHERE k = 6), (SELECT t FROM w WHERE k = 3), (SELECT t FROM w WHERE k = 2),
       (SELECT t FROM w WHERE k = 120), '' FROM n;

-- advisories: what `vdpd advisory publish` put in the CSAF provider directory, per ticket (the last version):
--   its canonical URL — the link a researcher whose report duplicates a fixed flaw may be given — and the
--   public title and summary that duplicate search reads.
CREATE TABLE advisories (
    ticket_id INTEGER PRIMARY KEY REFERENCES tickets(id),
    url TEXT NOT NULL,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    version TEXT NOT NULL,
    published_at INTEGER NOT NULL
) STRICT;

-- The tickets already there: title, asset, weakness and the first report's text (their form sections join
-- the index the next time the ticket changes).
INSERT INTO ticket_search(rowid, title, asset, weakness, description, advisory)
SELECT t.id, t.subject, t.asset, t.weakness,
       substr(coalesce((SELECT m.body_text FROM messages m
                        WHERE m.ticket_id = t.id AND m.direction = 'in' AND m.kind = 'report'
                        ORDER BY m.id LIMIT 1), ''), 1, 32768),
       ''
FROM tickets t;
