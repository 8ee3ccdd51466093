"""Budget gauges for keys, teams, users, organizations and end users, read in full each refresh."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime
from typing import SupportsFloat, overload

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy.engine import Connection

from exporter.database import sqlfiles
from exporter.database.schema import Capabilities
from exporter.metrics.labels import disambiguate, label_value
from exporter.metrics.spec import BY_NAME, DEFAULT_LIMITS


def epoch(ts: datetime | None) -> float | None:
    """LiteLLM stores naive UTC timestamps (timestamptz on partitioned tables): seconds since the epoch."""
    if ts is None:
        return None
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.timestamp()


@overload
def finite(value: SupportsFloat | None, default: float = 0.0) -> float: ...
@overload
def finite(value: SupportsFloat | None, default: None) -> float | None: ...
def finite(value: SupportsFloat | None, default: float | None = 0.0) -> float | None:
    if value is None:
        return default
    value = float(value)
    return value if math.isfinite(value) else default


class _Entity:
    """(labels, spend, max_budget, soft_budget, reset_at) rows -> the four budget gauges (+ soft)."""

    def __init__(self, entity: str, label_names: tuple[str, ...]):
        self.entity = entity
        self.label_names = list(label_names)

    def family(self, suffix: str) -> GaugeMetricFamily:
        name = f"litellm_db_{self.entity}_{suffix}"
        return GaugeMetricFamily(name, BY_NAME[name].help, labels=self.label_names)

    def build(self, rows: list[tuple]) -> list:
        spend, limit, remaining, reset = (
            self.family(s)
            for s in ("spend_usd", "max_budget_usd", "budget_remaining_usd", "budget_reset_timestamp_seconds")
        )
        soft = self.family("soft_budget_usd") if f"litellm_db_{self.entity}_soft_budget_usd" in BY_NAME else None
        for labels, spent, max_budget, soft_budget, reset_at in rows:
            spent = finite(spent)
            spend.add_metric(labels, spent)
            if (m := finite(max_budget, None)) is not None:
                limit.add_metric(labels, m)
                remaining.add_metric(labels, m - spent)
            if soft is not None and (s := finite(soft_budget, None)) is not None:
                soft.add_metric(labels, s)
            if (r := epoch(reset_at)) is not None:
                reset.add_metric(labels, r)
        return [f for f in (spend, limit, remaining, reset, soft) if f is not None]


class Budgets:
    """One source for every entity's budget gauges; exposes what the last successful refresh read."""

    name = "budgets"

    def __init__(self, limits: dict[str, int] | None = None, clock=time.time):
        self.limits = {**DEFAULT_LIMITS, **(limits or {})}
        self.clock = clock
        self._pending: list | None = None
        self._families: list = []

    def collect(self, conn: Connection, caps: Capabilities) -> None:
        out = []
        keys = conn.execute(sqlfiles.statement("key_budgets"), {"limit": self.limits["api_key_alias"]}).all()
        out += self._keys(keys)
        team_sql = "team_budgets" if caps.usable("LiteLLM_TeamTable", "soft_budget") else "team_budgets_nosoft"
        teams = conn.execute(sqlfiles.statement(team_sql), {"limit": self.limits["team_alias"]}).all()
        out += _Entity("team", ("team", "team_alias")).build(
            [
                (
                    [label_value(t.team_id), label_value(t.team_alias or t.team_id)],
                    t.spend,
                    t.max_budget,
                    t.soft_budget,
                    t.budget_reset_at,
                )
                for t in teams
            ]
        )
        users = conn.execute(sqlfiles.statement("user_budgets"), {"limit": self.limits["user"]}).all()
        out += _Entity("user", ("user",)).build(
            [([label_value(u.user_id)], u.spend, u.max_budget, None, u.budget_reset_at) for u in users]
        )
        if caps.usable("LiteLLM_OrganizationTable"):
            orgs = conn.execute(sqlfiles.statement("org_budgets")).all()
            out += _Entity("org", ("org_id", "org_alias")).build(
                [
                    (
                        [label_value(o.organization_id), label_value(o.organization_alias)],
                        o.spend,
                        o.max_budget,
                        None,
                        o.budget_reset_at,
                    )
                    for o in orgs
                ]
            )
        if caps.usable("LiteLLM_EndUserTable"):
            ends = conn.execute(sqlfiles.statement("end_user_budgets"), {"limit": self.limits["end_user"]}).all()
            out += _Entity("end_user", ("end_user",)).build(
                [([label_value(e.user_id)], e.spend, e.max_budget, None, e.budget_reset_at) for e in ends]
            )
        self._pending = out

    def _keys(self, rows) -> list:
        names = disambiguate([(r.key_alias or r.key_name or "", r.key_name or "", r.hashed_api_key) for r in rows])
        entity = _Entity("key", ("api_key_alias", "team_alias"))
        labelled = [[name, label_value(r.team_alias or r.team_id or "")] for r, name in zip(rows, names)]
        out = entity.build(
            [(lbl, r.spend, r.max_budget, r.soft_budget, r.budget_reset_at) for lbl, r in zip(labelled, rows)]
        )
        blocked, expired = entity.family("blocked"), entity.family("expired")
        now = self.clock()
        for lbl, r in zip(labelled, rows):
            blocked.add_metric(lbl, 1.0 if r.blocked else 0.0)
            exp = epoch(r.expires)
            expired.add_metric(lbl, 1.0 if exp is not None and exp <= now else 0.0)
        return out + [blocked, expired]

    def commit(self) -> None:
        if self._pending is not None:
            self._families, self._pending = self._pending, None

    def rollback(self) -> None:
        self._pending = None

    def families(self) -> list:
        return self._families
