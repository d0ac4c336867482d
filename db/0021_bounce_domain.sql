-- Policy failures per recipient domain: bounce.c counts them after each
-- policy bounce (bounce.blocked_threshold within bounce.blocked_window)
-- to raise relay.blocked. Without this index that count read every
-- bounced delivery, once per policy bounce: quadratic in a large inbox.
-- The expression is the one bounce.c's statement uses, word for word.
CREATE INDEX deliveries_bounce_domain ON deliveries
    (lower(substr(email, instr(email, '@') + 1)), bounce_class, updated_at)
    WHERE bounce_class IS NOT NULL;
