-- Delivery reports (DSNs and bounces) read by `chancery bounce`.
-- Every report read is kept with its raw bytes as evidence; its SHA-256
-- and its own Message-ID make reading it again a no-op.

CREATE TABLE bounce_reports (
    id                   INTEGER PRIMARY KEY,
    sha256               TEXT NOT NULL UNIQUE,   -- of the raw bytes
    message_id           TEXT,                   -- the report's own, no <>
    format               TEXT NOT NULL CHECK (format IN ('dsn', 'postfix',
                             'exim', 'exchange')),
    envid                TEXT,
    original_message_id  TEXT,
    recipients           INTEGER NOT NULL,
    received_at          INTEGER NOT NULL,
    raw                  BLOB NOT NULL
);
CREATE INDEX bounce_reports_message_id ON bounce_reports (message_id)
    WHERE message_id IS NOT NULL;

-- One row per recipient of a report that matched no delivery, or matched
-- one whose state the report does not fit. Listed by `chancery bounce
-- list`; never deleted, like the ledger event that accompanies it.
CREATE TABLE bounce_quarantine (
    id           INTEGER PRIMARY KEY,
    report_id    INTEGER NOT NULL REFERENCES bounce_reports (id),
    delivery_id  INTEGER REFERENCES deliveries (id),  -- when one matched
    recipient    TEXT,
    action       TEXT NOT NULL,
    status       TEXT,
    diagnostic   TEXT,
    reason       TEXT NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX bounce_quarantine_report ON bounce_quarantine (report_id);

-- When a contact was marked bouncing: the streak of permanent failures
-- counts only campaigns sent after through_send_at, so re-enabling a
-- contact gives it a fresh start.
CREATE TABLE bounce_marks (
    id               INTEGER PRIMARY KEY,
    contact_id       INTEGER NOT NULL REFERENCES contacts (id),
    through_send_at  INTEGER NOT NULL,
    reason           TEXT NOT NULL,
    created_at       INTEGER NOT NULL
);
CREATE INDEX bounce_marks_contact ON bounce_marks (contact_id, through_send_at);
