-- Statement templates, versioned. A version is immutable once a campaign
-- has used it (locked = 1); its sha256 covers the source, the partials and
-- the attachments, so the audit can show exactly which text went out.

CREATE TABLE templates (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL CHECK (length(name) > 0),
    version     INTEGER NOT NULL CHECK (version > 0),
    source      TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    origin      TEXT,
    locked      INTEGER NOT NULL DEFAULT 0 CHECK (locked IN (0, 1)),
    created_at  INTEGER NOT NULL,
    UNIQUE (name, version)
);

-- Partials ({{> name}}) found beside the template when it was added.
CREATE TABLE template_partials (
    template_id INTEGER NOT NULL REFERENCES templates (id),
    name        TEXT NOT NULL,
    source      TEXT NOT NULL,
    PRIMARY KEY (template_id, name)
);

-- Files named by Attach: lines, read when the template was added.
CREATE TABLE template_attachments (
    template_id  INTEGER NOT NULL REFERENCES templates (id),
    position     INTEGER NOT NULL,
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    content      BLOB NOT NULL,
    sha256       TEXT NOT NULL,
    PRIMARY KEY (template_id, position)
);

CREATE TRIGGER templates_locked_update BEFORE UPDATE ON templates
    WHEN OLD.locked = 1 AND (NEW.source IS NOT OLD.source
        OR NEW.sha256 IS NOT OLD.sha256 OR NEW.name IS NOT OLD.name
        OR NEW.version IS NOT OLD.version OR NEW.locked = 0)
BEGIN
    SELECT RAISE(ABORT, 'template version is locked: a campaign used it');
END;
CREATE TRIGGER templates_locked_delete BEFORE DELETE ON templates
    WHEN OLD.locked = 1
BEGIN
    SELECT RAISE(ABORT, 'template version is locked: a campaign used it');
END;
CREATE TRIGGER template_partials_locked BEFORE DELETE ON template_partials
    WHEN (SELECT locked FROM templates WHERE id = OLD.template_id) = 1
BEGIN
    SELECT RAISE(ABORT, 'template version is locked: a campaign used it');
END;
CREATE TRIGGER template_attachments_locked BEFORE DELETE ON template_attachments
    WHEN (SELECT locked FROM templates WHERE id = OLD.template_id) = 1
BEGIN
    SELECT RAISE(ABORT, 'template version is locked: a campaign used it');
END;
