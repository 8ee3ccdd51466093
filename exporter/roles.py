"""Read-only login roles: which LiteLLM columns the exporter's SQL reads, and the grants for exactly those."""

from __future__ import annotations

import re

import psycopg
from psycopg import sql

from exporter import sqlfiles

# Never granted, whatever a query says: prompts, responses, request bodies, password hashes.
FORBIDDEN_COLUMNS = frozenset({"messages", "response", "proxy_server_request", "password"})
_IDENT = re.compile(r'"([^"]+)"|\b([a-z_][a-z0-9_]*)\b')
_TABLE = re.compile(r'"(LiteLLM_[A-Za-z0-9_]+)"')


def needed_columns(conn: psycopg.Connection, schema: str, names: list[str] | None = None) -> dict[str, list[str]]:
    """Table -> columns the given SQL files (default: all exporter queries) can read, from the live schema.

    A column is needed when a file names its table and the column's name appears in that file.
    """
    texts = [sqlfiles.text(n) for n in (names or [n for n in sqlfiles.names() if not n.startswith("admin/")])]
    existing: dict[str, set[str]] = {}
    for table, column in conn.execute(
            "SELECT c.relname, a.attname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND c.relname LIKE 'LiteLLM%%'", (schema,)):
        existing.setdefault(table, set()).add(column)
    out: dict[str, set[str]] = {}
    for text in texts:
        body = "\n".join(line.split("--", 1)[0] for line in text.splitlines())
        words = {a or b for a, b in _IDENT.findall(body)}
        for table in set(_TABLE.findall(body)):
            if table in existing:
                out.setdefault(table, set()).update((words & existing[table]) - FORBIDDEN_COLUMNS)
    return {t: sorted(cols) for t, cols in sorted(out.items()) if cols}


def create_reader(conn: psycopg.Connection, role: str, password: str, database: str, schema: str,
                  columns: dict[str, list[str]], connection_limit: int = 5,
                  statement_timeout: str = "60s") -> None:
    """Create (or update) a LOGIN role that can SELECT exactly `columns` and write nothing."""
    ident = sql.Identifier(role)
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
    verb = sql.SQL("ALTER") if exists else sql.SQL("CREATE")
    conn.execute(sql.SQL("{} ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION "
                         "CONNECTION LIMIT {} PASSWORD {}").format(
        verb, ident, sql.Literal(connection_limit), sql.Literal(password)))
    for setting, value in (("default_transaction_read_only", "on"), ("statement_timeout", statement_timeout)):
        conn.execute(sql.SQL("ALTER ROLE {} SET {} = {}").format(ident, sql.Identifier(setting), sql.Literal(value)))
    conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), ident))
    conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(schema), ident))
    for table, cols in columns.items():
        conn.execute(sql.SQL("GRANT SELECT ({}) ON TABLE {} TO {}").format(
            sql.SQL(", ").join(map(sql.Identifier, cols)), sql.Identifier(schema, table), ident))
