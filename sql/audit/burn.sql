-- Purpose: the burn rate behind the budget forecast: spend per key, per team and per internal user with
--   startTime in [:since, :end) (the audit window, or its last 7 days when it is unbounded); an index range
--   scan on "startTime". And the oldest SpendLogs row before :end (one read at the start of the index): when
--   the ledger starts after :since, the spend covers only the time from that row on, and the rate divides by
--   that.
-- Binds: :since, :end (timestamps, UTC)
-- Output labels: kind ('key', 'team', 'user'), id (SpendLogs api_key, team_id or user)
-- Output values: spend (USD), requests, ledger_first (timestamp, UTC; the same on every row)
-- Tables: LiteLLM_SpendLogs
-- Checked against: litellm-proxy-extras 0.4.110 (columns from the 20250326 baseline)
SELECT CASE WHEN GROUPING(r.api_key) = 0 THEN 'key' WHEN GROUPING(r.team_id) = 0 THEN 'team' ELSE 'user' END
         AS kind,
       COALESCE(r.api_key, r.team_id, r.user_id) AS id,
       sum(r.spend) AS spend,
       count(*) AS requests,
       (SELECT min(f."startTime") FROM "LiteLLM_SpendLogs" f WHERE f."startTime" < :end) AS ledger_first
FROM (
  SELECT COALESCE(s.api_key, '') AS api_key, COALESCE(s.team_id, '') AS team_id, COALESCE(s."user", '') AS user_id,
         CASE WHEN s.spend >= 0 AND s.spend < 'Infinity' THEN s.spend ELSE 0 END AS spend
  FROM "LiteLLM_SpendLogs" s
  WHERE s."startTime" >= :since AND s."startTime" < :end
) r
GROUP BY GROUPING SETS ((r.api_key), (r.team_id), (r.user_id))
