-- Purpose: per end user (customer), current-period spend and the limits of its LiteLLM_BudgetTable row;
--   end users with a budget first, then by spend, at most :limit (the label is bounded).
-- Binds: :limit
-- Output labels: user_id (the end user id), alias
-- Output values: spend, max_budget (NULL = unlimited), budget_reset_at
-- Tables: LiteLLM_EndUserTable, LiteLLM_BudgetTable
-- Checked against: litellm-proxy-extras 0.4.110
SELECT e.user_id, e.alias, e.spend, b.max_budget, b.budget_reset_at
FROM "LiteLLM_EndUserTable" e
LEFT JOIN "LiteLLM_BudgetTable" b ON b.budget_id = e.budget_id
ORDER BY (b.max_budget IS NOT NULL) DESC, e.spend DESC, e.user_id
LIMIT :limit
