-- Purpose: per virtual key, current-period spend and budget, with LiteLLM's BudgetTable fallback
--   (a key's NULL max_budget / soft_budget comes from its budget_id row, as LiteLLM's key auth does; a key
--   without its own budget_reset_at is reset with its budget row, so that row's reset time applies).
--   At most :limit keys: those with a limit first, by share of it used, then by spend (the most at risk).
-- Binds: :limit (keys)
-- Output labels: hashed_api_key, key_alias, key_name, team_id, team_alias
-- Output values: spend, max_budget (NULL = unlimited), soft_budget, budget_reset_at, blocked, expires
-- Tables: LiteLLM_VerificationToken, LiteLLM_BudgetTable, LiteLLM_TeamTable
-- Checked against: litellm-proxy-extras 0.4.110 (columns from the 20250326 baseline)
SELECT v.token AS hashed_api_key,
       v.key_alias AS key_alias,
       v.key_name AS key_name,
       v.team_id AS team_id,
       t.team_alias AS team_alias,
       v.spend AS spend,
       COALESCE(v.max_budget, b.max_budget) AS max_budget,
       b.soft_budget AS soft_budget,
       COALESCE(v.budget_reset_at, b.budget_reset_at) AS budget_reset_at,
       v.blocked AS blocked,
       v.expires AS expires
FROM "LiteLLM_VerificationToken" v
LEFT JOIN "LiteLLM_BudgetTable" b ON b.budget_id = v.budget_id
LEFT JOIN "LiteLLM_TeamTable" t ON t.team_id = v.team_id
ORDER BY (COALESCE(v.max_budget, b.max_budget) IS NOT NULL) DESC,
         v.spend / NULLIF(COALESCE(v.max_budget, b.max_budget), 0) DESC NULLS LAST, v.spend DESC NULLS LAST, v.token
LIMIT :limit
