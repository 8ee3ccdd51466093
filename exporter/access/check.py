"""`check`: connect, report the detected LiteLLM schema, and fail clearly when something required is missing."""

from __future__ import annotations

import sys

import sqlalchemy as sa

from exporter.access import grants, indexes
from exporter.config import Config
from exporter.database import connection, schema

# What each reader's login is for, in messages.
READS = {"exporter": "the exporter reads", "grafana": "the Grafana dashboards read"}


def inspect(cfg: Config, reader: str = "exporter") -> tuple[dict, list[str]]:
    """(facts, problems) about the configured database and login, against the grant manifest of `reader`."""
    engine = connection.create_engine(cfg.database)
    try:
        with connection.snapshot(engine) as conn:
            row = conn.execute(
                sa.text(
                    "SELECT current_user AS role, current_database() AS database, "
                    "current_setting('server_version') AS server_version, "
                    "current_setting('transaction_read_only') AS read_only"
                )
            ).one()
            caps = schema.detect(conn, cfg.database.db_schema)
            missing_indexes = indexes.missing(conn) if caps.has(schema.SPEND_LOGS) else []
    finally:
        engine.dispose()
    manifest = grants.load(reader)
    needed = [(t, c) for t, cols in manifest.items() for c in cols if caps.has(t, c)]
    secret = sorted(f"{t}.{c}" for t, c in caps.readable if grants.forbidden(t, c))
    lacking = sorted(f"{t}.{c}" for t, c in needed if (t, c) not in caps.readable)
    extra = sorted(f"{t}.{c}" for t, c in caps.readable if c not in manifest.get(t, ()))
    facts = {
        "database": connection.target(engine.url),
        "role": row.role,
        "reader": reader,
        "server_version": row.server_version,
        "session_read_only": row.read_only == "on",
        "can_write": sorted(caps.writable) or False,
        "reads_needed_columns": f"{len(needed) - len(lacking)} of {len(needed)}",
        "reads_other_columns": len(extra),
        "reads_secret_columns": _shown(secret) if secret else False,
        **caps.summary(),
        "missing_recommended_indexes": [i.name for i in missing_indexes] or False,
    }
    problems = []
    if not caps.columns:
        problems.append(
            f"no LiteLLM tables in schema {cfg.database.db_schema!r}: is this LiteLLM's database? "
            "If LiteLLM runs with DATABASE_SCHEMA, pass the same value as --database.schema"
        )
        return facts, problems
    problems.extend(caps.missing_required())
    problems.extend(schema.write_risks(caps))
    if secret:
        problems.append(
            f"role {row.role!r} can read prompt/response/secret columns: {_shown(secret)}; "
            "use a role with column grants (`litellm-spend-exporter roles apply`)"
        )
    if lacking:
        problems.append(
            f"role {row.role!r} lacks SELECT on {len(lacking)} column(s) {READS[reader]}: "
            f"{_shown(lacking)}; re-run `litellm-spend-exporter roles apply`"
            + ("" if reader == "grafana" else " (or pass --reader grafana for the Grafana login)")
        )
    return facts, problems


def _shown(items: list[str], limit: int = 6) -> str:
    return ", ".join(items[:limit]) + (f" and {len(items) - limit} more" if len(items) > limit else "")


def run(cfg: Config, reader: str = "exporter") -> int:
    facts, problems = inspect(cfg, reader)
    width = max(len(k) for k in facts)
    for key, value in facts.items():
        if isinstance(value, bool):
            value = "yes" if value else "no"
        elif isinstance(value, list):
            value = _shown(value) or "(none)"
        print(f"{key:<{width}}  {value}")
    for index in map(indexes.Recommended.load, facts["missing_recommended_indexes"] or ()):
        # advice, not a failure: only some Grafana panels over long ranges on big tables need them
        print(
            f"\nNOTE: dashboard panels over long ranges on a big SpendLogs need an index LiteLLM does not "
            f"create (sql/indexes/{index.name}.sql); a DBA can run, without blocking LiteLLM:\n{index.statement}"
        )
    for problem in problems:
        print(f"FAIL {problem}", file=sys.stderr)
    if not problems:
        print(f"OK: the {'exporter' if reader == 'exporter' else 'Grafana datasource'} can read this LiteLLM database")
    return 1 if problems else 0
