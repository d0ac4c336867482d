-- deliveries_language (0017) served no query: the audit's one filter on
-- deliveries.language compares with COLLATE NOCASE, which an index in
-- the default collation cannot answer (EXPLAIN QUERY PLAN of audit.c's
-- campaign and body reports shows it unused). Every queued delivery
-- still paid an entry in it; campaign start queues them by the hundred
-- thousand (issue 22).
DROP INDEX IF EXISTS deliveries_language;
