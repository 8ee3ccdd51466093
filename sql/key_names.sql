-- Purpose: display names of virtual keys for the api_key_alias label: alias, else LiteLLM's masked key_name.
-- Binds: none
-- Output labels: hashed_api_key, key_alias, key_name
-- Tables: LiteLLM_VerificationToken
-- Checked against: litellm-proxy-extras 0.4.110
SELECT token AS hashed_api_key, key_alias, key_name
FROM "LiteLLM_VerificationToken"
