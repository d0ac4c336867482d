-- Everyday upkeep of the registry: notes on a contact, merged bodies, and
-- the ledger read per contact.
--
-- contacts.notes is free text (a line break is data). bodies.merged_into
-- names the body a removed one was merged into (`body merge`), so that a
-- merged body is told apart from one simply removed; the body's row stays,
-- because past deliveries and ledger events name it. events_contact makes
-- `contact history` a lookup rather than a scan of the whole ledger.

ALTER TABLE contacts ADD COLUMN notes TEXT;
ALTER TABLE bodies ADD COLUMN merged_into INTEGER REFERENCES bodies (id);
CREATE INDEX events_contact ON events (contact_id) WHERE contact_id IS NOT NULL;
