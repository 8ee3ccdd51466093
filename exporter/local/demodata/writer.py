"""Writes generated chunks: COPY into SpendLogs, then upsert the Daily* rollups and add entity spend."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg import sql

from exporter.local.demodata.rollup import FINE_COLUMNS, SPEND_COLUMNS
from exporter.local.demodata.schema import DAILY_TABLES, SPEND_LOGS, Schema

FINE, SPEND = "demodata_fine", "demodata_spend"
COUNTERS = [c for c, _ in FINE_COLUMNS[11:-1]]
ROLLUP_SOURCES = {  # daily table -> (entity expression over the fine rows, extra FROM, filter) as LiteLLM does:
    "LiteLLM_DailyUserSpend": ("f.u", "", "TRUE"),  # every request, user '' when none
    "LiteLLM_DailyTeamSpend": ("f.team", "", "f.team IS NOT NULL"),  # team '' included, only NULL skipped
    "LiteLLM_DailyOrganizationSpend": ("f.org", "", "f.org IS NOT NULL"),
    "LiteLLM_DailyEndUserSpend": ("f.eu", "", "f.eu <> ''"),
    "LiteLLM_DailyTagSpend": (
        "t.tag",
        " CROSS JOIN LATERAL (SELECT DISTINCT jsonb_array_elements_text(f.tags)) AS t(tag)",
        "TRUE",
    ),  # one row per tag per request
}
ENTITIES = [  # kind, table, id columns, period start over e (entity) / b (its BudgetTable row), via budget_id
    (
        "key",
        "LiteLLM_VerificationToken",
        ["token"],
        (
            "CASE WHEN e.budget_duration IS NOT NULL THEN e.budget_reset_at ELSE b.budget_reset_at END",
            "COALESCE(e.budget_duration, b.budget_duration)",
        ),
        True,
    ),
    ("user", "LiteLLM_UserTable", ["user_id"], ("e.budget_reset_at", "e.budget_duration"), False),
    ("team", "LiteLLM_TeamTable", ["team_id"], ("e.budget_reset_at", "e.budget_duration"), False),
    ("org", "LiteLLM_OrganizationTable", ["organization_id"], ("b.budget_reset_at", "b.budget_duration"), True),
    ("end_user", "LiteLLM_EndUserTable", ["user_id"], ("b.budget_reset_at", "b.budget_duration"), True),
    ("member", "LiteLLM_TeamMembership", ["user_id", "team_id"], ("b.budget_reset_at", "b.budget_duration"), True),
]


def interval_sql(dur: str) -> str:
    """SQL turning a LiteLLM budget_duration ('30s', '1h', '7d', '2w', '1mo') into an interval (NULL if unknown)."""
    num = f"substring({dur} from '^[0-9]+')::int"
    units = [("mo", "months"), ("w", "weeks"), ("d", "days"), ("h", "hours"), ("m", "mins"), ("s", "secs")]
    return (
        "CASE "
        + " ".join(f"WHEN {dur} ~ '^[0-9]+{u}$' THEN make_interval({arg} => {num})" for u, arg in units)
        + " END"
    )


def period_start_sql(reset: str, dur: str) -> str:
    """Start of the current budget period: budget_reset_at - budget_duration (NULL: count every row)."""
    return f"({reset} - {interval_sql(dur)})"


@dataclass
class Chunk:
    seq: int
    rows: int
    spend_logs: bytes
    fine: bytes
    spend: bytes


class Writer:
    def __init__(self, conn: psycopg.Connection, schema: Schema, columns: list[str]):
        self.conn, self.s, self.columns = conn, schema, columns
        self.statements: list[tuple[sql.Composed, dict[str, object]]] = []  # each with its parameters ("ts": at write)

    def setup(self) -> None:
        for name, cols in ((FINE, FINE_COLUMNS), (SPEND, SPEND_COLUMNS)):
            self.conn.execute(
                sql.SQL("CREATE TEMP TABLE IF NOT EXISTS {} ({}) ON COMMIT DELETE ROWS").format(
                    sql.Identifier(name),
                    sql.SQL(", ").join(sql.SQL("{} " + t).format(sql.Identifier(c)) for c, t in cols),
                )
            )
        self.statements = [
            (self._rollup(t), {"ts": None}) for t in DAILY_TABLES if self.s.has(t) and t in self.s.unique_keys
        ]
        self.statements += self._entity_updates()

    def _rollup(self, table: str) -> sql.Composed:
        """INSERT ... ON CONFLICT (LiteLLM's unique key) DO UPDATE SET col = col + EXCLUDED.col."""
        s, entity = self.s, DAILY_TABLES[table]
        expr, extra_from, where = ROLLUP_SOURCES[table]
        key_src = {
            entity: expr,
            "date": "f.date",
            "api_key": "f.api_key",
            "model": "f.model",
            "custom_llm_provider": "f.custom_llm_provider",
            "mcp_namespaced_tool_name": "''",
            "endpoint": "f.endpoint",
        }
        keys = s.unique_keys[table]
        counters = s.present(table, COUNTERS)
        insert = ["id", *keys, *s.present(table, ["model_group"]), *counters]
        select = [
            sql.SQL("md5(concat_ws('|', " + ", ".join(key_src[k] for k in keys) + "))::uuid::text"),
            *(sql.SQL(key_src[k]) for k in keys),
            *([sql.SQL("min(f.model_group)")] if s.has(table, "model_group") else []),
            *(sql.SQL("sum(f.{})").format(sql.Identifier(c)) for c in counters),
        ]
        if s.has(table, "request_id"):
            insert.append("request_id")
            select.append(sql.SQL("min(f.any_request_id)"))
        insert += ["created_at", "updated_at"]
        select += [sql.Placeholder("ts"), sql.Placeholder("ts")]
        sets = [
            sql.SQL("{c} = {t}.{c} + EXCLUDED.{c}").format(c=sql.Identifier(c), t=s.tbl(table)) for c in counters
        ] + [sql.SQL("updated_at = EXCLUDED.updated_at")]
        return sql.SQL(
            "INSERT INTO {t} ({ins}) SELECT {sel} FROM {fine} f{extra} WHERE {where} GROUP BY {grp} "
            "ORDER BY {grp} ON CONFLICT ({keys}) DO UPDATE SET {sets}"
        ).format(
            t=s.tbl(table),
            ins=sql.SQL(", ").join(map(sql.Identifier, insert)),
            sel=sql.SQL(", ").join(select),
            fine=sql.Identifier(FINE),
            extra=sql.SQL(extra_from),
            where=sql.SQL(where),
            grp=sql.SQL(", ").join(sql.SQL(str(i + 2)) for i in range(len(keys))),
            keys=sql.SQL(", ").join(map(sql.Identifier, keys)),
            sets=sql.SQL(", ").join(sets),
        )

    def _entity_updates(self) -> list[tuple[sql.Composed, dict[str, object]]]:
        """Additive spend: `spend` counts the current budget period, `total_spend` (keys) every row."""
        s = self.s
        out: list[tuple[sql.Composed, dict[str, object]]] = []
        for kind, table, ids, (reset, dur), via_budget in ENTITIES:
            if not s.has(table, "spend") or (via_budget and not s.has(table, "budget_id")):
                continue
            join_b = (
                sql.SQL(" LEFT JOIN {} b ON b.budget_id = e.budget_id").format(s.tbl("LiteLLM_BudgetTable"))
                if via_budget
                else sql.SQL("")
            )
            sets = [sql.SQL("spend = x.spend + d.period")]
            if s.has(table, "total_spend"):
                sets.append(sql.SQL("total_spend = x.total_spend + d.total"))
            src = ["p.id", "p.id2"][: len(ids)]
            out.append(
                (
                    sql.SQL(
                        "UPDATE {t} x SET {sets} FROM (SELECT {eids}, COALESCE(sum(p.spend) FILTER (WHERE e.ps IS NULL "
                        "OR p.hour >= e.ps), 0) AS period, sum(p.spend) AS total FROM {spend} p "
                        "JOIN (SELECT {ecols}, {ps} "
                        "AS ps FROM {t} e{join_b}) e ON {on} WHERE p.kind = %(kind)s GROUP BY {grp} ORDER BY {grp}) d "
                        "WHERE {match}"
                    ).format(
                        t=s.tbl(table),
                        sets=sql.SQL(", ").join(sets),
                        eids=sql.SQL(", ").join(sql.SQL("e.{}").format(sql.Identifier(i)) for i in ids),
                        spend=sql.Identifier(SPEND),
                        ecols=sql.SQL(", ").join(sql.SQL("e.{}").format(sql.Identifier(i)) for i in ids),
                        ps=sql.SQL(period_start_sql(reset, dur)),
                        join_b=join_b,
                        on=sql.SQL(" AND ").join(
                            sql.SQL("e.{} = " + x).format(sql.Identifier(i)) for i, x in zip(ids, src)
                        ),
                        grp=sql.SQL(", ").join(sql.SQL(str(i + 1)) for i in range(len(ids))),
                        match=sql.SQL(" AND ").join(sql.SQL("x.{i} = d.{i}").format(i=sql.Identifier(i)) for i in ids),
                    ),
                    {"kind": kind},
                )
            )
        return out

    def _copy(self, cur: psycopg.Cursor, target: sql.Composable, columns: list[str], data: bytes) -> None:
        stmt = sql.SQL("COPY {} ({}) FROM STDIN").format(target, sql.SQL(", ").join(map(sql.Identifier, columns)))
        with cur.copy(stmt) as cp:
            for i in range(0, len(data), 1 << 20):
                cp.write(data[i : i + (1 << 20)])

    def write(self, chunk: Chunk, stamp: datetime, turn: Callable[[int], None] | None = None) -> None:
        """One chunk in one transaction: SpendLogs rows, their Daily* rollups and entity spend.

        `turn(seq)` returns once the previous chunk has committed: the additive upserts then run in chunk
        order, so float sums (and row locks) do not depend on which writer thread was faster."""
        with self.conn.transaction(), self.conn.cursor() as cur:
            self._copy(cur, self.s.tbl(SPEND_LOGS), self.columns, chunk.spend_logs)
            self._copy(cur, sql.Identifier(FINE), [c for c, _ in FINE_COLUMNS], chunk.fine)
            self._copy(cur, sql.Identifier(SPEND), [c for c, _ in SPEND_COLUMNS], chunk.spend)
            if turn:
                turn(chunk.seq)
            for stmt, params in self.statements:
                cur.execute(stmt, {**params, "ts": stamp} if "ts" in params else params)
