-- Purpose: (LiteLLM before 20250508072103, without the `status` column: status from metadata) aggregate every SpendLogs row with startTime < :before in one pass (the exporter's cold start);
--   rows from :before on are read one by one (sql/spend_logs_rows.sql) so that late rows can be de-duplicated.
--   Values that cannot be counted (NaN/infinite/negative spend, negative tokens, cache tokens outside
--   [0, 1e15], negative or infinite durations) are clamped exactly as the exporter clamps single rows,
--   and counted by reason. Sums are numeric (exact), so the order rows are added in never changes a value.
-- Binds: :after (timestamp, or '-infinity'), :before (timestamp), :with_user, :with_end_user, :with_cache_tokens (booleans),
--   :neg_duration_bounds, :neg_ttft_bounds (float8[]: the negated histogram bounds, ascending; so that
--   width_bucket counts bounds >= value, i.e. Prometheus' `le` buckets)
-- Output labels: day (Unix day of startTime; NULL for -infinity), requested_model, model, api_provider,
--   api_key, team, user, end_user, status, normalized_error, error_code, error_class, error_hint
-- Output values: requests, first_start (epoch of the group's earliest startTime), spend, input_tokens,
--   output_tokens, cache_read_tokens, cache_creation_tokens, duration_sum, ttft_sum, nonfinite_spend,
--   negative_spend, negative_tokens, huge_tokens, negative_duration, nonfinite_duration,
--   duration_w0 .. duration_w14 and ttft_w0 .. ttft_w11 (rows per width_bucket value)
-- Tables: LiteLLM_SpendLogs (metadata is read only for failed rows, and for rows older than `status`)
-- Checked against: litellm-proxy-extras 0.4.110 (status since 20250508072103)
SELECT day, requested_model, model, api_provider, api_key, team, "user", end_user, status,
       normalized_error, error_code, error_class, error_hint,
       count(*) AS requests,
       min(date_part('epoch', start_time)) AS first_start,
       sum(CASE WHEN spend >= 0 AND spend < 'Infinity' THEN spend::numeric ELSE 0 END) AS spend,
       sum(greatest(input_tokens, 0)) AS input_tokens,
       sum(greatest(output_tokens, 0)) AS output_tokens,
       sum(greatest(cache_read_tokens, 0)) AS cache_read_tokens,
       sum(greatest(cache_creation_tokens, 0)) AS cache_creation_tokens,
       sum(duration::numeric) FILTER (WHERE duration >= 0 AND duration < 'Infinity') AS duration_sum,
       sum(ttft::numeric) FILTER (WHERE ttft >= 0 AND ttft < 'Infinity') AS ttft_sum,
       count(*) FILTER (WHERE NOT (spend > '-Infinity' AND spend < 'Infinity')) AS nonfinite_spend,
       count(*) FILTER (WHERE spend < 0 AND spend > '-Infinity') AS negative_spend,
       sum((COALESCE(input_tokens, 0) < 0)::int + (COALESCE(output_tokens, 0) < 0)::int  -- NULL counts 0
           + negative_cache_tokens) AS negative_tokens,
       sum(huge_cache_tokens) AS huge_tokens,
       count(*) FILTER (WHERE duration < 0) AS negative_duration,
       count(*) FILTER (WHERE NOT (duration > '-Infinity' AND duration < 'Infinity')) AS nonfinite_duration,
       -- histogram buckets as columns (width_bucket values 0 .. len(bounds); tests/test_sql.py checks the count)
       count(*) FILTER (WHERE duration_bucket = 0) AS duration_w0,
       count(*) FILTER (WHERE duration_bucket = 1) AS duration_w1,
       count(*) FILTER (WHERE duration_bucket = 2) AS duration_w2,
       count(*) FILTER (WHERE duration_bucket = 3) AS duration_w3,
       count(*) FILTER (WHERE duration_bucket = 4) AS duration_w4,
       count(*) FILTER (WHERE duration_bucket = 5) AS duration_w5,
       count(*) FILTER (WHERE duration_bucket = 6) AS duration_w6,
       count(*) FILTER (WHERE duration_bucket = 7) AS duration_w7,
       count(*) FILTER (WHERE duration_bucket = 8) AS duration_w8,
       count(*) FILTER (WHERE duration_bucket = 9) AS duration_w9,
       count(*) FILTER (WHERE duration_bucket = 10) AS duration_w10,
       count(*) FILTER (WHERE duration_bucket = 11) AS duration_w11,
       count(*) FILTER (WHERE duration_bucket = 12) AS duration_w12,
       count(*) FILTER (WHERE duration_bucket = 13) AS duration_w13,
       count(*) FILTER (WHERE duration_bucket = 14) AS duration_w14,
       count(*) FILTER (WHERE ttft_bucket = 0) AS ttft_w0,
       count(*) FILTER (WHERE ttft_bucket = 1) AS ttft_w1,
       count(*) FILTER (WHERE ttft_bucket = 2) AS ttft_w2,
       count(*) FILTER (WHERE ttft_bucket = 3) AS ttft_w3,
       count(*) FILTER (WHERE ttft_bucket = 4) AS ttft_w4,
       count(*) FILTER (WHERE ttft_bucket = 5) AS ttft_w5,
       count(*) FILTER (WHERE ttft_bucket = 6) AS ttft_w6,
       count(*) FILTER (WHERE ttft_bucket = 7) AS ttft_w7,
       count(*) FILTER (WHERE ttft_bucket = 8) AS ttft_w8,
       count(*) FILTER (WHERE ttft_bucket = 9) AS ttft_w9,
       count(*) FILTER (WHERE ttft_bucket = 10) AS ttft_w10,
       count(*) FILTER (WHERE ttft_bucket = 11) AS ttft_w11
FROM (SELECT b.*,
       CASE WHEN duration >= 0 AND duration < 'Infinity' THEN width_bucket(-duration, :neg_duration_bounds) END
         AS duration_bucket,  -- (NaN sorts above Infinity in PostgreSQL)
       CASE WHEN ttft >= 0 AND ttft < 'Infinity' THEN width_bucket(-ttft, :neg_ttft_bounds) END AS ttft_bucket
FROM (
  -- row block: keep identical in spend_logs_rows*.sql and spend_logs_totals*.sql (tests/test_sql.py checks)
  SELECT s.request_id,
         s."startTime" AS start_time,
         floor(date_part('epoch', s."startTime") / 60)::bigint AS minute,
         CASE WHEN isfinite(s."startTime") THEN floor(date_part('epoch', s."startTime") / 86400)::bigint END AS day,
         COALESCE(s.model_group, '') AS requested_model,
         COALESCE(s.model, '') AS model,
         COALESCE(s.custom_llm_provider, '') AS api_provider,
         COALESCE(s.api_key, '') AS api_key,
         COALESCE(s.team_id, '') AS team,
         CASE WHEN :with_user THEN COALESCE(s."user", '') ELSE '' END AS "user",
         CASE WHEN :with_end_user THEN COALESCE(s.end_user, '') ELSE '' END AS end_user,
         st.status,
         s.spend,
         s.prompt_tokens AS input_tokens,
         s.completion_tokens AS output_tokens,
         CASE WHEN :with_cache_tokens THEN u.cache_read END AS cache_read_tokens,
         CASE WHEN :with_cache_tokens THEN u.cache_creation END AS cache_creation_tokens,
         COALESCE(u.negative, 0) AS negative_cache_tokens,
         COALESCE(u.huge, 0) AS huge_cache_tokens,
         CASE WHEN isfinite(s."startTime") AND isfinite(s."endTime")  -- 'infinity': NaN, skipped and counted
              THEN date_part('epoch', s."endTime" - s."startTime") ELSE 'NaN' END AS duration,
         CASE WHEN s."completionStartTime" <> s."endTime"
              THEN CASE WHEN isfinite(s."startTime") AND isfinite(s."completionStartTime")
                        THEN date_part('epoch', s."completionStartTime" - s."startTime") ELSE 'NaN' END END AS ttft,
         e.normalized_error, e.error_code, e.error_class, e.error_hint
  FROM "LiteLLM_SpendLogs" s
  CROSS JOIN LATERAL (
    SELECT CASE WHEN s.metadata->>'status' = 'failure' THEN 'failure' ELSE 'success' END
           AS status) st
  LEFT JOIN LATERAL (
    SELECT left(ei->>'normalized_error', 64) AS normalized_error,
           left(ei->>'error_code', 8) AS error_code,
           left(ei->>'error_class', 64) AS error_class,
           CASE WHEN ei->>'normalized_error' IS NOT NULL THEN NULL
                WHEN ei->>'error_message' ~* 'exceeded.*budget|budget has been exceeded|max budget' THEN 'budget'
                WHEN ei->>'error_message' ~* 'context window|context length|(prompt|input) is too long'
                  THEN 'context'
                WHEN ei->>'error_message' ~* 'connection error|connection reset|peer closed' THEN 'connection'
                WHEN ei->>'error_message' ~* 'timed? ?out' THEN 'timeout' END AS error_hint
    FROM (SELECT CASE WHEN jsonb_typeof(s.metadata->'error_information') = 'object'
                      THEN s.metadata->'error_information' END AS ei) x
    WHERE st.status = 'failure') e ON true
  LEFT JOIN LATERAL (  -- cache tokens clamped to [0, 1e15], and how many of the two were (counted by reason)
    SELECT least(greatest(cr, 0), 1e15)::bigint AS cache_read,
           least(greatest(cc, 0), 1e15)::bigint AS cache_creation,
           (COALESCE(cr, 0) < 0)::int + (COALESCE(cc, 0) < 0)::int AS negative,
           (COALESCE(cr, 0) > 1e15)::int + (COALESCE(cc, 0) > 1e15)::int AS huge
    FROM (SELECT CASE WHEN jsonb_typeof(uo->'cache_read_input_tokens') = 'number'
                        THEN (uo->>'cache_read_input_tokens')::numeric
                      WHEN jsonb_typeof(uo->'prompt_tokens_details'->'cached_tokens') = 'number'
                        THEN (uo->'prompt_tokens_details'->>'cached_tokens')::numeric END AS cr,
                 CASE WHEN jsonb_typeof(uo->'cache_creation_input_tokens') = 'number'
                        THEN (uo->>'cache_creation_input_tokens')::numeric END AS cc
          FROM (SELECT CASE WHEN jsonb_typeof(s.metadata->'usage_object') = 'object'
                            THEN s.metadata->'usage_object' END AS uo) y) z
    WHERE :with_cache_tokens) u ON true
  -- end row block
  WHERE s."startTime" >= :after AND s."startTime" < :before
) b) r
GROUP BY day, requested_model, model, api_provider, api_key, team, "user", end_user, status,
         normalized_error, error_code, error_class, error_hint
