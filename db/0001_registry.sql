-- The recipient registry: addressee bodies, the names statements use for
-- them, their e-mail contacts, and the lists campaigns are sent to.
-- Times are Unix seconds (UTC). Rows are never deleted once the ledger may
-- name them: removal sets removed_at, so old audits still resolve.

CREATE TABLE bodies (
    id          INTEGER PRIMARY KEY,
    acronym     TEXT,
    name        TEXT NOT NULL CHECK (length(name) > 0),
    kind        TEXT NOT NULL CHECK (kind IN ('un-organ', 'un-agency',
                    'regional-org', 'ombudsman-assoc', 'nhri', 'ombudsman',
                    'embassy', 'foreign-mission', 'diaspora-org', 'ngo',
                    'other')),
    country     TEXT,
    notes       TEXT,
    created_at  INTEGER NOT NULL,
    removed_at  INTEGER
);
-- Acronyms are unique among live bodies, compared without case.
CREATE UNIQUE INDEX bodies_acronym ON bodies (acronym COLLATE NOCASE)
    WHERE acronym IS NOT NULL AND removed_at IS NULL;
CREATE UNIQUE INDEX bodies_name ON bodies (name COLLATE NOCASE)
    WHERE removed_at IS NULL;

-- Other names of a body as statements write them. norm is the normalised
-- form used for matching (see names.h); it is derived from alias.
CREATE TABLE aliases (
    id          INTEGER PRIMARY KEY,
    body_id     INTEGER NOT NULL REFERENCES bodies (id),
    alias       TEXT NOT NULL CHECK (length(alias) > 0),
    norm        TEXT NOT NULL,
    source      TEXT NOT NULL DEFAULT 'manual',
    created_at  INTEGER NOT NULL,
    UNIQUE (body_id, norm)
);
CREATE INDEX aliases_norm ON aliases (norm);

CREATE TABLE contacts (
    id            INTEGER PRIMARY KEY,
    body_id       INTEGER NOT NULL REFERENCES bodies (id),
    email         TEXT NOT NULL,
    name          TEXT,
    role          TEXT,
    language      TEXT,
    status        TEXT NOT NULL DEFAULT 'active' CHECK (status IN
                      ('active', 'disabled', 'bouncing', 'suppressed')),
    status_reason TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    removed_at    INTEGER
);
CREATE UNIQUE INDEX contacts_body_email ON contacts (body_id, email COLLATE NOCASE)
    WHERE removed_at IS NULL;
CREATE INDEX contacts_email ON contacts (email COLLATE NOCASE);

-- A static list names its members (bodies, or other lists); a rule list
-- takes every live body that matches one of its rules.
CREATE TABLE lists (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE CHECK (length(name) > 0),
    kind        TEXT NOT NULL CHECK (kind IN ('static', 'rule')),
    description TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE list_members (
    list_id         INTEGER NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    position        INTEGER NOT NULL,
    body_id         INTEGER REFERENCES bodies (id),
    member_list_id  INTEGER REFERENCES lists (id),
    CHECK ((body_id IS NULL) <> (member_list_id IS NULL)),
    CHECK (member_list_id IS NULL OR member_list_id <> list_id),
    UNIQUE (list_id, body_id),
    UNIQUE (list_id, member_list_id)
);
CREATE INDEX list_members_body ON list_members (body_id);

-- A rule matches live bodies of kind, and of country when it is given.
CREATE TABLE list_rules (
    list_id     INTEGER NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    country     TEXT,
    UNIQUE (list_id, kind, country)
);
