-- Protocol (issue 21): how a statement names a body in running text and
-- greets a contact, per language. lang is a BCP 47 tag as ICU writes it
-- ("en", "fr", "ar-MA"); lookups compare it without case and fall back
-- to its primary subtag (protocol.h). Rows are replaced in place: the
-- text is presentation, not who receives what, so it keeps no history.

CREATE TABLE body_running_names (
    body_id      INTEGER NOT NULL REFERENCES bodies (id),
    lang         TEXT NOT NULL COLLATE NOCASE CHECK (length(lang) >= 2),
    running_name TEXT NOT NULL CHECK (length(running_name) > 0),
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (body_id, lang)
);

CREATE TABLE contact_salutations (
    contact_id   INTEGER NOT NULL REFERENCES contacts (id),
    lang         TEXT NOT NULL COLLATE NOCASE CHECK (length(lang) >= 2),
    salutation   TEXT NOT NULL CHECK (length(salutation) > 0),
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (contact_id, lang)
);

-- The salutation a contact of a body of that kind gets when it has none
-- of its own in the language; the office changes these
-- (`chancery registry protocol`).
CREATE TABLE protocol_defaults (
    kind         TEXT NOT NULL CHECK (kind IN ('un-organ', 'un-agency',
                     'regional-org', 'ombudsman-assoc', 'nhri', 'ombudsman',
                     'embassy', 'foreign-mission', 'diaspora-org', 'ngo',
                     'other')),
    lang         TEXT NOT NULL COLLATE NOCASE CHECK (length(lang) >= 2),
    salutation   TEXT NOT NULL CHECK (length(salutation) > 0),
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (kind, lang)
);

INSERT INTO protocol_defaults (kind, lang, salutation, updated_at) VALUES
    ('embassy', 'en', 'Your Excellency', 0),
    ('embassy', 'fr', 'Excellence', 0),
    ('embassy', 'ru', 'Ваше Превосходительство', 0),
    ('embassy', 'ar', 'صاحب السعادة', 0),
    ('foreign-mission', 'en', 'Your Excellency', 0),
    ('foreign-mission', 'fr', 'Excellence', 0),
    ('foreign-mission', 'ru', 'Ваше Превосходительство', 0),
    ('foreign-mission', 'ar', 'صاحب السعادة', 0),
    ('ombudsman', 'en', 'Dear Ombudsman', 0),
    ('nhri', 'en', 'Dear Chairperson', 0);
