-- Purpose: spend and requests over the dashboard's range by model group, deployment model and provider (the
--   ADR's "spend by model"). Ranges up to one day read LiteLLM_SpendLogs through the "startTime" index (requests =
--   rows, billed retries included); longer ranges read LiteLLM_DailyTeamSpend in whole UTC days (requests =
--   api_requests, caller requests only). The branch not taken is never executed.
-- Binds/macros: $__timeFilter("startTime"), $__unixEpochFrom(), $__unixEpochTo(); multi-value variables $model,
--   $key, $team
-- Output columns: model_group, model, provider, requests, spend (USD)
-- Tables: LiteLLM_SpendLogs ("startTime", spend, model_group, model, custom_llm_provider, api_key, team_id),
--   LiteLLM_DailyTeamSpend (date, spend, api_requests, model_group, model, custom_llm_provider, api_key, team_id)
-- Checked against: litellm-proxy-extras 0.4.110; index "LiteLLM_SpendLogs_startTime_idx"
WITH span AS (
    SELECT $__unixEpochTo() - $__unixEpochFrom() <= 86400 AS detail,
           to_char(to_timestamp($__unixEpochFrom()) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS first_day,
           to_char(to_timestamp($__unixEpochTo()) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS last_day
),
usage AS (
    SELECT model_group, model, custom_llm_provider, count(*) AS requests, sum(spend) AS spend
    FROM "LiteLLM_SpendLogs"
    WHERE (SELECT detail FROM span)
      AND $__timeFilter("startTime")
      AND COALESCE(model_group, '') IN ($model)
      AND api_key IN ($key)
      AND COALESCE(team_id, '') IN ($team)
    GROUP BY 1, 2, 3
    UNION ALL
    SELECT model_group, model, custom_llm_provider, sum(api_requests) AS requests, sum(spend) AS spend
    FROM "LiteLLM_DailyTeamSpend"
    WHERE NOT (SELECT detail FROM span)
      AND date BETWEEN (SELECT first_day FROM span) AND (SELECT last_day FROM span)
      AND COALESCE(model_group, '') IN ($model)
      AND api_key IN ($key)
      AND COALESCE(team_id, '') IN ($team)
    GROUP BY 1, 2, 3
)
SELECT COALESCE(NULLIF(model_group, ''), '(none)') AS model_group,
       COALESCE(NULLIF(model, ''), '(unknown)') AS model,
       COALESCE(NULLIF(custom_llm_provider, ''), '(unknown)') AS provider,
       sum(requests) AS requests,
       sum(spend) AS spend
FROM usage
GROUP BY 1, 2, 3
ORDER BY spend DESC, 1, 2, 3
