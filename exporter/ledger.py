"""The counters' state: exact totals per label set, with sticky top-N folding so totals never move between series.

Rows (or SQL aggregates of rows) are applied once each; nothing is ever subtracted, so retention deletes and
truncates never make a counter go down. A value of a capped dimension that is not among the first N admitted
(the top N by spend at start, then new values while there is room) is counted under `__other__`.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from decimal import Context, Decimal
from collections import Counter
from dataclasses import dataclass, field

from exporter import errorclass
from exporter.spec import DURATION_BUCKETS, OTHER, TTFT_BUCKETS

# Raw dimensions in the order rows carry them; folded to at most `limit` values each.
RAW_DIMS = ("requested_model", "model", "api_provider", "api_key", "team", "user", "end_user")
# Which exposed label limits which raw dimension.
LIMIT_OF = {"requested_model": ("requested_model",), "model": ("model",), "api_provider": ("api_provider",),
            "api_key": ("api_key_alias", "hashed_api_key"), "team": ("team", "team_alias"),
            "user": ("user",), "end_user": ("end_user",)}
_N_DUR = len(DURATION_BUCKETS) + 1
_N_TTFT = len(TTFT_BUCKETS) + 1
MAX_FUTURE_SECONDS = 300.0
ZERO = Decimal(0)
# Sums are exact decimals, so that the order rows are added in (one SQL aggregate at start, then rows one by
# one) never changes a value: two exporters started at different times expose identical numbers. Each float8
# enters as PostgreSQL's float8 -> numeric cast makes it (15 significant digits).
_EXACT = Context(prec=80)


def exact(value: float) -> Decimal:
    """A float as PostgreSQL's float8::numeric cast makes it."""
    return Decimal(format(value, ".15g"))


@dataclass
class Totals:
    """Everything counted for one folded key."""

    requests: int = 0
    spend: Decimal = ZERO
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0
    duration: list = field(default_factory=lambda: [0] * _N_DUR)  # per bucket, not cumulative
    duration_sum: Decimal = ZERO
    ttft: list = field(default_factory=lambda: [0] * _N_TTFT)
    ttft_sum: Decimal = ZERO


@dataclass(frozen=True)
class Observation:
    """One SpendLogs row, or one SQL group of rows that share every field below."""

    dims: tuple  # RAW_DIMS values
    status: str
    error_class: str
    requests: int
    spend: Decimal
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_creation_tokens: int
    duration_bucket: int | None
    duration_sum: Decimal
    ttft_bucket: int | None
    ttft_sum: Decimal


def bucket(bounds: tuple[float, ...], value: float | None) -> int | None:
    """Index of the first bucket whose upper bound is >= value (len(bounds) = +Inf); None for no value."""
    if value is None or not value >= 0:
        return None
    return bisect_left(bounds, value)


def sql_bucket(bounds: tuple[float, ...], width_bucket: int | None) -> int | None:
    """The same index from SQL's width_bucket(-value, negated ascending bounds) (see spend_logs_totals.sql)."""
    return None if width_bucket is None else len(bounds) - width_bucket


def negated_bounds(bounds: tuple[float, ...]) -> list[float]:
    return sorted(-b for b in bounds)


class Skips(Counter):
    """Rows or values skipped or clamped, by reason (exposed as litellm_db_rows_skipped_total)."""


def clean_row(row, skips: Skips, db_now_epoch: float | None = None) -> Observation:
    """A SpendLogs row from sql/spend_logs_rows.sql -> an Observation, clamping what cannot be counted."""
    spend = row.spend
    if spend is None or not math.isfinite(spend):
        skips["nonfinite_spend"] += 1
        spend = 0.0
    elif spend < 0:
        skips["negative_spend"] += 1
        spend = 0.0
    tokens = []
    for value in (row.input_tokens, row.output_tokens, row.cache_read_tokens, row.cache_creation_tokens):
        value = int(value or 0)
        if value < 0:
            skips["negative_tokens"] += 1
            value = 0
        tokens.append(value)
    # cache tokens arrive clamped to [0, 1e15] by the row block, with how many of the two it clamped
    for reason, clamped in (("negative_tokens", row.negative_cache_tokens), ("huge_tokens", row.huge_cache_tokens)):
        if clamped:
            skips[reason] += int(clamped)
    duration = row.duration
    dur_bucket = bucket(DURATION_BUCKETS, duration)
    if duration is not None and dur_bucket is None:
        skips["negative_duration" if duration < 0 else "nonfinite_duration"] += 1
    elif dur_bucket == len(DURATION_BUCKETS) and not math.isfinite(duration):
        skips["nonfinite_duration"] += 1
        dur_bucket = None
    ttft = row.ttft
    ttft_bucket = bucket(TTFT_BUCKETS, ttft if ttft is None or math.isfinite(ttft) else None)
    if db_now_epoch is not None and row.start_epoch > db_now_epoch + MAX_FUTURE_SECONDS:
        skips["future_start_time"] += 1
    failed = row.status == "failure"
    error = errorclass.classify(row.normalized_error, row.error_code, row.error_class, row.error_hint) \
        if failed else ""
    return Observation(
        dims=tuple(row.dims), status="failure" if failed else "success", error_class=error, requests=1,
        spend=exact(spend), input_tokens=tokens[0], output_tokens=tokens[1], cache_read_tokens=tokens[2],
        cache_creation_tokens=tokens[3], duration_bucket=dur_bucket,
        duration_sum=exact(duration) if dur_bucket is not None else ZERO, ttft_bucket=ttft_bucket,
        ttft_sum=exact(ttft) if ttft_bucket is not None else ZERO)


class Ledger:
    def __init__(self, limits: dict[str, int]):
        # a raw dimension's limit is the smallest limit among the labels it feeds
        self.limits = {dim: min((limits.get(lbl, 10**9) for lbl in LIMIT_OF[dim]), default=10**9)
                       for dim in RAW_DIMS}
        self.members: dict[str, set[str]] = {dim: set() for dim in RAW_DIMS}
        self.totals: dict[tuple, Totals] = {}
        self.rows_counted = 0
        self.skips = Skips()

    def seed(self, observations: list[Observation]) -> None:
        """Admit the top values by spend (then requests, then name: deterministic) of each dimension."""
        for i, dim in enumerate(RAW_DIMS):
            spend: dict[str, Decimal] = {}
            requests: dict[str, int] = {}
            for obs in observations:
                value = obs.dims[i]
                spend[value] = _EXACT.add(spend.get(value, ZERO), obs.spend)
                requests[value] = requests.get(value, 0) + obs.requests
            ranked = sorted(spend, key=lambda v: (-spend[v], -requests[v], v))
            self.members[dim].update(ranked[: self.limits[dim]])

    def fold(self, dims: tuple) -> tuple:
        out = []
        for dim, value in zip(RAW_DIMS, dims):
            members = self.members[dim]
            if value not in members:
                if len(members) < self.limits[dim]:
                    members.add(value)
                else:
                    value = OTHER
            out.append(value)
        return tuple(out)

    def apply(self, obs: Observation) -> None:
        key = self.fold(obs.dims) + (obs.status, obs.error_class)
        t = self.totals.get(key)
        if t is None:
            t = self.totals[key] = Totals()
        t.requests += obs.requests
        t.spend = _EXACT.add(t.spend, obs.spend)
        t.input_tokens += obs.input_tokens
        t.output_tokens += obs.output_tokens
        t.cache_read_tokens += obs.cache_read_tokens
        t.cache_creation_tokens += obs.cache_creation_tokens
        if obs.duration_bucket is not None:
            t.duration[obs.duration_bucket] += obs.requests
            t.duration_sum = _EXACT.add(t.duration_sum, obs.duration_sum)
        if obs.ttft_bucket is not None:
            t.ttft[obs.ttft_bucket] += obs.requests
            t.ttft_sum = _EXACT.add(t.ttft_sum, obs.ttft_sum)
        self.rows_counted += obs.requests
