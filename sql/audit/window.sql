-- Purpose: the audit window's real extent: first and newest startTime of the SpendLogs rows in [:start, :end)
--   that pass the audit's filters (the same as cube.sql), so --last and the first/last request follow the
--   filtered rows; without filters two reads at the ends of the "startTime" index. And the database clock.
-- Binds: :start, :end (timestamps, UTC), :model_group, :key_alias, :team_alias (text, NULL = no filter; a key
--   matches by alias, masked name or hash, a team by alias or id)
-- Output values: first_start, last_start (NULL when empty), db_now (UTC)
-- Tables: LiteLLM_SpendLogs; LiteLLM_VerificationToken, LiteLLM_TeamTable (filters only)
-- Checked against: litellm-proxy-extras 0.4.110; index "LiteLLM_SpendLogs_startTime_idx"
SELECT min(s."startTime") AS first_start,
       max(s."startTime") AS last_start,
       statement_timestamp() AT TIME ZONE 'UTC' AS db_now
FROM "LiteLLM_SpendLogs" s
WHERE s."startTime" >= :start AND s."startTime" < :end
  AND (CAST(:model_group AS text) IS NULL OR s.model_group = CAST(:model_group AS text))
  AND (CAST(:key_alias AS text) IS NULL OR s.api_key IN (
        SELECT v.token FROM "LiteLLM_VerificationToken" v
        WHERE CAST(:key_alias AS text) IN (v.key_alias, v.key_name, v.token)))
  AND (CAST(:team_alias AS text) IS NULL OR s.team_id IN (
        SELECT t.team_id FROM "LiteLLM_TeamTable" t
        WHERE CAST(:team_alias AS text) IN (t.team_alias, t.team_id)))
