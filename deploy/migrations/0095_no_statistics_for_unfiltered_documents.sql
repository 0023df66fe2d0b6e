-- Issue 10: no planner statistics for documents no query filters on.
--
-- Under sustained writes autovacuum re-analyses cases, case_event and idempotency_key every few
-- minutes, and sorting their JSON documents to build statistics nobody uses took a tenth of the
-- machine's CPU in the write benchmark's profile (qsort over jsonb_cmp in analyze_rel). No query
-- filters, joins or groups on these columns (they are read back whole), so their statistics
-- target is 0: ANALYZE skips them and still keeps every other column's statistics.
ALTER TABLE cases ALTER COLUMN fields SET STATISTICS 0;
ALTER TABLE case_event ALTER COLUMN summary SET STATISTICS 0;
ALTER TABLE idempotency_key ALTER COLUMN response SET STATISTICS 0;
ALTER TABLE idempotency_key ALTER COLUMN response_json SET STATISTICS 0;
ALTER TABLE field_change ALTER COLUMN value SET STATISTICS 0;
ALTER TABLE admin_change ALTER COLUMN before SET STATISTICS 0;
ALTER TABLE admin_change ALTER COLUMN after SET STATISTICS 0;
