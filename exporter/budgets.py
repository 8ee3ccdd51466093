"""Budget gauges per virtual key, from LiteLLM_VerificationToken with the BudgetTable fallback."""

from __future__ import annotations

import math
from datetime import datetime, timezone

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy.engine import Connection

from exporter import sqlfiles
from exporter.labels import disambiguate, label_value
from exporter.schema import Capabilities

KEY_LABELS = ["api_key_alias", "team_alias"]


def epoch(ts: datetime | None) -> float | None:
    """LiteLLM stores naive UTC timestamps (timestamptz on partitioned tables): seconds since the epoch."""
    if ts is None:
        return None
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=timezone.utc)
    return ts.timestamp()


class KeyBudgets:
    """Reads every key once per refresh; series exist only for what is set (no fake limits)."""

    name = "key_budgets"

    def __init__(self, clock=None):
        self.clock = clock or (lambda: datetime.now(timezone.utc).timestamp())

    def collect(self, conn: Connection, caps: Capabilities) -> tuple[list, int]:
        rows = conn.execute(sqlfiles.statement("key_budgets")).all()
        now = self.clock()
        keys = disambiguate(
            [(r.key_alias or r.key_name or "", r.key_name or "", r.hashed_api_key) for r in rows])
        spend = GaugeMetricFamily("litellm_db_key_spend_usd",
                                  "Spend of the virtual key in its current budget period, in USD "
                                  "(LiteLLM_VerificationToken.spend).", labels=KEY_LABELS)
        max_budget = GaugeMetricFamily("litellm_db_key_max_budget_usd",
                                       "Budget limit of the virtual key in USD (its max_budget, else its "
                                       "LiteLLM_BudgetTable row's). Absent for keys without a limit.",
                                       labels=KEY_LABELS)
        remaining = GaugeMetricFamily("litellm_db_key_budget_remaining_usd",
                                      "max_budget - spend for the virtual key, in USD; negative when overspent. "
                                      "Absent for keys without a limit.", labels=KEY_LABELS)
        soft = GaugeMetricFamily("litellm_db_key_soft_budget_usd",
                                 "Soft (alerting-only) budget of the virtual key from LiteLLM_BudgetTable, in USD.",
                                 labels=KEY_LABELS)
        reset = GaugeMetricFamily("litellm_db_key_budget_reset_timestamp_seconds",
                                  "When LiteLLM next resets the key's spend (budget_reset_at), as a Unix time.",
                                  labels=KEY_LABELS)
        blocked = GaugeMetricFamily("litellm_db_key_blocked",
                                    "1 if the virtual key is blocked (LiteLLM_VerificationToken.blocked), else 0.",
                                    labels=KEY_LABELS)
        expired = GaugeMetricFamily("litellm_db_key_expired",
                                    "1 if the virtual key's expires time has passed, else 0.", labels=KEY_LABELS)
        for row, alias in zip(rows, keys):
            labels = [alias, label_value(row.team_alias or row.team_id or "")]
            key_spend = _finite(row.spend)
            spend.add_metric(labels, key_spend)
            limit = _finite(row.max_budget, None)
            if limit is not None:
                max_budget.add_metric(labels, limit)
                remaining.add_metric(labels, limit - key_spend)
            if (s := _finite(row.soft_budget, None)) is not None:
                soft.add_metric(labels, s)
            if (r := epoch(row.budget_reset_at)) is not None:
                reset.add_metric(labels, r)
            blocked.add_metric(labels, 1.0 if row.blocked else 0.0)
            exp = epoch(row.expires)
            expired.add_metric(labels, 1.0 if exp is not None and exp <= now else 0.0)
        return [spend, max_budget, remaining, soft, reset, blocked, expired], len(rows)


def _finite(value, default: float | None = 0.0) -> float | None:
    if value is None:
        return default
    value = float(value)
    return value if math.isfinite(value) else default
