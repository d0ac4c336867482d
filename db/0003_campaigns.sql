-- Campaigns (one dispatch of one template version to one list at one
-- time), the yearly series that create them, and the deliveries: one row
-- per (campaign, contact), moved through the state machine of docs/design.md.

CREATE TABLE series (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL UNIQUE CHECK (length(name) > 0),
    event_date     TEXT NOT NULL,             -- YYYY-MM-DD, the anniversary
    send_month     INTEGER NOT NULL CHECK (send_month BETWEEN 1 AND 12),
    send_day       INTEGER NOT NULL CHECK (send_day BETWEEN 1 AND 31),
    send_minute    INTEGER NOT NULL CHECK (send_minute BETWEEN 0 AND 1439),
    tz             TEXT NOT NULL,
    template_name  TEXT NOT NULL,
    list_id        INTEGER NOT NULL REFERENCES lists (id),
    lead_days      INTEGER NOT NULL DEFAULT 14 CHECK (lead_days >= 0),
    auto_schedule  INTEGER NOT NULL DEFAULT 0 CHECK (auto_schedule IN (0, 1)),
    sender         TEXT,
    state          TEXT NOT NULL DEFAULT 'active'
                       CHECK (state IN ('active', 'paused', 'removed')),
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);

CREATE TABLE campaigns (
    id                INTEGER PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE CHECK (length(name) > 0),
    template_id       INTEGER NOT NULL REFERENCES templates (id),
    list_id           INTEGER NOT NULL REFERENCES lists (id),
    series_id         INTEGER REFERENCES series (id),
    series_year       INTEGER,
    send_at           INTEGER NOT NULL,        -- UTC, Unix seconds
    tz                TEXT NOT NULL,
    sender            TEXT,                    -- From override, or NULL
    event_date        TEXT,                    -- anniversary campaigns
    state             TEXT NOT NULL DEFAULT 'draft' CHECK (state IN ('draft',
                          'scheduled', 'running', 'paused', 'done',
                          'cancelled')),
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    started_at        INTEGER,
    finished_at       INTEGER,
    UNIQUE (series_id, series_year)
);
CREATE INDEX campaigns_due ON campaigns (state, send_at);

CREATE TABLE deliveries (
    id               INTEGER PRIMARY KEY,
    campaign_id      INTEGER NOT NULL REFERENCES campaigns (id),
    contact_id       INTEGER NOT NULL REFERENCES contacts (id),
    body_id          INTEGER NOT NULL REFERENCES bodies (id),
    email            TEXT NOT NULL,             -- as it was when queued
    state            TEXT NOT NULL CHECK (state IN ('pending', 'sending',
                         'sent', 'deferred', 'failed', 'expired',
                         'cancelled', 'skipped', 'delivered', 'bounced')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER,
    expires_at       INTEGER,
    lease_until      INTEGER,
    lease_owner      TEXT,
    message_id       TEXT,
    envid            TEXT,
    reply_code       INTEGER,
    reply_enhanced   TEXT,
    reply_text       TEXT,
    queue_id         TEXT,
    reason           TEXT,                      -- skipped, failed, bounced
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    sent_at          INTEGER,
    UNIQUE (campaign_id, contact_id)
);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
CREATE INDEX deliveries_body ON deliveries (body_id, campaign_id);
CREATE INDEX deliveries_contact ON deliveries (contact_id);
CREATE INDEX deliveries_message_id ON deliveries (message_id);
CREATE INDEX deliveries_envid ON deliveries (envid);
