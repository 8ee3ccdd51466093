"""The metric contract: every family the exporter can expose, declared once (name, type, labels, source).

The collector, the README's metric table, the dashboards and the alert rules all read this module; a test
fails when one of them names a metric that is not declared here.
"""

from __future__ import annotations

from dataclasses import dataclass

# Label dimensions of the SpendLogs families, with LiteLLM's own Prometheus label names (LITELLM.md §4).
DIMENSIONS: dict[str, str] = {
    "requested_model": "model_group (the public model name the client asked for)",
    "model": "model (the deployment model actually called)",
    "api_provider": "custom_llm_provider",
    "api_key_alias": "the key's alias, else its masked key_name (sk-...abcd), from LiteLLM_VerificationToken",
    "hashed_api_key": "api_key (SHA-256 of the virtual key)",
    "team": "team_id",
    "team_alias": "the team's alias from LiteLLM_TeamTable, else team_id",
    "user": "user (the internal user id owning the key)",
    "end_user": "end_user (the customer id)",
    "status": "success or failure (status, else metadata.status for rows older than the column)",
    "error_class": "metadata.error_information.normalized_error, else derived from error_code/error_class",
}
OTHER = "__other__"  # the value that folds everything past a dimension's limit, so totals stay exact
UNKNOWN_KEY = "__unknown__"  # a hashed key that is in no key table (unknown or purged keys)

# Dimensions capped to the top N values by spend (the rest become __other__); defaults keep ~20k series.
DEFAULT_LIMITS: dict[str, int] = {
    "requested_model": 100,
    "model": 150,
    "api_provider": 30,
    "api_key_alias": 500,
    "hashed_api_key": 500,
    "team": 200,
    "team_alias": 200,
    "user": 300,
    "end_user": 100,
}

COUNTER_DIMS = (
    "requested_model",
    "model",
    "api_provider",
    "api_key_alias",
    "hashed_api_key",
    "team",
    "team_alias",
    "user",
    "end_user",
)
DEFAULT_COUNTER_LABELS = ("requested_model", "model", "api_provider", "api_key_alias", "team_alias")

# Histogram buckets resolve 50 ms gateway rejections up to multi-minute stalls (seconds).
DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0)
TTFT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0)


@dataclass(frozen=True)
class Family:
    name: str  # as exposed (counters with _total)
    type: str  # counter, gauge, histogram
    help: str
    labels: tuple[str, ...]  # default label set
    allowed: tuple[str, ...] = ()  # labels a config may choose from (default: the default set)
    source: str = ""
    value: str = ""  # SpendLogs families: the column of the row block it sums (a histogram: the value it observes)
    unit: str = ""  # what a counter sums: "rows", "usd" (exact decimals) or "tokens" (integers)
    buckets: tuple[float, ...] = ()  # histograms: upper bounds, in seconds

    @property
    def configurable(self) -> tuple[str, ...]:
        return self.allowed or self.labels


def _spend_logs(
    name, help_text, value, labels=DEFAULT_COUNTER_LABELS, extra=(), typ="counter", buckets=(), unit="tokens"
):
    allowed = tuple(COUNTER_DIMS) + tuple(extra)
    unit = "rows" if value == "requests" else unit if typ == "counter" else ""
    return Family(name, typ, help_text, tuple(labels), allowed, "LiteLLM_SpendLogs", value, unit, tuple(buckets))


SPEND_LOGS_FAMILIES = (
    _spend_logs(
        "litellm_db_requests_total",
        "Requests LiteLLM logged in LiteLLM_SpendLogs (one row each; billed retry attempts included), by status.",
        "requests",
        DEFAULT_COUNTER_LABELS + ("status",),
        ("status",),
    ),
    _spend_logs(
        "litellm_db_spend_usd_total",
        "Spend in USD of the requests in LiteLLM_SpendLogs (sum of spend).",
        "spend",
        unit="usd",
    ),
    _spend_logs("litellm_db_input_tokens_total", "Input (prompt) tokens of LiteLLM_SpendLogs rows.", "input_tokens"),
    _spend_logs(
        "litellm_db_output_tokens_total", "Output (completion) tokens of LiteLLM_SpendLogs rows.", "output_tokens"
    ),
    _spend_logs(
        "litellm_db_cache_read_input_tokens_total",
        "Input tokens read from the provider's prompt cache (metadata.usage_object); "
        "only when spend_logs.cache_tokens is on.",
        "cache_read_tokens",
    ),
    _spend_logs(
        "litellm_db_cache_creation_input_tokens_total",
        "Input tokens written to the provider's prompt cache (metadata.usage_object); "
        "only when spend_logs.cache_tokens is on.",
        "cache_creation_tokens",
    ),
    _spend_logs(
        "litellm_db_errors_total",
        "Failed requests in LiteLLM_SpendLogs by error class (LiteLLM's normalized_error vocabulary).",
        "requests",  # of failed rows
        DEFAULT_COUNTER_LABELS + ("error_class",),
        ("error_class",),
    ),
    _spend_logs(
        "litellm_db_request_duration_seconds",
        "Request duration (endTime - startTime) of LiteLLM_SpendLogs rows, by model and status.",
        "duration",
        ("requested_model", "model", "status"),
        ("status",),
        typ="histogram",
        buckets=DURATION_BUCKETS,
    ),
    _spend_logs(
        "litellm_db_time_to_first_token_seconds",
        "Time to first token (completionStartTime - startTime) of rows where it differs from endTime "
        "(streamed responses).",
        "ttft",
        ("requested_model", "model", "status"),
        ("status",),
        typ="histogram",
        buckets=TTFT_BUCKETS,
    ),
)

HISTOGRAMS = tuple(f for f in SPEND_LOGS_FAMILIES if f.type == "histogram")
# What the SpendLogs counters sum besides rows: row block column -> unit ("usd" or "tokens"), in declaration order.
# The exact totals (collect/totals.py), the cold start's aggregate (sql: `-- expand: counter_sums`) and the
# families all follow this; a value that cannot be counted (NaN, negative) counts 0 and is counted by reason.
SUMS: dict[str, str] = {
    f.value: f.unit for f in SPEND_LOGS_FAMILIES if f.type == "counter" and f.unit in ("usd", "tokens")
}

_ENTITIES = {
    # entity: (labels, source table, what "spend" is)
    "key": (("api_key_alias", "team_alias"), "LiteLLM_VerificationToken (+ LiteLLM_BudgetTable via budget_id)"),
    "team": (("team", "team_alias"), "LiteLLM_TeamTable"),
    "user": (("user",), "LiteLLM_UserTable"),
    "org": (("org_id", "org_alias"), "LiteLLM_OrganizationTable + LiteLLM_BudgetTable"),
    "end_user": (("end_user",), "LiteLLM_EndUserTable + LiteLLM_BudgetTable"),
}


def _budget_families() -> tuple[Family, ...]:
    out = []
    for entity, (labels, source) in _ENTITIES.items():
        noun = entity.replace("_", " ")
        out += [
            Family(
                f"litellm_db_{entity}_spend_usd",
                "gauge",
                f"Spend of the {noun} in its current budget period, in USD.",
                labels,
                source=source,
            ),
            Family(
                f"litellm_db_{entity}_max_budget_usd",
                "gauge",
                f"Budget limit of the {noun} in USD; absent when it has none.",
                labels,
                source=source,
            ),
            Family(
                f"litellm_db_{entity}_budget_remaining_usd",
                "gauge",
                f"max_budget - spend of the {noun} in USD (negative when overspent); absent without a limit.",
                labels,
                source=source,
            ),
            Family(
                f"litellm_db_{entity}_budget_reset_timestamp_seconds",
                "gauge",
                f"When LiteLLM next resets the {noun}'s spend (budget_reset_at), as a Unix time.",
                labels,
                source=source,
            ),
        ]
    key_labels = _ENTITIES["key"][0]
    out += [
        Family(
            "litellm_db_key_soft_budget_usd",
            "gauge",
            "Soft (alert-only) budget of the virtual key from LiteLLM_BudgetTable, in USD.",
            key_labels,
            source=_ENTITIES["key"][1],
        ),
        Family(
            "litellm_db_team_soft_budget_usd",
            "gauge",
            "Soft (alert-only) budget of the team, in USD.",
            _ENTITIES["team"][0],
            source="LiteLLM_TeamTable.soft_budget",
        ),
        Family(
            "litellm_db_key_blocked",
            "gauge",
            "1 if the virtual key is blocked, else 0.",
            key_labels,
            source="LiteLLM_VerificationToken.blocked",
        ),
        Family(
            "litellm_db_key_expired",
            "gauge",
            "1 if the virtual key's expires time has passed, else 0.",
            key_labels,
            source="LiteLLM_VerificationToken.expires",
        ),
    ]
    return tuple(out)


BUDGET_FAMILIES = _budget_families()

HEALTH_FAMILIES = (
    Family("litellm_db_up", "gauge", "1 if the last refresh read the database successfully, else 0.", ()),
    Family(
        "litellm_db_build_info", "gauge", "Build information of litellm-spend-exporter.", ("version", "python_version")
    ),
    Family(
        "litellm_db_last_refresh_timestamp_seconds",
        "gauge",
        "Unix time of the last successful refresh (0 before the first).",
        (),
    ),
    Family(
        "litellm_db_refresh_duration_seconds",
        "gauge",
        "Wall time of the last refresh attempt, all queries included.",
        (),
    ),
    Family("litellm_db_refreshes_total", "counter", "Refresh attempts by result.", ("result",)),
    Family(
        "litellm_db_query_duration_seconds",
        "gauge",
        "Seconds each SQL statement (query = its file in sql/) took in the last refresh that ran it, its pages summed.",
        ("query",),
    ),
    Family(
        "litellm_db_query_success",
        "gauge",
        "1 if the SQL statement succeeded the last time it ran, else 0.",
        ("query",),
    ),
    Family(
        "litellm_db_rows_read_total",
        "counter",
        "Rows returned to the exporter by each SQL statement (query = its file in sql/).",
        ("query",),
    ),
    Family(
        "litellm_db_rows_skipped_total",
        "counter",
        "SpendLogs rows (or values of a row) the exporter skipped or clamped, by reason.",
        ("reason",),
    ),
    Family(
        "litellm_db_ingest_lag_seconds",
        "gauge",
        "Database time minus the newest counted SpendLogs startTime: how far the counters are behind.",
        (),
    ),
    Family(
        "litellm_db_spend_logs_rows_counted",
        "gauge",
        "SpendLogs rows counted since the exporter started (the totals behind every counter).",
        (),
    ),
)

ALL_FAMILIES: tuple[Family, ...] = SPEND_LOGS_FAMILIES + BUDGET_FAMILIES + HEALTH_FAMILIES
BY_NAME = {f.name: f for f in ALL_FAMILIES}


def series_names(family: Family) -> list[str]:
    """The sample names a family produces (histograms: _bucket, _sum, _count)."""
    if family.type == "histogram":
        return [family.name + s for s in ("_bucket", "_sum", "_count")]
    return [family.name]


def all_series_names() -> set[str]:
    return {n for f in ALL_FAMILIES for n in series_names(f)}
