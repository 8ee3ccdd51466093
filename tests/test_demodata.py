"""exporter.local.demodata against a real PostgreSQL with LiteLLM's schema: content, consistency, determinism,
append."""

from __future__ import annotations

import itertools
import os
from datetime import datetime, timedelta

import psycopg
import pytest

from exporter.local import demodata, litellm_migrations

END = datetime(2026, 11, 22, 12, 0)
ROWS = 5000
_names = itertools.count()
NORMALIZED = {
    "429_RATE_LIMIT_EXCEEDED",
    "429_BUDGET_EXCEEDED",
    "429_NO_HEALTHY_DEPLOYMENTS",
    "401_AUTHENTICATION_FAILED",
    "403_MODEL_ACCESS_DENIED",
    "403_PERMISSION_DENIED",
    "400_MISSING_REQUIRED_PARAMETER",
    "400_INVALID_PARAMETER_VALUE",
    "400_CONTEXT_WINDOW_EXCEEDED",
    "400_CONTENT_POLICY_VIOLATION",
    "400_INVALID_REQUEST",
    "404_RESOURCE_NOT_FOUND",
    "408_UPSTREAM_TIMEOUT",
    "500_PROVIDER_CONNECTION_ERROR",
    "503_PROVIDER_OVERLOADED",
    "500_PROVIDER_INTERNAL_ERROR",
    "500_ROUTER_NO_FALLBACK",
    "500_ROUTER_FALLBACK_FAILURE",
    "500_UPSTREAM_PASSTHROUGH",
    "500_UNSUPPORTED_OPERATION",
    "500_INTERNAL_STATE_ERROR",
    "UNCLASSIFIED",
}
RETRY = "COALESCE((metadata->>'billed_retry_attempt')::boolean, false)"


class DB:
    def __init__(self, conninfo: str):
        self.conninfo = conninfo

    def rows(self, q: str, params=None) -> list[tuple]:
        with psycopg.connect(self.conninfo) as c:
            return c.execute(q, params).fetchall()

    def one(self, q: str, params=None):
        return self.rows(q, params)[0][0]


@pytest.fixture(scope="module")
def fresh(pg_server):
    """Factory for throwaway databases with all of LiteLLM's migrations (dropped at module end)."""
    made = []

    def make(upto: str | None = None) -> DB:
        name = f"demodata_{os.getpid()}_{next(_names)}"
        with psycopg.connect(pg_server.admin_conninfo(), autocommit=True) as c:
            c.execute(f"CREATE DATABASE {name}")
        litellm_migrations.apply(pg_server, name, litellm_migrations.select(upto=upto) if upto else None)
        made.append(name)
        return DB(pg_server.admin_conninfo(name))

    yield make
    with psycopg.connect(pg_server.admin_conninfo(), autocommit=True) as c:
        for name in made:
            c.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="module")
def loaded(fresh) -> DB:
    db = fresh()
    stats = demodata.load(db.conninfo, rows=ROWS, seed=42, end=END)
    assert stats.spend_logs_rows == ROWS and stats.rows_per_second > 0
    return db


# --- SpendLogs content ------------------------------------------------------------------------------------------


def test_row_count_and_window(loaded):
    n, lo, last_start, hi, late_created = loaded.rows(
        'SELECT count(*), min("startTime"), max("startTime"), max("endTime"), '
        'count(*) FILTER (WHERE created_at < "endTime") FROM "LiteLLM_SpendLogs"'
    )[0]
    assert n == ROWS
    assert END - timedelta(days=30) <= lo < END - timedelta(days=29) and hi <= END
    assert last_start > END - timedelta(hours=1)  # traffic right up to `end`: "now" in the demo
    assert late_created == 0  # a row is written after it ended
    assert (
        loaded.one("""SELECT count(*) FROM "LiteLLM_SpendLogs" WHERE messages <> '{}' OR response <> '{}'
                         OR proxy_server_request <> '{}'""")
        == 0
    )


def test_failures_carry_error_information(loaded):
    rows = loaded.rows(f"""
        SELECT metadata->>'status', metadata->'error_information', spend, completion_tokens, {RETRY}
        FROM "LiteLLM_SpendLogs" WHERE status = 'failure'""")
    assert len(rows) > ROWS * 0.03
    for md_status, info, spend, completion, retry in rows:
        assert md_status == "failure"
        for field in ("error_code", "error_class", "error_message", "llm_provider", "normalized_error"):
            assert info.get(field) is not None, (field, info)
        assert info["error_code"].isdigit() and info["normalized_error"] in NORMALIZED
        if not retry:
            assert spend == 0 and completion == 0
    seen = {info["normalized_error"] for _, info, *_ in rows}
    assert {
        "429_RATE_LIMIT_EXCEEDED",
        "429_BUDGET_EXCEEDED",
        "401_AUTHENTICATION_FAILED",
        "400_CONTEXT_WINDOW_EXCEEDED",
        "400_INVALID_REQUEST",
        "500_PROVIDER_CONNECTION_ERROR",
        "503_PROVIDER_OVERLOADED",
        "408_UPSTREAM_TIMEOUT",
    } <= seen
    assert (
        loaded.one("""SELECT count(*) FROM "LiteLLM_SpendLogs" WHERE status = 'success' AND
                         (metadata->'error_information' <> 'null'::jsonb OR metadata->>'status' IS NOT NULL)""")
        == 0
    )


def test_providers_models_and_always_failing_group(loaded):
    providers = {r[0] for r in loaded.rows('SELECT DISTINCT custom_llm_provider FROM "LiteLLM_SpendLogs"')}
    assert {"openai", "azure", "anthropic", "bedrock", "gemini", "vertex_ai"} <= providers
    groups = loaded.rows("""SELECT model_group, count(*), count(*) FILTER (WHERE status = 'failure'),
                            count(DISTINCT model), min(model_id), min(api_base)
                            FROM "LiteLLM_SpendLogs" WHERE model_group <> '' GROUP BY 1""")
    assert len(groups) >= 8
    always = [g for g in groups if g[1] == g[2]]
    assert [g[0] for g in always] == ["openrouter-free"] and always[0][1] >= 10
    assert all(g[4] and g[5].startswith("https://") for g in groups)
    assert any(g[3] > 1 for g in groups)  # a group served by several deployments


def test_context_window_failures(loaded):
    rows = loaded.rows("""SELECT prompt_tokens, metadata->'error_information'->>'error_message',
                          metadata->'error_information'->>'error_code'
                          FROM "LiteLLM_SpendLogs"
                          WHERE metadata->'error_information'->>'error_class' = 'ContextWindowExceededError'""")
    absurd = [r for r in rows if "in the output" in r[1]]
    assert len(absurd) >= 10 and all(r[2] == "400" for r in rows)
    with720 = [r for r in absurd if "720000 in the output" in r[1]]
    assert len(with720) > len(absurd) / 2
    for prompt, msg, _ in with720:
        assert f"you requested about {prompt + 720000} tokens ({prompt} of text input, 720000 in the output)" in msg
        assert "maximum context length is 262144 tokens" in msg
    assert len({r[0] for r in with720}) > 3  # input tokens vary
    too_long = [r for r in rows if "prompt is too long" in r[1]]
    assert too_long and all(f"prompt is too long: {p} tokens" in m for p, m, _ in too_long)


def test_timings(loaded):
    (bad, streaming, plain, stalls, tail, gateway_lo, gateway_hi, dur_mismatch) = loaded.rows("""
        SELECT count(*) FILTER (WHERE NOT ("startTime" <= "completionStartTime"
                                           AND "completionStartTime" <= "endTime")),
               count(*) FILTER (WHERE "completionStartTime" > "startTime" AND "completionStartTime" < "endTime"),
               count(*) FILTER (WHERE "completionStartTime" = "endTime"),
               count(*) FILTER (WHERE "endTime" - "startTime" > interval '1 minute'),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM "endTime" - "startTime")),
               (min(extract(epoch FROM "endTime" - "startTime")) FILTER (WHERE metadata->'error_information'
                   ->>'error_class' IN ('ProxyRateLimitError', 'KeyNotFoundError', 'BudgetExceededError')))::float8,
               (max(extract(epoch FROM "endTime" - "startTime")) FILTER (WHERE metadata->'error_information'
                   ->>'error_class' IN ('ProxyRateLimitError', 'KeyNotFoundError', 'BudgetExceededError')))::float8,
               count(*) FILTER (WHERE request_duration_ms <>
                                      (extract(epoch FROM "endTime" - "startTime") * 1000)::int)
        FROM "LiteLLM_SpendLogs" """)[0]
    assert bad == 0 and dur_mismatch == 0
    assert streaming > ROWS * 0.1 and plain > ROWS * 0.5
    assert stalls >= 3  # heavy tail: timeouts and multi-minute stalls
    assert 0.3 < tail < 5
    assert gateway_lo >= 0.05 and gateway_hi <= 0.2


def test_billed_retries_and_cache_hits(loaded):
    retries = loaded.rows("""
        SELECT a.request_id, a.status, a.spend, m.request_id IS NOT NULL,
               (m.metadata->>'attempted_retries')::int, (a.metadata->>'attempted_retries')::int
        FROM "LiteLLM_SpendLogs" a
        LEFT JOIN "LiteLLM_SpendLogs" m ON m.request_id = split_part(a.request_id, '-attempt-', 1)
        WHERE a.request_id LIKE '%-attempt-%'""")
    assert len(retries) >= 5
    assert (
        loaded.one(f"""SELECT count(*) FROM "LiteLLM_SpendLogs"
                          WHERE {RETRY} <> (request_id LIKE '%-attempt-%')""")
        == 0
    )
    for rid, status, spend, has_main, main_retries, n in retries:
        assert status == "failure" and spend > 0 and has_main and main_retries >= n >= 1, rid
    hits = loaded.rows("""SELECT request_id, spend FROM "LiteLLM_SpendLogs" WHERE cache_hit = 'True'""")
    assert len(hits) > 20 and all(s == 0 and "_cache_hit" in r for r, s in hits)


def test_attribution_gaps(loaded):
    (eu, no_eu, null_eu, sessions, null_sess, reused, no_tags, search) = loaded.rows("""
        SELECT count(*) FILTER (WHERE end_user <> ''), count(*) FILTER (WHERE end_user = ''),
               count(*) FILTER (WHERE end_user IS NULL), count(DISTINCT session_id),
               count(*) FILTER (WHERE session_id IS NULL),
               (SELECT count(*) FROM (SELECT session_id FROM "LiteLLM_SpendLogs" WHERE session_id IS NOT NULL
                                      GROUP BY 1 HAVING count(*) > 2) x),
               count(*) FILTER (WHERE request_tags = '[]'),
               count(*) FILTER (WHERE request_tags = '["prod", "feature:search"]')
        FROM "LiteLLM_SpendLogs" """)[0]
    assert 0 < eu < no_eu and null_eu == 0
    assert sessions > ROWS * 0.5 and null_sess > 0 and reused > 5
    assert no_tags > ROWS * 0.2 and search > 0


def test_unknown_keys(loaded):
    rows = loaded.rows("""SELECT status, "user", team_id, metadata->'error_information'->>'normalized_error',
                          metadata->'error_information'->>'error_code'
                          FROM "LiteLLM_SpendLogs" s WHERE NOT EXISTS (
                              SELECT 1 FROM "LiteLLM_VerificationToken" v WHERE v.token = s.api_key)""")
    assert rows and all(r == ("failure", "", "", "401_AUTHENTICATION_FAILED", "401") for r in rows)


def test_some_rows_are_written_late(loaded):
    """A few rows are inserted after rows that started minutes later (LiteLLM flushed them late)."""
    late = loaded.rows("""
        SELECT l.request_id, EXISTS (SELECT 1 FROM "LiteLLM_SpendLogs" n WHERE n.ctid < l.ctid
                                     AND n."startTime" > l."startTime" + interval '2 minutes')
        FROM "LiteLLM_SpendLogs" l WHERE l.created_at > l."endTime" + interval '2 minutes'""")
    assert 3 <= len(late) <= ROWS * 0.01
    assert sum(1 for _, after_newer in late if after_newer) >= len(late) * 0.8


# --- entities and budgets ---------------------------------------------------------------------------------------


def test_keys(loaded):
    keys = loaded.rows("""SELECT v.key_alias, v.key_name, v.token, v.team_id, v.blocked, v.expires, v.max_budget,
                          v.budget_id, b.max_budget, b.soft_budget, v.spend, v.total_spend, v.budget_duration,
                          v.budget_reset_at
                          FROM "LiteLLM_VerificationToken" v
                          LEFT JOIN "LiteLLM_BudgetTable" b ON b.budget_id = v.budget_id""")
    aliases = [k[0] for k in keys]
    assert None in aliases and any(aliases.count(a) == 2 for a in aliases if a)
    assert all(len(k[2]) == 64 and k[1].startswith("sk-...") and len(k[1]) == 10 for k in keys)
    assert any(k[3] is None for k in keys)
    assert sum(1 for k in keys if k[4]) == 1
    assert sum(1 for k in keys if k[5] is not None and k[5] < END) == 1
    fallback = [k for k in keys if k[7] and k[6] is None]
    assert len(fallback) >= 2 and all(k[8] and k[9] and k[9] < k[8] for k in fallback)
    ratios = [k[10] / (k[6] or k[8]) for k in keys if (k[6] or k[8])]
    assert any(0.8 <= r < 1.0 for r in ratios) and any(r > 1.0 for r in ratios)
    assert all(k[11] >= k[10] - 1e-9 for k in keys)
    assert {k[12] for k in keys} >= {"30d", "7d", None}
    assert all(k[13] > END for k in keys if k[12])


def test_other_entities(loaded):
    assert (
        loaded.one("""SELECT count(*) FROM "LiteLLM_OrganizationTable" o
                         JOIN "LiteLLM_BudgetTable" b USING (budget_id)""")
        >= 2
    )
    teams = loaded.rows(
        'SELECT max_budget, budget_duration, budget_reset_at, soft_budget, organization_id FROM "LiteLLM_TeamTable"'
    )
    assert any(t[0] and t[1] and t[2] > END and t[3] for t in teams) and any(t[4] is None for t in teams)
    assert loaded.one('SELECT count(*) FROM "LiteLLM_UserTable" WHERE max_budget IS NOT NULL') >= 1
    assert loaded.one('SELECT count(*) FROM "LiteLLM_EndUserTable" WHERE budget_id IS NOT NULL') >= 1
    assert loaded.one('SELECT count(*) FROM "LiteLLM_TeamMembership"') >= 5
    # every attributed request points at existing entities
    assert (
        loaded.one("""SELECT count(*) FROM "LiteLLM_SpendLogs" s WHERE s.team_id <> '' AND NOT EXISTS
                         (SELECT 1 FROM "LiteLLM_TeamTable" t WHERE t.team_id = s.team_id)""")
        == 0
    )


PERIOD = """CASE WHEN {dur} ~ '^[0-9]+d$' THEN {reset} - make_interval(days => substring({dur} from '^[0-9]+')::int)
             END"""
ENTITY_SPEND = {  # name: (table, entity id -> SpendLogs match, period start)
    "key": (
        '"LiteLLM_VerificationToken" e LEFT JOIN "LiteLLM_BudgetTable" b USING (budget_id)',
        "s.api_key = e.token",
        PERIOD.format(
            dur="COALESCE(e.budget_duration, b.budget_duration)", reset="COALESCE(e.budget_reset_at, b.budget_reset_at)"
        ),
    ),
    "user": (
        '"LiteLLM_UserTable" e',
        's."user" = e.user_id',
        PERIOD.format(dur="e.budget_duration", reset="e.budget_reset_at"),
    ),
    "team": (
        '"LiteLLM_TeamTable" e',
        "s.team_id = e.team_id",
        PERIOD.format(dur="e.budget_duration", reset="e.budget_reset_at"),
    ),
    "org": ('"LiteLLM_OrganizationTable" e', "s.organization_id = e.organization_id", "NULL::timestamp"),
    "end_user": ('"LiteLLM_EndUserTable" e', "s.end_user = e.user_id", "NULL::timestamp"),
    "member": ('"LiteLLM_TeamMembership" e', 's."user" = e.user_id AND s.team_id = e.team_id', "NULL::timestamp"),
}


def assert_entity_spend(db: DB) -> None:
    """spend = SpendLogs spend since the current budget period began (all rows without a duration)."""
    for name, (table, match, period) in ENTITY_SPEND.items():
        bad = db.rows(f"""
            SELECT e.spend, (SELECT COALESCE(sum(s.spend), 0) FROM "LiteLLM_SpendLogs" s
                             WHERE {match} AND ({period} IS NULL OR s."startTime" >= {period}))
            FROM {table}""")
        assert bad and all(abs(a - b) < 1e-9 for a, b in bad), name
    lifetime = 'SELECT COALESCE(sum(spend), 0) FROM "LiteLLM_SpendLogs" s WHERE s.api_key = v.token'
    assert (
        db.one(f"""SELECT count(*) FROM "LiteLLM_VerificationToken" v
                      WHERE abs(v.total_spend - ({lifetime})) > 1e-9""")
        == 0
    )


def test_entity_spend_follows_period_rule(loaded):
    assert_entity_spend(loaded)
    # the period rule matters: some key's current period holds less than its lifetime spend
    assert loaded.one('SELECT count(*) FROM "LiteLLM_VerificationToken" WHERE spend < total_spend - 1e-6') > 0


# --- Daily* rollups ---------------------------------------------------------------------------------------------

DAILY = {  # table: (entity column, SpendLogs entity expression, extra FROM, filter)
    "LiteLLM_DailyUserSpend": ("user_id", "COALESCE(s.\"user\", '')", "", "TRUE"),
    "LiteLLM_DailyTeamSpend": ("team_id", "s.team_id", "", "s.team_id IS NOT NULL"),
    "LiteLLM_DailyOrganizationSpend": ("organization_id", "s.organization_id", "", "s.organization_id <> ''"),
    "LiteLLM_DailyEndUserSpend": ("end_user_id", "s.end_user", "", "s.end_user <> ''"),
    "LiteLLM_DailyTagSpend": (
        "tag",
        "t.tag",
        ", LATERAL (SELECT DISTINCT jsonb_array_elements_text(s.request_tags)) t(tag)",
        "TRUE",
    ),
}


def assert_daily_consistent(db: DB, full: bool = True) -> None:
    failed = "s.status = 'failure'" if full else "s.metadata->>'status' = 'failure'"
    usage = "s.metadata->'usage_object'"
    exp_cols = [
        "sum(s.spend)",
        "sum(s.prompt_tokens)",
        "sum(s.completion_tokens)",
        f"count(*) FILTER (WHERE NOT {RETRY})",
        f"count(*) FILTER (WHERE NOT {RETRY} AND NOT {failed})",
        f"count(*) FILTER (WHERE NOT {RETRY} AND {failed})",
        f"sum(COALESCE(NULLIF({usage}->>'cache_read_input_tokens', '0')::int, "
        f"({usage}->'prompt_tokens_details'->>'cached_tokens')::int, 0))",
        f"sum(COALESCE(({usage}->>'cache_creation_input_tokens')::int, 0))",
        f"COALESCE(sum(s.request_duration_ms) FILTER (WHERE NOT {RETRY} AND NOT {failed}), 0)" if full else "0",
        f"count(*) FILTER (WHERE NOT {RETRY} AND NOT {failed})",
    ]
    got_cols = [
        "spend",
        "prompt_tokens",
        "completion_tokens",
        "api_requests",
        "successful_requests",
        "failed_requests",
        "cache_read_input_tokens",
        "cache_creation_input_tokens",
        "total_response_time_ms",
        "timed_requests",
    ]
    if not full:
        exp_cols, got_cols = exp_cols[:3], got_cols[:3]
    for table, (col, expr, extra, where) in DAILY.items():
        if not full and table != "LiteLLM_DailyUserSpend":
            continue
        expected = {
            r[:5]: r[5:]
            for r in db.rows(f"""
            SELECT {expr}, to_char(s."startTime", 'YYYY-MM-DD'), s.api_key, s.model, s.custom_llm_provider,
                   {", ".join(exp_cols)}
            FROM "LiteLLM_SpendLogs" s{extra} WHERE {where} GROUP BY 1, 2, 3, 4, 5""")
        }
        got = {
            r[:5]: r[5:]
            for r in db.rows(f"""
            SELECT {col}, date, api_key, model, custom_llm_provider, {", ".join(f"sum({c})" for c in got_cols)}
            FROM "{table}" GROUP BY 1, 2, 3, 4, 5""")
        }
        assert expected and set(expected) == set(got), table
        for k, exp in expected.items():
            assert abs(exp[0] - got[k][0]) < 1e-9, (table, k)
            assert tuple(exp[1:]) == tuple(got[k][1:]), (table, k, exp, got[k])


def test_daily_tables_match_spendlogs(loaded):
    assert_daily_consistent(loaded)
    # billed retry attempts add spend but no request
    assert (
        loaded.one('SELECT sum(api_requests) FROM "LiteLLM_DailyUserSpend"')
        == loaded.one(f'SELECT count(*) FROM "LiteLLM_SpendLogs" WHERE NOT {RETRY}')
        < ROWS
    )
    assert (
        loaded.one("""SELECT count(*) FROM "LiteLLM_DailyUserSpend" WHERE model_group IS NULL
                         OR endpoint NOT IN ('/chat/completions', '/embeddings') OR mcp_namespaced_tool_name <> ''
                         """)
        == 0
    )


# --- determinism, append, other schemas -------------------------------------------------------------------------

FINGERPRINT = """SELECT md5(string_agg(t::text, '|' ORDER BY request_id)) FROM "LiteLLM_SpendLogs" t"""


def test_deterministic_for_a_seed(fresh, loaded):
    again, other = fresh(), fresh()
    demodata.load(again.conninfo, rows=ROWS, seed=42, end=END, writers=1, chunk_rows=1500)
    demodata.load(other.conninfo, rows=ROWS, seed=43, end=END)
    assert again.one(FINGERPRINT) == loaded.one(FINGERPRINT)
    assert other.one(FINGERPRINT) != loaded.one(FINGERPRINT)
    # other chunking adds the floats in another order: equal to 1e-9, not to the last bit
    daily = """SELECT md5(string_agg(concat_ws(',', id, user_id, date, api_key, model, round(spend::numeric, 9),
               api_requests), '|' ORDER BY id)) FROM "LiteLLM_DailyUserSpend" """
    assert again.one(daily) == loaded.one(daily)
    keys = """SELECT md5(string_agg(concat_ws(',', token, round(spend::numeric, 9), round(total_spend::numeric, 9),
              round(max_budget::numeric, 4)), '|' ORDER BY token)) FROM "LiteLLM_VerificationToken" """
    assert again.one(keys) == loaded.one(keys)


def test_append_stays_consistent(fresh):
    db = fresh()
    demodata.load(db.conninfo, rows=2000, seed=5, end=END)
    before = {r[0] for r in db.rows('SELECT request_id FROM "LiteLLM_SpendLogs"')}
    start, end = END + timedelta(minutes=1), END + timedelta(minutes=6)
    st = demodata.append(db.conninfo, rows=1500, seed=6, start=start, end=end, late_fraction=0.1)
    assert st.spend_logs_rows == 1500
    new = db.rows('SELECT request_id, "startTime", "endTime", created_at FROM "LiteLLM_SpendLogs"')
    added = [r for r in new if r[0] not in before]
    assert len(new) == 3500 and len(added) == 1500
    late = [r for r in added if r[1] < start]
    assert 80 <= len(late) <= 250
    assert all(r[1] <= start - timedelta(minutes=10) and start <= r[3] <= end for r in late)
    assert all(start <= r[1] < end and r[2] <= end for r in added if r[1] >= start)
    assert_daily_consistent(db)
    assert_entity_spend(db)
    # the same seed again, and the default window (the last minute up to now): no request_id collides
    demodata.append(db.conninfo, rows=300, seed=6, start=end, end=end + timedelta(minutes=1))
    demodata.append(db.conninfo, rows=200, seed=7)
    assert db.one('SELECT count(*) FROM "LiteLLM_SpendLogs"') == 4000
    assert_daily_consistent(db)
    assert_entity_spend(db)


def test_old_schema_without_status_column(fresh):
    db = fresh(upto="20250326171002")  # the first DailyUserSpend migration; SpendLogs has no status yet
    assert (
        db.one("""SELECT count(*) FROM information_schema.columns WHERE table_name = 'LiteLLM_SpendLogs'
                     AND column_name IN ('status', 'session_id', 'created_at')""")
        == 0
    )
    demodata.load(db.conninfo, rows=1500, seed=3, end=END)
    assert db.one('SELECT count(*) FROM "LiteLLM_SpendLogs"') == 1500
    statuses = dict(db.rows("""SELECT metadata->>'status', count(*) FROM "LiteLLM_SpendLogs" GROUP BY 1"""))
    assert set(statuses) == {"success", "failure"}
    assert_daily_consistent(db, full=False)
    demodata.append(db.conninfo, rows=100, seed=4, start=END, end=END + timedelta(minutes=1))
    assert_daily_consistent(db, full=False)


def test_other_schema_name(fresh):
    db = fresh()
    with psycopg.connect(db.conninfo, autocommit=True) as c:
        c.execute('ALTER SCHEMA public RENAME TO "LiteLLM Data"')
        c.execute("CREATE SCHEMA public")
    demodata.load(db.conninfo, rows=300, seed=1, end=END, schema="LiteLLM Data")
    assert db.one('SELECT count(*) FROM "LiteLLM Data"."LiteLLM_SpendLogs"') == 300
    assert db.one('SELECT count(*) FROM "LiteLLM Data"."LiteLLM_DailyTagSpend"') > 0
    with pytest.raises(demodata.DemoDataError):
        demodata.load(db.conninfo, rows=10, seed=1, end=END, schema="public")


def test_zero_rows_and_progress(fresh, capsys):
    db = fresh()
    demodata.load(db.conninfo, rows=0, seed=1, end=END)
    assert db.one('SELECT count(*) FROM "LiteLLM_SpendLogs"') == 0
    assert db.one('SELECT count(*) FROM "LiteLLM_VerificationToken"') > 10
    demodata.load(db.conninfo, rows=120, seed=1, end=END, progress=True)  # entities already there: kept
    assert db.one('SELECT count(*) FROM "LiteLLM_SpendLogs"') == 120
