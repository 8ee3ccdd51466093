-- Purpose: the newest SpendLogs startTime and the database clock, at the start of a refresh.
-- Binds: none
-- Output values: max_start (newest "startTime", NULL when empty), db_now (UTC, naive), db_now_epoch
-- Tables: LiteLLM_SpendLogs ("startTime" only; a backward scan of the startTime index)
-- Checked against: litellm-proxy-extras 0.4.110
SELECT (SELECT max("startTime") FROM "LiteLLM_SpendLogs") AS max_start,
       (statement_timestamp() AT TIME ZONE 'UTC') AS db_now,
       date_part('epoch', statement_timestamp()) AS db_now_epoch
