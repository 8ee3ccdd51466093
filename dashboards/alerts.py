"""The alert catalog: every rule's PromQL, severity and text, built from the thresholds in deploy/prometheus/."""

from __future__ import annotations

from dashboards.queries import dedup
from dashboards.thresholds import Thresholds, seconds

PREFIX = "LiteLLMDb"
# Entities with budgets (the metric infix): the labels that identify one, and how the text names it.
ENTITIES = {
    "key": (
        "api_key_alias, team_alias",
        "Virtual key {{ $labels.api_key_alias }}{{ with $labels.team_alias }} (team {{ . }}){{ end }}",
    ),
    "team": ("team, team_alias", "Team {{ $labels.team_alias }}"),
    "user": ("user", "Internal user {{ $labels.user }}"),
}
MODEL = '{{ or $labels.requested_model "(no model group)" }} (deployment {{ $labels.model }})'
REGEX_SPECIAL = set("\\.+*?()|[]{}^$")
FAILED, SUCCEEDED = 'status="failure"', 'status="success"'
CONTEXT_WINDOW = 'error_class="400_CONTEXT_WINDOW_EXCEEDED"'


def _sel(cfg: Thresholds, *extra: str) -> str:
    return "{" + ", ".join(m for m in (cfg.selector, *extra) if m) + "}"


def _per_entity(fn: str, metric: str, sel: str, window: str = "") -> str:
    """`fn(metric{sel}[window])` (or the bare selector without fn) once per entity: exporter replicas collapsed.

    Replicas expose identical series (differing in instance/pod); without this a sum counts each of them, halving
    the floors (min_requests, min_usd_per_hour), and a per-series rule fires once per replica."""
    inner = f"{metric}{sel}[{window}]" if window else f"{metric}{sel}"
    return dedup(f"{fn}({inner})" if fn else inner)


def _pct(x: float) -> str:
    return f"{x * 100:g}%"


def _num(x: float) -> str:
    return f"{x:g}"


def _rule(
    cfg: Thresholds, name: str, expr: str, for_: str, severity: str, summary: str, description: str, **labels: str
) -> dict:
    alert = PREFIX + name
    return {
        "alert": alert,
        "expr": expr.strip() + "\n" if "\n" in expr.strip() else expr.strip(),
        "for": for_,
        "labels": {"severity": severity, **labels},
        "annotations": {
            "summary": summary,
            "description": description,
            **({"runbook_url": f"{cfg.runbook_base_url}{alert}.md"} if cfg.runbook_base_url else {}),
        },
    }


def budget_rules(cfg: Thresholds) -> list[dict]:
    b, out = cfg.budget, []
    for entity, (_, who) in ENTITIES.items():
        sel = _sel(cfg)
        used = (
            f"{_per_entity('', f'litellm_db_{entity}_spend_usd', sel)}\n"
            f"  / ({_per_entity('', f'litellm_db_{entity}_max_budget_usd', sel)} > 0)"
        )
        levels = (
            ("warning", f">= {_num(b.warning_ratio)} < {_num(b.critical_ratio)}", b.warning_ratio),
            ("critical", f">= {_num(b.critical_ratio)}", b.critical_ratio),
        )
        for severity, cond, threshold in levels:
            out.append(
                _rule(
                    cfg,
                    "BudgetUsageHigh",
                    f"{used}\n{cond}",
                    b.for_,
                    severity,
                    f"{entity.capitalize()} budget {{{{ $value | humanizePercentage }}}} used.",
                    f"{who} has spent {{{{ $value | humanizePercentage }}}} of its budget in the current period "
                    f"({severity} from {_pct(threshold)}). LiteLLM rejects its requests once it reaches 100%.",
                    entity=entity,
                )
            )
    for entity, (_, who) in ENTITIES.items():
        sel = _sel(cfg)
        expr = (
            f"({_per_entity('', f'litellm_db_{entity}_budget_remaining_usd', sel)} > 0)\n"
            f"  / ({_per_entity('rate', f'litellm_db_{entity}_spend_usd', sel, b.burn_window)} > 0)\n"
            f"< ({_per_entity('', f'litellm_db_{entity}_budget_reset_timestamp_seconds', sel)} - time())"
        )
        out.append(
            _rule(
                cfg,
                "BudgetExhaustionProjected",
                expr,
                b.exhaustion_for,
                "warning",
                f"{entity.capitalize()} budget projected to run out before its reset.",
                f"{who} runs out of budget in {{{{ $value | humanizeDuration }}}} at its spend rate over the last "
                f"{b.burn_window}, before LiteLLM resets its spend; then LiteLLM rejects its requests.",
                entity=entity,
            )
        )
    return out


def _events(cfg: Thresholds, metric: str, sel: str, window: str) -> str:
    """Events of a counter in the last `window`, per series, exporter replicas collapsed, new series included.

    increase() never counts a series' first sample, and a (model, key) series first appears at its first events
    (at 1, say), so on its own it misses the first error of a new model or key. A series absent `window` ago
    counts its whole value instead, but only if the job had completed a refresh `window` ago: right after an
    exporter starts every series is new and holds the ledger's totals, not new events."""
    before = _per_entity("", metric, f"{sel} offset {window}")
    ready = f"max by (job) (litellm_db_last_refresh_timestamp_seconds{_sel(cfg)} offset {window}) > 0"
    return (
        f"(\n    {_per_entity('increase', metric, sel, window)}\n    and {before}\n"
        f"  or\n    {_per_entity('', metric, sel)}\n    unless {before}\n    and on (job) ({ready})\n  )"
    )


def error_rules(cfg: Thresholds) -> list[dict]:
    e, by = cfg.errors, "job, requested_model, model"

    def total(fn: str, sel: str, window: str, group: str = by, metric: str = "litellm_db_requests_total") -> str:
        return f"sum by ({group}) ({_per_entity(fn, metric, sel, window)})"

    def events(sel: str, window: str, group: str = by, metric: str = "litellm_db_requests_total") -> str:
        return f"sum by ({group}) {_events(cfg, metric, sel, window)}"

    ratio = (
        f"(\n  {total('rate', _sel(cfg, FAILED), e.window)}\n"
        f"/\n  {total('rate', _sel(cfg), e.window)}\n) > {_num(e.ratio)}\n"
        f"and on ({by})\n"
        f"  {total('increase', _sel(cfg), e.window)} >= {_num(e.min_requests)}"
    )
    failing = (
        f"{events(_sel(cfg, FAILED), e.always_failing_window)} >= {_num(e.always_failing_min_failures)}\n"
        f"unless on ({by})\n"
        f"{events(_sel(cfg, SUCCEEDED), e.always_failing_window)} > 0"
    )
    context_errors = events(
        _sel(cfg, CONTEXT_WINDOW), e.context_window_window, by + ", api_key_alias", "litellm_db_errors_total"
    )
    context = f"{context_errors} >= {_num(e.context_window_min_errors)}"
    return [
        _rule(
            cfg,
            "ModelErrorRateHigh",
            ratio,
            e.for_,
            "warning",
            "Model error rate {{ $value | humanizePercentage }}.",
            f"{{{{ $value | humanizePercentage }}}} of the requests for {MODEL} failed over the last {e.window} "
            f"(threshold {_pct(e.ratio)}, at least {_num(e.min_requests)} requests).",
        ),
        _rule(
            cfg,
            "ModelAlwaysFailing",
            failing,
            e.always_failing_for,
            "critical",
            "Every request to a model fails.",
            f'All {{{{ printf "%.0f" $value }}}} requests for {MODEL} in the last {e.always_failing_window} '
            f"failed and none succeeded.",
        ),
        _rule(
            cfg,
            "ContextWindowErrors",
            context,
            e.context_window_for,
            "info",
            "Prompts exceed a model's context window.",
            f'{{{{ printf "%.0f" $value }}}} requests of key {{{{ $labels.api_key_alias }}}} for {MODEL} were '
            f"rejected with 400_CONTEXT_WINDOW_EXCEEDED in the last {e.context_window_window}.",
        ),
    ]


def _regex_escape(value: str) -> str:
    return "".join("\\\\" + c if c in REGEX_SPECIAL else c for c in value)


def latency_rules(cfg: Thresholds) -> list[dict]:
    """One rule: the default threshold, `or` one term per model with its own (the text names the one that applies)."""
    lat = cfg.latency
    overrides = sorted(lat.per_model.items())
    rest = [f'requested_model!~"{"|".join(_regex_escape(m) for m, _ in overrides)}"'] if overrides else []
    cases = [(_sel(cfg, SUCCEEDED, *rest), lat.seconds)]
    cases += [(_sel(cfg, SUCCEEDED, f'requested_model="{m}"'), seconds) for m, seconds in overrides]
    expr = "\nor\n".join(
        f"histogram_quantile({_num(lat.quantile)},\n"
        f"  sum by (job, requested_model, model, le) "
        f"({_per_entity('rate', 'litellm_db_request_duration_seconds_bucket', sel, lat.window)})\n) > {_num(limit)}"
        for sel, limit in cases
    )
    threshold = _num(lat.seconds)
    for model, limit in reversed(overrides):
        threshold = (
            f'{{{{ if eq $labels.requested_model "{model}" }}}}{_num(limit)}{{{{ else }}}}{threshold}{{{{ end }}}}'
        )
    q = _num(lat.quantile * 100)
    return [
        _rule(
            cfg,
            "ModelLatencyHigh",
            expr,
            lat.for_,
            "warning",
            f"Model p{q} latency {{{{ $value | humanizeDuration }}}}.",
            f"The p{q} duration of successful requests for {MODEL} is {{{{ $value | humanizeDuration }}}} "
            f"over the last {lat.window} (threshold {threshold}s).",
        )
    ]


def spend_rules(cfg: Thresholds) -> list[dict]:
    s, by = cfg.spend, "job, api_key_alias, team_alias"
    recent = f"sum by ({by}) ({_per_entity('rate', 'litellm_db_spend_usd_total', _sel(cfg), s.window)}) * 3600"
    base = f"sum by ({by}) ({_per_entity('rate', 'litellm_db_spend_usd_total', _sel(cfg), s.baseline_window)}) * 3600"
    expr = f"(\n  {recent}\n  > {_num(s.factor)} * {base}\n)\nand\n  {recent} >= {_num(s.min_usd_per_hour)}"
    return [
        _rule(
            cfg,
            "SpendRateAnomalous",
            expr,
            s.for_,
            "warning",
            "Key spending far above its norm.",
            f'{ENTITIES["key"][1]} is spending {{{{ printf "%.2f" $value }}}} USD per hour over the last {s.window}, '
            f"more than {_num(s.factor)} times its average over {s.baseline_window}.",
        )
    ]


def exporter_rules(cfg: Thresholds) -> list[dict]:
    """Health of each exporter replica: per instance on purpose (no replica collapsing)."""
    x = cfg.exporter
    stamp = f"litellm_db_last_refresh_timestamp_seconds{_sel(cfg)}"
    stale = x.refresh_stale_after
    # `up == 0` while the target is scraped, absent() once no target of the job is left (the pod, Service or
    # ServiceMonitor is gone: `up` then has no series at all, and nothing is 0).
    down = f"up{_sel(cfg)} == 0\nor\nabsent(up{_sel(cfg)})"
    # Last refresh too long ago; or, before the first refresh (the timestamp is 0), the same process (series) has
    # been up for `refresh_stale_after` without one: value 0, and the text says so (not "56 years ago").
    refresh = (
        f"time() - {stamp} > {seconds(stale)} and {stamp} > 0\n"
        f"or\nmax_over_time({stamp}[{stale}]) == 0 and {stamp} offset {stale}"
    )
    # Yesterday's traffic per job, replicas collapsed: on Kubernetes `instance` is the pod's address, so after a
    # restart today's replica never matches yesterday's series by instance.
    lag = (
        f"litellm_db_ingest_lag_seconds{_sel(cfg)} > {_num(x.ingest_lag_seconds)}\n"
        f"and on (job)\n"
        f"  sum by (job) ({dedup(f'increase(litellm_db_requests_total{_sel(cfg)}[1h] offset 1d)')})"
        f" >= {_num(x.ingest_lag_min_requests_yesterday)}"
    )
    return [
        _rule(
            cfg,
            "ExporterDown",
            down,
            x.down_for,
            "warning",
            "litellm-spend-exporter cannot be scraped.",
            "{{ with $labels.instance }}Prometheus cannot scrape litellm-spend-exporter at {{ . }} (job "
            "{{ $labels.job }}){{ else }}Prometheus has no litellm-spend-exporter target left to scrape (no `up` "
            "series: not deployed, not discovered, or its Service or ServiceMonitor is gone){{ end }}: spend, "
            "budget and error metrics are stale and the other LiteLLMDb alerts cannot fire.",
        ),
        _rule(
            cfg,
            "RefreshFailing",
            refresh,
            x.refresh_for,
            "warning",
            "litellm-spend-exporter cannot read LiteLLM's database.",
            "litellm-spend-exporter at {{ $labels.instance }} {{ if eq $value 0.0 }}has not completed a "
            f"refresh of LiteLLM's database since it started (over {stale} ago){{{{ else }}}}last read LiteLLM's "
            "database successfully {{ $value | humanizeDuration }} ago{{ end }}; its metrics are frozen at "
            "that refresh.",
        ),
        _rule(
            cfg,
            "IngestLagHigh",
            lag,
            x.ingest_lag_for,
            "warning",
            "Spend counters are falling behind LiteLLM's traffic.",
            "The newest SpendLogs row counted by {{ $labels.instance }} is {{ $value | humanizeDuration }} old, "
            "although LiteLLM logged requests at this hour yesterday: LiteLLM may have stopped writing spend "
            "logs, or the exporter is not counting new rows.",
        ),
    ]


def groups(cfg: Thresholds) -> dict[str, dict]:
    """Concern -> one rule group (one file each)."""
    concerns = {
        "budgets": budget_rules,
        "errors": error_rules,
        "latency": latency_rules,
        "spend": spend_rules,
        "exporter": exporter_rules,
    }
    return {name: {"name": f"litellm-db-{name}", "rules": build(cfg)} for name, build in concerns.items()}


def alert_names(cfg: Thresholds) -> list[str]:
    return sorted({r["alert"] for g in groups(cfg).values() for r in g["rules"]})
