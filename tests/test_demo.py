"""`demo` end to end: one command gives a running exporter over real LiteLLM tables, and cleans up after itself."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest
from helpers import SCRIPT, clean_env, http_get, run_cli, samples, wait_for
from test_cli import one_line_error

from exporter.local.demo import DEMO_DIR_PREFIX as PREFIX


def leftovers() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob(PREFIX + "*"))


def test_demo_once_prints_a_scrape_and_removes_its_data():
    before = leftovers()
    proc = run_cli("demo", "--once", "--rows", "5000", "--web.listen-address", "127.0.0.1:0", timeout=300)
    assert proc.returncode == 0, proc.stderr
    s = samples(proc.stdout)
    assert s[("litellm_db_up", ())] == 1
    assert s[("litellm_db_spend_logs_rows_counted", ())] == 5000
    assert sum(v for (n, _), v in s.items() if n == "litellm_db_errors_total") > 0
    assert any(n == "litellm_db_key_budget_remaining_usd" for n, _ in s)
    assert leftovers() == before


def test_demo_runs_with_live_traffic_until_interrupted():
    before = leftovers()
    proc = subprocess.Popen(
        [
            SCRIPT,
            "demo",
            "--rows",
            "3000",
            "--web.listen-address",
            "127.0.0.1:0",
            "--refresh.interval",
            "1s",
            "--traffic",
            "50",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    lines: list[str] = []
    try:

        def url():
            line = proc.stderr.readline()
            lines.append(line)
            m = re.search(r"metrics:\s+(http://\S+)", line)
            return m.group(1) if m else None

        metrics = wait_for(url, timeout=240, what="the demo's metrics URL")
        counted = lambda: samples(http_get(metrics)[1].decode())[("litellm_db_spend_logs_rows_counted", ())]
        first = counted()
        assert first >= 3000
        wait_for(lambda: counted() > first, timeout=60, what="live traffic to be counted")
        status, body, _ = http_get(metrics.removesuffix("metrics"))
        assert status == 200 and b"litellm-spend-exporter" in body
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, "".join(lines) + err
    assert leftovers() == before


def test_demo_keep_leaves_the_data_directory():
    before = leftovers()
    proc = run_cli("demo", "--once", "--keep", "--rows", "100", "--web.listen-address", "127.0.0.1:0", timeout=300)
    assert proc.returncode == 0, proc.stderr
    kept = leftovers() - before
    try:
        assert len(kept) == 1 and (next(iter(kept)) / "data" / "PG_VERSION").exists()
        assert f"kept {next(iter(kept))}" in proc.stderr
    finally:
        import shutil

        for path in kept:
            shutil.rmtree(path, ignore_errors=True)


@pytest.mark.parametrize(
    "args,expected",
    [
        (["--rows", "-5"], "--rows must be 0 or more (got -5)"),
        (["--days", "0"], "--days must be more than 0"),
        (["--days", "nan"], "--days must be more than 0"),
        (["--days", "1e9"], "at most 3650"),
        (["--traffic", "-1"], "--traffic must be a finite number"),
        (["--traffic", "inf"], "--traffic must be a finite number"),
        (["--postgres", "bogus"], "--postgres: unknown PostgreSQL kind 'bogus'"),
        (["--postgres", "debian-x"], "--postgres: unknown PostgreSQL kind 'debian-x'"),
    ],
)
def test_demo_bad_options_exit_2_before_starting_anything(args, expected):
    before = leftovers()
    proc = run_cli("demo", "--once", *args, timeout=60)
    assert proc.returncode == 2, proc.stderr
    line = one_line_error(proc)
    assert line.startswith("litellm-spend-exporter demo: configuration error: ") and expected in line, line
    assert leftovers() == before  # validated before PostgreSQL was started


def test_demo_without_litellm_migrations_exits_1(tmp_path):
    """litellm-proxy-extras missing (shadowed by a plain module on PYTHONPATH): one line, exit 1."""
    (tmp_path / "litellm_proxy_extras.py").write_text("# not the package: as if it were not installed\n")
    env = clean_env()
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(tmp_path), env.get("PYTHONPATH")) if p)
    before = leftovers()
    proc = run_cli("demo", "--once", env=env, timeout=60)
    assert proc.returncode == 1, proc.stderr
    line = one_line_error(proc)
    assert "litellm-proxy-extras is not installed" in line and "unexpected error" not in line, line
    assert leftovers() == before


def test_demo_help():
    assert "--traffic" in run_cli("demo", "--help").stdout


def test_serve_dump_of_a_real_litellm_database():
    """`serve --dump` on the dumps a real LiteLLM proxy wrote: both formats, numbers equal the ground truth."""
    import json

    from conftest import FIXTURES, require

    if not (FIXTURES / "litellm-real-A.dump").exists():
        require("the real LiteLLM fixture", f"{FIXTURES} is missing")
    truth = json.loads((FIXTURES / "litellm-real-A.truth.json").read_text())
    for name in ("litellm-real-A.dump", "litellm-real-A.sql.gz"):
        proc = subprocess.Popen(
            [
                SCRIPT,
                "serve",
                "--dump",
                str(FIXTURES / name),
                "--web.listen-address",
                "127.0.0.1:0",
                "--refresh.interval",
                "2s",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=clean_env(DATABASE_URL="postgresql://ignored@127.0.0.1:1/x"),
        )
        try:

            def url(proc=proc):
                m = re.search(r"removed on exit\): (http://\S+)", proc.stderr.readline())
                return m.group(1) if m else None

            metrics = wait_for(url, timeout=120, what="serve --dump to start")
            s = samples(http_get(metrics)[1].decode())
            assert s[("litellm_db_up", ())] == 1
            assert s[("litellm_db_spend_logs_rows_counted", ())] == truth["total"]["rows"]
            spend = sum(v for (n, _), v in s.items() if n == "litellm_db_spend_usd_total")
            assert abs(spend - truth["total"]["spend"]) < 1e-9
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=60)
        assert proc.returncode == 0


def test_serve_dump_errors():
    proc = run_cli("serve", "--dump", "/nonexistent/dump.sql")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    proc = run_cli("serve", "--dump", "x.dump", "--database.url", "postgresql://u@h/d")
    assert proc.returncode == 2
