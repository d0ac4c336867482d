-- Everything that comes back (`chancery inbox`): every message given to
-- chancery is kept here with its raw bytes and their SHA-256, whatever it
-- turns out to be; reading the same bytes again changes nothing.
--   kind        what the message was read as
--   report      a delivery report (DSN or a mail system's own text); its
--               recipients are in bounce_reports / bounce_quarantine
--   mdn         a disposition notification (RFC 8098: read receipt)
--   auto_reply  an out-of-office or other automatic answer (RFC 3834)
--   reply       a person's answer to a statement
--   complaint   an abuse/feedback report (RFC 5965)
--   unreadable  none of these could be read from it: quarantined with
--               the reason, for a person to look at
CREATE TABLE inbound_messages (
    id           INTEGER PRIMARY KEY,
    sha256       TEXT NOT NULL UNIQUE,        -- of the raw bytes
    message_id   TEXT,                        -- its own, without <>
    source       TEXT NOT NULL CHECK (source IN ('stdin', 'maildir',
                     'imap')),
    origin       TEXT,                        -- file name, or URL and UID
    envelope_to  TEXT,                        -- the address it came to
                                              -- (VERP), when known
    kind         TEXT NOT NULL CHECK (kind IN ('report', 'mdn',
                     'auto_reply', 'reply', 'complaint', 'unreadable')),
    format       TEXT,                        -- e.g. 'dsn', 'qmail'
    sender       TEXT,                        -- From: address
    subject      TEXT,
    reason       TEXT,                        -- why unreadable or
                                              -- unmatched
    delivery_id  INTEGER REFERENCES deliveries (id), -- when matched
    received_at  INTEGER NOT NULL,
    raw          BLOB NOT NULL
);
CREATE INDEX inbound_messages_kind ON inbound_messages (kind, received_at);
CREATE INDEX inbound_messages_delivery ON inbound_messages (delivery_id)
    WHERE delivery_id IS NOT NULL;

-- What an addressee did with a statement: an acknowledgement (an MDN),
-- an automatic answer, or a reply. One row per inbound message and
-- delivery; each has its ledger event (delivery.acknowledged,
-- delivery.auto_replied, delivery.replied).
CREATE TABLE delivery_responses (
    id           INTEGER PRIMARY KEY,
    delivery_id  INTEGER NOT NULL REFERENCES deliveries (id),
    inbound_id   INTEGER NOT NULL REFERENCES inbound_messages (id),
    kind         TEXT NOT NULL CHECK (kind IN ('acknowledged',
                     'auto_replied', 'replied')),
    disposition  TEXT,                        -- MDN: displayed, deleted, ...
    sender       TEXT,
    responded_at INTEGER NOT NULL,            -- its Date:, else received
    created_at   INTEGER NOT NULL,
    UNIQUE (delivery_id, inbound_id)
);
CREATE INDEX delivery_responses_delivery ON delivery_responses (delivery_id);

-- Why a delivery bounced, as a class of the documented table (bounce.h):
-- only some classes count toward a contact's bouncing streak.
ALTER TABLE deliveries ADD COLUMN bounce_class TEXT;

-- bounce_reports again, as SQLite's procedure for changing a table goes:
-- a report's format is any the parser knows (no fixed list), and the raw
-- bytes of a report read from now on live in inbound_messages (raw stays
-- for the reports read before this version).
CREATE TABLE bounce_reports_new (
    id                   INTEGER PRIMARY KEY,
    sha256               TEXT NOT NULL UNIQUE,
    message_id           TEXT,
    format               TEXT NOT NULL CHECK (length(format) > 0),
    envid                TEXT,
    original_message_id  TEXT,
    recipients           INTEGER NOT NULL,
    received_at          INTEGER NOT NULL,
    raw                  BLOB,
    inbound_id           INTEGER REFERENCES inbound_messages (id),
    CHECK (raw IS NOT NULL OR inbound_id IS NOT NULL)
);
INSERT INTO bounce_reports_new (id, sha256, message_id, format, envid,
        original_message_id, recipients, received_at, raw)
    SELECT id, sha256, message_id, format, envid, original_message_id,
           recipients, received_at, raw
    FROM bounce_reports;
DROP TABLE bounce_reports;
ALTER TABLE bounce_reports_new RENAME TO bounce_reports;
CREATE INDEX bounce_reports_message_id ON bounce_reports (message_id)
    WHERE message_id IS NOT NULL;
CREATE INDEX bounce_reports_inbound ON bounce_reports (inbound_id)
    WHERE inbound_id IS NOT NULL;

-- A quarantined recipient's class, as the parser read it.
ALTER TABLE bounce_quarantine ADD COLUMN class TEXT;
