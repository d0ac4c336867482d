-- Every `chancery audit verify` run against a writable database: when,
-- by whom, what it found and the head of the chain it reached, so that
-- `chancery status` can say when the ledger was last proven and how many
-- rows were appended since. Not part of the ledger (a verification
-- changes nothing it records); a read-only database is verified without
-- a row here.
CREATE TABLE audit_verifications (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    actor      TEXT,                          -- NULL: the system
    ok         INTEGER NOT NULL CHECK (ok IN (0, 1)),
    rows       INTEGER NOT NULL,              -- rows found intact
    head_id    INTEGER NOT NULL,              -- 0: an empty ledger
    head_hash  TEXT NOT NULL,
    anchor     TEXT,                          -- --anchor, when given
    problem    TEXT,                          -- when not ok
    message    TEXT
);
