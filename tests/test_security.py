"""Secrets never leak, and no config value is formatted into a query or a connection string."""

from __future__ import annotations

from datetime import timedelta

import pytest
import yaml
from helpers import Serve, clean_env, exporter_for, http_get, run_cli, scrape, total
from psycopg import sql
from spendrows import failure, insert, row
from test_faults import utcnow

from exporter.local.postgres import free_port

INJECTIONS = [
    'public; DROP TABLE "LiteLLM_SpendLogs"; --',
    "x' OR '1'='1",
    'x"; DROP SCHEMA public; --',
    "$$; DROP TABLE t; $$",
    "pg_catalog",
    "\\x00",
]


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


# Schema names (each under PostgreSQL's 63-byte identifier limit, so none is cut) and application names that
# would break out of a quoted identifier, a string literal, a dollar quote or a libpq conninfo value.
HOSTILE_SCHEMAS = [
    'x"; DROP TABLE public.canary; --',
    "public; DROP TABLE canary; --",
    "x' OR '1'='1'; DROP TABLE canary; --",
    '$$; DROP TABLE canary; $$ \\ ünï 模型 \\"',
    "a\\'\\\\b\\\"c;d\u202e\t",
]
HOSTILE_APPS = [
    "x' options='-c default_transaction_read_only=off",
    "'; DROP TABLE canary; --",
    "x\\' dbname=postgres",
    "$$ ünï \" '",
    "a b=c",
]


def test_hostile_schema_and_application_name_run_check_and_refresh_exactly(litellm_db, tmp_path):
    """LiteLLM's tables in a schema literally named with a hostile string, read through `check` and a refresh
    by a role that CAN write (the superuser, --unsafe.allow-write-role): were the schema or the application
    name formatted into SQL or the conninfo anywhere, the canary tables would be gone or the session writable.
    The counters are exact, so the hostile schema really is the one read."""
    db, now = litellm_db, utcnow()
    insert(
        db,
        [
            row(now - timedelta(minutes=2), spend=0.5),
            row(now - timedelta(minutes=3), spend=0.25),
            failure(now - timedelta(minutes=2)),
            row(now - timedelta(days=2), spend=2.0),
        ],
    )
    db.execute("""INSERT INTO "LiteLLM_VerificationToken" (token, key_alias, spend) VALUES ('h', 'k', 3)""")
    tables = db.scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
    previous = "public"
    for schema, app in zip(HOSTILE_SCHEMAS, HOSTILE_APPS):
        with db.connect() as c:
            c.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(sql.Identifier(previous), sql.Identifier(schema)))
            if previous == "public":
                c.execute(
                    "CREATE SCHEMA public; CREATE TABLE public.canary (id int); INSERT INTO public.canary VALUES (1)"
                )
                c.execute(sql.SQL("CREATE TABLE {}.canary (id int)").format(sql.Identifier(schema)))
        previous = schema
        path = tmp_path / "config.yml"
        path.write_text(
            yaml.safe_dump(
                {"database": {"schema": schema, "application_name": app}, "unsafe": {"allow_write_role": True}},
                allow_unicode=True,
            )
        )
        proc = run_cli("check", "--config.file", str(path), env=clean_env(DATABASE_URL=db.url))
        assert "Traceback" not in proc.stderr and "no LiteLLM tables" not in proc.stderr, proc.stderr
        assert "session_read_only              yes" in proc.stdout, proc.stdout
        assert "SpendLogs.status               yes" in proc.stdout, proc.stdout
        # the superuser's rights are the only problems check reports, naming the schema exactly as it is
        assert proc.returncode == 1, proc.stderr
        assert all(line.startswith("FAIL role 'postgres' ") for line in proc.stderr.splitlines()), proc.stderr
        assert f"can CREATE objects in schema {schema!r}" in proc.stderr
        s = scrape(exporter_for(db, database__schema=schema, database__application_name=app))
        assert total(s, "litellm_db_requests_total") == 4
        assert total(s, "litellm_db_requests_total", status="failure") == 1
        assert total(s, "litellm_db_spend_usd_total") == 2.75
        assert total(s, "litellm_db_key_spend_usd", api_key_alias="k") == 3
        assert db.scalar("SELECT count(*) FROM public.canary") == 1
        assert db.scalar("SELECT count(*) FROM pg_tables WHERE schemaname = %s", (schema,)) == tables + 1
        assert db.scalar("SELECT count(*) FROM pg_tables WHERE tablename = 'canary'") == 2


@pytest.mark.parametrize("value", INJECTIONS[:3])
def test_hostile_role_and_label_names_are_refused_before_connecting(litellm_db, tmp_path, value):
    """Role names and label sets are validated (exit 2, naming the key): they never reach the database."""
    path = tmp_path / "c.yml"
    path.write_text(f"metrics:\n  limits:\n    user: 3\nroles:\n  exporter:\n    name: {value!r}\n")
    proc = run_cli("check", "--config.file", str(path), env=clean_env(DATABASE_URL=litellm_db.url))
    assert proc.returncode == 2 and "roles.exporter.name" in proc.stderr  # role names are validated
    path.write_text(f"metrics:\n  labels:\n    litellm_db_spend_usd_total: [{value!r}]\n")
    proc = run_cli("check", "--config.file", str(path), env=clean_env(DATABASE_URL=litellm_db.url))
    assert proc.returncode == 2 and "metrics.labels" in proc.stderr
