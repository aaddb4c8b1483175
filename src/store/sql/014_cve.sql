-- vdpd schema, version 14: the CVE ID staff recorded for a ticket (#cve), '' for none.
ALTER TABLE tickets ADD COLUMN cve_id TEXT NOT NULL DEFAULT '';
