-- vdpd schema, version 16: form answers read from a report's prose.
--
-- understood_from: '' for an answer the researcher labelled ("Asset: …"); otherwise what vdpd read it from
--   ("the addresses in your text", "\"stored XSS\" in your text"), so that staff can tell a value the
--   researcher gave from one vdpd inferred, and the researcher is shown what was understood.
ALTER TABLE form_sections ADD COLUMN understood_from TEXT NOT NULL DEFAULT '';
