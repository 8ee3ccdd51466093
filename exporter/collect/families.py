"""Builds the SpendLogs metric families from the tally of exact totals: projections onto each family's labels."""

from __future__ import annotations

from operator import attrgetter, itemgetter

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric

from exporter.collect.totals import RAW_DIMS, Tally
from exporter.metrics.labels import label_value
from exporter.metrics.spec import BY_NAME, HISTOGRAMS, OTHER, SPEND_LOGS_FAMILIES, UNKNOWN_KEY, Family

CACHE_FAMILIES = ("litellm_db_cache_read_input_tokens_total", "litellm_db_cache_creation_input_tokens_total")
# Each family's value, from the contract: the Totals field a counter sums, a histogram's counts and sum
_VALUE = {f.name: f.value for f in SPEND_LOGS_FAMILIES if f.type == "counter"}
_HISTOGRAMS = {f.name: (f.value, f"{f.value}_sum", f.buckets) for f in HISTOGRAMS}


def family_labels(configured: dict[str, list[str]], cache_tokens: bool) -> dict[str, tuple[str, ...]]:
    """Family name -> label names to expose (config overrides the defaults of spec.py)."""
    out = {}
    for fam in SPEND_LOGS_FAMILIES:
        if fam.name in CACHE_FAMILIES and not cache_tokens:
            continue
        out[fam.name] = tuple(configured.get(fam.name, fam.labels))
    return out


def _namer(key_names: dict, team_names: dict):
    """Raw (dims, status, error) key -> {label: value} for every label a family can use."""

    def alias(api_key: str) -> str:
        if api_key in ("", OTHER):
            return api_key
        row = key_names.get(api_key)
        return label_value((row.key_alias or row.key_name or "") if row else UNKNOWN_KEY) or UNKNOWN_KEY

    def team_alias(team: str) -> str:
        row = team_names.get(team)
        return label_value(row.team_alias or team) if row is not None else label_value(team)

    def labels(key: tuple) -> dict:
        raw = dict(zip(RAW_DIMS, key))
        return {
            "requested_model": label_value(raw["requested_model"]),
            "model": label_value(raw["model"]),
            "api_provider": label_value(raw["api_provider"]),
            "api_key_alias": alias(raw["api_key"]),
            "hashed_api_key": raw["api_key"],
            "team": label_value(raw["team"]),
            "team_alias": team_alias(raw["team"]),
            "user": label_value(raw["user"]),
            "end_user": label_value(raw["end_user"]),
            "status": key[-2],
            "error_class": key[-1],
        }

    return labels


def _projection(labels: tuple[str, ...]):
    """{label: value} -> the tuple of `labels`' values (C-speed: this runs once per series per family)."""
    if not labels:
        return lambda _lbls: ()
    get = itemgetter(*labels)
    return (lambda lbls: (get(lbls),)) if len(labels) == 1 else get


def families(
    tally: Tally, labels_of: dict[str, tuple[str, ...]], key_names: dict, team_names: dict, lag: float | None
) -> list[Metric]:
    namer = _namer(key_names, team_names)
    named = [(namer(key), totals) for key, totals in tally.totals.items()]
    out: list[Metric] = []
    for name, labels in labels_of.items():
        fam: Family = BY_NAME[name]
        if name in _HISTOGRAMS:
            out.append(_histogram(fam, labels, named))
            continue
        value, key_of = _VALUE[name], _projection(labels)
        value_of = attrgetter("requests") if value == "requests" else (lambda t, v=value: t.sums[v])
        errors_only = name == "litellm_db_errors_total"
        sums: dict[tuple, float] = {}
        for lbls, totals in named:
            if errors_only and lbls["status"] != "failure":
                continue
            k = key_of(lbls)
            sums[k] = sums.get(k, 0) + value_of(totals)  # int or exact Decimal
        metric = CounterMetricFamily(name.removesuffix("_total"), fam.help, labels=list(labels))
        for k in sorted(sums):
            metric.add_metric(list(k), float(sums[k]))
        out.append(metric)
    skipped = CounterMetricFamily(
        "litellm_db_rows_skipped", BY_NAME["litellm_db_rows_skipped_total"].help, labels=["reason"]
    )
    for reason, count in sorted(tally.skips.items()):
        skipped.add_metric([reason], count)
    counted = GaugeMetricFamily(
        "litellm_db_spend_logs_rows_counted",
        BY_NAME["litellm_db_spend_logs_rows_counted"].help,
        value=tally.rows_counted,
    )
    out += [skipped, counted]
    if lag is not None:
        out.append(
            GaugeMetricFamily(
                "litellm_db_ingest_lag_seconds", BY_NAME["litellm_db_ingest_lag_seconds"].help, value=max(lag, 0.0)
            )
        )
    return out


def _histogram(fam: Family, labels: tuple[str, ...], named: list) -> HistogramMetricFamily:
    counts_field, sum_field, bounds = _HISTOGRAMS[fam.name]
    acc: dict[tuple, list] = {}
    key_of = _projection(labels)
    for lbls, totals in named:
        counts = getattr(totals, counts_field)
        if not any(counts):
            continue
        k = key_of(lbls)
        slot = acc.setdefault(k, [[0] * len(counts), 0])
        slot[0] = [a + b for a, b in zip(slot[0], counts)]
        slot[1] += getattr(totals, sum_field)
    metric = HistogramMetricFamily(fam.name, fam.help, labels=list(labels))
    for k in sorted(acc):
        counts, total = acc[k]
        cumulative, running = [], 0
        for bound, count in zip([*map(_fmt, bounds), "+Inf"], counts):
            running += count
            cumulative.append((bound, running))
        metric.add_metric(list(k), cumulative, float(total))
    return metric


def _fmt(bound: float) -> str:
    return repr(float(bound))
