"""The counters' state: exact totals per label set, folded so that cardinality stays bounded.

Rows (or SQL aggregates of rows) are applied once each; nothing is ever subtracted, so retention deletes and
truncates never make a counter go down.

Which values of a capped dimension keep their own series is decided per UTC day from the rows alone, never from
when the exporter started, so two exporters that counted the same rows expose the same series:
- the members of day d are the top N - R values by spend over days d-8 .. d-2 (days whose rows have all
  arrived when day d starts, as long as LiteLLM writes rows less than a day late), R = N // 10 slots being kept
  for newcomers;
- the free slots go first to the newcomers admitted on day d-1 (a value that appeared yesterday does not fall
  back to __other__ before the ranking sees it), then to values in the order of their first row on day d.
A row of day d counts under its value if the value is a member of day d, else under `__other__`. A value that
stops being a member keeps its series (which stops growing); its new rows go to `__other__`.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field
from decimal import Context, Decimal

from exporter.metrics import error_classes
from exporter.metrics.spec import DURATION_BUCKETS, OTHER, SUMS, TTFT_BUCKETS

# Raw dimensions in the order rows carry them; folded to at most `limit` values each.
RAW_DIMS = ("requested_model", "model", "api_provider", "api_key", "team", "user", "end_user")
# Which exposed label limits which raw dimension.
LIMIT_OF = {
    "requested_model": ("requested_model",),
    "model": ("model",),
    "api_provider": ("api_provider",),
    "api_key": ("api_key_alias", "hashed_api_key"),
    "team": ("team", "team_alias"),
    "user": ("user",),
    "end_user": ("end_user",),
}
_N_DUR = len(DURATION_BUCKETS) + 1
_N_TTFT = len(TTFT_BUCKETS) + 1
MAX_FUTURE_SECONDS = 300.0
ZERO = Decimal(0)
DAY_SECONDS = 86400
FIRST_DAY = -(10**7)  # the day of rows whose startTime is -infinity
RANKED_DAYS = range(-8, -1)  # members of day d are ranked by spend over days d-8 .. d-2
# Sums are exact decimals, so that the order rows are added in (one SQL aggregate at start, then rows one by
# one) never changes a value: two exporters started at different times expose identical numbers. Each float8
# enters as PostgreSQL's float8 -> numeric cast makes it (15 significant digits).
_EXACT = Context(prec=80)


def exact(value: float) -> Decimal:
    """A float as PostgreSQL's float8::numeric cast makes it."""
    return Decimal(format(value, ".15g"))


_USD = tuple(v for v, unit in SUMS.items() if unit == "usd")  # exact decimals
_COUNTS = tuple(v for v, unit in SUMS.items() if unit != "usd")  # integers


def zero_sums() -> dict[str, Decimal | int]:
    """Every value the counters sum (spec.SUMS), at zero."""
    return {v: ZERO if unit == "usd" else 0 for v, unit in SUMS.items()}


@dataclass
class Totals:
    """Everything counted for one folded key."""

    requests: int = 0
    sums: dict[str, Decimal | int] = field(default_factory=zero_sums)  # spec.SUMS value -> its sum
    duration: list = field(default_factory=lambda: [0] * _N_DUR)  # per bucket, not cumulative
    duration_sum: Decimal = ZERO
    ttft: list = field(default_factory=lambda: [0] * _N_TTFT)
    ttft_sum: Decimal = ZERO

    def add(self, obs: Observation | Totals) -> None:
        """Add an observation, or another Totals."""
        self.requests += obs.requests
        mine, theirs = self.sums, obs.sums
        for v in _USD:
            mine[v] = _EXACT.add(mine[v], theirs[v])
        for v in _COUNTS:
            mine[v] += theirs[v]
        if isinstance(obs, Totals):
            self.duration = [a + b for a, b in zip(self.duration, obs.duration)]
            self.ttft = [a + b for a, b in zip(self.ttft, obs.ttft)]
            self.duration_sum = _EXACT.add(self.duration_sum, obs.duration_sum)
            self.ttft_sum = _EXACT.add(self.ttft_sum, obs.ttft_sum)
            return
        if obs.duration_bucket is not None:
            self.duration[obs.duration_bucket] += obs.requests
            self.duration_sum = _EXACT.add(self.duration_sum, obs.duration_sum)
        if obs.ttft_bucket is not None:
            self.ttft[obs.ttft_bucket] += obs.requests
            self.ttft_sum = _EXACT.add(self.ttft_sum, obs.ttft_sum)


@dataclass(frozen=True)
class Observation:
    """One SpendLogs row, or one SQL group of rows that share every field below."""

    day: int  # UTC day of startTime (Unix days)
    first: float  # epoch of the earliest startTime among its rows (orders admissions within a day)
    dims: tuple  # RAW_DIMS values
    status: str
    error_class: str
    requests: int
    sums: dict[str, Decimal | int]  # spec.SUMS value -> the row's (or group's) amount
    duration_bucket: int | None
    duration_sum: Decimal
    ttft_bucket: int | None
    ttft_sum: Decimal


def bucket(bounds: tuple[float, ...], value: float | None) -> int | None:
    """Index of the first bucket whose upper bound is >= value (len(bounds) = +Inf); None for no value."""
    if value is None or not value >= 0:
        return None
    return bisect_left(bounds, value)


def negated_bounds(bounds: tuple[float, ...]) -> list[float]:
    return sorted(-b for b in bounds)


class Skips(Counter):
    """Rows or values skipped or clamped, by reason (exposed as litellm_db_rows_skipped_total)."""


def clean_row(row, skips: Skips, db_now_epoch: float | None = None) -> Observation:
    """A SpendLogs row from sql/spend_logs_rows.sql -> an Observation, clamping what cannot be counted."""
    sums: dict[str, Decimal | int] = {}
    for v, unit in SUMS.items():
        value = row.values[v]
        if unit == "usd":  # NaN, infinite or negative amounts count 0, and are counted by reason
            if value is None or not math.isfinite(value):
                skips["nonfinite_spend"] += 1
                value = 0.0
            elif value < 0:
                skips["negative_spend"] += 1
                value = 0.0
            sums[v] = exact(value)
        else:
            value = int(value or 0)
            if value < 0:
                skips["negative_tokens"] += 1
                value = 0
            sums[v] = value
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
    error = (
        error_classes.classify(row.normalized_error, row.error_code, row.error_class, row.error_hint) if failed else ""
    )
    return Observation(
        day=row.day,
        first=row.start_epoch,
        dims=tuple(row.dims),
        status="failure" if failed else "success",
        error_class=error,
        requests=1,
        sums=sums,
        duration_bucket=dur_bucket,
        duration_sum=exact(duration) if dur_bucket is not None else ZERO,
        ttft_bucket=ttft_bucket,
        ttft_sum=exact(ttft) if ttft_bucket is not None else ZERO,
    )


@dataclass
class _Members:
    """The values of one dimension that keep their own series on one day."""

    values: set
    capacity: int  # slots for newcomers
    newcomers: list = field(default_factory=list)  # admitted through those slots, in order

    def admit(self, value: str) -> bool:
        if value in self.values:
            return True
        if len(self.newcomers) < self.capacity:
            self.values.add(value)
            self.newcomers.append(value)
            return True
        return False


class Tally:
    """The counters' state: Totals per folded key (dims folded per day as the module doc says), rows counted,
    and what was skipped or clamped."""

    def __init__(self, limits: dict[str, int]):
        self.limits_configured = dict(limits)
        # a raw dimension's limit is the smallest limit among the labels it feeds
        self.limits = {dim: min((limits.get(lbl, 10**9) for lbl in LIMIT_OF[dim]), default=10**9) for dim in RAW_DIMS}
        self.totals: dict[tuple, Totals] = {}
        self.rows_counted = 0
        self.skips = Skips()
        self._spend: dict[int, dict[int, dict[str, Decimal]]] = {}  # day -> dimension -> value -> spend that day
        self._members: dict[int, list[_Members]] = {}  # day -> per dimension

    def members(self, day: int) -> list[_Members]:
        found = self._members.get(day)
        if found is not None:
            return found
        before = self._members.get(day - 1)
        out = []
        for i, dim in enumerate(RAW_DIMS):
            limit = self.limits[dim]
            spend: dict[str, Decimal] = {}
            for offset in RANKED_DAYS:
                for value, amount in self._spend.get(day + offset, {}).get(i, {}).items():
                    spend[value] = _EXACT.add(spend.get(value, ZERO), amount)
            top = sorted(spend, key=lambda v: (-spend[v], v))[: limit - limit // 10]
            m = _Members(set(top), limit - len(top))
            for value in before[i].newcomers if before else ():
                m.admit(value)
            out.append(m)
        self._members[day] = out
        return out

    def fold(self, day: int, dims: tuple) -> tuple:
        members = self.members(day)
        return tuple(value if members[i].admit(value) else OTHER for i, value in enumerate(dims))

    def apply(self, day: int, dims: tuple, status: str, error_class: str, delta: Totals | Observation) -> None:
        key = self.fold(day, dims) + (status, error_class)
        t = self.totals.get(key)
        if t is None:
            t = self.totals[key] = Totals()
        t.add(delta)
        self.rows_counted += delta.requests
        spend = self._spend.setdefault(day, {})
        for i, value in enumerate(dims):
            per_value = spend.setdefault(i, {})
            per_value[value] = _EXACT.add(per_value.get(value, ZERO), delta.sums["spend"])  # ranked by spend

    def forget_before(self, day: int) -> None:
        """Drop what no day from `day` on needs (rows of earlier days are never applied again)."""
        for d in [d for d in self._spend if d < day + RANKED_DAYS.start]:
            del self._spend[d]
        for d in [d for d in self._members if d < day - 1]:
            del self._members[d]
