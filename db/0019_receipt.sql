-- A campaign may ask for a read receipt: its messages then carry
-- Disposition-Notification-To (RFC 8098) naming their From address, and
-- the notifications that come back are read by `chancery inbox`
-- (response.h) into delivery_responses. Off unless asked for: a request
-- shows in the recipient's mail program, and some formal correspondents
-- find one presumptuous.
ALTER TABLE campaigns ADD COLUMN receipt INTEGER NOT NULL DEFAULT 0
    CHECK (receipt IN (0, 1));
