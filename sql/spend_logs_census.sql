-- Purpose: how many SpendLogs rows each minute from :since on holds (by startTime). The exporter compares
--   these counts with the rows it has counted per minute and reads rows only for minutes that changed:
--   new rows and rows LiteLLM wrote late. Reads only "startTime" (index-only on the startTime index).
-- Binds: :since (timestamp: the newest counted startTime minus the overlap window); rows from year 10000 on
--   ('infinity' included) are left out, as in sql/spend_logs_high_water.sql
-- Output labels: minute (Unix minute: floor(epoch / 60))
-- Output values: n (rows in that minute)
-- Tables: LiteLLM_SpendLogs ("startTime" only)
-- Checked against: litellm-proxy-extras 0.4.110; index "LiteLLM_SpendLogs_startTime_idx"
SELECT floor(date_part('epoch', "startTime") / 60)::bigint AS minute,
       count(*) AS n
FROM "LiteLLM_SpendLogs"
WHERE "startTime" >= :since AND "startTime" < '10000-01-01'
GROUP BY 1
ORDER BY 1
