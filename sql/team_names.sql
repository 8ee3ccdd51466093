-- Purpose: team aliases for the team_alias label.
-- Binds: none
-- Output labels: team_id, team_alias
-- Tables: LiteLLM_TeamTable
-- Checked against: litellm-proxy-extras 0.4.110
SELECT team_id, team_alias
FROM "LiteLLM_TeamTable"
