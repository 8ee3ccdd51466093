-- Purpose: drill-down: the 100 most recent failed requests in the dashboard's range with their error class
--   (LiteLLM's normalized_error), HTTP status and exception class, model, key and team. Walks the "startTime"
--   index backwards from the range's end and stops after 100 failures. Reads only these three keys of
--   metadata.error_information, never error messages, prompts or responses.
-- Binds/macros: $__timeFilter("startTime"); multi-value variables $model, $key, $team
-- Output columns: time, request_id, model_group, model, key, team, error_class, status_code, exception
-- Tables: LiteLLM_SpendLogs (request_id, "startTime", status, metadata, model_group, model, api_key, team_id),
--   LiteLLM_VerificationToken, LiteLLM_DeletedVerificationToken (token, key_alias, key_name, deleted_at),
--   LiteLLM_TeamTable (team_id, team_alias)
-- Checked against: litellm-proxy-extras 0.4.110 (status since 20250508; older rows: metadata.status);
--   index "LiteLLM_SpendLogs_startTime_idx"
WITH failed AS (
    SELECT request_id, "startTime", model_group, model, api_key, team_id,
           metadata -> 'error_information' AS info
    FROM "LiteLLM_SpendLogs"
    WHERE $__timeFilter("startTime")
      AND COALESCE(status, metadata ->> 'status') = 'failure'
      AND COALESCE(model_group, '') IN ($model)
      AND api_key IN ($key)
      AND COALESCE(team_id, '') IN ($team)
    ORDER BY "startTime" DESC, request_id
    LIMIT 100
)
SELECT f."startTime" AS time,
       f.request_id,
       COALESCE(NULLIF(f.model_group, ''), '(none)') AS model_group,
       f.model,
       COALESCE(NULLIF(v.key_alias, ''), v.key_name, NULLIF(dv.key_alias, ''), dv.key_name,
                NULLIF(left(f.api_key, 12), ''), '(no key)') AS key,
       COALESCE(NULLIF(t.team_alias, ''), NULLIF(f.team_id, ''), '(no team)') AS team,
       COALESCE(NULLIF(f.info ->> 'normalized_error', ''), 'UNCLASSIFIED') AS error_class,
       NULLIF(f.info ->> 'error_code', '') AS status_code,
       NULLIF(f.info ->> 'error_class', '') AS exception
FROM failed AS f
LEFT JOIN "LiteLLM_VerificationToken" AS v ON v.token = f.api_key
LEFT JOIN LATERAL (
    SELECT d.key_alias, d.key_name
    FROM "LiteLLM_DeletedVerificationToken" AS d
    WHERE d.token = f.api_key AND v.token IS NULL
    ORDER BY d.deleted_at DESC
    LIMIT 1
) AS dv ON true
LEFT JOIN "LiteLLM_TeamTable" AS t ON t.team_id = f.team_id
ORDER BY f."startTime" DESC, f.request_id
