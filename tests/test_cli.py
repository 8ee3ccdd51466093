"""The real console script: help, exit codes, one-line errors without secrets, check and serve end to end."""

from __future__ import annotations

import gzip
import socket
import subprocess

import pytest
from conftest import make_login, remove_logins, require_binary
from helpers import Serve, clean_env, http_get, run_cli, samples, wait_for

from exporter.local.postgres import free_port

COMMANDS = ["serve", "check", "demo"]


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_on_every_command(command):
    proc = run_cli(command, "--help")
    assert proc.returncode == 0
    assert "--log.level" in proc.stdout and "LITELLM_EXPORTER_LOG_LEVEL" in proc.stdout
    if command != "demo":
        assert "--database.url" in proc.stdout and "DATABASE_URL" in proc.stdout


def test_top_level_help_and_version():
    assert run_cli("--help").returncode == 0
    assert run_cli("--version").stdout.startswith("litellm-spend-exporter ")


@pytest.mark.parametrize("args", [[], ["frobnicate"], ["serve", "--bogus"], ["check", "--database.url"]])
def test_usage_errors_exit_2(args):
    proc = run_cli(*args)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


def test_config_errors_exit_2(tmp_path):
    path = tmp_path / "c.yml"
    path.write_text("database:\n  url: postgresql://u:p@h/d\n  statment_timeout: 5s\n")
    proc = run_cli("check", "--config.file", str(path))
    assert proc.returncode == 2
    line = one_line_error(proc)
    assert "unknown key 'database.statment_timeout'" in line and "statement_timeout" in line
    path.write_text("database: [1, 2\n")
    assert "not valid YAML" in one_line_error(run_cli("check", "--config.file", str(path)))


@pytest.mark.parametrize(
    "args,expected",
    [
        (
            ["--database.statement-timeout", "1" + "0" * 400],
            "database.statement_timeout: expected a duration of at most",
        ),
        (["--database.lock-timeout", "30d"], "database.lock_timeout: must be below 2147483647ms (PostgreSQL's limit"),
        (["--config.file", "{huge_int}"], "database.statement_timeout: expected a duration of at most"),
    ],
)
def test_out_of_range_durations_exit_2(tmp_path, args, expected):
    path = tmp_path / "c.yml"
    path.write_text("database:\n  statement_timeout: 1" + "0" * 400 + "\n")  # YAML reads an int too big for a float
    args = [str(path) if a == "{huge_int}" else a for a in args]
    proc = run_cli("check", *args, env=clean_env(DATABASE_URL="postgresql://u@127.0.0.1:1/x"))
    assert proc.returncode == 2, proc.stderr
    line = one_line_error(proc)
    assert expected in line and "unexpected error" not in line and "0" * 100 not in line


def test_missing_database_url_exit_2():
    proc = run_cli("check")
    assert proc.returncode == 2
    assert "DATABASE_URL" in one_line_error(proc)


def test_unreachable_database_exit_1_without_secret():
    proc = run_cli("check", env=clean_env(DATABASE_URL=f"postgresql://u:Hunter2Secret@127.0.0.1:{free_port()}/x"))
    assert proc.returncode == 1
    line = one_line_error(proc)
    assert "connection refused" in line and "Hunter2Secret" not in proc.stderr + proc.stdout


def test_debug_level_shows_traceback():
    proc = run_cli(
        "check",
        "--log.level",
        "debug",
        env=clean_env(DATABASE_URL=f"postgresql://u:Hunter2Secret@127.0.0.1:{free_port()}/x"),
    )
    assert proc.returncode == 1 and "Traceback" in proc.stderr
    assert "Hunter2Secret" not in proc.stderr


def test_check_wrong_password(exporter_login):
    url = exporter_login.url.replace(exporter_login.password, "WrongPassw0rd")
    proc = run_cli("check", env=clean_env(DATABASE_URL=url))
    assert proc.returncode == 1
    line = one_line_error(proc)
    assert "password authentication failed" in line and "WrongPassw0rd" not in line


def test_check_database_without_litellm_tables(pg_server):
    proc = run_cli("check", env=clean_env(DATABASE_URL=pg_server.url("postgres")))
    assert proc.returncode == 1
    assert "no LiteLLM tables in schema 'public'" in proc.stderr


def test_check_reports_capabilities(exporter_login):
    proc = run_cli("check", env=clean_env(DATABASE_URL=exporter_login.url))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert f"role                           {exporter_login.role}" in out
    assert "session_read_only              yes" in out
    assert "SpendLogs.status               yes" in out
    assert exporter_login.password not in out + proc.stderr


PRISMA_ARGS = (
    "schema=litellm&connection_limit=10&pool_timeout=60&pgbouncer=true&socket_timeout=30"
    "&statement_cache_size=0&connect_timeout=5"
)


def test_check_and_serve_with_a_prisma_url(litellm_db):
    """LiteLLM's DATABASE_URL is a Prisma URL: `?schema=` selects LiteLLM's schema (an explicit
    DATABASE_SCHEMA wins), Prisma's own arguments are dropped, connect_timeout goes to libpq."""
    from sqlalchemy.engine import make_url

    from exporter.access import roles

    litellm_db.execute("INSERT INTO \"LiteLLM_VerificationToken\" (token, key_alias, spend) VALUES ('h', 'k', 2)")
    litellm_db.execute("ALTER SCHEMA public RENAME TO litellm")
    litellm_db.execute("CREATE SCHEMA public")  # empty: were ?schema= ignored, no LiteLLM table would be found
    role, password = f"prisma_{litellm_db.name}", "Prisma-Pa55"
    admin = make_url(litellm_db.url)
    roles.apply(admin, [roles.Reader("exporter", role, 5, "60s", password)], "litellm")
    try:
        url = litellm_db.pg.url(litellm_db.name, user=role, password=password) + "?" + PRISMA_ARGS
        proc = run_cli("check", env=clean_env(DATABASE_URL=url))
        assert proc.returncode == 0, proc.stderr
        assert "schema                         litellm" in proc.stdout and "OK:" in proc.stdout
        explicit = run_cli("check", env=clean_env(DATABASE_URL=url, DATABASE_SCHEMA="public"))
        assert explicit.returncode == 1 and "no LiteLLM tables in schema 'public'" in explicit.stderr
        with Serve(url) as srv:
            got = samples(srv.metrics())
        assert got[("litellm_db_up", ())] == 1
        assert got[("litellm_db_key_spend_usd", (("api_key_alias", "k"), ("team_alias", "")))] == 2
    finally:
        roles.remove(admin, "litellm")


def test_check_older_litellm(make_litellm_db):
    old = make_litellm_db(upto="20250425182129")
    login = make_login(old)
    try:
        proc = run_cli("check", env=clean_env(DATABASE_URL=login.url))
        assert proc.returncode == 0, proc.stderr
        assert "SpendLogs.status               no" in proc.stdout
    finally:
        remove_logins(old)


def test_serve_port_in_use(exporter_login):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        proc = run_cli(
            "serve",
            "--web.listen-address",
            f"127.0.0.1:{port}",
            env=clean_env(DATABASE_URL=exporter_login.url),
            timeout=60,
        )
    assert proc.returncode == 1
    assert "address already in use" in one_line_error(proc)


def test_serve_wrong_password_exits_1(exporter_login):
    url = exporter_login.url.replace(exporter_login.password, "WrongPassw0rd")
    proc = run_cli(
        "serve", "--web.listen-address", f"127.0.0.1:{free_port()}", env=clean_env(DATABASE_URL=url), timeout=60
    )
    assert proc.returncode == 1
    line = one_line_error(proc)  # the fatal first refresh is reported once, not also as a log line
    assert line.startswith("litellm-spend-exporter serve: password authentication failed")
    assert "WrongPassw0rd" not in proc.stderr + proc.stdout


def test_serve_database_without_litellm_tables_exits_1(pg_server):
    proc = run_cli(
        "serve",
        "--web.listen-address",
        f"127.0.0.1:{free_port()}",
        "--unsafe.allow-write-role",
        env=clean_env(DATABASE_URL=pg_server.url("postgres")),
        timeout=60,
    )
    assert proc.returncode == 1
    line = one_line_error(proc)
    assert line.startswith("litellm-spend-exporter serve: no LiteLLM tables in schema 'public'")


KEYS_SQL = """
INSERT INTO "LiteLLM_BudgetTable" (budget_id, max_budget, soft_budget, created_by, updated_by)
VALUES ('b1', 50, 40, 'test', 'test');
INSERT INTO "LiteLLM_TeamTable" (team_id, team_alias) VALUES ('t1', 'platform');
INSERT INTO "LiteLLM_VerificationToken" (token, key_name, key_alias, spend, max_budget, budget_id, team_id,
                                         budget_reset_at, blocked, expires)
VALUES ('h1', 'sk-...aaaa', 'chatbot', 12.5, 20, NULL, 't1', '2030-01-01 00:00:00', false, NULL),
       ('h2', 'sk-...bbbb', 'batch', 60, NULL, 'b1', NULL, NULL, true, '2020-01-01'),
       ('h3', 'sk-...cccc', NULL, 3, NULL, NULL, NULL, NULL, NULL, NULL),
       ('h4', 'sk-...dddd', 'dup', 1, NULL, NULL, NULL, NULL, NULL, NULL),
       ('h5', 'sk-...eeee', 'dup', 2, NULL, NULL, NULL, NULL, NULL, NULL),
       ('h6', 'sk-...ffff', E'evil "alias"\\nwith\\\\ newline and ünïcødé', 4, 5, NULL, NULL, NULL, NULL, NULL);
"""


def test_serve_end_to_end(litellm_db, exporter_login):
    litellm_db.execute(KEYS_SQL)
    with Serve(exporter_login.url) as srv:
        text = srv.metrics()
        got = samples(text)

        def key(name, alias, team=""):
            return got.get((name, (("api_key_alias", alias), ("team_alias", team))))

        assert got[("litellm_db_up", ())] == 1.0
        assert key("litellm_db_key_spend_usd", "chatbot", "platform") == 12.5
        assert key("litellm_db_key_max_budget_usd", "chatbot", "platform") == 20
        assert key("litellm_db_key_budget_remaining_usd", "chatbot", "platform") == 7.5
        assert key("litellm_db_key_budget_reset_timestamp_seconds", "chatbot", "platform") == 1893456000
        # BudgetTable fallback, overspent, blocked and expired
        assert key("litellm_db_key_max_budget_usd", "batch") == 50
        assert key("litellm_db_key_budget_remaining_usd", "batch") == -10
        assert key("litellm_db_key_soft_budget_usd", "batch") == 40
        assert key("litellm_db_key_blocked", "batch") == 1 and key("litellm_db_key_expired", "batch") == 1
        # no alias: LiteLLM's masked key name; no limit: no fake one
        assert key("litellm_db_key_spend_usd", "sk-...cccc") == 3
        assert key("litellm_db_key_max_budget_usd", "sk-...cccc") is None
        # two keys with one alias stay two series
        assert key("litellm_db_key_spend_usd", "dup (sk-...dddd)") == 1
        assert key("litellm_db_key_spend_usd", "dup (sk-...eeee)") == 2
        assert key("litellm_db_key_spend_usd", 'evil "alias"\nwith\\ newline and ünïcødé') == 4
        # every key's spend equals the ledger
        total = sum(v for (n, _), v in got.items() if n == "litellm_db_key_spend_usd")
        assert total == pytest.approx(litellm_db.scalar('SELECT sum(spend) FROM "LiteLLM_VerificationToken"'))
        assert exporter_login.password not in text

        # new data shows up on the next refresh, not on the scrape
        litellm_db.execute("UPDATE \"LiteLLM_VerificationToken\" SET spend = 19 WHERE token = 'h1'")
        wait_for(
            lambda: (
                samples(srv.metrics()).get(
                    ("litellm_db_key_spend_usd", (("api_key_alias", "chatbot"), ("team_alias", "platform")))
                )
                == 19
            ),
            timeout=15,
            what="refreshed spend",
        )

        status, body, headers = http_get(srv.base + "/metrics", headers={"Accept-Encoding": "gzip"})
        assert status == 200 and headers["Content-Encoding"] == "gzip"
        assert b"litellm_db_up 1.0" in gzip.decompress(body)
        status, body, _ = http_get(srv.base + "/")
        assert status == 200 and b"/metrics" in body and b"SpendLogs.status" in body
        assert exporter_login.password.encode() not in body
        assert http_get(srv.base + "/nope")[0] == 404
        assert http_get(srv.base + "/healthz")[0] == 200
    code, _, err = srv.stop()
    assert code == 0, err
    assert exporter_login.password not in err


def test_exposition_passes_promtool(litellm_db, exporter_login):
    promtool = require_binary("promtool")
    litellm_db.execute(KEYS_SQL)
    with Serve(exporter_login.url) as srv:
        text = srv.metrics()
    proc = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_serve_keeps_serving_when_database_goes_away(litellm_db, exporter_login):
    litellm_db.execute(KEYS_SQL)
    chatbot = ("litellm_db_key_spend_usd", (("api_key_alias", "chatbot"), ("team_alias", "platform")))
    with Serve(exporter_login.url) as srv:
        assert samples(srv.metrics())[("litellm_db_up", ())] == 1
        # the exporter's sessions are terminated and new ones refused: like a database outage
        litellm_db.execute(f'ALTER ROLE "{exporter_login.role}" NOLOGIN')
        litellm_db.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (exporter_login.role,)
        )
        wait_for(lambda: samples(srv.metrics())[("litellm_db_up", ())] == 0, timeout=20, what="up 0")
        assert http_get(srv.base + "/healthz")[0] == 503
        assert samples(srv.metrics())[chatbot] == 12.5  # the last good snapshot is still served
        litellm_db.execute(f'ALTER ROLE "{exporter_login.role}" LOGIN')
        wait_for(lambda: samples(srv.metrics())[("litellm_db_up", ())] == 1, timeout=30, what="up 1 again")


def test_check_prints_the_indexes_slow_panels_need_until_they_exist(litellm_db, exporter_login):
    """Advice, not failure: the statements check prints are the ones a DBA runs (here, verbatim)."""
    proc = run_cli("check", env=clean_env(DATABASE_URL=exporter_login.url))
    assert proc.returncode == 0, proc.stderr
    statements = [
        block.split("\n", 1)[1].split("\n\n")[0].split("\nOK:")[0] for block in proc.stdout.split("NOTE: ")[1:]
    ]
    assert len(statements) == 2 and all(s.startswith("CREATE INDEX CONCURRENTLY") for s in statements)
    for statement in statements:
        litellm_db.execute(statement)
    proc = run_cli("check", env=clean_env(DATABASE_URL=exporter_login.url))
    assert proc.returncode == 0 and "NOTE:" not in proc.stdout
    assert "missing_recommended_indexes" in proc.stdout and "CONCURRENTLY" not in proc.stdout
