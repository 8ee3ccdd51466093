-- Purpose: options of the Spend ledger dashboard's `model` variable: every model group (the public model name
--   clients ask for) in the daily rollup; '' (shown as "(none)") for requests not routed to a model group.
-- Binds/macros: none (a dashboard variable query, run when the dashboard loads)
-- Output columns: __text (shown in the picker), __value (model group, matched with IN ($model))
-- Tables: LiteLLM_DailyTeamSpend (model_group)
-- Checked against: litellm-proxy-extras 0.4.110
SELECT DISTINCT COALESCE(NULLIF(model_group, ''), '(none)') AS __text,
       COALESCE(model_group, '') AS __value
FROM "LiteLLM_DailyTeamSpend"
ORDER BY 1
