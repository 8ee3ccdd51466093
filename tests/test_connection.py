"""The exporter's engine: read-only sessions with timeouts and a name, and errors without secrets."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from exporter.config import DatabaseConfig
from exporter.database import connection, sqlfiles
from exporter.errors import ConfigError, DatabaseError


def engine_for(url: str, **cfg) -> sa.engine.Engine:
    return connection.create_engine(DatabaseConfig(**cfg), connection.normalize_url(url))


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO \"LiteLLM_BudgetTable\" (budget_id, created_by, updated_by) VALUES ('x', 'a', 'b')",
        'UPDATE "LiteLLM_VerificationToken" SET spend = 0',
        'DELETE FROM "LiteLLM_SpendLogs"',
        "CREATE TABLE exporter_was_here (id int)",
    ],
)
def test_writes_fail_even_for_a_superuser(litellm_db, statement):
    """The session itself is read-only: even a role that could write cannot through this engine."""
    engine = engine_for(litellm_db.url)
    with pytest.raises(DatabaseError, match="read-only"):
        with connection.snapshot(engine) as conn:
            conn.execute(sa.text(statement))
    with engine.connect() as conn:  # a plain connection too: default_transaction_read_only
        with pytest.raises(sa.exc.InternalError, match="read-only transaction"):
            conn.execute(sa.text(statement))
    engine.dispose()
    assert litellm_db.scalar("SELECT count(*) FROM pg_tables WHERE tablename = 'exporter_was_here'") == 0


def test_session_settings(litellm_db):
    engine = engine_for(litellm_db.url, statement_timeout="1500ms", lock_timeout="3s", schema="public")
    with connection.snapshot(engine) as conn:
        row = conn.execute(
            sa.text(
                "SELECT current_setting('default_transaction_read_only') AS ro, "
                "current_setting('transaction_read_only') AS tro, current_setting('statement_timeout') AS st, "
                "current_setting('lock_timeout') AS lt, current_setting('application_name') AS app, "
                "current_setting('transaction_isolation') AS iso"
            )
        ).one()
    engine.dispose()
    assert row.ro == "on" and row.tro == "on"
    assert row.st == "1500ms" and row.lt == "3s"
    assert row.app == "litellm-spend-exporter"
    assert row.iso == "repeatable read"


def test_statement_timeout_fires(litellm_db):
    engine = engine_for(litellm_db.url, statement_timeout="200ms")
    with pytest.raises(DatabaseError, match="statement_timeout") as err:
        with connection.snapshot(engine) as conn:
            conn.execute(sa.text("SELECT pg_sleep(2)"))
    engine.dispose()
    assert err.value.transient


def test_search_path_follows_schema_setting(litellm_db):
    """Queries name LiteLLM tables unqualified; the configured schema is bound, never formatted in."""
    litellm_db.execute('CREATE SCHEMA "we""ird"')
    litellm_db.execute('CREATE TABLE "we""ird"."LiteLLM_VerificationToken" (token text)')
    engine = engine_for(litellm_db.url, schema='we"ird')
    with connection.snapshot(engine) as conn:
        assert conn.execute(sa.text('SELECT count(*) FROM "LiteLLM_VerificationToken"')).scalar() == 0
        assert conn.execute(sa.text("SHOW search_path")).scalar() == '"we""ird"'
    engine.dispose()


def test_wrong_password_is_one_clear_line_without_the_password(litellm_db, exporter_login):
    bad = exporter_login.url.replace(exporter_login.password, "not-the-password")
    engine = engine_for(bad)
    with pytest.raises(DatabaseError) as err:
        with connection.snapshot(engine):
            pass
    msg = str(err.value)
    assert "password authentication failed" in msg and exporter_login.role in msg
    assert "not-the-password" not in msg and "\n" not in msg
    assert not err.value.transient


def test_unreachable_server():
    from exporter.local.postgres import free_port

    engine = engine_for(f"postgresql://u:topsecret@127.0.0.1:{free_port()}/db", connect_timeout="2s")
    with pytest.raises(DatabaseError, match="connection refused") as err:
        with connection.snapshot(engine):
            pass
    assert "topsecret" not in str(err.value) and err.value.transient


def test_missing_database(litellm_db):
    engine = engine_for(litellm_db.pg.url("no_such_db"))
    with pytest.raises(DatabaseError, match="does not exist"):
        with connection.snapshot(engine):
            pass


@pytest.mark.parametrize("raw", ["mysql://u@h/db", "not a url", ""])
def test_bad_urls_are_config_errors(raw):
    with pytest.raises(ConfigError):
        connection.normalize_url(raw)


def test_litellm_style_urls_use_psycopg3():
    assert connection.normalize_url("postgres://u:p@h:5/d").drivername == "postgresql+psycopg"
    assert connection.normalize_url("postgresql://u:p@h/d").drivername == "postgresql+psycopg"
    assert "p@" not in connection.display(connection.normalize_url("postgresql://u:p@h/d"))


def test_prisma_only_arguments_are_dropped():
    url = connection.normalize_url(
        "postgresql://u:p@h/d?schema=litellm&connection_limit=10&pool_timeout=60&pgbouncer=true"
        "&socket_timeout=5&statement_cache_size=0&sslaccept=accept_invalid_certs"
        "&connect_timeout=3&sslmode=require&application_name=x"
    )
    assert dict(url.query) == {"connect_timeout": "3", "sslmode": "require", "application_name": "x"}


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("postgresql://u@h/d?sslaccept=strict", "sslaccept= is a Prisma argument.*sslmode=verify-full"),
        ("postgresql://u@h/d?sslidentity=client.p12&sslpassword=x", "sslidentity= is a Prisma argument.*sslkey="),
    ],
)
def test_prisma_tls_arguments_are_refused_not_weakened(raw, expected):
    with pytest.raises(ConfigError, match=expected):
        connection.normalize_url(raw)


@pytest.mark.parametrize(
    "text,secret",
    [
        ("postgresql://user:hunter2@host/db", "hunter2"),
        ("postgresql+psycopg://u:p%40ss@h:5432/x?sslmode=require", "p%40ss"),
        ("host=h password=hunter2 user=u", "hunter2"),
        ("password='a b c' host=h", "a b c"),
    ],
)
def test_redact(text, secret):
    assert secret not in connection.redact(text)


def test_every_sql_file_documents_itself_and_binds_values():
    for name in sqlfiles.names():
        if name.startswith("admin/"):  # DDL for DBAs: identifiers are quoted with format('%I') there
            continue
        text = sqlfiles.text(name)
        assert text.startswith("-- Purpose:"), name
        assert "-- Binds" in text and "Output" in text, name
        assert "%s" not in text and "{" not in text.replace("'{}'", ""), f"{name}: formatting placeholders"
