-- `chancery bounce confirm`: a person applied a quarantined report to the
-- delivery it matched (a report matched only by recipient or by an ENVID
-- without its token changes nothing by itself). When and who; a row is
-- confirmed once.
ALTER TABLE bounce_quarantine ADD COLUMN confirmed_at INTEGER;
ALTER TABLE bounce_quarantine ADD COLUMN confirmed_by TEXT;
