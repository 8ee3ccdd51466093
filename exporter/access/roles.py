"""Read-only login roles for the exporter and for Grafana, as alembic migrations plus an idempotent grant sync.

`roles apply` runs our migrations (schema litellm_exporter and its version table; nothing of LiteLLM's) and
then, for each configured reader, creates or updates the role and grants SELECT on exactly the columns in
sql/grants/<reader>.json. Passwords come from the environment or a file and reach the server only as
SCRAM-SHA-256 verifiers computed here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL

from exporter.access import grants
from exporter.database import sqlfiles
from exporter.database.connection import driver_connection
from exporter.errors import ConfigError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
PASSWORD_ENV = {"exporter": "LITELLM_EXPORTER_ROLE_PASSWORD", "grafana": "LITELLM_GRAFANA_ROLE_PASSWORD"}


@dataclass(frozen=True)
class Reader:
    purpose: str  # exporter or grafana
    name: str
    connection_limit: int
    statement_timeout: str  # PostgreSQL duration, e.g. "60s"
    password: str | None = None


def readers_from_config(cfg, environ: Mapping[str, str] | None = None) -> list[Reader]:
    environ = os.environ if environ is None else environ
    out = []
    for purpose in ("exporter", "grafana"):
        rc = getattr(cfg.roles, purpose)
        if rc is None:
            continue
        password = environ.get(PASSWORD_ENV[purpose]) or None
        if rc.password_file:
            try:
                password = Path(rc.password_file).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"cannot read roles.{purpose}.password_file: {exc.strerror}") from None
            if not password:
                raise ConfigError(f"roles.{purpose}.password_file {rc.password_file} is empty")
        out.append(Reader(purpose, rc.name, rc.connection_limit, f"{int(rc.statement_timeout * 1000)}ms", password))
    return out


def scram_verifier(password: str, salt: bytes | None = None, iterations: int = 4096) -> str:
    """PostgreSQL's SCRAM-SHA-256 verifier for a password (RFC 5802/7677), so the plain text never travels."""
    salt = salt or secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = lambda b: base64.b64encode(b).decode()
    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def _settings(reader: Reader, schema: str) -> dict[str, str]:
    return {
        "litellm_exporter.role": reader.name,
        "litellm_exporter.purpose": reader.purpose,
        "litellm_exporter.schema": schema,
        "litellm_exporter.columns": json.dumps(grants.load(reader.purpose), sort_keys=True),
        "litellm_exporter.connection_limit": str(reader.connection_limit),
        "litellm_exporter.statement_timeout": reader.statement_timeout,
        "litellm_exporter.password": scram_verifier(reader.password) if reader.password else "",
    }


def _alembic(output=None, connection=None) -> AlembicConfig:
    cfg = AlembicConfig(output_buffer=output)
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("version_locations", str(MIGRATIONS / "versions"))
    cfg.set_main_option("path_separator", "os")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _run_script(conn: sa.Connection, name: str) -> None:
    """Run one admin SQL file as is (no parameter parsing: its format() calls use % placeholders)."""
    driver_connection(conn).execute(sqlfiles.text(name))


def _set(conn: sa.Connection, settings: dict[str, str]) -> None:
    for name, value in settings.items():
        conn.execute(sa.text("SELECT set_config(:name, :value, true)"), {"name": name, "value": value})


def _pin_search_path(conn: sa.Connection) -> None:
    """Resolve every unqualified name in pg_catalog only: a function or operator that whoever can create objects
    in LiteLLM's schema defined (or a dump restored for `--dump`) never runs with the admin's privileges."""
    conn.exec_driver_sql("SET LOCAL search_path = pg_catalog, pg_temp")


def apply(admin_url: URL, readers: list[Reader], schema: str) -> list[str]:
    """Migrate and sync every reader in one transaction; returns the server's notices."""
    engine = sa.create_engine(admin_url, connect_args={"application_name": "litellm-spend-exporter roles"})
    notices: list[str] = []
    try:
        with engine.begin() as conn:
            driver_connection(conn).add_notice_handler(lambda d: notices.append(str(d.message_primary)))
            _pin_search_path(conn)
            command.upgrade(_alembic(connection=conn), "head")
            for reader in readers:
                _set(conn, _settings(reader, schema))
                _run_script(conn, "admin/sync_role")
    finally:
        engine.dispose()
    return notices


def remove(admin_url: URL, schema: str) -> list[str]:
    """Downgrade to nothing: revoke the readers' grants, drop the roles we created, drop our schema."""
    engine = sa.create_engine(admin_url, connect_args={"application_name": "litellm-spend-exporter roles"})
    notices: list[str] = []
    try:
        with engine.begin() as conn:
            driver_connection(conn).add_notice_handler(lambda d: notices.append(str(d.message_primary)))
            _pin_search_path(conn)
            _set(conn, {"litellm_exporter.schema": schema})
            command.downgrade(_alembic(connection=conn), "base")
            conn.exec_driver_sql("DROP SCHEMA IF EXISTS litellm_exporter CASCADE")
    finally:
        engine.dispose()
    return notices


def script(readers: list[Reader], schema: str) -> str:
    """The same work as SQL for a DBA to review and run with `psql -v ON_ERROR_STOP=1 -f FILE`.

    One transaction (its own BEGIN and COMMIT: run it without `psql -1`), and safe to run again: on a fresh
    database, after itself, and before or after the online `roles apply`. Alembic's own offline output cannot be
    re-run (it always creates the version table and inserts the first revision), so the bookkeeping here is ours
    (sql/admin/offline_version_*.sql) and every migration is written to be idempotent.
    """
    revisions = _revisions()
    out = io.StringIO()
    out.write(
        "-- litellm-spend-exporter: read-only roles. Review, then run once or again (it is idempotent):\n"
        "--   psql -v ON_ERROR_STOP=1 -f roles.sql      (no -1: the script is one transaction itself)\n"
        "BEGIN;\nSET LOCAL search_path = pg_catalog, pg_temp;  -- unqualified names resolve in pg_catalog only\n"
    )
    out.write(
        f"SELECT set_config('litellm_exporter.revisions', {_literal(','.join(r.revision for r in revisions))}, true);\n"
    )
    out.write(sqlfiles.text("admin/offline_version_check"))
    for rev in revisions:
        out.write(f"\n-- migration {rev.revision}: {rev.doc}\n")
        out.write(_migration_sql(rev))
    out.write(sqlfiles.text("admin/offline_version_stamp"))
    for reader in readers:
        out.write(f"\n-- reader: {reader.purpose}\n")
        for name, value in _settings(reader, schema).items():
            out.write(f"SELECT set_config({_literal(name)}, {_literal(value)}, true);\n")
        out.write(sqlfiles.text("admin/sync_role"))
    out.write("\nCOMMIT;\n")
    return out.getvalue()


def _revisions() -> list:
    """Our migration scripts, oldest first."""
    return list(reversed(list(ScriptDirectory.from_config(_alembic()).walk_revisions())))


def _migration_sql(rev) -> str:
    """One migration's upgrade() as SQL text, without alembic's version-table statements."""
    buf = io.StringIO()
    ctx = MigrationContext.configure(
        dialect_name="postgresql", opts={"as_sql": True, "output_buffer": buf, "literal_binds": True}
    )
    with Operations.context(ctx):
        rev.module.upgrade()
    return buf.getvalue()


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
