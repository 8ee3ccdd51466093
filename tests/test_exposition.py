"""The exporter's own renderer writes exactly what prometheus_client's generate_latest writes, render after
render (its per-series prefix cache must never serve a stale or foreign series)."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from helpers import exporter_for
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, InfoMetricFamily
from spendrows import NOW, failure, insert, row

from exporter.collect.exposition import Renderer

HOSTILE = ['quote"d', "new\nline", "back\\slash", "ünïcødé ✓ 模型", "x" * 300, "", "{}=,", "'; DROP TABLE x;--"]


class _Collected:
    def __init__(self, families):
        self.families = families

    def collect(self):
        return self.families


def library(families) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collected(families))
    return generate_latest(registry)


def families(values: list[float], labels: list[str]) -> list:
    counter = CounterMetricFamily("c", "a counter\nwith a \\ in its help", labels=["a", "b"])
    gauge = GaugeMetricFamily("g", "a gauge", labels=["z", "a"])
    for i, (v, lbl) in enumerate(zip(values, labels)):
        counter.add_metric([lbl, str(i)], v)
        gauge.add_metric([str(i), lbl], -v)
    hist = HistogramMetricFamily("h", "a histogram", labels=["m"])
    hist.add_metric(["x"], [("0.1", 1), ("1e+06", 3), ("+Inf", 4)], 12.5)
    info = InfoMetricFamily("i", "info", value={"version": "1.0"})
    return [counter, gauge, hist, info, GaugeMetricFamily("plain", "no labels", value=3)]


@pytest.mark.nodb
def test_same_bytes_as_the_library_for_every_kind_of_value():
    values = [0.0, 1.0, 1e21, 123456789.0, 0.1, math.nan, math.inf, -math.inf, 2**60, 5e-324]
    labels = (HOSTILE * 2)[: len(values)]
    renderer = Renderer()
    assert renderer.render(families(values, labels)) == library(families(values, labels))
    changed = [v * 2 + 1 for v in values[:5]]  # fewer series, new values: the cache must not leak old lines
    assert renderer.render(families(changed, labels)) == library(families(changed, labels))
    assert renderer.render(families(values, labels[::-1])) == library(families(values, labels[::-1]))


def test_same_bytes_as_the_library_on_a_real_exposition(litellm_db):
    insert(
        litellm_db,
        [
            row(NOW - timedelta(minutes=2 + i), model_group=h, model=h, team_id=h, api_key=h, user=h, ttft=0.3)
            for i, h in enumerate(HOSTILE)
        ]
        + [failure(NOW - timedelta(days=2), model_group=h) for h in HOSTILE],
    )
    litellm_db.execute(
        'INSERT INTO "LiteLLM_VerificationToken" (token, key_alias, spend, max_budget) '
        "VALUES ('k1', E'a\"b\\\\c', 3, 10)"
    )
    ref = exporter_for(litellm_db)
    for _ in range(2):
        assert ref.refresh(), ref.last_error
        fams = ref.health_families() + list(ref._data)
        assert ref.snapshot.body.count(b"\n") > 100
        assert Renderer().render(fams) == library(fams)
        assert ref._renderer.render(fams) == library(fams)
        insert(litellm_db, [row(NOW - timedelta(seconds=30), model_group="new")])
