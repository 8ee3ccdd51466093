-- Purpose: drill-down: the 100 most expensive requests in the dashboard's range, with model, key, team, tokens
--   and duration. Filters on the indexed "startTime" first; never reads prompts or responses.
-- Binds/macros: $__timeFilter("startTime"); multi-value variables $model, $key, $team
-- Output columns: time, request_id, model_group, model, key, team, spend (USD), input_tokens, output_tokens,
--   duration (seconds)
-- Tables: LiteLLM_SpendLogs (request_id, "startTime", "endTime", spend, prompt_tokens, completion_tokens,
--   model_group, model, api_key, team_id), LiteLLM_VerificationToken, LiteLLM_DeletedVerificationToken (token,
--   key_alias, key_name, deleted_at), LiteLLM_TeamTable (team_id, team_alias)
-- Checked against: litellm-proxy-extras 0.4.110; index "LiteLLM_SpendLogs_startTime_idx"
WITH ranked AS (
    SELECT request_id, "startTime", "endTime", spend, prompt_tokens, completion_tokens, model_group, model,
           api_key, team_id
    FROM "LiteLLM_SpendLogs"
    WHERE $__timeFilter("startTime")
      AND COALESCE(model_group, '') IN ($model)
      AND api_key IN ($key)
      AND COALESCE(team_id, '') IN ($team)
    ORDER BY spend DESC, "startTime" DESC, request_id
    LIMIT 100
)
SELECT s."startTime" AS time,
       s.request_id,
       COALESCE(NULLIF(s.model_group, ''), '(none)') AS model_group,
       s.model,
       COALESCE(NULLIF(v.key_alias, ''), v.key_name, NULLIF(dv.key_alias, ''), dv.key_name,
                NULLIF(left(s.api_key, 12), ''), '(no key)') AS key,
       COALESCE(NULLIF(t.team_alias, ''), NULLIF(s.team_id, ''), '(no team)') AS team,
       s.spend,
       s.prompt_tokens AS input_tokens,
       s.completion_tokens AS output_tokens,
       extract(epoch FROM s."endTime" - s."startTime") AS duration
FROM ranked AS s
LEFT JOIN "LiteLLM_VerificationToken" AS v ON v.token = s.api_key
LEFT JOIN LATERAL (
    SELECT d.key_alias, d.key_name
    FROM "LiteLLM_DeletedVerificationToken" AS d
    WHERE d.token = s.api_key AND v.token IS NULL
    ORDER BY d.deleted_at DESC
    LIMIT 1
) AS dv ON true
LEFT JOIN "LiteLLM_TeamTable" AS t ON t.team_id = s.team_id
ORDER BY s.spend DESC, s."startTime" DESC, s.request_id
