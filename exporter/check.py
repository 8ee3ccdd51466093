"""`check`: connect, report the detected LiteLLM schema, and fail clearly when something required is missing."""

from __future__ import annotations

import sys

import sqlalchemy as sa

from exporter import db, grants, schema
from exporter.config import Config
from exporter.grants import FORBIDDEN


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
    needed = [(t, c) for t, cols in grants.load("exporter").items() for c in cols if caps.has(t, c)]
    forbidden = sorted(f"{t}.{c}" for t, cols in FORBIDDEN.items() for c in cols if (t, c) in caps.readable)
    lacking = sorted(f"{t}.{c}" for t, c in needed if (t, c) not in caps.readable)
    extra = sorted(f"{t}.{c}" for t, c in caps.readable if t not in grants.load("exporter")
                   or c not in grants.load("exporter")[t])
    facts = {
        "database": db.target(engine.url),
        "role": row.role,
        "server_version": row.server_version,
        "session_read_only": row.read_only == "on",
        "can_write": sorted(caps.writable) or False,
        "reads_needed_columns": f"{len(needed) - len(lacking)} of {len(needed)}",
        "reads_other_columns": len(extra),
        "reads_prompt_columns": forbidden or False,
        **caps.summary(),
    }
    problems = []
    if not caps.columns:
        problems.append(f"no LiteLLM tables in schema {cfg.database.db_schema!r}: is this LiteLLM's database? "
                        "If LiteLLM runs with DATABASE_SCHEMA, pass the same value as --database.schema")
        return facts, problems
    problems.extend(caps.missing_required())
    problems.extend(schema.write_risks(caps))
    if forbidden:
        problems.append(f"role {row.role!r} can read prompt/response/secret columns: {', '.join(forbidden)}; "
                        "use a role with column grants (`litellm-spend-exporter roles apply`)")
    if lacking:
        shown = ", ".join(lacking[:6]) + (f" and {len(lacking) - 6} more" if len(lacking) > 6 else "")
        problems.append(f"role {row.role!r} lacks SELECT on {len(lacking)} column(s) the exporter reads: {shown}; "
                        "re-run `litellm-spend-exporter roles apply`")
    return facts, problems


def run(cfg: Config) -> int:
    facts, problems = inspect(cfg)
    width = max(len(k) for k in facts)
    for key, value in facts.items():
        if isinstance(value, bool):
            value = "yes" if value else "no"
        elif isinstance(value, list):
            shown = ", ".join(value[:6]) + (f" and {len(value) - 6} more" if len(value) > 6 else "")
            value = shown or "(none)"
        print(f"{key:<{width}}  {value}")
    for problem in problems:
        print(f"FAIL {problem}", file=sys.stderr)
    if not problems:
        print("OK: the exporter can read this LiteLLM database")
    return 1 if problems else 0
