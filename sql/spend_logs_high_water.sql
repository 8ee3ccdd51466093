-- Purpose: the newest SpendLogs startTime and the database clock, at the start of a refresh.
-- Binds: none
-- Output values: max_start (newest "startTime" before year 10000, NULL when none), out_of_range (rows whose
--   "startTime" is 'infinity' or after year 9999: no client can represent it, so they are skipped and counted),
--   db_now (UTC, naive), db_now_epoch
-- Tables: LiteLLM_SpendLogs ("startTime" only; a backward scan and a range scan of the startTime index)
-- Checked against: litellm-proxy-extras 0.4.110
SELECT (SELECT max("startTime") FROM "LiteLLM_SpendLogs" WHERE "startTime" < '10000-01-01') AS max_start,
       (SELECT count(*) FROM "LiteLLM_SpendLogs" WHERE "startTime" >= '10000-01-01') AS out_of_range,
       (statement_timestamp() AT TIME ZONE 'UTC') AS db_now,
       date_part('epoch', statement_timestamp()) AS db_now_epoch
