-- Purpose: names deleted keys had, so their spend keeps its api_key_alias (run when the table exists).
-- Binds: none
-- Output labels: hashed_api_key, key_alias, key_name
-- Tables: LiteLLM_DeletedVerificationToken
-- Checked against: litellm-proxy-extras 0.4.110
SELECT token AS hashed_api_key, key_alias, key_name
FROM "LiteLLM_DeletedVerificationToken"
