-- Purpose: options of the Spend ledger dashboard's `team` variable: every team (current teams and teams seen in
--   the daily rollup), shown by alias, else team_id; deleted teams are marked "(deleted)"; '' is "(no team)".
-- Binds/macros: none (a dashboard variable query, run when the dashboard loads)
-- Output columns: __text (team alias or id), __value (team_id, '' for keys without a team)
-- Tables: LiteLLM_TeamTable (team_id, team_alias), LiteLLM_DeletedTeamTable (team_id, team_alias),
--   LiteLLM_DailyTeamSpend (team_id)
-- Checked against: litellm-proxy-extras 0.4.110
WITH names AS (
    SELECT team_id, COALESCE(NULLIF(team_alias, ''), team_id) AS name
    FROM "LiteLLM_TeamTable"
    UNION ALL
    SELECT team_id, COALESCE(NULLIF(team_alias, ''), team_id) || ' (deleted)' AS name
    FROM "LiteLLM_DeletedTeamTable"
    WHERE team_id NOT IN (SELECT team_id FROM "LiteLLM_TeamTable")
)
SELECT COALESCE(min(n.name), CASE WHEN t.team_id = '' THEN '(no team)' ELSE t.team_id END) AS __text,
       t.team_id AS __value
FROM (SELECT team_id FROM "LiteLLM_TeamTable"
      UNION
      SELECT COALESCE(team_id, '') FROM "LiteLLM_DailyTeamSpend") AS t
LEFT JOIN names AS n ON n.team_id = t.team_id
GROUP BY t.team_id
ORDER BY 1, 2
