-- The newest message per source, for `chancery status` (status.c): a
-- lookup at the end of this index instead of reading every kept message
-- (each row holds the raw bytes, so a scan reads the whole inbox).
CREATE INDEX inbound_messages_source ON inbound_messages
    (source, received_at);
