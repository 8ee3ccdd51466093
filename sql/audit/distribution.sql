-- Purpose: the audit's distributions, from one pass over the SpendLogs rows of the window (and filters) kept in
--   a narrow materialized set: latency (endTime - startTime), time to first token (where completionStartTime
--   differs from endTime) and cost per billed request (spend > 0) percentiles per model group and overall
--   (percentile_cont); the cost concentration curve (requests sorted by spend, cumulative spend at every 0.5%
--   of requests and at each rank up to max(:limit, 10), so the top-2 and top-10 shares never depend on
--   :limit); the top :limit requests by spend and the :limit slowest, with their model, key and tokens (looked
--   up by primary key).
-- Binds: :start, :end (timestamps, UTC), :model_group, :key_alias, :team_alias (text, NULL = no filter),
--   :limit (how many top requests)
-- Output labels: section ('latency', 'curve', 'top_spend', 'slowest'), model_group (NULL = all, for latency)
-- Output values: data (jsonb; latency: n, duration p50/p95/p99/max, ttft_n, ttft p50/p95/p99, billed_n,
--   cost p50/p99; curve: rank, cum_spend, n; top_spend/slowest: request_id, start_time, model_group, model,
--   api_key, input_tokens, output_tokens, spend, duration)
-- Tables: LiteLLM_SpendLogs; LiteLLM_VerificationToken, LiteLLM_TeamTable (filters only)
-- Checked against: litellm-proxy-extras 0.4.110 (every column since the 20250326 baseline)
WITH w AS MATERIALIZED (
  SELECT s.request_id,
         s."startTime" AS start_time,
         COALESCE(s.model_group, '') AS model_group,
         date_part('epoch', s."endTime" - s."startTime") AS duration,
         CASE WHEN s."completionStartTime" <> s."endTime"
              THEN date_part('epoch', s."completionStartTime" - s."startTime") END AS ttft,
         CASE WHEN s.spend >= 0 AND s.spend < 'Infinity' THEN s.spend ELSE 0 END AS spend
  FROM "LiteLLM_SpendLogs" s
  WHERE s."startTime" >= :start AND s."startTime" < :end
    AND (CAST(:model_group AS text) IS NULL OR s.model_group = CAST(:model_group AS text))
    AND (CAST(:key_alias AS text) IS NULL OR s.api_key IN (
          SELECT v.token FROM "LiteLLM_VerificationToken" v
          WHERE CAST(:key_alias AS text) IN (v.key_alias, v.key_name, v.token)))
    AND (CAST(:team_alias AS text) IS NULL OR s.team_id IN (
          SELECT t.team_id FROM "LiteLLM_TeamTable" t
          WHERE CAST(:team_alias AS text) IN (t.team_alias, t.team_id)))
), n AS (
  SELECT count(*) AS n FROM w
), ranked AS (
  SELECT row_number() OVER (ORDER BY w.spend DESC) AS rank,
         sum(w.spend) OVER (ORDER BY w.spend DESC ROWS UNBOUNDED PRECEDING) AS cum_spend
  FROM w
), picked AS (
  SELECT w.request_id, w.start_time, w.duration, 'top_spend' AS section
  FROM (SELECT * FROM w ORDER BY w.spend DESC, w.request_id LIMIT :limit) w
  UNION ALL
  SELECT w.request_id, w.start_time, w.duration, 'slowest'
  FROM (SELECT * FROM w ORDER BY w.duration DESC NULLS LAST, w.request_id LIMIT :limit) w
)
SELECT 'latency' AS section,
       CASE WHEN GROUPING(w.model_group) = 0 THEN w.model_group END AS model_group,
       jsonb_build_object(
         'n', count(*),
         'duration', percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY w.duration),
         'max', max(w.duration),
         'ttft_n', count(w.ttft),
         'ttft', percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY w.ttft),
         'billed_n', count(*) FILTER (WHERE w.spend > 0),
         'cost', percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY w.spend) FILTER (WHERE w.spend > 0)
       ) AS data
FROM w
GROUP BY ROLLUP (w.model_group)
UNION ALL
SELECT 'curve', NULL, jsonb_build_object('rank', r.rank, 'cum_spend', r.cum_spend, 'n', n.n)
FROM ranked r CROSS JOIN n
WHERE r.rank <= GREATEST(:limit, 10) OR floor(r.rank * 200.0 / n.n) > floor((r.rank - 1) * 200.0 / n.n)
UNION ALL
SELECT p.section, NULL,
       jsonb_build_object('request_id', s.request_id, 'start_time', s."startTime", 'model_group', s.model_group,
                          'model', s.model, 'api_key', s.api_key, 'input_tokens', s.prompt_tokens,
                          'output_tokens', s.completion_tokens, 'spend', s.spend, 'duration', p.duration)
FROM picked p
JOIN "LiteLLM_SpendLogs" s ON s.request_id = p.request_id AND s."startTime" = p.start_time
