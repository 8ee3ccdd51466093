-- Purpose: per team, current-period spend, budget limit, soft budget and next reset.
-- Binds: none
-- Output labels: team_id, team_alias
-- Output values: spend, max_budget (NULL = unlimited), soft_budget, budget_reset_at
-- Tables: LiteLLM_TeamTable (soft_budget since 20260205144610; see team_budgets_nosoft.sql)
-- Checked against: litellm-proxy-extras 0.4.110
SELECT team_id, team_alias, spend, max_budget, soft_budget, budget_reset_at
FROM "LiteLLM_TeamTable"
ORDER BY team_id
