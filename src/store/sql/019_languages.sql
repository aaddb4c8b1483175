-- vdpd schema, version 19: the language each researcher is answered in (issue 14, item 5).
--
-- address: the researcher's address, lower-cased as intake records senders.
-- lang: the primary language subtag of templates the desk has ('fr'); the organisation's own language is
--   recorded too, so that a researcher who once wrote in French and then in English is answered in English.
-- found: 'content-language' (their mail declared it) or 'detected' (their text read as written in it).
-- Erased with the address (`vdpd erase`); kept, like their certificate, when a ticket's content is purged.
CREATE TABLE researcher_languages (
    address TEXT PRIMARY KEY,
    lang TEXT NOT NULL,
    found TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
