"""Spend ledger (PostgreSQL, read-only Grafana role): the ADR's panels plus drill-down tables, SQL in sql/grafana/."""

from __future__ import annotations

from dashboards.style import (
    COUNT,
    RATIO,
    SECONDS,
    TIME_FROM_NOW,
    TOKENS,
    USD,
    budget_steps,
    dashboard,
    postgres_variables,
    row,
    sql,
    table,
    timeseries,
)
from dashboards.thresholds import Thresholds

UID = "litellm-db-spend-ledger"
ROLLUP_NOTE = (
    "Ranges up to a day read LiteLLM_SpendLogs (exact); longer ranges read the "
    "LiteLLM_DailyTeamSpend rollup in whole UTC days."
)


def spend():
    return row(
        "Spend",
        timeseries(
            "Spend over time",
            f"Spend per interval by model group. {ROLLUP_NOTE}",
            USD,
            [sql("spend_over_time")],
            w=24,
            bars=True,
            stack=True,
        ),
        table(
            "Spend by model",
            f"Spend and requests in the range by model group, deployment and provider. {ROLLUP_NOTE}",
            USD,
            [sql("spend_by_model", table=True)],
            columns={"requests": ("Requests", COUNT), "spend": ("Spend", USD)},
            sort_by="Spend",
            w=12,
        ),
        table(
            "Spend by key",
            f"The 50 keys that spent most in the range, with their team. {ROLLUP_NOTE}",
            USD,
            [sql("spend_by_key", table=True)],
            columns={"requests": ("Requests", COUNT), "spend": ("Spend", USD)},
            sort_by="Spend",
            w=12,
        ),
        table(
            "Spend by team",
            f"Spend and requests in the range per team. {ROLLUP_NOTE}",
            USD,
            [sql("spend_by_team", table=True)],
            columns={"requests": ("Requests", COUNT), "spend": ("Spend", USD)},
            sort_by="Spend",
            w=8,
        ),
        timeseries(
            "Tokens",
            f"Input (prompt) and output (completion) tokens per interval. {ROLLUP_NOTE}",
            TOKENS,
            [sql("tokens_over_time")],
            w=16,
            bars=True,
        ),
    )


def budgets(th: Thresholds):
    return row(
        "Budgets",
        table(
            "Remaining budget per key",
            "Virtual keys with a budget limit: current-period spend, limit "
            "(the key's, else its budget's), remaining and share used, most used first. Current state, not "
            "filtered by time.",
            USD,
            [sql("key_budgets", table=True)],
            columns={"used": ("Used", RATIO), "resets_at": ("Resets", TIME_FROM_NOW)},
            sort_by="Used",
            steps=budget_steps(th),
        ),
    )


def drill_down():
    return row(
        "Drill-down",
        table(
            "Most expensive requests",
            "The 100 most expensive requests in the range (filtered on the "
            "indexed startTime first); prompts and responses are never read.",
            USD,
            [sql("expensive_requests", table=True)],
            columns={
                "input_tokens": ("Input tokens", TOKENS),
                "output_tokens": ("Output tokens", TOKENS),
                "duration": ("Duration", SECONDS),
                "spend": ("Spend", USD),
            },
            sort_by="Spend",
            h=10,
        ),
        table(
            "Recent failures",
            "The 100 most recent failed requests in the range with LiteLLM's error class, "
            "HTTP status and exception class (error messages are not read).",
            COUNT,
            [sql("recent_failures", table=True)],
            h=10,
        ),
    )


def build(th: Thresholds):
    return dashboard(
        UID,
        "LiteLLM spend ledger (PostgreSQL)",
        "LiteLLM's spend tables read directly through a read-only Grafana role (ADR: Grafana Postgres "
        "datasource): spend over time, by model, key and team, tokens, remaining budget per key, and the most "
        "expensive and most recent failed requests.",
        postgres_variables(),
        [spend(), budgets(th), drill_down()],
        time_from="now-7d",
        refresh="5m",
    )
