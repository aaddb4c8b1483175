-- vdpd schema, version 15: severe incidents under the Cyber Resilience Act (Article 14(3)).
--
-- incident_at: when the desk became aware of a severe incident having an impact on the product's security
--   (the start of its 24-hour and 72-hour clocks); NULL when there is none or staff withdrew it.
-- incident_by: the staff member who said so.
ALTER TABLE tickets ADD COLUMN incident_at INTEGER;
ALTER TABLE tickets ADD COLUMN incident_by TEXT NOT NULL DEFAULT '';
