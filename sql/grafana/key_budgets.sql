-- Purpose: remaining budget per virtual key (the ADR's "remaining budget per key"): current-period spend, limit
--   (the key's max_budget, else its LiteLLM_BudgetTable row's, as LiteLLM's key auth does), remaining, share
--   used and next reset; keys with a limit only, most used first. Not time-filtered: budgets are current state.
-- Binds/macros: multi-value variables $key, $team
-- Output columns: key, team, spend (USD), max_budget (USD), remaining (USD), used (fraction), resets_at
-- Tables: LiteLLM_VerificationToken (token, key_alias, key_name, team_id, spend, max_budget, budget_id,
--   budget_reset_at), LiteLLM_BudgetTable (budget_id, max_budget), LiteLLM_TeamTable (team_id, team_alias)
-- Checked against: litellm-proxy-extras 0.4.110
WITH keys AS (
    SELECT COALESCE(NULLIF(v.key_alias, ''), v.key_name) AS key,
           COALESCE(NULLIF(t.team_alias, ''), NULLIF(v.team_id, ''), '(no team)') AS team,
           v.spend,
           COALESCE(v.max_budget, b.max_budget) AS max_budget,
           v.budget_reset_at AS resets_at
    FROM "LiteLLM_VerificationToken" AS v
    LEFT JOIN "LiteLLM_BudgetTable" AS b ON b.budget_id = v.budget_id
    LEFT JOIN "LiteLLM_TeamTable" AS t ON t.team_id = v.team_id
    WHERE v.token IN ($key)
      AND COALESCE(v.team_id, '') IN ($team)
)
SELECT key,
       team,
       spend,
       max_budget,
       max_budget - spend AS remaining,
       CASE WHEN max_budget > 0 THEN spend / max_budget END AS used,
       resets_at
FROM keys
WHERE max_budget IS NOT NULL
ORDER BY used DESC NULLS LAST, key, team
