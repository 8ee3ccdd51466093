-- Purpose: per team, current-period spend, budget limit and next reset (LiteLLM before soft_budget).
-- Binds: :limit (teams: those with a limit first, by share of it used, then by spend)
-- Output labels: team_id, team_alias
-- Output values: spend, max_budget (NULL = unlimited), soft_budget (always NULL), budget_reset_at
-- Tables: LiteLLM_TeamTable
-- Checked against: litellm-proxy-extras 0.4.110 migrations before 20260205144610
SELECT team_id, team_alias, spend, max_budget, NULL::float8 AS soft_budget, budget_reset_at
FROM "LiteLLM_TeamTable"
ORDER BY (max_budget IS NOT NULL) DESC, spend / NULLIF(max_budget, 0) DESC NULLS LAST, spend DESC NULLS LAST,
         team_id
LIMIT :limit
