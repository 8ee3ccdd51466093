-- Purpose: aliases deleted teams had, so their spend keeps its team_alias (run when the table exists).
-- Binds: none
-- Output labels: team_id, team_alias
-- Tables: LiteLLM_DeletedTeamTable
-- Checked against: litellm-proxy-extras 0.4.110
SELECT team_id, team_alias
FROM "LiteLLM_DeletedTeamTable"
