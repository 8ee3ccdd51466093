"""Benchmarks: the exporter's refresh cost grows with new rows, not with the table.

    python -m bench.run --rows 1000000 10000000 --servers embedded debian-15 --repeat 5

For each server and size: one demo dataset (built once, cached in --cache), then the scenarios below, measured
side by side in the same run. Writes BENCHMARKS.md and bench/results.json (results are merged by server and
size, so a later run for another server adds to them).

1. incremental refresh (1k and 10k new rows): exporter vs naive (prometheus-postgres-exporter + full GROUP BYs)
   vs floor (index range scan of the new rows only)
2. cold start (a fresh Refresher's first refresh)
3. scrape path (/metrics latency with 1/10/50 concurrent scrapers, series count, peak RSS, statements/min)
4. Grafana Postgres panels over 30 days
5. audit
6. growth (computed from 1 across sizes)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from bench import datasets, report
from exporter import app, config
from exporter.access import grafana_sql, indexes, roles
from exporter.audit.command import audit
from exporter.audit.model import Options
from exporter.config import DatabaseConfig
from exporter.local import demodata

ROOT = Path(__file__).resolve().parents[1]
EXPORTER_ROLE = "litellm_spend_exporter"
NAIVE_ROLE = "bench_naive_exporter"
DURATION_BOUNDS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
# Labels added for the scrape scenario (about 20k series): each family's default labels plus these (metrics.labels
# replaces a family's label set), and limits high enough to keep every value.
SCRAPE_EXTRA = {"counter": ["hashed_api_key", "user", "end_user"], "histogram": ["hashed_api_key"]}


def scrape_labels(extra: dict = SCRAPE_EXTRA) -> dict:
    from exporter.metrics.spec import SPEND_LOGS_FAMILIES

    out = {}
    for fam in SPEND_LOGS_FAMILIES:
        add = [lbl for lbl in extra.get(fam.type, []) if lbl in fam.configurable and lbl not in fam.labels]
        if add:
            out[fam.name] = [*fam.labels, *add]
    return out


SCRAPE_LIMITS = {"hashed_api_key": 5000, "user": 5000, "end_user": 5000, "api_key_alias": 5000}


def log(msg: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {msg}", file=sys.stderr, flush=True)


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# -- pg_stat_statements --------------------------------------------------------------------------------------
class Stats:
    def __init__(self, conninfo: str):
        self.conn = psycopg.connect(conninfo, autocommit=True)
        self.conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")

    def reset(self) -> None:
        self.conn.execute("SELECT pg_stat_statements_reset()")

    def read(self, role: str) -> dict:
        """Totals of the role's statements since the last reset (pg_stat_statements' own utility statements
        and transaction control included, they cost ~0)."""
        r = self.conn.execute(
            "SELECT coalesce(sum(total_exec_time), 0), coalesce(sum(calls), 0), coalesce(sum(rows), 0),"
            " coalesce(sum(shared_blks_hit + shared_blks_read), 0), coalesce(sum(shared_blks_read), 0)"
            " FROM pg_stat_statements WHERE userid = %s::regrole AND dbid = (SELECT oid FROM pg_database"
            " WHERE datname = current_database())",
            (role,),
        ).fetchone()
        return {
            "db_ms": float(r[0]),
            "calls": int(r[1]),
            "rows": int(r[2]),
            "shared_buffers": int(r[3]),
            "shared_read": int(r[4]),
        }

    def top(self, role: str, n: int = 6) -> list[dict]:
        rows = self.conn.execute(
            "SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 90), calls, round(total_exec_time::numeric, 2),"
            " rows, shared_blks_hit + shared_blks_read FROM pg_stat_statements WHERE userid = %s::regrole"
            " ORDER BY total_exec_time DESC LIMIT %s",
            (role, n),
        ).fetchall()
        return [{"query": q, "calls": c, "ms": float(t), "rows": r, "buffers": b} for q, c, t, r, b in rows]

    def close(self) -> None:
        self.conn.close()


# -- roles ---------------------------------------------------------------------------------------------------
def make_roles(pg, db: str) -> tuple[str, str]:
    """The exporter's real read-only role (exporter.access.roles) and a plain login for the naive exporter."""
    pw = secrets.token_urlsafe(12)
    roles.apply(make_url(pg.url(db)), [roles.Reader("exporter", EXPORTER_ROLE, 5, "600s", pw)], "public")
    naive_pw = secrets.token_urlsafe(12)
    with psycopg.connect(pg.admin_conninfo(db), autocommit=True) as c:
        exists = c.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (NAIVE_ROLE,)).fetchone()
        verb = "ALTER" if exists else "CREATE"
        c.execute(f"{verb} ROLE {NAIVE_ROLE} LOGIN PASSWORD '{naive_pw}'")
        c.execute(f"GRANT pg_monitor TO {NAIVE_ROLE}")
        c.execute(f'GRANT SELECT ON "LiteLLM_SpendLogs" TO {NAIVE_ROLE}')
    return pg.url(db, user=EXPORTER_ROLE, password=pw), naive_pw


def exporter_config(url: str, **extra) -> config.Config:
    return config.Config.model_validate({"database": {"url": url, "statement_timeout": "600s"}, **extra})


# -- the naive exporter: prometheus-postgres-exporter with full GROUP BYs ---------------------------------------
def naive_queries_yaml() -> str:
    buckets = ",\n".join(
        f"             count(*) FILTER (WHERE d <= {b}) AS le_{str(b).replace('.', '_')}" for b in DURATION_BOUNDS
    )
    bucket_metrics = "\n".join(
        f'    - le_{str(b).replace(".", "_")}: {{usage: COUNTER, description: "requests with duration <= {b}s"}}'
        for b in DURATION_BOUNDS
    )
    return f"""\
# The same families as the exporter (requests/spend/tokens/errors by model, key, team, status; duration
# buckets by model and status), each computed by a full GROUP BY over LiteLLM_SpendLogs on every scrape.
litellm_naive_usage:
  query: |
    SELECT COALESCE(model_group, '') AS requested_model, COALESCE(model, '') AS model,
           COALESCE(custom_llm_provider, '') AS api_provider, COALESCE(api_key, '') AS api_key,
           COALESCE(team_id, '') AS team,
           CASE WHEN COALESCE(status, metadata->>'status') = 'failure' THEN 'failure' ELSE 'success' END AS status,
           COALESCE(CASE WHEN COALESCE(status, metadata->>'status') = 'failure'
                         THEN metadata->'error_information'->>'error_class' END, '') AS error_class,
           count(*) AS requests, sum(spend) AS spend_usd, sum(prompt_tokens) AS input_tokens,
           sum(completion_tokens) AS output_tokens
    FROM "LiteLLM_SpendLogs"
    GROUP BY 1, 2, 3, 4, 5, 6, 7
  metrics:
    - requested_model: {{usage: LABEL, description: model group}}
    - model: {{usage: LABEL, description: model}}
    - api_provider: {{usage: LABEL, description: provider}}
    - api_key: {{usage: LABEL, description: key}}
    - team: {{usage: LABEL, description: team}}
    - status: {{usage: LABEL, description: status}}
    - error_class: {{usage: LABEL, description: error class}}
    - requests: {{usage: COUNTER, description: requests}}
    - spend_usd: {{usage: COUNTER, description: spend}}
    - input_tokens: {{usage: COUNTER, description: input tokens}}
    - output_tokens: {{usage: COUNTER, description: output tokens}}
litellm_naive_duration:
  query: |
    SELECT requested_model, model, status, count(*) AS count, sum(d) AS sum,
{buckets}
    FROM (SELECT COALESCE(model_group, '') AS requested_model, COALESCE(model, '') AS model,
                 CASE WHEN COALESCE(status, metadata->>'status') = 'failure' THEN 'failure' ELSE 'success' END
                   AS status,
                 date_part('epoch', "endTime" - "startTime") AS d
          FROM "LiteLLM_SpendLogs") s
    GROUP BY 1, 2, 3
  metrics:
    - requested_model: {{usage: LABEL, description: model group}}
    - model: {{usage: LABEL, description: model}}
    - status: {{usage: LABEL, description: status}}
    - count: {{usage: COUNTER, description: requests}}
    - sum: {{usage: COUNTER, description: duration sum}}
{bucket_metrics}
"""


class NaiveExporter:
    def __init__(self, pg, db: str, password: str, workdir: Path):
        self.binary = shutil.which("prometheus-postgres-exporter")
        if not self.binary:
            raise RuntimeError(
                "prometheus-postgres-exporter is not installed (apt-get install prometheus-postgres-exporter)"
            )
        self.queries = workdir / "queries.yaml"
        self.queries.write_text(naive_queries_yaml())
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["DATA_SOURCE_NAME"] = (
            f"postgresql://{NAIVE_ROLE}:{password}@127.0.0.1:{pg.port}/{db}"
            "?sslmode=disable&application_name=naive-postgres-exporter"
        )
        self.proc = subprocess.Popen(
            [
                self.binary,
                f"--web.listen-address=127.0.0.1:{self.port}",
                f"--extend.query-path={self.queries}",
                "--disable-default-metrics",
                "--disable-settings-metrics",
                "--no-collector.bgwriter",
                "--no-collector.database",
                "--log.level=warn",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(workdir / "naive.log", "w"),  # noqa: SIM115 (the process keeps it open)
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("prometheus-postgres-exporter did not start")

    def scrape(self) -> tuple[float, str]:
        t0 = time.perf_counter()
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=900) as r:
            body = r.read().decode()
        return time.perf_counter() - t0, body

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# -- the floor: read only the new rows --------------------------------------------------------------------------
FLOOR_SQL = """EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)
SELECT request_id, "startTime", "endTime", "completionStartTime", model_group, model, custom_llm_provider,
       api_key, team_id, "user", end_user, status, spend, prompt_tokens, completion_tokens,
       metadata->'error_information'
FROM "LiteLLM_SpendLogs" WHERE "startTime" > %s"""


def floor_scan(admin: psycopg.Connection, hw: datetime) -> dict:
    plan = admin.execute(FLOOR_SQL, (hw,)).fetchone()[0][0]
    top = plan["Plan"]
    return {
        "db_ms": plan["Execution Time"] + plan["Planning Time"],
        "rows": top["Actual Rows"],
        "shared_buffers": top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0),
        "node": top["Node Type"],
        "index": top.get("Index Name"),
    }


def newest_start(admin: psycopg.Connection) -> datetime:
    return admin.execute('SELECT max("startTime") FROM "LiteLLM_SpendLogs"').fetchone()[0]


# -- scenarios 1, 2 and 6 --------------------------------------------------------------------------------------
def scenario_refresh(
    pg,
    db: str,
    url: str,
    naive: NaiveExporter | None,
    new_rows: list[int],
    repeat: int,
    naive_repeat: int,
    seed_base: int,
) -> dict:
    conninfo = pg.admin_conninfo(db)
    admin = psycopg.connect(conninfo, autocommit=True)
    stats = Stats(conninfo)
    out: dict = {}
    refresher = app.build(exporter_config(url))
    try:
        # 2. cold start: a fresh Refresher's first refresh (one complete, consistent snapshot)
        stats.reset()
        t0 = time.perf_counter()
        ok = refresher.refresh()
        cold = time.perf_counter() - t0
        if not ok:
            raise RuntimeError(f"cold refresh failed: {refresher.last_error}")
        out["cold_start"] = {"seconds": cold, **stats.read(EXPORTER_ROLE), "top": stats.top(EXPORTER_ROLE, 3)}
        # what any cold start has to pay at least: one sequential read of the table (parallel, as PostgreSQL
        # plans it), measured right after, with the same page cache
        t0 = time.perf_counter()
        admin.execute('SELECT sum(spend) FROM "LiteLLM_SpendLogs"').fetchone()
        out["cold_start"]["scan_floor_s"] = time.perf_counter() - t0
        log(
            f"  cold start {cold:.2f} s, db {out['cold_start']['db_ms']:.0f} ms; one sequential read of the table "
            f"{out['cold_start']['scan_floor_s']:.2f} s"
        )

        seed = seed_base
        incremental = {}
        for n in new_rows:
            # steady state: the overlap window (15 min) holds what 30 refreshes of n rows each (30 s apart) add,
            # so the per-minute census reads a realistic window; this warm-up refresh is not measured
            seed += 1
            now = utcnow()
            demodata.append(conninfo, rows=30 * n, seed=seed, start=now - timedelta(minutes=15), end=now)
            if not refresher.refresh():
                raise RuntimeError(refresher.last_error)
            runs = []
            for _ in range(repeat):
                seed += 1
                hw = newest_start(admin)
                now = utcnow()
                start = max(now - timedelta(seconds=30), hw + timedelta(milliseconds=1))
                demodata.append(conninfo, rows=n, seed=seed, start=start, end=max(now, start + timedelta(seconds=1)))
                stats.reset()
                t0 = time.perf_counter()
                ok = refresher.refresh()
                wall = time.perf_counter() - t0
                if not ok:
                    raise RuntimeError(refresher.last_error)
                exp = {"wall_s": wall, **stats.read(EXPORTER_ROLE), "top": stats.top(EXPORTER_ROLE)}
                flo = floor_scan(admin, hw)
                runs.append({"exporter": exp, "floor": flo})
            inc = {
                "runs": runs,
                "exporter_wall_ms": median(r["exporter"]["wall_s"] * 1000 for r in runs),
                "exporter_db_ms": median(r["exporter"]["db_ms"] for r in runs),
                "exporter_rows": median(r["exporter"]["rows"] for r in runs),
                "exporter_shared_buffers": median(r["exporter"]["shared_buffers"] for r in runs),
                "exporter_calls": median(r["exporter"]["calls"] for r in runs),
                "floor_db_ms": median(r["floor"]["db_ms"] for r in runs),
                "floor_rows": median(r["floor"]["rows"] for r in runs),
                "floor_shared_buffers": median(r["floor"]["shared_buffers"] for r in runs),
                "floor_plan": f"{runs[-1]['floor']['node']} {runs[-1]['floor']['index'] or ''}".strip(),
            }
            inc["exporter_over_floor"] = inc["exporter_db_ms"] / inc["floor_db_ms"] if inc["floor_db_ms"] else None
            incremental[str(n)] = inc
            log(
                f"  +{n} rows: exporter wall {inc['exporter_wall_ms']:.1f} ms, db {inc['exporter_db_ms']:.2f} ms "
                f"({inc['exporter_shared_buffers']} buffers); floor {inc['floor_db_ms']:.2f} ms"
            )
        out["incremental"] = incremental

        if naive is not None:
            runs = []
            for _ in range(naive_repeat):
                stats.reset()
                wall, body = naive.scrape()
                if "litellm_naive_usage_requests" not in body:
                    raise RuntimeError("the naive exporter returned no usage metrics: see naive.log")
                runs.append(
                    {
                        "wall_s": wall,
                        "series": sum(1 for ln in body.splitlines() if ln.startswith("litellm_naive_")),
                        **stats.read(NAIVE_ROLE),
                    }
                )
            out["naive"] = {
                "runs": runs,
                "wall_ms": median(r["wall_s"] * 1000 for r in runs),
                "db_ms": median(r["db_ms"] for r in runs),
                "shared_buffers": median(r["shared_buffers"] for r in runs),
                "rows": median(r["rows"] for r in runs),
                "series": runs[-1]["series"],
            }
            log(f"  naive scrape {out['naive']['wall_ms']:.0f} ms, db {out['naive']['db_ms']:.0f} ms")
            for inc in incremental.values():
                inc["naive_over_exporter"] = out["naive"]["db_ms"] / inc["exporter_db_ms"]
    finally:
        refresher.stop()
        refresher.engine.dispose()
        stats.close()
        admin.close()
    return out


# -- 3. scrape path ----------------------------------------------------------------------------------------------
def _scraper(url: str, stop: threading.Event, lat: list, keepalive: bool = True, period: float = 0.0) -> None:
    import http.client
    from urllib.parse import urlsplit

    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    import random

    if period:
        stop.wait(random.uniform(0, period))  # Prometheus servers are not in phase
    while not stop.is_set():
        t0 = time.perf_counter()
        try:
            conn.request("GET", u.path, headers={"Accept-Encoding": "gzip"})
            r = conn.getresponse()
            r.read()
            if not keepalive:
                conn.close()
        except OSError:
            conn.close()
            conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
            continue
        lat.append(time.perf_counter() - t0)
        if period:
            stop.wait(max(0.0, period - (time.perf_counter() - t0)))


def _wrk(wrk: str, url: str, connections: int, seconds: float) -> dict:
    """wrk's closed loop (2 threads, keep-alive, gzip): scrapes, p50 and p99 from its latency distribution."""
    proc = subprocess.run(
        [
            wrk,
            "-t2",
            f"-c{connections}",
            f"-d{int(seconds)}s",
            "--latency",
            "--timeout",
            "10s",
            "-H",
            "Accept-Encoding: gzip",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed: {proc.stderr.strip()[:200]}")
    unit = {"us": 0.001, "ms": 1.0, "s": 1000.0}

    def ms(text: str) -> float:
        number = text.rstrip("usm")
        return float(number) * unit[text[len(number) :]]

    out = {}
    for line in proc.stdout.splitlines():
        parts = line.split()
        if parts[:1] == ["50%"]:
            out["p50_ms"] = ms(parts[1])
        elif parts[:1] == ["99%"]:
            out["p99_ms"] = ms(parts[1])
        elif len(parts) > 2 and parts[1] == "requests" and parts[2] == "in":
            out["scrapes"] = int(parts[0])
        elif line.strip().startswith("Non-2xx or 3xx responses") or line.strip().startswith("Socket errors"):
            out["errors"] = line.strip()
    return out


def refreshes(metrics_url: str) -> float:
    with urllib.request.urlopen(metrics_url, timeout=30) as r:
        for line in r.read().decode().splitlines():
            if line.startswith("litellm_db_refreshes_total") and 'result="success"' in line:
                return float(line.split()[-1])
    return 0.0


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] if xs else None


def scenario_scrape(pg, db: str, url: str, concurrency: list[int], seconds: float, workdir: Path) -> dict:
    import yaml

    port = free_port()
    cfg = {
        "database": {"url": url, "statement_timeout": "600s"},
        "web": {"listen_address": f"127.0.0.1:{port}"},
        "refresh": {"interval": "5s"},
        "metrics": {"labels": scrape_labels(), "limits": SCRAPE_LIMITS},
        "log": {"level": "warning"},
    }
    cfgfile = workdir / "exporter.yaml"
    cfgfile.write_text(yaml.safe_dump(cfg))
    os.chmod(cfgfile, 0o600)
    exe = str(Path(sys.executable).parent / "litellm-spend-exporter")
    stats = Stats(pg.admin_conninfo(db))
    proc = subprocess.Popen(
        [exe, "serve", "--config.file", str(cfgfile)],
        stdout=subprocess.DEVNULL,
        stderr=open(workdir / "serve.log", "w"),  # noqa: SIM115 (the process keeps it open)
    )
    out: dict = {}
    try:
        metrics = f"http://127.0.0.1:{port}/metrics"
        t0 = time.perf_counter()
        deadline = time.monotonic() + 900
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"serve exited: {(workdir / 'serve.log').read_text()[-500:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("serve did not become healthy")
            time.sleep(0.2)
        out["serve_ready_s"] = time.perf_counter() - t0
        with urllib.request.urlopen(metrics, timeout=30) as r:
            body = r.read()
        text = body.decode()
        out["series"] = sum(1 for ln in text.splitlines() if ln and not ln.startswith("#"))
        out["exposition_bytes"] = len(body)
        out["levels"] = {}
        # closed-loop scrapers on keep-alive connections (as Prometheus scrapes); "1-close": one scraper opening
        # a new connection per scrape, to separate connection reuse effects (Nagle / delayed ACK) from work
        # "N-paced": N scrapers each scraping once a second (N Prometheus servers with a 1 s interval)
        for c in [*concurrency, "1-close", *(f"{n}-paced" for n in concurrency if n > 1)]:
            keepalive = c != "1-close"
            period = 1.0 if str(c).endswith("-paced") else 0.0
            c_label = str(c)
            c = int(c_label.split("-")[0])
            stop = threading.Event()
            lats: list[list] = [[] for _ in range(c)]
            threads = [
                threading.Thread(target=_scraper, args=(metrics, stop, lats[i], keepalive, period), daemon=True)
                for i in range(c)
            ]
            stats.reset()
            r0 = refreshes(metrics)
            t0 = time.perf_counter()
            for t in threads:
                t.start()
            time.sleep(seconds)
            stop.set()
            for t in threads:
                t.join(35)
            dur = time.perf_counter() - t0
            db = stats.read(EXPORTER_ROLE)
            nref = refreshes(metrics) - r0
            all_lat = [x for ls in lats for x in ls]
            lvl = {
                "scrapers": c,
                "keepalive": keepalive,
                "period_s": period,
                "scrapes": len(all_lat),
                "seconds": dur,
                "p50_ms": percentile(all_lat, 50) * 1000,
                "p99_ms": percentile(all_lat, 99) * 1000,
                "db_statements_per_min": db["calls"] / dur * 60,
                "refreshes": nref,
                "statements_per_refresh": db["calls"] / nref if nref else None,
                "db_ms_per_min": db["db_ms"] / dur * 60,
            }
            out["levels"][c_label] = lvl
            log(
                f"  {c_label} scrapers: p50 {lvl['p50_ms']:.1f} ms p99 {lvl['p99_ms']:.1f} ms, "
                f"{lvl['db_statements_per_min']:.0f} statements/min"
            )
        # the same closed loop from wrk (C, its own process): latencies without the Python client's own lock
        wrk = shutil.which("wrk")
        for c in [n for n in concurrency if n > 1] if wrk else []:
            stats.reset()
            r0 = refreshes(metrics)
            t0 = time.perf_counter()
            res = _wrk(wrk, metrics, c, seconds)
            dur = time.perf_counter() - t0
            db = stats.read(EXPORTER_ROLE)
            nref = refreshes(metrics) - r0
            lvl = {
                "scrapers": c,
                "keepalive": True,
                "period_s": 0.0,
                "client": "wrk",
                "seconds": dur,
                **res,
                "db_statements_per_min": db["calls"] / dur * 60,
                "refreshes": nref,
                "statements_per_refresh": db["calls"] / nref if nref else None,
            }
            out["levels"][f"{c}-wrk"] = lvl
            log(
                f"  {c}-wrk scrapers: p50 {lvl['p50_ms']:.1f} ms p99 {lvl['p99_ms']:.1f} ms, "
                f"{lvl['scrapes'] / dur:,.0f} scrapes/s, {lvl['db_statements_per_min']:.0f} statements/min"
            )
        status = Path(f"/proc/{proc.pid}/status").read_text()
        for line in status.splitlines():
            if line.startswith(("VmHWM", "VmRSS")):
                out[line.split(":")[0]] = int(line.split()[1])  # kB
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        stats.close()
    return out


# -- 4. Grafana panels -------------------------------------------------------------------------------------------
def _plan_summary(plan: dict) -> str:
    found = []

    def walk(node):
        if node.get("Actual Loops") == 0:  # a branch the query never executed (e.g. the other side of a CASE)
            return
        rel = node.get("Relation Name")
        if rel:
            how = node["Node Type"].replace(" Scan", "")
            idx = node.get("Index Name")
            found.append(f"{rel}: {how}" + (f" ({idx})" if idx else ""))
        for child in node.get("Plans", []):
            walk(child)

    walk(plan["Plan"])
    return "; ".join(dict.fromkeys(found))


# Indexes LiteLLM does not create (sql/indexes/, printed by `check`), tried for panels over the target (created
# CONCURRENTLY, dropped afterwards).
INDEX_EXPERIMENTS = {"expensive_requests": "spend_logs_spend", "recent_failures": "spend_logs_failures"}


def scenario_panels(
    pg, db: str, repeat: int, end: datetime, days: float = 30, try_indexes: bool = False, limit_ms: float = 500.0
) -> dict:
    conn = psycopg.connect(pg.admin_conninfo(db), autocommit=True)
    out = {}
    try:
        variables = {}
        for var, name in (("model", "var_models"), ("key", "var_keys"), ("team", "var_teams")):
            text = grafana_sql.body((ROOT / "sql/grafana" / f"{name}.sql").read_text())
            variables[var] = [r[1] for r in conn.execute(text).fetchall()]  # "All": every value
        t_from, t_to = end - timedelta(days=days), end
        interval = days * 86400 / 1000  # ~1000 points, as a wide panel asks
        for f in sorted((ROOT / "sql/grafana").glob("*.sql")):
            sql = grafana_sql.expand(grafana_sql.body(f.read_text()), t_from, t_to, interval, variables)
            times = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                conn.execute(sql).fetchall()
                times.append((time.perf_counter() - t0) * 1000)
            plan = conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql).fetchone()[0][0]
            out[f.stem] = {"median_ms": median(times), "runs_ms": times, "plan": _plan_summary(plan)}
            log(f"  panel {f.stem}: {median(times):.1f} ms  {out[f.stem]['plan'][:100]}")
            if try_indexes and median(times) > limit_ms and f.stem in INDEX_EXPERIMENTS:
                recommended = indexes.Recommended.load(INDEX_EXPERIMENTS[f.stem])
                name, ddl = f'"{recommended.index}"', recommended.statement
                t0 = time.perf_counter()
                conn.execute(ddl)
                build_s = time.perf_counter() - t0
                try:
                    conn.execute('ANALYZE "LiteLLM_SpendLogs"')
                    times2 = []
                    for _ in range(repeat):
                        t0 = time.perf_counter()
                        conn.execute(sql).fetchall()
                        times2.append((time.perf_counter() - t0) * 1000)
                    plan2 = conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql).fetchone()[0][0]
                    out[f.stem]["with_index"] = {
                        "ddl": ddl,
                        "build_s": build_s,
                        "median_ms": median(times2),
                        "runs_ms": times2,
                        "plan": _plan_summary(plan2),
                    }
                    log(f"  panel {f.stem} with {name}: {median(times2):.1f} ms (index built in {build_s:.0f} s)")
                finally:
                    conn.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
    finally:
        conn.close()
    return out


# -- 5. audit ----------------------------------------------------------------------------------------------------
def scenario_audit(url: str) -> dict:
    from exporter.database import connection as dbmod

    t0 = time.perf_counter()
    rep = audit(DatabaseConfig(url=url, statement_timeout=600), Options(), dbmod.normalize_url(url))
    secs = time.perf_counter() - t0
    log(f"  audit {secs:.1f} s")
    return {"seconds": secs, "sections": sorted(rep)[:20]}


# -- driver ------------------------------------------------------------------------------------------------------
def machine() -> dict:
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    mem = int(next(ln.split()[1] for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal")))
    return {
        "nproc": os.cpu_count(),
        "ram_gb": round(mem / 2**20, 1),
        "cpu": cpu,
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def run_one(server: str, rows: int, args, workdir: Path) -> dict:
    log(f"[{server} {rows:,}] dataset")
    cache = None if args.no_cache else Path(args.cache)
    pg, info = datasets.open_dataset(server, rows, cache=cache, log=log)
    db = datasets.DB
    result = {"server": server, "rows": rows, "dataset": info, "scenarios": {}}
    naive = None
    try:
        with psycopg.connect(pg.admin_conninfo(db), autocommit=True) as c:
            result["spend_logs_rows"] = c.execute('SELECT count(*) FROM "LiteLLM_SpendLogs"').fetchone()[0]
            result["server_version"] = c.execute("SHOW server_version").fetchone()[0]
            data_end = newest_start(c)
        url, naive_pw = make_roles(pg, db)
        sc = result["scenarios"]
        if "refresh" in args.scenarios:
            if not args.no_naive:
                naive = NaiveExporter(pg, db, naive_pw, workdir)
            log(f"[{server} {rows:,}] refresh (cold start, incremental, naive, floor)")
            sc["refresh"] = scenario_refresh(
                pg,
                db,
                url,
                naive,
                args.new_rows,
                args.repeat,
                args.naive_repeat or args.repeat,
                seed_base=int(time.time()) % 100000 * 100,
            )
        if "panels" in args.scenarios:
            log(f"[{server} {rows:,}] grafana panels")
            sc["panels"] = scenario_panels(pg, db, args.repeat, data_end, try_indexes=args.try_indexes)
        if "audit" in args.scenarios:
            log(f"[{server} {rows:,}] audit")
            sc["audit"] = scenario_audit(url)
        if "scrape" in args.scenarios and rows in (args.scrape_rows or [rows]):
            log(f"[{server} {rows:,}] scrape path")
            sc["scrape"] = scenario_scrape(pg, db, url, args.scrapers, args.scrape_seconds, workdir)
    finally:
        if naive is not None:
            naive.stop()
        if cache is None:
            pg.cleanup()
        else:
            pg.stop()
    return result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--servers", nargs="+", default=["embedded"])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--naive-repeat", type=int, default=0, help="naive scrapes per dataset (default: --repeat)")
    ap.add_argument("--new-rows", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--scenarios", nargs="+", default=["refresh", "panels", "audit", "scrape"])
    ap.add_argument("--scrapers", type=int, nargs="+", default=[1, 10, 50])
    ap.add_argument("--scrape-seconds", type=float, default=20)
    ap.add_argument(
        "--scrape-rows",
        type=int,
        nargs="*",
        default=None,
        help="sizes to run the scrape scenario on (default: every size)",
    )
    ap.add_argument("--no-naive", action="store_true")
    ap.add_argument(
        "--try-indexes",
        action="store_true",
        help="for panels over 500 ms, also time them with an index LiteLLM does not create",
    )
    ap.add_argument("--cache", default=str(datasets.DEFAULT_CACHE), help="where datasets are kept between runs")
    ap.add_argument("--no-cache", action="store_true", help="temporary datasets, removed after the run")
    ap.add_argument("--results", default=str(ROOT / "bench" / "results.json"))
    ap.add_argument("--markdown", default=str(ROOT / "BENCHMARKS.md"))
    args = ap.parse_args(argv)
    command = "python -m bench.run " + " ".join(sys.argv[1:] if argv is None else argv)

    results_path = Path(args.results)
    results_path.parent.mkdir(parents=True, exist_ok=True)
    doc = json.loads(results_path.read_text()) if results_path.exists() else {"runs": {}}
    doc["machine"] = machine()
    workdir = Path(tempfile.mkdtemp(prefix="litellm-bench-"))
    try:
        for server in args.servers:
            for rows in args.rows:
                res = run_one(server, rows, args, workdir)
                res["date"] = datetime.now(UTC).isoformat(timespec="seconds")
                res["command"] = command
                res["machine"] = doc["machine"]
                key = f"{server}/{rows}"
                prev = doc["runs"].get(key)
                if prev and set(prev["scenarios"]) - set(res["scenarios"]):
                    # a run of some scenarios only: keep the other scenarios' results (and their command)
                    res["scenarios"] = {**prev["scenarios"], **res["scenarios"]}
                    res["command"] = f"{prev['command']}; then {command}"
                doc["runs"][key] = res
                results_path.write_text(json.dumps(doc, indent=1, default=str) + "\n")
                if args.markdown:
                    Path(args.markdown).write_text(report.render(doc))
                report.print_summary(res)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
