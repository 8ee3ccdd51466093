"""Which LiteLLM columns each reader's SQL reads, derived from PostgreSQL's own plans of the SQL files.

`python -m exporter.local.grants` regenerates sql/grants/<reader>.json from the SQL files against LiteLLM's full
schema (the pinned migrations, on a private PostgreSQL); a test fails when the committed files differ. The role
set-up grants exactly these columns, so a reader can SELECT what its queries need and nothing else.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from exporter.database import sqlfiles

# Never granted to any reader, whatever a query says: prompts and responses, password hashes, and credentials
# (provider API keys live in ProxyModelTable.litellm_params, CredentialsTable and Config's general settings).
FORBIDDEN = {
    "LiteLLM_SpendLogs": {"messages", "response", "proxy_server_request"},
    "LiteLLM_UserTable": {"password"},
    "LiteLLM_ProxyModelTable": {"litellm_params"},
}
FORBIDDEN_TABLES = {"LiteLLM_Config", "LiteLLM_CredentialsTable"}  # every column, including ones LiteLLM adds


def forbidden(table: str, column: str) -> bool:
    return table in FORBIDDEN_TABLES or column in FORBIDDEN.get(table, ())


# SQL files per reader: exporter queries (and the audit's), and the Grafana dashboards' panels.
# read only pg_catalog or set a transaction-local planner setting, which every role may
CATALOG_ONLY = {"schema_columns", "role_info", "spend_logs_indexes", "history_planning"}
READERS = {
    "exporter": lambda name: not name.startswith(("grafana/", "admin/", "indexes/")) and name not in CATALOG_ONLY,
    "grafana": lambda name: name.startswith("grafana/"),
}
# Bind values used only to plan the statements (every boolean on, so every optional column is referenced).
PLAN_PARAMS = {
    "since": datetime(2026, 1, 1),
    "from_time": datetime(2026, 1, 1),
    "to_time": datetime(2026, 1, 2),
    "from_id": "",
    "before": datetime(2026, 1, 1),
    "after": datetime(2025, 1, 1),
    "start": datetime(2026, 1, 1),
    "end": datetime(2026, 1, 2),
    "schema": "public",
    "with_user": True,
    "with_end_user": True,
    "with_cache_tokens": True,
    "limit": 10,
    "row_limit": 10,
    "enable": "on",
    "neg_duration_bounds": [-1.0],
    "neg_ttft_bounds": [-1.0],
    # the audit's filters (sql/audit/*.sql): a value, so that every filter subquery is planned
    "model_group": "x",
    "key_alias": "x",
    "team_alias": "x",
    "bucket_seconds": 3600,
}
GRANTS_DIR = "grants"


def files_for(reader: str) -> list[str]:
    return [n for n in sqlfiles.names() if READERS[reader](n)]


def tables_read(conn: sa.Connection, text: str) -> set[str]:
    """The relations a statement scans, from EXPLAIN of it (which also checks the current role's privileges)."""
    bound = {k: v for k, v in PLAN_PARAMS.items() if f":{k}" in text}
    plan = conn.execute(sa.text("EXPLAIN (FORMAT JSON) " + text), bound).scalar_one()
    found, stack = set(), [plan[0]["Plan"]]
    while stack:
        node = stack.pop()
        if "Relation Name" in node:
            found.add(node["Relation Name"])
        stack.extend(node.get("Plans", []))
    return found


def manifest(conn: sa.Connection, reader: str, render=None) -> dict[str, list[str]]:
    """Table -> sorted columns for every SQL file of a reader (`render` expands templates such as macros).

    Candidates are every column (but the forbidden ones) of every table the statements scan; each is then
    revoked from a probe role in turn and kept only if some statement fails to plan without it. PostgreSQL's
    own privilege check decides, so the result is exactly what the statements need.
    """
    texts = []
    for name in files_for(reader):
        text = sqlfiles.text(name)
        texts.append(render(name, text) if render is not None else text)
    tables = set().union(*(tables_read(conn, text) for text in texts)) if texts else set()
    candidates: dict[str, set[str]] = {}
    for table in tables:
        attnames = conn.execute(
            sa.text(
                "SELECT attname FROM pg_attribute WHERE attrelid = CAST(:t AS regclass) AND attnum > 0 "
                "AND NOT attisdropped"
            ),
            {"t": f'"{table}"'},
        ).scalars()
        candidates[table] = {c for c in attnames if not forbidden(table, c)}
    out = _minimize(conn, texts, candidates)
    for table, cols in out.items():
        leaked = {c for c in cols if forbidden(table, c)}
        if leaked:
            raise ValueError(f"{reader} SQL reads forbidden columns {sorted(leaked)} of {table}")
    return {t: sorted(c) for t, c in sorted(out.items())}


def _minimize(conn: sa.Connection, texts: list[str], candidates: dict[str, set[str]]) -> dict[str, set[str]]:
    probe = "litellm_exporter_grant_probe"
    conn.exec_driver_sql(f"DROP ROLE IF EXISTS {probe}")
    conn.exec_driver_sql(f"CREATE ROLE {probe} NOLOGIN")
    try:
        schema = conn.exec_driver_sql("SELECT current_schema()").scalar()
        conn.exec_driver_sql(f'GRANT USAGE ON SCHEMA "{schema}" TO {probe}')

        def set_grant(table: str, column: str, on: bool) -> None:
            verb, prep = ("GRANT", "TO") if on else ("REVOKE", "FROM")
            conn.exec_driver_sql(f'{verb} SELECT ("{column}") ON "{table}" {prep} {probe}')

        def all_plan(table: str) -> bool:
            for text in texts:
                if f'"{table}"' not in text:
                    continue
                conn.exec_driver_sql("SAVEPOINT probe")
                conn.exec_driver_sql(f"SET LOCAL ROLE {probe}")
                try:
                    tables_read(conn, text)
                except sa.exc.DBAPIError:
                    conn.exec_driver_sql("ROLLBACK TO SAVEPOINT probe")
                    return False
                conn.exec_driver_sql("ROLLBACK TO SAVEPOINT probe")
            return True

        for table, cols in candidates.items():
            for col in cols:
                set_grant(table, col, True)
        for table in candidates:
            if not all_plan(table):
                raise ValueError(
                    f"the SQL reads columns of {table} no reader may have (prompts, responses, "
                    "password hashes, credentials)"
                )
        needed: dict[str, set[str]] = {}
        for table, cols in sorted(candidates.items()):
            for col in sorted(cols):
                set_grant(table, col, False)
                if not all_plan(table):
                    set_grant(table, col, True)
                    needed.setdefault(table, set()).add(col)
        return needed
    finally:
        conn.exec_driver_sql(f"DROP OWNED BY {probe}")
        conn.exec_driver_sql(f"DROP ROLE {probe}")


def path(reader: str) -> Path:
    return sqlfiles.sql_dir() / GRANTS_DIR / f"{reader}.json"


def load(reader: str) -> dict[str, list[str]]:
    return json.loads(path(reader).read_text(encoding="utf-8"))


def dumps(data: dict) -> str:
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def generate(conn: sa.Connection) -> dict[str, dict[str, list[str]]]:
    """Every reader's manifest, planned on `conn` (a database with LiteLLM's full schema, as a superuser)."""
    return {"exporter": manifest(conn, "exporter"), "grafana": manifest(conn, "grafana", _grafana_renderer())}


def _grafana_renderer():
    """Grafana panels use macros; they are expanded the way Grafana would before planning."""
    try:
        from exporter.access.grafana_sql import expand_for_planning
    except ImportError:  # no Grafana SQL yet
        return None
    return lambda name, text: expand_for_planning(text)
