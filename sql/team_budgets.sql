-- Purpose: per team, current-period spend, budget limit, soft budget and next reset.
-- Binds: :limit (teams: those with a limit first, by share of it used, then by spend)
-- Output labels: team_id, team_alias
-- Output values: spend, max_budget (NULL = unlimited), soft_budget, budget_reset_at
-- Tables: LiteLLM_TeamTable (soft_budget since 20260205144610; see team_budgets_nosoft.sql)
-- Checked against: litellm-proxy-extras 0.4.110
SELECT team_id, team_alias, spend, max_budget, soft_budget, budget_reset_at
FROM "LiteLLM_TeamTable"
ORDER BY (max_budget IS NOT NULL) DESC, spend / NULLIF(max_budget, 0) DESC NULLS LAST, spend DESC NULLS LAST,
         team_id
LIMIT :limit
