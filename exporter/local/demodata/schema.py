"""What the target database holds: tables, columns and unique keys, read once from the catalog."""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from psycopg import sql

SPEND_LOGS = "LiteLLM_SpendLogs"
DAILY_TABLES = {  # table -> entity column (LiteLLM's daily rollups that the demo data fills)
    "LiteLLM_DailyUserSpend": "user_id",
    "LiteLLM_DailyTeamSpend": "team_id",
    "LiteLLM_DailyOrganizationSpend": "organization_id",
    "LiteLLM_DailyEndUserSpend": "end_user_id",
    "LiteLLM_DailyTagSpend": "tag",
}
BASE_COLUMNS = [
    "request_id",
    "call_type",
    "api_key",
    "spend",
    "total_tokens",
    "prompt_tokens",
    "completion_tokens",
    "startTime",
    "endTime",
    "completionStartTime",
    "model",
    "model_id",
    "model_group",
    "custom_llm_provider",
    "api_base",
    "user",
    "metadata",
    "cache_hit",
    "cache_key",
    "request_tags",
    "team_id",
    "end_user",
    "requester_ip_address",
]  # all in LiteLLM's baseline schema
OPTIONAL_COLUMNS = [
    "messages",
    "response",
    "proxy_server_request",
    "session_id",
    "status",
    "mcp_namespaced_tool_name",
    "organization_id",
    "agent_id",
    "request_duration_ms",
    "created_at",
    "updated_at",
    "litellm_call_id",
    "billing_agent_id",
]
# what the demo writes into these columns anyway: left to the column default when that default is the same
# (saves the server parsing three jsonb values per row)
DEFAULTED = {
    "messages": "'{}'::jsonb",
    "response": "'{}'::jsonb",
    "proxy_server_request": "'{}'::jsonb",
    "mcp_namespaced_tool_name": None,
    "agent_id": None,
    "billing_agent_id": None,
}


def copy_columns(present: dict[str, str | None]) -> list[str]:
    """The optional SpendLogs columns to COPY, given the table's {column: default} (absent columns excluded)."""
    return [c for c in OPTIONAL_COLUMNS if c in present and not (c in DEFAULTED and DEFAULTED[c] == present[c])]


class DemoDataError(RuntimeError):
    """The target database cannot take demo data (e.g. LiteLLM's schema is missing)."""


@dataclass
class Schema:
    name: str
    columns: dict[str, set[str]] = field(default_factory=dict)
    unique_keys: dict[str, list[str]] = field(default_factory=dict)
    defaults: dict[str, str | None] = field(default_factory=dict)  # SpendLogs column -> its default expression

    def tbl(self, table: str) -> sql.Identifier:
        return sql.Identifier(self.name, table)

    def has(self, table: str, column: str | None = None) -> bool:
        cols = self.columns.get(table)
        return cols is not None and (column is None or column in cols)

    def present(self, table: str, wanted) -> list[str]:
        cols = self.columns.get(table, set())
        return [c for c in wanted if c in cols]


def read_schema(conn: psycopg.Connection, schema: str) -> Schema:
    s = Schema(schema)
    rows = conn.execute(
        "SELECT table_name, column_name, column_default FROM information_schema.columns "
        "WHERE table_schema = %s AND table_name LIKE 'LiteLLM\\_%%'",
        (schema,),
    ).fetchall()
    for table, column, default in rows:
        s.columns.setdefault(table, set()).add(column)
        if table == SPEND_LOGS:
            s.defaults[column] = default
    if SPEND_LOGS not in s.columns:
        raise DemoDataError(f'no "{SPEND_LOGS}" table in schema {schema!r}: apply LiteLLM\'s migrations first')
    keys = conn.execute(
        """
        SELECT c.relname, array_agg(a.attname::text ORDER BY k.ord)
        FROM pg_index i
        JOIN pg_class c ON c.oid = i.indrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
        WHERE n.nspname = %s AND i.indisunique AND NOT i.indisprimary AND i.indpred IS NULL
          AND c.relname = ANY(%s)
        GROUP BY c.relname, i.indexrelid
        ORDER BY c.relname, i.indexrelid
        """,
        (schema, list(DAILY_TABLES)),
    ).fetchall()
    for table, cols in keys:
        if DAILY_TABLES[table] in cols and "date" in cols:
            s.unique_keys.setdefault(table, list(cols))
    return s
