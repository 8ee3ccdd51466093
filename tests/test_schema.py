"""Schema detection against LiteLLM's real migrations: full, older, partitioned, non-public, not LiteLLM."""

from __future__ import annotations

import psycopg
import pytest
from conftest import Database, drop_database

from exporter.config import DatabaseConfig
from exporter.database import connection, schema
from exporter.errors import SchemaError
from exporter.local import litellm_migrations


def detect(database: Database, schema_name: str = "public") -> schema.Capabilities:
    engine = connection.create_engine(DatabaseConfig(schema=schema_name), connection.normalize_url(database.url))
    try:
        with connection.snapshot(engine) as conn:
            return schema.detect(conn, schema_name)
    finally:
        engine.dispose()


def test_full_schema(litellm_db):
    caps = detect(litellm_db)
    assert caps.missing_required() == []
    assert caps.status_column and caps.has(schema.SPEND_LOGS, "request_duration_ms")
    assert caps.has(schema.SPEND_LOGS, "created_at")
    assert not caps.spend_logs_partitioned and not caps.timestamps_with_time_zone
    assert set(caps.daily_tables) == set(schema.DAILY_TABLES)
    assert len(caps.columns) == 101  # every table of litellm-proxy-extras 0.4.110


def test_older_litellm_without_status_column(make_litellm_db):
    old = make_litellm_db(upto="20250425182129")  # the migration before `status` was added
    caps = detect(old)
    assert caps.missing_required() == []
    assert not caps.status_column
    assert caps.has(schema.SPEND_LOGS, "session_id")
    assert not caps.has(schema.SPEND_LOGS, "request_duration_ms")
    assert "LiteLLM_DailyUserSpend" in caps.daily_tables and "LiteLLM_DailyOrganizationSpend" not in caps.daily_tables


def test_partitioned_spend_logs_with_timestamptz(litellm_db):
    """LiteLLM's PARTITIONING.md recreates SpendLogs as a range-partitioned table with TIMESTAMPTZ times."""
    litellm_db.execute("""
        CREATE TEMP TABLE shape (LIKE "LiteLLM_SpendLogs" INCLUDING DEFAULTS);
        ALTER TABLE shape ALTER COLUMN "startTime" TYPE timestamptz,
            ALTER COLUMN "endTime" TYPE timestamptz, ALTER COLUMN "completionStartTime" TYPE timestamptz;
        CREATE TABLE "SpendLogs_new" (LIKE shape INCLUDING DEFAULTS) PARTITION BY RANGE ("startTime");
        ALTER TABLE "SpendLogs_new" ADD PRIMARY KEY (request_id, "startTime");
        DROP TABLE "LiteLLM_SpendLogs" CASCADE;
        ALTER TABLE "SpendLogs_new" RENAME TO "LiteLLM_SpendLogs";
        CREATE TABLE "LiteLLM_SpendLogs_p2026" PARTITION OF "LiteLLM_SpendLogs"
            FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
    """)
    caps = detect(litellm_db)
    assert caps.spend_logs_partitioned
    assert caps.timestamps_with_time_zone
    assert caps.missing_required() == []


def test_non_public_schema(pg_server):
    name = "t_schema_llm"
    with psycopg.connect(pg_server.admin_conninfo(), autocommit=True) as c:
        c.execute(f"CREATE DATABASE {name}")
    database = Database(pg_server, name)
    try:
        litellm_migrations.apply(pg_server, name, litellm_migrations.select(upto="20250508072103"), schema="llm")
        caps = detect(database, "llm")
        assert caps.missing_required() == [] and caps.status_column
        empty = detect(database, "public")
        with pytest.raises(SchemaError, match="no LiteLLM tables in schema 'public'.*--database.schema"):
            schema.require(empty)
    finally:
        drop_database(database)


def test_missing_table_and_column_are_named(litellm_db):
    litellm_db.execute('ALTER TABLE "LiteLLM_VerificationToken" DROP COLUMN key_alias')
    litellm_db.execute('DROP TABLE "LiteLLM_BudgetTable" CASCADE')
    caps = detect(litellm_db)
    with pytest.raises(SchemaError) as err:
        schema.require(caps)
    msg = str(err.value)
    assert '"LiteLLM_VerificationToken"."key_alias" is missing' in msg
    assert 'table "LiteLLM_BudgetTable" is missing' in msg
    assert "20250326162113" in msg  # says which LiteLLM versions have it


def test_newer_schema_with_extra_columns_is_fine(litellm_db):
    litellm_db.execute('ALTER TABLE "LiteLLM_SpendLogs" ADD COLUMN future_column text')
    litellm_db.execute('CREATE TABLE "LiteLLM_FutureTable" (id int)')
    caps = detect(litellm_db)
    assert caps.missing_required() == [] and caps.has("LiteLLM_FutureTable")


def test_detection_sees_columns_the_role_cannot_read(litellm_db):
    litellm_db.execute("CREATE ROLE schema_probe LOGIN PASSWORD 'probe'")
    litellm_db.execute(f"GRANT CONNECT ON DATABASE {litellm_db.name} TO schema_probe")
    litellm_db.execute('GRANT SELECT (request_id) ON "LiteLLM_SpendLogs" TO schema_probe')
    try:
        probe = Database(litellm_db.pg, litellm_db.name)
        url = litellm_db.pg.url(litellm_db.name, user="schema_probe", password="probe")
        engine = connection.create_engine(DatabaseConfig(), connection.normalize_url(url))
        with connection.snapshot(engine) as conn:
            caps = schema.detect(conn, "public")
        engine.dispose()
        assert caps.has(schema.SPEND_LOGS, "status") and not caps.status_column  # exists, not granted
        assert (schema.SPEND_LOGS, "request_id") in caps.readable
        assert (schema.SPEND_LOGS, "messages") not in caps.readable
        assert probe.name == litellm_db.name
    finally:
        litellm_db.execute(f"REVOKE ALL ON DATABASE {litellm_db.name} FROM schema_probe")
        litellm_db.execute('REVOKE ALL ON "LiteLLM_SpendLogs" FROM schema_probe')
        litellm_db.execute("DROP ROLE schema_probe")
