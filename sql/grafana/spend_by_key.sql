-- Purpose: spend and requests over the dashboard's range per virtual key, with its alias (else LiteLLM's masked
--   key name; deleted keys keep the name they had) and team (the ADR's "spend by key"); the 50 largest. Ranges up
--   to one day read LiteLLM_SpendLogs through the "startTime" index; longer ranges read LiteLLM_DailyTeamSpend in
--   whole UTC days. The branch not taken is never executed.
-- Binds/macros: $__timeFilter("startTime"), $__unixEpochFrom(), $__unixEpochTo(); multi-value variables $model,
--   $key, $team
-- Output columns: key, team, requests, spend (USD)
-- Tables: LiteLLM_SpendLogs ("startTime", spend, model_group, api_key, team_id), LiteLLM_DailyTeamSpend (date,
--   spend, api_requests, model_group, api_key, team_id), LiteLLM_VerificationToken, LiteLLM_DeletedVerificationToken
--   (token, key_alias, key_name, deleted_at), LiteLLM_TeamTable (team_id, team_alias)
-- Checked against: litellm-proxy-extras 0.4.110; index "LiteLLM_SpendLogs_startTime_idx"
WITH span AS (
    SELECT $__unixEpochTo() - $__unixEpochFrom() <= 86400 AS detail,
           to_char(to_timestamp($__unixEpochFrom()) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS first_day,
           to_char(to_timestamp($__unixEpochTo()) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS last_day
),
usage AS (
    SELECT api_key, COALESCE(team_id, '') AS team_id, count(*) AS requests, sum(spend) AS spend
    FROM "LiteLLM_SpendLogs"
    WHERE (SELECT detail FROM span)
      AND $__timeFilter("startTime")
      AND COALESCE(model_group, '') IN ($model)
      AND api_key IN ($key)
      AND COALESCE(team_id, '') IN ($team)
    GROUP BY 1, 2
    UNION ALL
    SELECT api_key, COALESCE(team_id, '') AS team_id, sum(api_requests) AS requests, sum(spend) AS spend
    FROM "LiteLLM_DailyTeamSpend"
    WHERE NOT (SELECT detail FROM span)
      AND date BETWEEN (SELECT first_day FROM span) AND (SELECT last_day FROM span)
      AND COALESCE(model_group, '') IN ($model)
      AND api_key IN ($key)
      AND COALESCE(team_id, '') IN ($team)
    GROUP BY 1, 2
),
per_key AS (
    SELECT api_key, team_id, sum(requests) AS requests, sum(spend) AS spend
    FROM usage
    GROUP BY 1, 2
    ORDER BY spend DESC, 1, 2
    LIMIT 50
)
SELECT COALESCE(NULLIF(v.key_alias, ''), v.key_name, NULLIF(dv.key_alias, ''), dv.key_name,
                NULLIF(left(k.api_key, 12), ''), '(no key)') AS key,
       COALESCE(NULLIF(t.team_alias, ''), NULLIF(k.team_id, ''), '(no team)') AS team,
       k.requests,
       k.spend
FROM per_key AS k
LEFT JOIN "LiteLLM_VerificationToken" AS v ON v.token = k.api_key
LEFT JOIN LATERAL (
    SELECT d.key_alias, d.key_name
    FROM "LiteLLM_DeletedVerificationToken" AS d
    WHERE d.token = k.api_key AND v.token IS NULL
    ORDER BY d.deleted_at DESC
    LIMIT 1
) AS dv ON true
LEFT JOIN "LiteLLM_TeamTable" AS t ON t.team_id = k.team_id
ORDER BY k.spend DESC, 1, 2
