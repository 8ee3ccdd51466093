-- Purpose: spend and requests over the dashboard's range per team (alias, else team_id; "(no team)" for keys
--   without one). Ranges up to one day read LiteLLM_SpendLogs through the "startTime" index; longer ranges read
--   LiteLLM_DailyTeamSpend in whole UTC days. The branch not taken is never executed.
-- Binds/macros: $__timeFilter("startTime"), $__unixEpochFrom(), $__unixEpochTo(); multi-value variables $model,
--   $key, $team
-- Output columns: team, requests, spend (USD)
-- Tables: LiteLLM_SpendLogs ("startTime", spend, model_group, api_key, team_id), LiteLLM_DailyTeamSpend (date,
--   spend, api_requests, model_group, api_key, team_id), LiteLLM_TeamTable (team_id, team_alias)
-- Checked against: litellm-proxy-extras 0.4.110; index "LiteLLM_SpendLogs_startTime_idx"
WITH span AS (
    SELECT $__unixEpochTo() - $__unixEpochFrom() <= 86400 AS detail,
           to_char(to_timestamp($__unixEpochFrom()) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS first_day,
           to_char(to_timestamp($__unixEpochTo()) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS last_day
),
usage AS (
    SELECT COALESCE(team_id, '') AS team_id, count(*) AS requests, sum(spend) AS spend
    FROM "LiteLLM_SpendLogs"
    WHERE (SELECT detail FROM span)
      AND $__timeFilter("startTime")
      AND COALESCE(model_group, '') IN ($model)
      AND api_key IN ($key)
      AND COALESCE(team_id, '') IN ($team)
    GROUP BY 1
    UNION ALL
    SELECT COALESCE(team_id, '') AS team_id, sum(api_requests) AS requests, sum(spend) AS spend
    FROM "LiteLLM_DailyTeamSpend"
    WHERE NOT (SELECT detail FROM span)
      AND date BETWEEN (SELECT first_day FROM span) AND (SELECT last_day FROM span)
      AND COALESCE(model_group, '') IN ($model)
      AND api_key IN ($key)
      AND COALESCE(team_id, '') IN ($team)
    GROUP BY 1
)
SELECT COALESCE(NULLIF(t.team_alias, ''), NULLIF(u.team_id, ''), '(no team)') AS team,
       sum(u.requests) AS requests,
       sum(u.spend) AS spend
FROM usage AS u
LEFT JOIN "LiteLLM_TeamTable" AS t ON t.team_id = u.team_id
GROUP BY 1
ORDER BY spend DESC, 1
