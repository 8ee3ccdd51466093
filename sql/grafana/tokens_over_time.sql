-- Purpose: input (prompt) and output (completion) tokens over time (the ADR's "tokens" panel). Ranges up to one
--   day read LiteLLM_SpendLogs in $__interval buckets through the "startTime" index; longer ranges read the
--   LiteLLM_DailyTeamSpend rollup in whole UTC days (the branch not taken is never executed).
-- Binds/macros: $__timeFilter("startTime"), $__timeGroupAlias("startTime", $__interval), $__unixEpochFrom(),
--   $__unixEpochTo(); multi-value variables $model, $key, $team
-- Output columns: time (Unix seconds), input_tokens, output_tokens
-- Tables: LiteLLM_SpendLogs ("startTime", prompt_tokens, completion_tokens, model_group, api_key, team_id),
--   LiteLLM_DailyTeamSpend (date, prompt_tokens, completion_tokens, model_group, api_key, team_id)
-- Checked against: litellm-proxy-extras 0.4.110; index "LiteLLM_SpendLogs_startTime_idx"
WITH span AS (
    SELECT $__unixEpochTo() - $__unixEpochFrom() <= 86400 AS detail,
           to_char(to_timestamp($__unixEpochFrom()) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS first_day,
           to_char(to_timestamp($__unixEpochTo()) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS last_day
)
SELECT $__timeGroupAlias("startTime", $__interval),
       sum(prompt_tokens) AS input_tokens,
       sum(completion_tokens) AS output_tokens
FROM "LiteLLM_SpendLogs"
WHERE (SELECT detail FROM span)
  AND $__timeFilter("startTime")
  AND COALESCE(model_group, '') IN ($model)
  AND api_key IN ($key)
  AND COALESCE(team_id, '') IN ($team)
GROUP BY 1
UNION ALL
SELECT extract(epoch FROM CAST(date AS timestamp)) AS "time",
       sum(prompt_tokens) AS input_tokens,
       sum(completion_tokens) AS output_tokens
FROM "LiteLLM_DailyTeamSpend"
WHERE NOT (SELECT detail FROM span)
  AND date BETWEEN (SELECT first_day FROM span) AND (SELECT last_day FROM span)
  AND COALESCE(model_group, '') IN ($model)
  AND api_key IN ($key)
  AND COALESCE(team_id, '') IN ($team)
GROUP BY 1
ORDER BY 1
