-- Purpose: an index LiteLLM does not create, for the Grafana panel "Most expensive requests"
--   (sql/grafana/expensive_requests.sql orders a time range by spend). Without it the panel sorts every row of
--   the range: seconds over 30 days of tens of millions of rows (BENCHMARKS.md, section 4); with it the top 100
--   come off the index in milliseconds. For a DBA to run (`litellm-spend-exporter check` prints it while it is
--   missing): CONCURRENTLY does not block LiteLLM's writes; every insert then maintains one more index entry.
--   On a partitioned SpendLogs, create it on each partition (CONCURRENTLY does not apply to the parent).
-- Binds: none
-- Output: none (DDL for a DBA)
CREATE INDEX CONCURRENTLY IF NOT EXISTS "LiteLLM_SpendLogs_spend_startTime_idx"
  ON "LiteLLM_SpendLogs" (spend DESC, "startTime" DESC, request_id)
