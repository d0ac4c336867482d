-- The relay as the daemon last found it (one row, id 1): `ok`, or `down`
-- when a relay-level fault (authentication or TLS refused, every
-- connection failing) stopped sending; since when, the last error, how
-- many times in a row, and when it is tried again. Read by `chancery
-- status`; written only by the daemon.
CREATE TABLE relay_state (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    state        TEXT NOT NULL CHECK (state IN ('ok', 'down')),
    since        INTEGER NOT NULL,
    last_error   TEXT,
    failures     INTEGER NOT NULL DEFAULT 0,
    retry_at     INTEGER,
    checked_at   INTEGER NOT NULL
);

-- The daemon that last ran against this database: `chancery status`
-- shows whether it is still there (the pid is checked for life), since
-- when, and which version.
CREATE TABLE daemon_state (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    pid          INTEGER NOT NULL,
    host         TEXT NOT NULL,
    version      TEXT NOT NULL,
    started_at   INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL
);
