"""Smoke test of the benchmark code (bench/run.py) on a ~5k-row dataset: every scenario runs against a real
PostgreSQL and writes the result structure and BENCHMARKS-style markdown. No timing is asserted."""

from __future__ import annotations

import json
import shutil

from conftest import require

from exporter.local.postgres import LocalPostgresError, resolve_bindir


def test_bench_smoke(tmp_path, monkeypatch):
    try:
        resolve_bindir("embedded")
    except LocalPostgresError as exc:
        require("the embedded PostgreSQL", str(exc))  # skips locally, fails with CI=true
    from bench import run

    results, md = tmp_path / "results.json", tmp_path / "BENCHMARKS.md"
    argv = [
        "--rows",
        "5000",
        "--no-cache",
        "--repeat",
        "1",
        "--new-rows",
        "100",
        "--scrapers",
        "1",
        "--scrape-seconds",
        "1",
        "--results",
        str(results),
        "--markdown",
        str(md),
    ]
    naive = shutil.which("prometheus-postgres-exporter") is not None
    if not naive:
        argv.append("--no-naive")
    assert run.main(argv) == 0

    doc = json.loads(results.read_text())
    assert doc["machine"]["nproc"] >= 1
    res = doc["runs"]["embedded/5000"]
    assert res["spend_logs_rows"] >= 5000
    sc = res["scenarios"]
    assert sc["refresh"]["cold_start"]["seconds"] > 0
    inc = sc["refresh"]["incremental"]["100"]
    for key in (
        "exporter_wall_ms",
        "exporter_db_ms",
        "exporter_rows",
        "exporter_shared_buffers",
        "floor_db_ms",
        "floor_rows",
        "exporter_over_floor",
    ):
        assert inc[key] is not None, key
    assert inc["floor_rows"] == 100
    if naive:
        assert sc["refresh"]["naive"]["db_ms"] > 0
        assert inc["naive_over_exporter"] > 0
    assert {"spend_by_model", "spend_over_time", "key_budgets"} <= set(sc["panels"])
    assert all(p["median_ms"] >= 0 and p["plan"] for p in sc["panels"].values())
    assert sc["audit"]["seconds"] > 0
    scrape = sc["scrape"]
    assert scrape["series"] > 0 and scrape["VmHWM"] > 0
    assert {"1", "1-close"} <= set(scrape["levels"])
    assert scrape["levels"]["1"]["scrapes"] > 0
    text = md.read_text()
    assert "## Targets" in text and "embedded 5,000" in text
