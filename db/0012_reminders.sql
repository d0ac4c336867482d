-- The reminders the daemon gave about a campaign that is due and not yet
-- scheduled (watch): one row per campaign, threshold and send time, so a
-- reminder is given once and the daemon's round asks one primary-key
-- look-up instead of searching the ledger (whose campaign events may
-- number a million for an approved campaign). The reminder itself is the
-- campaign.reminded event; this row only says it was given. A campaign
-- moved to another send time is reminded again.

CREATE TABLE campaign_reminders (
    campaign_id  INTEGER NOT NULL REFERENCES campaigns (id),
    due_in_days  INTEGER NOT NULL CHECK (due_in_days >= 0),
    send_at      INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, due_in_days, send_at)
) WITHOUT ROWID;
