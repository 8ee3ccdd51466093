"""Every PromQL expression of the Prometheus dashboards, kept apart from their layout."""

from __future__ import annotations

# Template variables narrow every query: the exporter target, then the request dimensions. Histograms carry only
# requested_model, model and status by default, so latency panels follow the model variable alone.
TARGET = 'job=~"$job", instance=~"$instance"'
REQUESTS = TARGET + ', requested_model=~"$model", api_key_alias=~"$key_alias", team_alias=~"$team"'
LATENCY = TARGET + ', requested_model=~"$model"'
KEYS = TARGET + ', api_key_alias=~"$key_alias", team_alias=~"$team"'
TEAMS = TARGET + ', team_alias=~"$team"'
RATE = "[$__rate_interval]"
RANGE = "[$__range]"


# Exporter replicas (Helm replicaCount > 1) read the same database and expose identical series that differ only in
# these target labels. Every query collapses them with `dedup` right around the per-series function (rate, increase,
# a gauge) and only then aggregates, so N replicas count once: sums, floors and one alert per entity stay right.
REPLICA_LABELS = "instance, pod"


def dedup(expr: str) -> str:
    """One series per replica set: `expr` (a selector, or rate/increase of one) with the replicas' copies merged."""
    return f"max without ({REPLICA_LABELS}) ({expr})"


def _sum_rate(metric: str, sel: str, by: str = "", window: str = RATE) -> str:
    group = f" by ({by})" if by else ""
    return f"sum{group} ({dedup(f'rate({metric}{{{sel}}}{window})')})"


def _sum_increase(metric: str, sel: str, by: str = "", window: str = RANGE) -> str:
    group = f" by ({by})" if by else ""
    return f"sum{group} ({dedup(f'increase({metric}{{{sel}}}{window})')})"


# Spend
SPEND_IN_RANGE = _sum_increase("litellm_db_spend_usd_total", REQUESTS)  # with a "today" / "this month" override
SPEND_PER_HOUR = f"{_sum_rate('litellm_db_spend_usd_total', REQUESTS)} * 3600"
SPEND_PER_HOUR_BY_MODEL = f"{_sum_rate('litellm_db_spend_usd_total', REQUESTS, 'requested_model')} * 3600"


def spend_by(label: str) -> str:
    return f"sort_desc({_sum_increase('litellm_db_spend_usd_total', REQUESTS, label)})"


TOP_KEYS_BY_SPEND = f"topk(15, {_sum_increase('litellm_db_spend_usd_total', REQUESTS, 'api_key_alias')})"

# Tokens
INPUT_TOKENS_PER_SECOND = _sum_rate("litellm_db_input_tokens_total", REQUESTS)
OUTPUT_TOKENS_PER_SECOND = _sum_rate("litellm_db_output_tokens_total", REQUESTS)
OUTPUT_INPUT_RATIO = f"{OUTPUT_TOKENS_PER_SECOND} / {INPUT_TOKENS_PER_SECOND}"
TOKENS_PER_SECOND_BY_MODEL = (
    f"{_sum_rate('litellm_db_input_tokens_total', REQUESTS, 'requested_model')} + "
    f"{_sum_rate('litellm_db_output_tokens_total', REQUESTS, 'requested_model')}"
)

# Requests and errors
REQUESTS_PER_SECOND_BY_MODEL = _sum_rate("litellm_db_requests_total", REQUESTS, "requested_model")
FAILED = REQUESTS + ', status="failure"'
SUCCEEDED = REQUESTS + ', status="success"'
ERROR_RATIO = f"{_sum_rate('litellm_db_requests_total', FAILED)} / {_sum_rate('litellm_db_requests_total', REQUESTS)}"
ERROR_RATIO_BY_MODEL = (
    f"{_sum_rate('litellm_db_requests_total', FAILED, 'requested_model')} / "
    f"{_sum_rate('litellm_db_requests_total', REQUESTS, 'requested_model')}"
)
ERRORS_PER_SECOND_BY_CLASS = _sum_rate("litellm_db_errors_total", REQUESTS, "error_class")
ERRORS_BY_MODEL_AND_CLASS = (
    f"sort_desc({_sum_increase('litellm_db_errors_total', REQUESTS, 'requested_model, model, error_class')} > 0)"
)
ALWAYS_FAILING = (
    f"{_sum_increase('litellm_db_requests_total', FAILED, 'requested_model, model')} > 0 "
    f"unless on (requested_model, model) "
    f"{_sum_increase('litellm_db_requests_total', SUCCEEDED, 'requested_model, model')} > 0"
)
CONTEXT_WINDOW = REQUESTS + ', error_class="400_CONTEXT_WINDOW_EXCEEDED"'
CONTEXT_WINDOW_ERRORS = _sum_increase(
    "litellm_db_errors_total", CONTEXT_WINDOW, "requested_model, model", "[$__interval]"
)  # bars per interval: each bar counts its own interval
CONTEXT_WINDOW_ERRORS_BY_KEY = (
    f"sort_desc({_sum_increase('litellm_db_errors_total', CONTEXT_WINDOW, 'requested_model, api_key_alias')} > 0)"
)

# Latency (successful requests: failures mix 50 ms rejections with timeouts)
DURATION_OK = LATENCY + ', status="success"'


def latency_quantile(
    q: float, by: str = "", metric: str = "litellm_db_request_duration_seconds", window: str = RATE
) -> str:
    labels = ", ".join(["le"] + ([by] if by else []))
    return f"histogram_quantile({q}, sum by ({labels}) ({dedup(f'rate({metric}_bucket{{{DURATION_OK}}}{window})')}))"


def ttft_quantile(q: float, by: str = "requested_model") -> str:
    return latency_quantile(q, by, "litellm_db_time_to_first_token_seconds")


LATENCY_HEATMAP = _sum_increase("litellm_db_request_duration_seconds_bucket", DURATION_OK, "le", "[$__interval]")
MEAN_LATENCY_BY_MODEL = (
    f"{_sum_rate('litellm_db_request_duration_seconds_sum', DURATION_OK, 'requested_model')} / "
    f"{_sum_rate('litellm_db_request_duration_seconds_count', DURATION_OK, 'requested_model')}"
)
SLOWEST_MODELS = f"sort_desc({latency_quantile(0.99, 'requested_model, model', window=RANGE)})"


# Budgets: one set of expressions per entity (key, team, user), replicas collapsed, one row per entity
BUDGET_ENTITIES = {  # entity -> (selector, the labels of one row per entity)
    "key": (KEYS, "api_key_alias, team_alias"),
    "team": (TEAMS, "team, team_alias"),
    "user": (TARGET, "user"),
}


def _gauge(entity: str, name: str) -> str:
    sel, labels = BUDGET_ENTITIES[entity]
    return f"max by ({labels}) ({dedup(f'litellm_db_{entity}_{name}{{{sel}}}')})"


def budget_used(entity: str) -> str:
    """Share of its budget the entity has spent in the current period (entities with a limit)."""
    return f"{_gauge(entity, 'spend_usd')} / ({_gauge(entity, 'max_budget_usd')} > 0)"


def budget(entity: str, burn_window: str) -> dict[str, str]:
    """The budget table's expressions for key, team or user; the burn rate over `burn_window` (the window
    LiteLLMDbBudgetExhaustionProjected projects with: thresholds budget.burn_window)."""
    sel, labels = BUDGET_ENTITIES[entity]
    burn = f"max by ({labels}) ({dedup(f'rate(litellm_db_{entity}_spend_usd{{{sel}}}[{burn_window}])')})"
    limited = f" and {_gauge(entity, 'max_budget_usd')}"  # only entities with a limit: a table row per budget
    return {
        "spend": f"{_gauge(entity, 'spend_usd')}{limited}",
        "limit": _gauge(entity, "max_budget_usd"),
        "remaining": _gauge(entity, "budget_remaining_usd"),
        "used": budget_used(entity),
        "reset": f"{_gauge(entity, 'budget_reset_timestamp_seconds')} * 1000{limited}",
        "burn_per_hour": f"{burn} * 3600{limited}",
        "time_left": f"({_gauge(entity, 'budget_remaining_usd')} > 0) / ({burn} > 0){limited}",
    }


TOP_KEYS_BY_BUDGET_USE = f"topk(10, {budget_used('key')})"
TOP_TEAMS_BY_BUDGET_USE = f"topk(10, {budget_used('team')})"
TOP_USERS_BY_BUDGET_USE = f"topk(10, {budget_used('user')})"

# Exporter health: per replica on purpose (the worst replica shows; failed refreshes of every replica count)
SCRAPE_UP = f"min(up{{{TARGET}}})"
DATABASE_UP = f"min(litellm_db_up{{{TARGET}}})"
REFRESH_DURATION = f"max(litellm_db_refresh_duration_seconds{{{TARGET}}})"
LAST_REFRESH_AGE = f"time() - max(litellm_db_last_refresh_timestamp_seconds{{{TARGET}}})"
INGEST_LAG = f"max(litellm_db_ingest_lag_seconds{{{TARGET}}})"
QUERY_DURATION_BY_QUERY = f"max by (query) (litellm_db_query_duration_seconds{{{TARGET}}})"
FAILED_REFRESHES = f'sum(increase(litellm_db_refreshes_total{{{TARGET}, result="failure"}}{RANGE}))'
