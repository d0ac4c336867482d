-- Language variants of a template version (issue 21). A version is its
-- default variant (templates.source, template_partials,
-- template_attachments) plus any number of variants in other languages,
-- each with its own source, partials and attachments; the version's
-- sha256 covers them all (template.h) and locking it locks them all.
-- The language a delivery went out in and the SHA-256 of the bytes sent
-- are recorded when it is sent; bodies and campaigns may name the
-- language to fall back to for their contacts.

CREATE TABLE template_variants (
    template_id INTEGER NOT NULL REFERENCES templates (id),
    lang        TEXT NOT NULL CHECK (length(lang) > 0), -- BCP 47, canonical
    source      TEXT NOT NULL,
    origin      TEXT,
    PRIMARY KEY (template_id, lang)
);

CREATE TABLE template_variant_partials (
    template_id INTEGER NOT NULL,
    lang        TEXT NOT NULL,
    name        TEXT NOT NULL,
    source      TEXT NOT NULL,
    PRIMARY KEY (template_id, lang, name),
    FOREIGN KEY (template_id, lang) REFERENCES template_variants (template_id, lang)
);

CREATE TABLE template_variant_attachments (
    template_id  INTEGER NOT NULL,
    lang         TEXT NOT NULL,
    position     INTEGER NOT NULL,
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    content      BLOB NOT NULL,
    sha256       TEXT NOT NULL,
    PRIMARY KEY (template_id, lang, position),
    FOREIGN KEY (template_id, lang) REFERENCES template_variants (template_id, lang)
);

-- A locked version keeps its variants exactly: none added, changed or
-- removed.
CREATE TRIGGER template_variants_locked_insert BEFORE INSERT ON template_variants
    WHEN (SELECT locked FROM templates WHERE id = NEW.template_id) = 1
BEGIN
    SELECT RAISE(ABORT, 'template version is locked: a campaign used it');
END;
CREATE TRIGGER template_variants_locked_update BEFORE UPDATE ON template_variants
    WHEN (SELECT locked FROM templates WHERE id = OLD.template_id) = 1
BEGIN
    SELECT RAISE(ABORT, 'template version is locked: a campaign used it');
END;
CREATE TRIGGER template_variants_locked_delete BEFORE DELETE ON template_variants
    WHEN (SELECT locked FROM templates WHERE id = OLD.template_id) = 1
BEGIN
    SELECT RAISE(ABORT, 'template version is locked: a campaign used it');
END;
CREATE TRIGGER template_variant_partials_locked_insert
    BEFORE INSERT ON template_variant_partials
    WHEN (SELECT locked FROM templates WHERE id = NEW.template_id) = 1
BEGIN
    SELECT RAISE(ABORT, 'template version is locked: a campaign used it');
END;
CREATE TRIGGER template_variant_partials_locked
    BEFORE DELETE ON template_variant_partials
    WHEN (SELECT locked FROM templates WHERE id = OLD.template_id) = 1
BEGIN
    SELECT RAISE(ABORT, 'template version is locked: a campaign used it');
END;
CREATE TRIGGER template_variant_attachments_locked_insert
    BEFORE INSERT ON template_variant_attachments
    WHEN (SELECT locked FROM templates WHERE id = NEW.template_id) = 1
BEGIN
    SELECT RAISE(ABORT, 'template version is locked: a campaign used it');
END;
CREATE TRIGGER template_variant_attachments_locked
    BEFORE DELETE ON template_variant_attachments
    WHEN (SELECT locked FROM templates WHERE id = OLD.template_id) = 1
BEGIN
    SELECT RAISE(ABORT, 'template version is locked: a campaign used it');
END;

-- The language of the variant a delivery was sent in, and the SHA-256 of
-- the message bytes handed to the relay: written when it is sent.
ALTER TABLE deliveries ADD COLUMN language TEXT;
ALTER TABLE deliveries ADD COLUMN sha256 TEXT;
CREATE INDEX deliveries_language ON deliveries (language);

-- The language to fall back to for a contact with none of its own (or no
-- variant in it): the body's, then the campaign's (NULL: campaign.language).
ALTER TABLE bodies ADD COLUMN language TEXT;
ALTER TABLE campaigns ADD COLUMN language TEXT;
ALTER TABLE series ADD COLUMN language TEXT;
