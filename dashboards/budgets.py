"""Budgets (Prometheus): per key, team and user, spend against limit, reset, burn rate and projected exhaustion."""

from __future__ import annotations

from dashboards import queries as q
from dashboards.style import (
    RATIO,
    SECONDS,
    TIME_FROM_NOW,
    USD,
    bars,
    budget_steps,
    dashboard,
    prom,
    prometheus_variables,
    row,
    table,
    timeseries,
)
from dashboards.thresholds import Thresholds

UID = "litellm-db-budgets"
COLUMNS = {  # refId of each query in budget_table -> column name and unit
    "Value #A": ("% used", RATIO),
    "Value #B": ("Spend", USD),
    "Value #C": ("Limit", USD),
    "Value #D": ("Remaining", USD),
    "Value #E": ("Burn rate (USD/h)", USD),
    "Value #F": ("Runs out in", SECONDS),
    "Value #G": ("Resets", TIME_FROM_NOW),
}


def budget_table(noun: str, th: Thresholds):
    burn_window = th.budget.burn_window
    exprs = q.budget(noun, burn_window)
    targets = [
        prom(exprs[k], instant=True, table=True)
        for k in ("used", "spend", "limit", "remaining", "burn_per_hour", "time_left", "reset")
    ]
    return table(
        f"{noun.capitalize()} budgets by risk",
        f"Every {noun} with a budget limit, most used first: current-period spend, limit, remaining, share used, "
        f"burn rate over the last {burn_window}, when the remaining budget runs out at that rate "
        "(empty: not spending), and when LiteLLM next resets the spend.",
        USD,
        targets,
        columns=COLUMNS,
        sort_by="% used",
        merge=True,
        h=10,
    )


def used_over_time(noun: str, expr: str, legend: str, th: Thresholds):
    return timeseries(
        f"{noun.capitalize()} budget used over time",
        f"Share of its budget each of the 10 most-used {noun}s has spent; it drops to 0 at a reset. "
        f"The lines are the warning and critical thresholds.",
        RATIO,
        [prom(expr, legend)],
        w=16,
        steps=budget_steps(th),
    )


def most_used(noun: str, expr: str, legend: str, th: Thresholds):
    return bars(
        f"Most used {noun} budgets",
        f"The 10 {noun}s closest to (or past) their budget limit.",
        RATIO,
        prom(expr, legend, instant=True),
        w=8,
        steps=budget_steps(th),
        max_value=1,
    )


def keys(th: Thresholds):
    return row(
        "Virtual keys",
        budget_table("key", th),
        most_used("key", q.TOP_KEYS_BY_BUDGET_USE, "{{api_key_alias}}", th),
        used_over_time("key", q.TOP_KEYS_BY_BUDGET_USE, "{{api_key_alias}}", th),
    )


def teams(th: Thresholds):
    return row(
        "Teams",
        budget_table("team", th),
        most_used("team", q.TOP_TEAMS_BY_BUDGET_USE, "{{team_alias}}", th),
        used_over_time("team", q.TOP_TEAMS_BY_BUDGET_USE, "{{team_alias}}", th),
    )


def users(th: Thresholds):
    return row(
        "Internal users",
        budget_table("user", th),
        most_used("user", q.TOP_USERS_BY_BUDGET_USE, "{{user}}", th),
        used_over_time("user", q.TOP_USERS_BY_BUDGET_USE, "{{user}}", th),
    )


def build(th: Thresholds):
    return dashboard(
        UID,
        "LiteLLM budgets",
        "Budget use of LiteLLM virtual keys, teams and internal users from litellm-spend-exporter, sorted by "
        "risk, with burn rate and projected exhaustion. The key alias and team variables filter keys and teams.",
        prometheus_variables(requests=False),
        [keys(th), teams(th), users(th)],
        time_from="now-7d",
    )
