-- Purpose: SpendLogs rows from (startTime, request_id) >= (:from_time, :from_id) with startTime < :to_time, in
--   that order, at most :limit (the exporter pages through a range by resuming from the last row). It reads the
--   rows after the newest it counted, and whole minutes whose row count changed since it last looked
--   (sql/spend_logs_census.sql); rows are de-duplicated by (request_id, startTime), so late rows are found and
--   no row is counted twice.
-- Binds: :from_time, :to_time (timestamps), :from_id (text), :limit (rows), :with_user, :with_end_user,
--   :with_cache_tokens (booleans: read those fields, or return '' / NULL)
-- Output labels: requested_model, model, api_provider, api_key, team, user, end_user, status,
--   normalized_error, error_code, error_class, error_hint
-- Output values: request_id, start_time, minute, day (Unix minute and day of startTime), spend, input_tokens,
--   output_tokens, cache_read_tokens, cache_creation_tokens (clamped to [0, 1e15]), negative_cache_tokens,
--   huge_cache_tokens (how many of the two were clamped up or down), duration (s), ttft (s, only where
--   completionStartTime differs from endTime), db_now
-- Tables: LiteLLM_SpendLogs (metadata is read only for failed rows, and for rows older than `status`)
-- Checked against: litellm-proxy-extras 0.4.110 (status since 20250508072103); index ("startTime", request_id)
-- Variants: nostatus
SELECT r.*, statement_timestamp() AS db_now
FROM (
  -- include: fragments/spend_logs_row_block
  WHERE (s."startTime", s.request_id) >= (:from_time, :from_id) AND s."startTime" < :to_time
) r
ORDER BY r.start_time, r.request_id
LIMIT :limit
