"""`check`: connect, report the detected LiteLLM schema, and fail clearly when something required is missing."""

from __future__ import annotations

import sys

import sqlalchemy as sa

from exporter import db, schema
from exporter.config import Config


def inspect(cfg: Config) -> tuple[dict, list[str]]:
    """(facts, problems) about the configured database, through the exporter's own read-only engine."""
    engine = db.create_engine(cfg.database)
    try:
        with db.snapshot(engine) as conn:
            row = conn.execute(sa.text(
                "SELECT current_user AS role, current_database() AS database, "
                "current_setting('server_version') AS server_version, "
                "current_setting('transaction_read_only') AS read_only")).one()
            caps = schema.detect(conn, cfg.database.db_schema)
    finally:
        engine.dispose()
    facts = {
        "database": db.target(engine.url),
        "role": row.role,
        "server_version": row.server_version,
        "session_read_only": row.read_only == "on",
        **caps.summary(),
    }
    problems = []
    if not caps.columns:
        problems.append(f"no LiteLLM tables in schema {cfg.database.db_schema!r}: is this LiteLLM's database? "
                        "If LiteLLM runs with DATABASE_SCHEMA, pass the same value as --database.schema")
    else:
        problems.extend(caps.missing_required())
    return facts, problems


def run(cfg: Config) -> int:
    facts, problems = inspect(cfg)
    width = max(len(k) for k in facts)
    for key, value in facts.items():
        if isinstance(value, bool):
            value = "yes" if value else "no"
        elif isinstance(value, list):
            value = ", ".join(value) or "(none)"
        print(f"{key:<{width}}  {value}")
    for problem in problems:
        print(f"FAIL {problem}", file=sys.stderr)
    if not problems:
        print("OK: the exporter can read this LiteLLM database")
    return 1 if problems else 0
