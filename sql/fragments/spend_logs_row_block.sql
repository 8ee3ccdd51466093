  -- row block (sql/fragments/spend_logs_row_block.sql): one SpendLogs row as the exporter counts it
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
    SELECT CASE WHEN COALESCE(s.status, s.metadata->>'status') = 'failure' THEN 'failure' ELSE 'success' END
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
