"""exporter/collect/totals.py, the pure core: properties of the exact totals, with no server (the fast tier).

The exporter counts history as one SQL aggregate per group of rows (cold start) and new rows one by one; two
exporters started at different times, or one restarted, must expose identical numbers. So the totals must not
depend on the order rows arrive in (where no label is folded), on how they are split into refreshes, or on
whether they arrive as rows or as groups of rows.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exporter.collect.totals import RAW_DIMS, ZERO, Observation, Tally, Totals, bucket, exact
from exporter.metrics.spec import DURATION_BUCKETS, OTHER, SUMS, TTFT_BUCKETS

pytestmark = pytest.mark.nodb

DAY = 86400
UNCAPPED = {}  # every label's limit far above the values drawn here
CAPPED = {"requested_model": 3, "model": 3, "api_provider": 2, "api_key_alias": 4, "team": 2, "user": 2, "end_user": 2}


@st.composite
def observations(draw, max_rows: int = 60) -> list[Observation]:
    """Rows of a few days, with few distinct values per dimension and distinct start times, in time order."""
    n = draw(st.integers(1, max_rows))
    starts = sorted(draw(st.lists(st.integers(0, 12 * DAY), min_size=n, max_size=n, unique=True)))
    rows = []
    for start in starts:
        duration = draw(st.one_of(st.none(), st.floats(0, 700, allow_nan=False)))
        ttft = draw(st.one_of(st.none(), st.floats(0, 130, allow_nan=False)))
        failed = draw(st.booleans())
        rows.append(
            Observation(
                day=start // DAY,
                first=float(start),
                dims=tuple(draw(st.sampled_from(["a", "b", "c", "d", "e", ""])) for _ in RAW_DIMS),
                status="failure" if failed else "success",
                error_class=draw(st.sampled_from(["rate_limit", "timeout"])) if failed else "",
                requests=1,
                sums={
                    v: exact(draw(st.floats(0, 50, allow_nan=False))) if unit == "usd" else draw(st.integers(0, 2**31))
                    for v, unit in SUMS.items()
                },
                duration_bucket=bucket(DURATION_BUCKETS, duration),
                duration_sum=exact(duration) if duration is not None else ZERO,
                ttft_bucket=bucket(TTFT_BUCKETS, ttft),
                ttft_sum=exact(ttft) if ttft is not None else ZERO,
            )
        )
    return rows


def one_by_one(rows: list[Observation], limits: dict[str, int], batches: list[int] | None = None) -> Tally:
    """Rows applied as the running exporter does: in refreshes (batches of rows), forgetting old days between."""
    tally = Tally(limits)
    cuts = sorted({0, len(rows), *(b % (len(rows) + 1) for b in batches or [])})
    for lo, hi in zip(cuts, cuts[1:]):
        for obs in rows[lo:hi]:
            tally.forget_before(obs.day)
            tally.apply(obs.day, obs.dims, obs.status, obs.error_class, obs)
    return tally


def as_groups(rows: list[Observation], limits: dict[str, int]) -> Tally:
    """Rows summed per (day, dims, status, error class) and applied in the cold start's order (day, first, key)."""
    groups: dict[tuple, Totals] = defaultdict(Totals)
    first: dict[tuple, float] = {}
    for obs in rows:
        key = (obs.day, obs.dims, obs.status, obs.error_class)
        groups[key].add(obs)
        first[key] = min(first.get(key, obs.first), obs.first)
    tally = Tally(limits)
    for key in sorted(groups, key=lambda k: (k[0], first[k], k)):
        tally.forget_before(key[0])
        tally.apply(*key, groups[key])
    return tally


def snapshot(tally: Tally) -> dict:
    return {key: vars(t) for key, t in tally.totals.items()}


@settings(max_examples=25, deadline=None)
@given(observations(), st.randoms(use_true_random=False))
def test_without_folding_the_order_of_rows_changes_nothing(rows, rnd):
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    assert snapshot(one_by_one(shuffled, UNCAPPED)) == snapshot(one_by_one(rows, UNCAPPED))


@settings(max_examples=60, deadline=None)
@given(observations(), st.lists(st.integers(0, 60), max_size=8), st.sampled_from([UNCAPPED, CAPPED]))
def test_any_split_into_refreshes_gives_the_same_totals(rows, batches, limits):
    assert snapshot(one_by_one(rows, limits, batches)) == snapshot(one_by_one(rows, limits))


@settings(max_examples=60, deadline=None)
@given(observations(), st.sampled_from([UNCAPPED, CAPPED]))
def test_groups_of_rows_count_as_the_rows_do(rows, limits):
    """A cold start (one aggregate per group) and an exporter that saw every row expose the same series."""
    rows_ledger, groups_ledger = one_by_one(rows, limits), as_groups(rows, limits)
    assert snapshot(groups_ledger) == snapshot(rows_ledger)
    assert groups_ledger.rows_counted == rows_ledger.rows_counted == len(rows)


@settings(max_examples=60, deadline=None)
@given(observations(), st.sampled_from([UNCAPPED, CAPPED]))
def test_folding_keeps_every_total_exact(rows, limits):
    """However values are folded into __other__, the sums over all series are the sums over all rows."""
    tally = one_by_one(rows, limits)
    assert sum(t.requests for t in tally.totals.values()) == len(rows)
    for v in SUMS:
        assert sum((t.sums[v] for t in tally.totals.values()), Decimal(0)) == sum((r.sums[v] for r in rows), Decimal(0))
    assert sum(sum(t.duration) for t in tally.totals.values()) == sum(r.duration_bucket is not None for r in rows)
    if limits is UNCAPPED:
        assert not any(OTHER in key for key in tally.totals)
