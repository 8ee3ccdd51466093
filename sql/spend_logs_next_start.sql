-- Purpose: where the exporter's cold start goes next: the earliest SpendLogs startTime in [:after, :before), so
--   that it aggregates the history one UTC day at a time and skips stretches without rows.
-- Binds: :after (timestamp, or '-infinity'), :before (timestamp)
-- Output values: first (epoch seconds; -Infinity for a '-infinity' startTime; NULL when there is none)
-- Tables: LiteLLM_SpendLogs ("startTime" only; one probe of the startTime index)
-- Checked against: litellm-proxy-extras 0.4.110
SELECT date_part('epoch', min("startTime")) AS first
FROM "LiteLLM_SpendLogs"
WHERE "startTime" >= :after AND "startTime" < :before
