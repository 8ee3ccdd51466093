-- Purpose: session attribution per key over the window (and filters): rows with a session id, and rows whose
--   session id is reusable, i.e. appears on at least two rows (LiteLLM fills a fresh random id per request when
--   the client sends none, so an id used once carries no session); plus each key's share of the distinct
--   sessions (sum of 1/rows-of-the-session, so the shares add up to the distinct sessions overall).
-- Binds: :start, :end (timestamps, UTC), :model_group, :key_alias, :team_alias (text, NULL = no filter)
-- Output labels: api_key
-- Output values: rows_with_session, spend_with_session, rows_reusable, spend_reusable, sessions (fractional
--   share of distinct ids), reusable_sessions (same, ids on two rows or more)
-- Tables: LiteLLM_SpendLogs (session_id since 20250425182129); LiteLLM_VerificationToken, LiteLLM_TeamTable
--   (filters only)
-- Checked against: litellm-proxy-extras 0.4.110; one sort of the rows that carry a session id
SELECT x.api_key,
       count(*) AS rows_with_session,
       sum(x.spend) AS spend_with_session,
       count(*) FILTER (WHERE x.n >= 2) AS rows_reusable,
       COALESCE(sum(x.spend) FILTER (WHERE x.n >= 2), 0) AS spend_reusable,
       sum(1.0::float8 / x.n) AS sessions,
       COALESCE(sum(1.0::float8 / x.n) FILTER (WHERE x.n >= 2), 0) AS reusable_sessions
FROM (
  SELECT COALESCE(s.api_key, '') AS api_key,
         CASE WHEN s.spend >= 0 AND s.spend < 'Infinity' THEN s.spend ELSE 0 END AS spend,
         count(*) OVER (PARTITION BY s.session_id) AS n
  FROM "LiteLLM_SpendLogs" s
  WHERE s."startTime" >= :start AND s."startTime" < :end
    AND (CAST(:model_group AS text) IS NULL OR s.model_group = CAST(:model_group AS text))
    AND (CAST(:key_alias AS text) IS NULL OR s.api_key IN (
          SELECT v.token FROM "LiteLLM_VerificationToken" v
          WHERE CAST(:key_alias AS text) IN (v.key_alias, v.key_name, v.token)))
    AND (CAST(:team_alias AS text) IS NULL OR s.team_id IN (
          SELECT t.team_id FROM "LiteLLM_TeamTable" t
          WHERE CAST(:team_alias AS text) IN (t.team_alias, t.team_id)))
    AND s.session_id <> ''
) x
GROUP BY x.api_key
