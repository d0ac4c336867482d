-- `chancery inbox dismiss`: a person decided a quarantined report is not
-- to be applied (issue 24). When, who and why; the row and its raw
-- report stay for the audit. A row is confirmed or dismissed, once.
ALTER TABLE bounce_quarantine ADD COLUMN dismissed_at INTEGER;
ALTER TABLE bounce_quarantine ADD COLUMN dismissed_by TEXT;
ALTER TABLE bounce_quarantine ADD COLUMN dismiss_reason TEXT;
