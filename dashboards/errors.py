"""Errors and latency (Prometheus): error rate by model and class, failing models, context windows, latency tails."""

from __future__ import annotations

from dashboards import queries as q
from dashboards.style import (
    COUNT,
    RATIO,
    REQUESTS_PER_SECOND,
    SECONDS,
    bars,
    dashboard,
    error_steps,
    heatmap,
    prom,
    prometheus_variables,
    row,
    table,
    timeseries,
)
from dashboards.thresholds import Thresholds

UID = "litellm-db-errors-latency"


def errors(th: Thresholds):
    return row(
        "Errors",
        timeseries(
            "Error rate",
            "Share of the selected requests that failed; the line is the alert threshold.",
            RATIO,
            [prom(q.ERROR_RATIO, "all selected")],
            w=8,
            steps=error_steps(th),
            max_value=1,
        ),
        timeseries(
            "Error rate by model",
            "Share of requests that failed, by requested model.",
            RATIO,
            [prom(q.ERROR_RATIO_BY_MODEL, "{{requested_model}}")],
            w=8,
            steps=error_steps(th),
            max_value=1,
        ),
        timeseries(
            "Errors by class",
            "Failed requests per second by LiteLLM's normalized error class "
            "(429_RATE_LIMIT_EXCEEDED, 400_CONTEXT_WINDOW_EXCEEDED, ...).",
            REQUESTS_PER_SECOND,
            [prom(q.ERRORS_PER_SECOND_BY_CLASS, "{{error_class}}")],
            w=8,
            stack=True,
        ),
        table(
            "Errors by model and class",
            "Failed requests in the time range by requested model, deployment model and error class, most first.",
            COUNT,
            [prom(q.ERRORS_BY_MODEL_AND_CLASS, instant=True, table=True)],
            columns={"Value": ("Failed requests", COUNT)},
            sort_by="Failed requests",
            w=12,
        ),
        table(
            "Always-failing models",
            "Models (requested and deployment) whose requests all failed in the "
            "time range: a retired model name, a broken deployment or a missing credential.",
            COUNT,
            [prom(q.ALWAYS_FAILING, instant=True, table=True)],
            columns={"Value": ("Failed requests (no success)", COUNT)},
            sort_by="Failed requests (no success)",
            w=12,
        ),
    )


def context_windows():
    return row(
        "Context-window errors",
        timeseries(
            "Context-window errors",
            "Requests rejected with 400_CONTEXT_WINDOW_EXCEEDED per interval, by "
            "model: prompts longer than the model accepts (a client bug, or a model swap to a smaller "
            "window).",
            COUNT,
            [prom(q.CONTEXT_WINDOW_ERRORS, "{{requested_model}} ({{model}})")],
            w=14,
            bars=True,
            stack=True,
        ),
        bars(
            "Context-window errors by key",
            "Context-window errors in the time range by requested model and "
            "key: which client sends prompts that are too long.",
            COUNT,
            prom(q.CONTEXT_WINDOW_ERRORS_BY_KEY, "{{api_key_alias}} / {{requested_model}}", instant=True),
            w=10,
        ),
    )


def latency():
    return row(
        "Latency (successful requests)",
        heatmap(
            "Request duration distribution",
            "Successful requests per duration bucket and interval "
            "(histogram litellm_db_request_duration_seconds, selected models).",
            SECONDS,
            prom(q.LATENCY_HEATMAP, "{{le}}", heatmap=True),
        ),
        timeseries(
            "p99 duration by model",
            "99th percentile request duration by requested model: the tail users notice.",
            SECONDS,
            [prom(q.latency_quantile(0.99, "requested_model"), "{{requested_model}}")],
        ),
        timeseries(
            "p50 duration by model",
            "Median request duration by requested model.",
            SECONDS,
            [prom(q.latency_quantile(0.5, "requested_model"), "{{requested_model}}")],
        ),
        timeseries(
            "Mean duration by model",
            "Mean request duration by requested model (sum / count).",
            SECONDS,
            [prom(q.MEAN_LATENCY_BY_MODEL, "{{requested_model}}")],
        ),
        timeseries(
            "Time to first token p95 by model",
            "95th percentile time to first token of streamed responses by requested model.",
            SECONDS,
            [prom(q.ttft_quantile(0.95), "{{requested_model}}")],
        ),
        table(
            "Slowest models",
            "p99 request duration over the time range by requested and deployment model, slowest first.",
            SECONDS,
            [prom(q.SLOWEST_MODELS, instant=True, table=True)],
            columns={"Value": ("p99 duration", SECONDS)},
            sort_by="p99 duration",
        ),
    )


def build(th: Thresholds):
    return dashboard(
        UID,
        "LiteLLM errors and latency",
        "Error rates and classes, always-failing models, context-window errors and latency tails per model "
        "from litellm-spend-exporter. Latency panels follow the model variable only (histograms have no key or "
        "team label by default).",
        prometheus_variables(),
        [errors(th), context_windows(), latency()],
    )
