-- Purpose: the audit's main aggregate, in one pass over the SpendLogs rows of the window (and filters), grouped
--   two ways at once (GROUPING SETS): 'detail' by model group, model, provider, key, team, status and error
--   fields, and 'timeline' by time bucket and model group (spend over time); the scan aggregates by all of
--   them (partial aggregation runs in parallel workers), the two sets are rolled up after. A failed
--   row's error_information is read once (jsonb_to_record); context-window messages are grouped as they are
--   and parsed once per distinct message, after the scan, into the requested output budget, the input and the
--   limit the provider reported. Prompts and responses are never read.
-- Binds: :start, :end (timestamps, UTC: "startTime" in [start, end)), :model_group, :key_alias, :team_alias
--   (text, NULL = no filter; a key matches by alias, masked name or hash, a team by alias or id),
--   :bucket_seconds (width of the timeline buckets)
-- Output labels: grouping ('detail' or 'timeline'), model_group, model, provider, api_key, team_id, failed,
--   normalized_error, error_code, error_class, error_hint, ctx_kind ('output_budget', 'prompt_too_long',
--   'unknown'; NULL when not a context-window failure), ctx_output (requested output tokens), bucket (Unix s)
-- Output values: requests, spend, input_tokens, output_tokens, no_end_user_rows, no_end_user_spend,
--   no_tags_rows, no_tags_spend, priced_rows, unpriced_rows, unpriced_tokens, ctx_input_max, ctx_limit_max,
--   first_start, last_start, max_duration, sample_error
-- Tables: LiteLLM_SpendLogs; LiteLLM_VerificationToken, LiteLLM_TeamTable (filters only)
-- Checked against: litellm-proxy-extras 0.4.110 (status since 20250508072103; before it, the nostatus variant)
-- Variants: nostatus
WITH g AS (
  SELECT r.model_group, r.model, r.provider, r.api_key, r.team_id, r.failed, r.normalized_error, r.error_code,
         r.error_class, r.error_hint, r.ctx_message, r.bucket,
         count(*) AS requests,
         sum(r.spend) AS spend,
         sum(r.input_tokens) AS input_tokens,
         sum(r.output_tokens) AS output_tokens,
         count(*) FILTER (WHERE r.no_end_user) AS no_end_user_rows,
         COALESCE(sum(r.spend) FILTER (WHERE r.no_end_user), 0) AS no_end_user_spend,
         count(*) FILTER (WHERE r.no_tags) AS no_tags_rows,
         COALESCE(sum(r.spend) FILTER (WHERE r.no_tags), 0) AS no_tags_spend,
         count(*) FILTER (WHERE r.spend > 0) AS priced_rows,
         count(*) FILTER (WHERE r.unpriced) AS unpriced_rows,
         COALESCE(sum(r.input_tokens + r.output_tokens) FILTER (WHERE r.unpriced), 0) AS unpriced_tokens,
         min(r.start_time) AS first_start,
         max(r.start_time) AS last_start,
         max(r.duration) AS max_duration,
         min(r.message) AS sample_error
  FROM (
    -- row block (cube_nostatus: the same, the status from metadata)
    SELECT COALESCE(s.model_group, '') AS model_group,
           COALESCE(s.model, '') AS model,
           COALESCE(s.custom_llm_provider, '') AS provider,
           COALESCE(s.api_key, '') AS api_key,
           COALESCE(s.team_id, '') AS team_id,
           st.failed,
           s."startTime" AS start_time,
           floor(date_part('epoch', s."startTime") / :bucket_seconds)::bigint * :bucket_seconds AS bucket,
           CASE WHEN s.spend >= 0 AND s.spend < 'Infinity' THEN s.spend ELSE 0 END AS spend,
           greatest(s.prompt_tokens, 0) AS input_tokens,
           greatest(s.completion_tokens, 0) AS output_tokens,
           date_part('epoch', s."endTime" - s."startTime") AS duration,
           COALESCE(s.end_user, '') = '' AS no_end_user,
           NOT COALESCE(jsonb_typeof(s.request_tags) = 'array'
                        AND jsonb_path_exists(s.request_tags, '$[*] ? (!(@ starts with "User-Agent: "))'), false)
             AS no_tags,
           (NOT st.failed AND s.spend = 0 AND s.prompt_tokens + s.completion_tokens > 0
            AND COALESCE(s.cache_hit, '') <> 'True') AS unpriced,
           left(x.normalized_error, 64) AS normalized_error,
           left(x.error_code, 8) AS error_code,
           left(x.error_class, 64) AS error_class,
           CASE WHEN x.normalized_error IS NOT NULL THEN NULL
                WHEN x.error_message ~* 'exceeded.*budget|budget has been exceeded|max budget' THEN 'budget'
                WHEN x.error_message ~* 'context window|context length|(prompt|input) is too long' THEN 'context'
                WHEN x.error_message ~* 'connection error|connection reset|peer closed' THEN 'connection'
                WHEN x.error_message ~* 'timed? ?out' THEN 'timeout' END AS error_hint,
           left(x.error_message, 2048) AS message,
           CASE WHEN x.normalized_error = '400_CONTEXT_WINDOW_EXCEEDED'
                  OR x.error_class = 'ContextWindowExceededError'
                  OR (x.normalized_error IS NULL
                      AND x.error_message ~* 'context window|context length|(prompt|input) is too long')
                THEN lower(left(x.error_message, 2048)) END AS ctx_message
    FROM "LiteLLM_SpendLogs" s
    CROSS JOIN LATERAL (SELECT COALESCE(COALESCE(s.status, s.metadata->>'status') = 'failure', false) AS failed) st
    LEFT JOIN LATERAL jsonb_to_record(
      CASE WHEN st.failed AND jsonb_typeof(s.metadata->'error_information') = 'object'
           THEN s.metadata->'error_information' END)
      AS x(normalized_error text, error_code text, error_class text, error_message text) ON true
    WHERE s."startTime" >= :start AND s."startTime" < :end
      AND (CAST(:model_group AS text) IS NULL OR s.model_group = CAST(:model_group AS text))
      AND (CAST(:key_alias AS text) IS NULL OR s.api_key IN (
            SELECT v.token FROM "LiteLLM_VerificationToken" v
            WHERE CAST(:key_alias AS text) IN (v.key_alias, v.key_name, v.token)))
      AND (CAST(:team_alias AS text) IS NULL OR s.team_id IN (
            SELECT t.team_id FROM "LiteLLM_TeamTable" t
            WHERE CAST(:team_alias AS text) IN (t.team_alias, t.team_id)))
    -- end row block
  ) r
  GROUP BY r.model_group, r.model, r.provider, r.api_key, r.team_id, r.failed, r.normalized_error, r.error_code,
           r.error_class, r.error_hint, r.ctx_message, r.bucket
)
SELECT CASE WHEN GROUPING(g.bucket) = 0 THEN 'timeline' ELSE 'detail' END AS grouping,
       g.model_group, g.model, g.provider, g.api_key, g.team_id, g.failed, g.normalized_error, g.error_code,
       g.error_class, g.error_hint, p.ctx_kind, p.ctx_output, g.bucket,
       sum(g.requests) AS requests, sum(g.spend) AS spend, sum(g.input_tokens) AS input_tokens,
       sum(g.output_tokens) AS output_tokens, sum(g.no_end_user_rows) AS no_end_user_rows,
       sum(g.no_end_user_spend) AS no_end_user_spend, sum(g.no_tags_rows) AS no_tags_rows,
       sum(g.no_tags_spend) AS no_tags_spend, sum(g.priced_rows) AS priced_rows,
       sum(g.unpriced_rows) AS unpriced_rows, sum(g.unpriced_tokens) AS unpriced_tokens,
       max(p.ctx_input) AS ctx_input_max, max(p.ctx_limit) AS ctx_limit_max,
       min(g.first_start) AS first_start, max(g.last_start) AS last_start, max(g.max_duration) AS max_duration,
       min(g.sample_error) AS sample_error
FROM g
LEFT JOIN LATERAL (
  -- the provider's own numbers: OpenAI/OpenRouter/vLLM "you requested about N tokens (I of text input, O in
  -- the output)", "max_tokens is too large: O", Anthropic "input length and `max_tokens` exceed context limit:
  -- I + O > L", "prompt is too long: I tokens > L maximum", Gemini "input token count (I) exceeds ... (L)"
  SELECT CASE WHEN n.o IS NOT NULL AND (n.i IS NULL OR n.l IS NULL OR n.i < n.l) THEN 'output_budget'
              WHEN n.i IS NOT NULL OR g.ctx_message ~ 'prompt is too long|messages resulted in|input is too long'
                THEN 'prompt_too_long'
              ELSE 'unknown' END AS ctx_kind,
         n.o AS ctx_output, n.i AS ctx_input, n.l AS ctx_limit
  FROM (SELECT least(COALESCE(substring(m from '([0-9]+) (of text input|in the messages|input tokens)'),
                              substring(m from 'exceed context limit: ([0-9]+) \+'),
                              substring(m from 'prompt is too long: ([0-9]+) tokens'),
                              substring(m from 'messages resulted in ([0-9]+) tokens'),
                              substring(m from 'input token count[^0-9]*([0-9]+)'))::numeric, 1e15)::bigint AS i,
               least(COALESCE(substring(m from '([0-9]+) in the (output|completion)'),
                              substring(m from 'exceed context limit: [0-9]+ \+ ([0-9]+)'),
                              substring(m from 'max_tokens[a-z ]*: ?([0-9]+)'))::numeric, 1e15)::bigint AS o,
               least(COALESCE(substring(m from 'context length is ([0-9]+)'),
                              substring(m from 'exceed context limit: [0-9]+ \+ [0-9]+ > ([0-9]+)'),
                              substring(m from 'prompt is too long: [0-9]+ tokens > ([0-9]+)'),
                              substring(m from 'maximum number of tokens allowed \(([0-9]+)\)'),
                              substring(m from 'supports at most ([0-9]+)'))::numeric, 1e15)::bigint AS l
        FROM (SELECT g.ctx_message AS m) q) n
  WHERE g.ctx_message IS NOT NULL) p ON true
GROUP BY GROUPING SETS (
  (g.model_group, g.model, g.provider, g.api_key, g.team_id, g.failed, g.normalized_error, g.error_code,
   g.error_class, g.error_hint, p.ctx_kind, p.ctx_output),
  (g.bucket, g.model_group))
