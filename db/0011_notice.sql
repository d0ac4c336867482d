-- Notifications (lib/notice.c): how far the notifier has read the ledger,
-- and the notifications that failed and wait for another attempt. What
-- was sent or given up is in the ledger itself (notify.sent,
-- notify.failed); these two tables only say what is left to do.

-- One row: the id of the last event the notifier has dealt with. A
-- database that existed before starts at its newest event, so that an
-- upgrade does not announce its whole history.
CREATE TABLE notice_cursor (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    event_id  INTEGER NOT NULL
);
INSERT INTO notice_cursor (id, event_id)
    SELECT 1, coalesce(max(id), 0) FROM events;

-- A notification of one event to one address that failed for a reason
-- that may pass (4xx, relay unreachable): tried again at next_at, at
-- most a few times in all.
CREATE TABLE notice_retries (
    event_id   INTEGER NOT NULL REFERENCES events (id),
    recipient  TEXT NOT NULL,
    attempts   INTEGER NOT NULL CHECK (attempts > 0),
    next_at    INTEGER NOT NULL,
    PRIMARY KEY (event_id, recipient)
) WITHOUT ROWID;
