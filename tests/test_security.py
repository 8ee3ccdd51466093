"""Secrets never leak, and no config value is formatted into a query."""

from __future__ import annotations

import pytest

from helpers import Serve, clean_env, http_get, run_cli

from exporter.localpg import free_port

INJECTIONS = ["public; DROP TABLE \"LiteLLM_SpendLogs\"; --", "x' OR '1'='1", 'x"; DROP SCHEMA public; --',
              "$$; DROP TABLE t; $$", "pg_catalog", "\\x00"]


def test_password_never_appears_in_any_output(litellm_db, exporter_login):
    password = exporter_login.password
    env = clean_env(LITELLM_EXPORTER_LOG_LEVEL="debug", LITELLM_EXPORTER_LOG_FORMAT="json")
    with Serve(exporter_login.url, env=env) as srv:
        pages = [http_get(srv.base + path)[1].decode() for path in ("/metrics", "/", "/healthz", "/nope")]
        with open(f"/proc/{srv.proc.pid}/cmdline", "rb") as f:  # what `ps` shows
            cmdline = f.read().decode(errors="replace")
    code, out, err = srv.stop()
    assert code == 0
    for text in [*pages, cmdline, out, err]:
        assert password not in text
    assert "level" in err  # the debug log did run
    # a failing run prints the URL's host but never its password
    bad = exporter_login.url.replace(f"127.0.0.1:{litellm_db.pg.port}", f"127.0.0.1:{free_port()}")
    proc = run_cli("check", "--log.level", "debug", env=clean_env(DATABASE_URL=bad))
    assert proc.returncode == 1 and password not in proc.stdout + proc.stderr


def test_password_in_a_flag_warns(exporter_login):
    proc = run_cli("check", "--database.url", exporter_login.url)
    assert proc.returncode == 0
    assert "visible to other users" in proc.stderr and exporter_login.password not in proc.stderr


@pytest.mark.parametrize("value", INJECTIONS)
def test_injection_through_schema_setting_is_inert(litellm_db, exporter_login, value):
    proc = run_cli("check", "--database.schema", value, env=clean_env(DATABASE_URL=exporter_login.url))
    assert proc.returncode in (1, 2)
    assert "Traceback" not in proc.stderr
    assert litellm_db.scalar("""SELECT count(*) FROM pg_tables WHERE tablename = 'LiteLLM_SpendLogs'""") == 1
    assert litellm_db.scalar("SELECT count(*) FROM pg_namespace WHERE nspname = 'public'") == 1


@pytest.mark.parametrize("value", INJECTIONS[:3])
def test_injection_through_every_queried_setting(litellm_db, tmp_path, value):
    """Every config value that reaches a query is bound: schema, label sets, limits, role names."""
    path = tmp_path / "c.yml"
    path.write_text(f"database:\n  schema: {value!r}\nmetrics:\n  limits:\n    user: 3\n"
                    f"roles:\n  exporter:\n    name: {value!r}\n")
    proc = run_cli("check", "--config.file", str(path), env=clean_env(DATABASE_URL=litellm_db.url))
    assert proc.returncode == 2 and "roles.exporter.name" in proc.stderr  # role names are validated
    path.write_text(f"metrics:\n  labels:\n    litellm_db_spend_usd_total: [{value!r}]\n")
    assert run_cli("check", "--config.file", str(path), env=clean_env(DATABASE_URL=litellm_db.url)).returncode == 2
    assert litellm_db.scalar("""SELECT count(*) FROM pg_tables WHERE tablename = 'LiteLLM_SpendLogs'""") == 1
