-- Purpose: per internal user, current-period spend, personal budget limit and next reset; users with a
--   budget first, then by spend, at most :limit users (the label is bounded).
-- Binds: :limit
-- Output labels: user_id
-- Output values: spend, max_budget (NULL = unlimited), budget_reset_at
-- Tables: LiteLLM_UserTable (never password or email)
-- Checked against: litellm-proxy-extras 0.4.110
SELECT user_id, spend, max_budget, budget_reset_at
FROM "LiteLLM_UserTable"
ORDER BY (max_budget IS NOT NULL) DESC, spend DESC, user_id
LIMIT :limit
