-- Approval with a freeze. An approval binds the exact message and the
-- exact addressees: the template version and its hash, the send time, and
-- the recipient set materialised when it was given (campaign_recipients),
-- so that sending does no list expansion and a change afterwards can be
-- seen and void it. A campaign needs campaign.approvals distinct approvers
-- (chancery.conf(5)); rows are removed when the approval is voided or
-- rejected, while the ledger keeps the record.
--
-- campaigns.created_by and edited_by name who created and last edited the
-- campaign (the actor), for the four-eyes rule.

ALTER TABLE campaigns ADD COLUMN created_by TEXT;
ALTER TABLE campaigns ADD COLUMN edited_by TEXT;

CREATE TABLE campaign_approvals (
    id                 INTEGER PRIMARY KEY,
    campaign_id        INTEGER NOT NULL REFERENCES campaigns (id),
    actor              TEXT,                  -- NULL: the system
    at                 INTEGER NOT NULL,
    template_id        INTEGER NOT NULL REFERENCES templates (id),
    template_sha256    TEXT NOT NULL,
    send_at            INTEGER NOT NULL,
    recipients_sha256  TEXT NOT NULL,
    recipients         INTEGER NOT NULL,      -- contacts that will be sent to
    unreached          INTEGER NOT NULL,      -- bodies with none
    UNIQUE (campaign_id, actor)
);

-- Every contact of the list at approval, in list order; skip_reason is
-- set for one that will not be sent to (its status, or a bad address), so
-- the start records it as skipped as it always did.
CREATE TABLE campaign_recipients (
    campaign_id  INTEGER NOT NULL REFERENCES campaigns (id),
    position     INTEGER NOT NULL,
    contact_id   INTEGER NOT NULL REFERENCES contacts (id),
    body_id      INTEGER NOT NULL REFERENCES bodies (id),
    email        TEXT NOT NULL,
    status       TEXT NOT NULL,               -- the contact's, or 'invalid'
    skip_reason  TEXT,
    PRIMARY KEY (campaign_id, position),
    UNIQUE (campaign_id, contact_id)
) WITHOUT ROWID;
CREATE INDEX campaign_recipients_body ON campaign_recipients (campaign_id,
    body_id);
