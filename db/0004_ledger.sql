-- The audit ledger. Append-only: triggers refuse UPDATE and DELETE. Each
-- row carries the SHA-256 of its canonical serialisation (see audit.h),
-- which includes the hash of the row before it, so an edit anywhere
-- breaks the chain from that row on.

CREATE TABLE events (
    id           INTEGER PRIMARY KEY,
    ts           INTEGER NOT NULL,             -- Unix seconds, UTC
    kind         TEXT NOT NULL,
    campaign_id  INTEGER,
    delivery_id  INTEGER,
    body_id      INTEGER,
    contact_id   INTEGER,
    data         TEXT NOT NULL DEFAULT '{}',   -- a JSON object
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL
);
CREATE INDEX events_campaign ON events (campaign_id) WHERE campaign_id IS NOT NULL;
CREATE INDEX events_delivery ON events (delivery_id) WHERE delivery_id IS NOT NULL;
CREATE INDEX events_body ON events (body_id) WHERE body_id IS NOT NULL;

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'the audit ledger is append-only');
END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'the audit ledger is append-only');
END;
