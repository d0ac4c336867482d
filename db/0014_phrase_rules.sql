-- Phrases a person has taught import-statement (`registry teach`): a
-- phrase as statements write it, resolved to one body or one list (a
-- group alias), ahead of every match the resolver would guess. norm is
-- names_normalise(phrase), derived like aliases.norm; one rule per norm.
-- Who taught it is the actor of its phrase.taught ledger event.

CREATE TABLE phrase_rules (
    id          INTEGER PRIMARY KEY,
    phrase      TEXT NOT NULL CHECK (length(phrase) > 0),
    norm        TEXT NOT NULL UNIQUE CHECK (length(norm) > 0),
    body_id     INTEGER REFERENCES bodies (id),
    list_id     INTEGER REFERENCES lists (id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    CHECK ((body_id IS NULL) <> (list_id IS NULL))
);
CREATE INDEX phrase_rules_body ON phrase_rules (body_id)
    WHERE body_id IS NOT NULL;
CREATE INDEX phrase_rules_list ON phrase_rules (list_id)
    WHERE list_id IS NOT NULL;

-- A list's next position is max(position) + 1 among its members: without
-- this index each addition read every member before it, so an import of
-- a statement with 5,000 addressees into one list was quadratic (3.3 s
-- for 5,000, 8.2 s for 10,000).
CREATE INDEX list_members_position ON list_members (list_id, position);
