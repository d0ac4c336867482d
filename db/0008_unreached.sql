-- Bodies of a campaign's list that it cannot reach: no contact at all, or
-- only contacts that may not be sent to. Recorded when the recipient set
-- is fixed, so the audit can say which bodies did not receive a statement
-- and why, not only which did.

CREATE TABLE campaign_unreached (
    campaign_id  INTEGER NOT NULL REFERENCES campaigns (id),
    body_id      INTEGER NOT NULL REFERENCES bodies (id),
    reason       TEXT NOT NULL CHECK (reason IN ('no contact',
                     'all suppressed', 'all bouncing', 'all disabled',
                     'none sendable')),
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, body_id)
) WITHOUT ROWID;
CREATE INDEX campaign_unreached_body ON campaign_unreached (body_id);
