"""Spend overview (Prometheus): spend, tokens, requests and errors, latency, budgets at risk, exporter health."""

from __future__ import annotations

from dashboards import queries as q
from dashboards.style import (
    COUNT,
    HEALTH_STEPS,
    RATIO,
    REQUESTS_PER_SECOND,
    SECONDS,
    TOKENS_PER_SECOND,
    UP,
    USD,
    bars,
    budget_steps,
    dashboard,
    error_steps,
    lag_steps,
    prom,
    prometheus_variables,
    row,
    stat,
    timeseries,
)
from dashboards.thresholds import Thresholds

UID = "litellm-db-spend-overview"


def spend():
    return row(
        "Spend",
        stat(
            "Spend today",
            "Spend of the requests logged since 00:00 (browser time zone), from litellm_db_spend_usd_total.",
            USD,
            prom(q.SPEND_IN_RANGE, instant=True),
            time_from="now/d",
        ),
        stat(
            "Spend this month",
            "Spend of the requests logged since the first of the month, from litellm_db_spend_usd_total.",
            USD,
            prom(q.SPEND_IN_RANGE, instant=True),
            time_from="now/M",
        ),
        stat(
            "Spend in range",
            "Spend of the requests in the dashboard's time range.",
            USD,
            prom(q.SPEND_IN_RANGE, instant=True),
        ),
        stat(
            "Spend per hour",
            "Current spend rate in USD per hour over the selected models, keys and teams.",
            USD,
            prom(q.SPEND_PER_HOUR, instant=True),
        ),
        timeseries(
            "Spend per hour by model",
            "Spend rate in USD per hour, stacked by requested model (model group).",
            USD,
            [prom(q.SPEND_PER_HOUR_BY_MODEL, "{{requested_model}}")],
            w=24,
            stack=True,
        ),
        bars(
            "Spend by model",
            "Spend in the time range per requested model (model group).",
            USD,
            prom(q.spend_by("requested_model"), "{{requested_model}}", instant=True),
            w=6,
            h=9,
        ),
        bars(
            "Spend by key",
            "The 15 keys that spent most in the time range (alias, else masked key name).",
            USD,
            prom(q.TOP_KEYS_BY_SPEND, "{{api_key_alias}}", instant=True),
            w=6,
            h=9,
        ),
        bars(
            "Spend by team",
            "Spend in the time range per team alias.",
            USD,
            prom(q.spend_by("team_alias"), "{{team_alias}}", instant=True),
            w=6,
            h=9,
        ),
        bars(
            "Spend by provider",
            "Spend in the time range per provider (LiteLLM's custom_llm_provider).",
            USD,
            prom(q.spend_by("api_provider"), "{{api_provider}}", instant=True),
            w=6,
            h=9,
        ),
    )


def tokens():
    return row(
        "Tokens",
        timeseries(
            "Tokens in and out",
            "Input (prompt) and output (completion) tokens per second.",
            TOKENS_PER_SECOND,
            [prom(q.INPUT_TOKENS_PER_SECOND, "input"), prom(q.OUTPUT_TOKENS_PER_SECOND, "output")],
            w=9,
        ),
        timeseries(
            "Output / input token ratio",
            "Output tokens per input token: a jump means longer answers "
            "(or a prompt-cache change); output tokens usually cost several times more.",
            COUNT,
            [prom(q.OUTPUT_INPUT_RATIO, "output per input")],
            w=6,
        ),
        timeseries(
            "Tokens by model",
            "Input plus output tokens per second by requested model.",
            TOKENS_PER_SECOND,
            [prom(q.TOKENS_PER_SECOND_BY_MODEL, "{{requested_model}}")],
            w=9,
            stack=True,
        ),
    )


def requests(th: Thresholds):
    return row(
        "Requests and errors",
        timeseries(
            "Requests by model",
            "Requests per second logged in LiteLLM_SpendLogs by requested model (billed retries included).",
            REQUESTS_PER_SECOND,
            [prom(q.REQUESTS_PER_SECOND_BY_MODEL, "{{requested_model}}")],
            w=8,
            stack=True,
        ),
        timeseries(
            "Error rate by model",
            "Share of requests that failed, by requested model; the line is the alert threshold.",
            RATIO,
            [prom(q.ERROR_RATIO_BY_MODEL, "{{requested_model}}")],
            w=8,
            steps=error_steps(th),
            max_value=1,
        ),
        timeseries(
            "Errors by class",
            "Failed requests per second by LiteLLM's normalized error class.",
            REQUESTS_PER_SECOND,
            [prom(q.ERRORS_PER_SECOND_BY_CLASS, "{{error_class}}")],
            w=8,
            stack=True,
        ),
    )


def latency():
    return row(
        "Latency (successful requests)",
        timeseries(
            "Request duration p50 / p95 / p99",
            "Quantiles of endTime - startTime over the selected "
            "models (histogram litellm_db_request_duration_seconds).",
            SECONDS,
            [
                prom(q.latency_quantile(0.5), "p50"),
                prom(q.latency_quantile(0.95), "p95"),
                prom(q.latency_quantile(0.99), "p99"),
            ],
            w=12,
        ),
        timeseries(
            "Time to first token p95 by model",
            "95th percentile of completionStartTime - startTime of streamed responses, by requested model.",
            SECONDS,
            [prom(q.ttft_quantile(0.95), "{{requested_model}}")],
            w=12,
        ),
        duration_by_model(0.5, "Median"),
        duration_by_model(0.95, "95th percentile"),
        duration_by_model(0.99, "99th percentile"),
    )


def duration_by_model(quantile: float, what: str):
    return timeseries(
        f"p{quantile * 100:g} duration by model",
        f"{what} request duration by requested model.",
        SECONDS,
        [prom(q.latency_quantile(quantile, "requested_model"), "{{requested_model}}")],
        w=8,
    )


def budgets_and_health(th: Thresholds):
    return row(
        "Budgets and exporter health",
        bars(
            "Top keys by budget use",
            "Share of its budget each key has spent in the current period (keys "
            "with a limit); orange at the warning threshold, red at the critical one.",
            RATIO,
            prom(q.TOP_KEYS_BY_BUDGET_USE, "{{api_key_alias}}", instant=True),
            w=8,
            h=10,
            steps=budget_steps(th),
            max_value=1,
        ),
        stat(
            "Exporter scraped",
            "Prometheus' `up` for the exporter targets (the lowest when several).",
            UP,
            prom(q.SCRAPE_UP, instant=True),
            w=4,
            steps=HEALTH_STEPS,
            no_value="no target",
        ),
        stat(
            "Database refresh OK",
            "litellm_db_up: 1 when the last refresh read the database.",
            UP,
            prom(q.DATABASE_UP, instant=True),
            w=4,
            steps=HEALTH_STEPS,
            no_value="no data",
        ),
        stat(
            "Ingest lag",
            "Database time minus the newest counted SpendLogs startTime; grows when LiteLLM "
            "stops writing rows, or when traffic is quiet.",
            SECONDS,
            prom(q.INGEST_LAG, instant=True),
            w=4,
            steps=lag_steps(th),
            no_value="no data",
        ),
        stat(
            "Failed refreshes",
            "Refreshes that failed in the time range (litellm_db_refreshes_total).",
            COUNT,
            prom(q.FAILED_REFRESHES, instant=True),
            w=4,
        ),
        timeseries(
            "Refresh duration and age",
            "Wall time of the last refresh and seconds since the last successful one.",
            SECONDS,
            [prom(q.REFRESH_DURATION, "refresh duration"), prom(q.LAST_REFRESH_AGE, "since last success")],
            w=16,
            h=6,
        ),
    )


def build(th: Thresholds):
    return dashboard(
        UID,
        "LiteLLM spend overview",
        "Spend, tokens, errors, latency and budgets from litellm-spend-exporter (LiteLLM's Postgres ledger).",
        prometheus_variables(),
        [spend(), tokens(), requests(th), latency(), budgets_and_health(th)],
    )
