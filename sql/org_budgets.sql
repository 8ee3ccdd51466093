-- Purpose: per organization, current-period spend and the limits of its LiteLLM_BudgetTable row.
-- Binds: none
-- Output labels: organization_id, organization_alias
-- Output values: spend, max_budget (NULL = unlimited), budget_reset_at
-- Tables: LiteLLM_OrganizationTable, LiteLLM_BudgetTable
-- Checked against: litellm-proxy-extras 0.4.110
SELECT o.organization_id, o.organization_alias, o.spend, b.max_budget, b.budget_reset_at
FROM "LiteLLM_OrganizationTable" o
LEFT JOIN "LiteLLM_BudgetTable" b ON b.budget_id = o.budget_id
ORDER BY o.organization_id
