-- The web console's local accounts (user.c). A name is 1 to 64 bytes of
-- UTF-8 with no control characters; the password is kept only as an
-- Argon2id encoded hash (its own salt and parameters inside).
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL
                  CHECK (role IN ('viewer', 'editor', 'approver', 'admin')),
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    last_login_at INTEGER
);

-- A logged-in session: the SHA-256 (hex) of the token the browser holds,
-- never the token itself, so a copy of the database opens no session.
-- csrf is the session's form token (not a credential on its own).
CREATE TABLE user_sessions (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_sha256  TEXT NOT NULL UNIQUE,
    csrf          TEXT NOT NULL,
    client        TEXT,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);
CREATE INDEX user_sessions_user ON user_sessions (user_id);
CREATE INDEX user_sessions_expiry ON user_sessions (expires_at);

-- Failed logins of the last 15 minutes, by the name tried (known or not)
-- and the client address: the throttle counts them, a success clears the
-- name's, and older rows are deleted as logins come.
CREATE TABLE login_failures (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    client        TEXT,
    at            INTEGER NOT NULL
);
CREATE INDEX login_failures_name ON login_failures (name, at);
CREATE INDEX login_failures_client ON login_failures (client, at);
CREATE INDEX login_failures_at ON login_failures (at);
