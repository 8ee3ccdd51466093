-- Purpose: a partial index LiteLLM does not create, for the Grafana panel "Recent failures"
--   (sql/grafana/recent_failures.sql: the newest failed requests of a range). Without it the planner either walks
--   the startTime index backwards or, when it expects few failures, scans the table: an unstable plan that took
--   seconds on tens of millions of rows (BENCHMARKS.md, section 4). It holds failed rows only, so it stays small.
--   For a DBA to run (`litellm-spend-exporter check` prints it while it is missing); CONCURRENTLY does not block
--   LiteLLM's writes. On a partitioned SpendLogs, create it on each partition.
-- Binds: none
-- Output: none (DDL for a DBA)
CREATE INDEX CONCURRENTLY IF NOT EXISTS "LiteLLM_SpendLogs_failures_startTime_idx"
  ON "LiteLLM_SpendLogs" ("startTime" DESC, request_id)
  WHERE COALESCE(status, metadata ->> 'status') = 'failure'
