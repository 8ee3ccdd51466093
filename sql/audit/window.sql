-- Purpose: the audit window's real extent (first and newest startTime of SpendLogs rows in [:start, :end), no
--   other filter; two reads at the ends of the "startTime" index) and the database clock.
-- Binds: :start, :end (timestamps, UTC)
-- Output values: first_start, last_start (NULL when empty), db_now (UTC)
-- Tables: LiteLLM_SpendLogs ("startTime" only)
-- Checked against: litellm-proxy-extras 0.4.110; index "LiteLLM_SpendLogs_startTime_idx"
SELECT min(s."startTime") AS first_start,
       max(s."startTime") AS last_start,
       statement_timestamp() AT TIME ZONE 'UTC' AS db_now
FROM "LiteLLM_SpendLogs" s
WHERE s."startTime" >= :start AND s."startTime" < :end
