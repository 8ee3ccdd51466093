"""Runs the audit's SQL (sql/audit/*.sql and the budget queries) in one read-only snapshot; returns raw rows."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from exporter.audit.model import Options
from exporter.database import sqlfiles
from exporter.database.schema import Capabilities

SPEND_LOGS = "LiteLLM_SpendLogs"
EARLIEST, LATEST = datetime(1970, 1, 1), datetime(9999, 1, 1)
BURN_WINDOW = timedelta(days=7)
NO_FILTERS = {"model_group": None, "key_alias": None, "team_alias": None}
MAX_USERS = 10_000
# Timeline bucket widths, smallest first: the first that gives at most MAX_BUCKETS buckets is used.
BUCKETS = (60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 7 * 86400)
MAX_BUCKETS = 60
WORK_MEM = "256MB"  # for the sorts and hashes of one audit session (SET LOCAL: this transaction only)


@dataclass
class Raw:
    """Everything the report is built from."""

    start: datetime | None  # the requested window (None = unbounded)
    end: datetime | None
    first: datetime | None  # the first and newest request in it
    last: datetime | None
    db_now: datetime
    bucket_seconds: int
    cube: list[dict] = field(default_factory=list)
    distribution: list[dict] = field(default_factory=list)
    sessions: list[dict] | None = None  # None: no session_id column (LiteLLM before 20250425182129)
    burn: list[dict] = field(default_factory=list)
    burn_start: datetime | None = None
    burn_end: datetime | None = None
    keys: list[dict] = field(default_factory=list)
    teams: list[dict] = field(default_factory=list)
    users: list[dict] = field(default_factory=list)
    key_names: dict[str, str] = field(default_factory=dict)
    team_names: dict[str, str] = field(default_factory=dict)


def _plain(value):
    """Decimal sums from SQL as int (when integral) or float, so the report is plain JSON."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _rows(conn: Connection, name: str, params: dict | None = None) -> list[dict]:
    text = sqlfiles.text(name)
    bound = {k: v for k, v in (params or {}).items() if f":{k}" in text}
    return [{k: _plain(v) for k, v in r._mapping.items()} for r in conn.execute(sa.text(text), bound)]


def _naive(ts: datetime | None) -> datetime | None:
    if ts is None or ts.tzinfo is None:
        return ts
    return ts.astimezone(UTC).replace(tzinfo=None)


def bucket_for(span_seconds: float) -> int:
    for width in BUCKETS:
        if span_seconds / width <= MAX_BUCKETS:
            return width
    return BUCKETS[-1]


def resolve_window(conn: Connection, opts: Options) -> tuple[datetime | None, datetime | None, dict]:
    """The [start, end) to audit: --since/--until, or --last DUR up to the newest request that passes the filters."""
    start, end = opts.since, opts.until
    filters = {"model_group": opts.model, "key_alias": opts.key, "team_alias": opts.team}  # NULL: no filter
    if opts.last is not None:
        row = _rows(conn, "audit/window", {"start": start or EARLIEST, "end": end or LATEST, **filters})[0]
        newest = _naive(row["last_start"])
        if newest is not None:
            end = newest + timedelta(milliseconds=1)
            start = max(start, end - timedelta(seconds=opts.last)) if start else end - timedelta(seconds=opts.last)
    ext = _rows(conn, "audit/window", {"start": start or EARLIEST, "end": end or LATEST, **filters})[0]
    return start, end, ext


def collect(conn: Connection, caps: Capabilities, opts: Options, step=lambda name: None) -> Raw:
    """Run every audit query in `conn` (one REPEATABLE READ READ ONLY transaction)."""
    conn.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")
    conn.exec_driver_sql(f"SET LOCAL work_mem = '{WORK_MEM}'")
    step("window")
    start, end, ext = resolve_window(conn, opts)
    first, last = _naive(ext["first_start"]), _naive(ext["last_start"])
    span = ((last - first).total_seconds() if first and last else 0) or 3600
    db_now = _naive(ext["db_now"])
    assert db_now is not None, "now() is never NULL"
    raw = Raw(start, end, first, last, db_now, bucket_for(span))
    params = {
        "start": start or EARLIEST,
        "end": end or LATEST,
        "model_group": opts.model,
        "key_alias": opts.key,
        "team_alias": opts.team,
        "bucket_seconds": raw.bucket_seconds,
        "limit": opts.top,
    }
    step("cube")
    # The planner cannot estimate the groups of these expressions and picks a sort of every (wide) row;
    # hashing them, with partial aggregation in parallel workers, is several times faster.
    conn.exec_driver_sql("SET LOCAL enable_sort = off")
    raw.cube = _rows(conn, "audit/cube" if caps.status_column else "audit/cube_nostatus", params)
    conn.exec_driver_sql("SET LOCAL enable_sort = on")
    step("distribution")
    raw.distribution = _rows(conn, "audit/distribution", params)
    step("sessions")
    if caps.usable(SPEND_LOGS, "session_id"):
        raw.sessions = _rows(conn, "audit/sessions", params)
    step("budgets")
    if end is None and any(params[k] for k in NO_FILTERS):  # budgets burn at the ledger's pace, not the filter's
        last = _naive(
            _rows(conn, "audit/window", {"start": start or EARLIEST, "end": LATEST, **NO_FILTERS})[0]["last_start"]
        )
    _budgets(conn, caps, raw, start, end, last)
    return raw


def _budgets(
    conn: Connection,
    caps: Capabilities,
    raw: Raw,
    start: datetime | None,
    end: datetime | None,
    last: datetime | None,
) -> None:
    """Budgets and names, and spend over the burn window: the audit window, or its last 7 days; either trimmed to
    the time the ledger covers (a ledger of 21 hours divides its spend by 21 hours, not by 7 days)."""
    raw.burn_end = end or (last + timedelta(milliseconds=1) if last else raw.db_now)
    raw.burn_start = start or (raw.burn_end - BURN_WINDOW)
    raw.burn = _rows(conn, "audit/burn", {"since": raw.burn_start, "end": raw.burn_end})
    ledger_first = _naive(raw.burn[0]["ledger_first"]) if raw.burn else None
    if ledger_first is not None and ledger_first > raw.burn_start:
        raw.burn_start = ledger_first
    raw.keys = _rows(conn, "key_budgets", {"limit": MAX_USERS})  # the most at risk first
    raw.teams = _rows(
        conn,
        "team_budgets" if caps.usable("LiteLLM_TeamTable", "soft_budget") else "team_budgets_nosoft",
        {"limit": MAX_USERS},
    )
    raw.users = _rows(conn, "user_budgets", {"limit": MAX_USERS})
    for r in _rows(conn, "key_names"):
        raw.key_names[r["hashed_api_key"]] = r["key_alias"] or r["key_name"] or r["hashed_api_key"][:12]
    for table, sql in (("LiteLLM_DeletedVerificationToken", "deleted_key_names"),):
        if caps.usable(table):
            for r in _rows(conn, sql):
                raw.key_names.setdefault(r["hashed_api_key"], r["key_alias"] or r["key_name"] or "")
    for r in _rows(conn, "team_names"):
        raw.team_names[r["team_id"]] = r["team_alias"] or r["team_id"]
    if caps.usable("LiteLLM_DeletedTeamTable"):
        for r in _rows(conn, "deleted_team_names"):
            raw.team_names.setdefault(r["team_id"], r["team_alias"] or r["team_id"])


def finite(value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return 0.0
    return v if math.isfinite(v) else 0.0
