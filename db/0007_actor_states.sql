-- Who did it, and two campaign states the office relies on.
--
-- events.actor names the person a change is attributed to: the OS user of
-- the command, or the name given with --as (a claim, not proof). NULL is
-- the daemon or the system. The column is part of a row's hash when set.
--
-- campaigns.state gains 'approved' (signed off, recipients frozen) and
-- 'missed' (its send time passed before it was approved or scheduled).
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt
-- (the procedure of the SQLite documentation, "Making Other Kinds Of
-- Table Schema Changes"), with foreign keys off around the migration.

ALTER TABLE events ADD COLUMN actor TEXT;

CREATE TABLE campaigns_new (
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
                          'approved', 'scheduled', 'running', 'paused',
                          'done', 'cancelled', 'missed')),
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    started_at        INTEGER,
    finished_at       INTEGER,
    UNIQUE (series_id, series_year)
);
INSERT INTO campaigns_new SELECT id, name, template_id, list_id, series_id,
    series_year, send_at, tz, sender, event_date, state, created_at,
    updated_at, started_at, finished_at FROM campaigns;
DROP TABLE campaigns;
ALTER TABLE campaigns_new RENAME TO campaigns;
CREATE INDEX campaigns_due ON campaigns (state, send_at);
