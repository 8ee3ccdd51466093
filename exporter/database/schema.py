"""Detects which LiteLLM schema the connected database has, so one exporter works across LiteLLM versions."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import Connection

from exporter.database import sqlfiles
from exporter.errors import SchemaError

SPEND_LOGS = "LiteLLM_SpendLogs"
KEYS = "LiteLLM_VerificationToken"
BASELINE = "LiteLLM's baseline migration 20250326162113 (every LiteLLM release with Prisma migrations)"

# Columns the exporter cannot work without, and where in LiteLLM's history they come from.
REQUIRED: dict[str, dict[str, str]] = {
    SPEND_LOGS: {
        c: BASELINE
        for c in (
            "request_id",
            "api_key",
            "spend",
            "prompt_tokens",
            "completion_tokens",
            "startTime",
            "endTime",
            "model",
            "model_group",
            "custom_llm_provider",
            "user",
            "team_id",
            "metadata",
        )
    },
    KEYS: {
        c: BASELINE
        for c in (
            "token",
            "key_name",
            "key_alias",
            "spend",
            "max_budget",
            "team_id",
            "budget_id",
            "budget_reset_at",
            "blocked",
            "expires",
        )
    },
    "LiteLLM_BudgetTable": {c: BASELINE for c in ("budget_id", "max_budget", "soft_budget")},
    "LiteLLM_TeamTable": {c: BASELINE for c in ("team_id", "team_alias", "spend", "max_budget")},
}

# Optional capabilities: (table, column) -> the LiteLLM migration that introduced it.
OPTIONAL: dict[tuple[str, str], str] = {
    (SPEND_LOGS, "status"): "20250508072103_add_status_to_spendlogs (older rows: metadata->>'status')",
    (SPEND_LOGS, "session_id"): "20250425182129_add_session_id",
    (SPEND_LOGS, "organization_id"): "20251122125322_Add organization_id to spend logs",
    (SPEND_LOGS, "request_duration_ms"): "20260224201417_spend_logs_request_duration",
    (SPEND_LOGS, "created_at"): "20260818000000_add_spend_log_timestamps",
    (SPEND_LOGS, "completionStartTime"): "baseline",
    (KEYS, "total_spend"): "20260916000000_add_key_total_spend",
    ("LiteLLM_TeamTable", "soft_budget"): "20260205144610_add_soft_budget_to_team_table",
}

DAILY_TABLES = (
    "LiteLLM_DailyUserSpend",
    "LiteLLM_DailyTeamSpend",
    "LiteLLM_DailyOrganizationSpend",
    "LiteLLM_DailyEndUserSpend",
    "LiteLLM_DailyAgentSpend",
    "LiteLLM_DailyTagSpend",
)


@dataclass(frozen=True)
class Capabilities:
    """What the connected LiteLLM database has: tables, columns, relkinds and readable columns."""

    schema: str
    columns: dict[str, dict[str, str]] = field(default_factory=dict)  # table -> column -> type
    relkinds: dict[str, str] = field(default_factory=dict)
    readable: frozenset[tuple[str, str]] = frozenset()
    writable: frozenset[str] = frozenset()  # LiteLLM tables the role could modify
    role: dict = field(default_factory=dict)  # sql/role_info.sql

    def has(self, table: str, column: str | None = None) -> bool:
        cols = self.columns.get(table)
        return cols is not None and (column is None or column in cols)

    def usable(self, table: str, *columns: str) -> bool:
        """The table (and these columns) exist and the role may read them. Queries pick their variant with this,
        so a column LiteLLM adds (and `roles apply` has not granted yet) does not break a refresh."""
        if table not in self.columns:
            return False
        if columns:
            return all(c in self.columns[table] and (table, c) in self.readable for c in columns)
        return any(t == table for t, _ in self.readable)

    @property
    def spend_logs_partitioned(self) -> bool:
        return self.relkinds.get(SPEND_LOGS) == "p"

    @property
    def status_column(self) -> bool:
        """SpendLogs.status exists and is readable (else status comes from metadata, as for older rows)."""
        return self.usable(SPEND_LOGS, "status")

    @property
    def daily_tables(self) -> list[str]:
        return [t for t in DAILY_TABLES if t in self.columns]

    @property
    def timestamps_with_time_zone(self) -> bool:
        return "with time zone" in self.columns.get(SPEND_LOGS, {}).get("startTime", "")

    def missing_required(self) -> list[str]:
        problems = []
        for table, cols in REQUIRED.items():
            if table not in self.columns:
                problems.append(f'table "{table}" is missing from schema {self.schema!r} (it exists since {BASELINE})')
                continue
            for col, since in cols.items():
                if col not in self.columns[table]:
                    problems.append(f'column "{table}"."{col}" is missing (it exists since {since})')
        return problems

    def summary(self) -> dict[str, object]:
        """The capabilities as a flat dict, for `check` and the landing page."""
        out: dict[str, object] = {
            "schema": self.schema,
            "spend_logs_partitioned": self.spend_logs_partitioned,
            "timestamps": "timestamptz" if self.timestamps_with_time_zone else "timestamp (UTC)",
        }
        for table, col in OPTIONAL:
            out[f"{table.removeprefix('LiteLLM_')}.{col}"] = self.has(table, col)
        out["daily_tables"] = [t.removeprefix("LiteLLM_") for t in self.daily_tables]
        out["litellm_tables"] = len(self.columns)
        return out


def detect(conn: Connection, schema: str) -> Capabilities:
    columns: dict[str, dict[str, str]] = {}
    relkinds: dict[str, str] = {}
    readable, writable = set(), set()
    for row in conn.execute(sqlfiles.statement("schema_columns"), {"schema": schema}):
        columns.setdefault(row.table_name, {})[row.column_name] = row.data_type
        relkinds[row.table_name] = row.relkind
        if row.can_select:
            readable.add((row.table_name, row.column_name))
        if row.can_write:
            writable.add(row.table_name)
    role = conn.execute(sqlfiles.statement("role_info"), {"schema": schema}).one()._asdict()
    return Capabilities(
        schema=schema,
        columns=columns,
        relkinds=relkinds,
        readable=frozenset(readable),
        writable=frozenset(writable),
        role=role,
    )


def write_risks(caps: Capabilities) -> list[str]:
    """Why the connected role could change data: each a one-line problem ([] for a read-only role)."""
    role, risks = caps.role, []
    if role.get("superuser"):
        risks.append(f"role {role['role']!r} is a superuser: it can write and read everything")
    if role.get("write_all_data"):
        risks.append(f"role {role['role']!r} is a member of pg_write_all_data")
    if caps.writable:
        tables = sorted(caps.writable)
        shown = ", ".join(tables[:5]) + (f" and {len(tables) - 5} more" if len(tables) > 5 else "")
        risks.append(
            f"role {role.get('role')!r} can INSERT/UPDATE/DELETE/TRUNCATE {len(tables)} LiteLLM table(s): {shown}"
        )
    if role.get("create_in_schema"):
        risks.append(f"role {role.get('role')!r} can CREATE objects in schema {caps.schema!r}")
    return risks


def require(caps: Capabilities) -> None:
    """Raise SchemaError with every missing table/column named, or return quietly."""
    if not caps.columns:
        raise SchemaError(
            f"no LiteLLM tables in schema {caps.schema!r}: is this LiteLLM's database? "
            "If LiteLLM runs with DATABASE_SCHEMA, pass the same value as --database.schema"
        )
    problems = caps.missing_required()
    if problems:
        raise SchemaError("; ".join(problems))
