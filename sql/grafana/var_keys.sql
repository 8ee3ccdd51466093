-- Purpose: options of the Spend ledger dashboard's `key` variable: every virtual key (current keys and keys seen
--   in the daily rollup), shown by alias, else LiteLLM's masked key name; deleted keys are marked "(deleted)".
--   The value is the hashed key, so panels filter on the indexed api_key / token columns.
-- Binds/macros: none (a dashboard variable query, run when the dashboard loads)
-- Output columns: __text (key alias or masked name), __value (hashed api_key; '' for requests without a key)
-- Tables: LiteLLM_VerificationToken (token, key_alias, key_name), LiteLLM_DeletedVerificationToken (token,
--   key_alias, key_name), LiteLLM_DailyTeamSpend (api_key)
-- Checked against: litellm-proxy-extras 0.4.110
WITH names AS (
    SELECT token, COALESCE(NULLIF(key_alias, ''), key_name) AS name
    FROM "LiteLLM_VerificationToken"
    UNION ALL
    SELECT token, COALESCE(NULLIF(key_alias, ''), key_name) || ' (deleted)' AS name
    FROM "LiteLLM_DeletedVerificationToken"
    WHERE token NOT IN (SELECT token FROM "LiteLLM_VerificationToken")
)
SELECT COALESCE(min(n.name), CASE WHEN k.api_key = '' THEN '(no key)' ELSE 'unknown ' || left(k.api_key, 12) END)
           AS __text,
       k.api_key AS __value
FROM (SELECT token AS api_key FROM "LiteLLM_VerificationToken"
      UNION
      SELECT api_key FROM "LiteLLM_DailyTeamSpend") AS k
LEFT JOIN names AS n ON n.token = k.api_key
GROUP BY k.api_key
ORDER BY 1, 2
