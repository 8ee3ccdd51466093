-- Purpose: aggregate the SpendLogs rows with :after <= startTime < :before (the exporter's cold start, one UTC
--   day per statement, up to the overlap window); rows of the window are read one by one
--   (sql/spend_logs_rows.sql) so that late rows can be de-duplicated.
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
-- Variants: nostatus
SELECT day, requested_model, model, api_provider, api_key, team, "user", end_user, status,
       normalized_error, error_code, error_class, error_hint,
       count(*) AS requests,
       min(date_part('epoch', start_time)) AS first_start,
       -- what the counters sum (spec.SUMS; usd: exact, NaN/infinite/negative count 0; tokens: negative count 0):
       -- expand: counter_sums
       sum(duration::numeric) FILTER (WHERE duration >= 0 AND duration < 'Infinity') AS duration_sum,
       sum(ttft::numeric) FILTER (WHERE ttft >= 0 AND ttft < 'Infinity') AS ttft_sum,
       count(*) FILTER (WHERE NOT (spend > '-Infinity' AND spend < 'Infinity')) AS nonfinite_spend,
       count(*) FILTER (WHERE spend < 0 AND spend > '-Infinity') AS negative_spend,
       -- expand: negative_tokens
       sum(huge_cache_tokens) AS huge_tokens,
       count(*) FILTER (WHERE duration < 0) AS negative_duration,
       count(*) FILTER (WHERE NOT (duration > '-Infinity' AND duration < 'Infinity')) AS nonfinite_duration,
       -- histogram buckets as columns, width_bucket values 0 .. len(bounds): generated from spec.py's buckets
       -- expand: histogram_bucket_columns
FROM (SELECT b.*,
       CASE WHEN duration >= 0 AND duration < 'Infinity' THEN width_bucket(-duration, :neg_duration_bounds) END
         AS duration_bucket,  -- (NaN sorts above Infinity in PostgreSQL)
       CASE WHEN ttft >= 0 AND ttft < 'Infinity' THEN width_bucket(-ttft, :neg_ttft_bounds) END AS ttft_bucket
FROM (
  -- include: fragments/spend_logs_row_block
  WHERE s."startTime" >= :after AND s."startTime" < :before
) b) r
GROUP BY day, requested_model, model, api_provider, api_key, team, "user", end_user, status,
         normalized_error, error_code, error_class, error_hint
