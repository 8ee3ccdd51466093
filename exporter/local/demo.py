"""`demo`: a private PostgreSQL with LiteLLM's real schema and demo traffic, and the exporter reading it."""

from __future__ import annotations

import logging
import secrets
import signal
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from exporter.access import roles
from exporter.app import Running, wait_for_signal
from exporter.config import Config
from exporter.errors import ConfigError, ExporterError
from exporter.local import litellm_migrations
from exporter.local.postgres import LocalPostgres, LocalPostgresError, UnknownPostgresKind, resolve_bindir

log = logging.getLogger("exporter.demo")
DATABASE = "litellm"
ROLE = "litellm_spend_exporter"
DEMO_DIR_PREFIX = "litellm-spend-exporter-demo-"


def prepare(pg: LocalPostgres, rows: int, seed: int, days: float, progress: bool) -> tuple[str, dict]:
    """Create the LiteLLM database, load demo data, create the read-only login. Returns (password, stats)."""
    from exporter.local import demodata

    with psycopg.connect(pg.admin_conninfo(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{DATABASE}"')
    t0 = time.perf_counter()
    count = litellm_migrations.apply(pg, DATABASE)
    log.info(
        "applied LiteLLM's schema",
        extra={
            "migrations": count,
            "litellm_proxy_extras": litellm_migrations.PINNED_VERSION,
            "seconds": round(time.perf_counter() - t0, 2),
        },
    )
    stats = demodata.load(pg.admin_conninfo(DATABASE), rows=rows, seed=seed, days=days, progress=progress)
    password = secrets.token_urlsafe(18)
    reader = roles.Reader("exporter", ROLE, connection_limit=5, statement_timeout="60s", password=password)
    roles.apply(make_url(pg.url(DATABASE)), [reader], "public")
    return password, {
        "spend_logs_rows": stats.spend_logs_rows,
        "load_seconds": round(stats.seconds, 1),
        "rows_per_second": round(stats.rows_per_second),
    }


def _interrupt(*_):
    raise KeyboardInterrupt


class Traffic:
    """Keeps the demo alive: appends LiteLLM-shaped rows every few seconds, as a proxy under load would."""

    def __init__(self, conninfo: str, rate: float, seed: int, period: float = 5.0):
        self.conninfo, self.rate, self.seed, self.period = conninfo, rate, seed, period
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-traffic", daemon=True)

    def start(self) -> Traffic:
        if self.rate > 0:
            self._thread.start()
        return self

    def _run(self) -> None:
        from exporter.local import demodata

        last = datetime.now(UTC).replace(tzinfo=None)
        n = 0
        while not self._stop.wait(self.period):
            now = datetime.now(UTC).replace(tzinfo=None)
            rows = max(1, round(self.rate * (now - last).total_seconds()))
            try:
                demodata.append(
                    self.conninfo, rows=rows, seed=self.seed * 1_000_003 + n, start=last, end=now, late_fraction=0.05
                )
            except Exception as exc:
                log.warning("demo traffic stopped: %s", exc)
                return
            last, n = now, n + 1

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)


MAX_DAYS = 3650


def validate(rows: int, days: float, traffic: float, postgres: str) -> Path:
    """Check the demo's options before anything starts; returns the PostgreSQL bin/ folder to run."""
    if rows < 0:
        raise ConfigError(f"--rows must be 0 or more (got {rows})")
    if not (0 < days <= MAX_DAYS):  # also false for NaN
        raise ConfigError(f"--days must be more than 0 and at most {MAX_DAYS} (got {days:g})")
    if not (0 <= traffic < float("inf")):
        raise ConfigError(f"--traffic must be a finite number of requests per second, 0 or more (got {traffic:g})")
    try:
        bindir = resolve_bindir(postgres)
    except UnknownPostgresKind as exc:
        raise ConfigError(f"--postgres: {exc}") from None
    except LocalPostgresError as exc:
        raise ExporterError(f"cannot start the demo PostgreSQL: {exc}") from None
    try:
        litellm_migrations.migrations_dir()  # LiteLLM's schema comes from litellm-proxy-extras
    except litellm_migrations.MigrationsError as exc:
        raise ExporterError(f"cannot build LiteLLM's schema: {exc}") from None
    return bindir


def run(
    cfg: Config, rows: int, seed: int, days: float, once: bool, keep: bool, postgres: str, traffic: float = 2.0
) -> int:
    bindir = validate(rows, days, traffic, postgres)
    signal.signal(signal.SIGTERM, _interrupt)  # clean up on SIGTERM during set-up, like on Ctrl-C
    try:
        pg = LocalPostgres(bindir, prefix=DEMO_DIR_PREFIX)
        pg.start()
    except LocalPostgresError as exc:
        raise ExporterError(f"cannot start the demo PostgreSQL: {exc}") from None
    running = None
    live = None
    try:
        password, stats = prepare(pg, rows, seed, days, progress=sys.stderr.isatty() and not once)
        url = pg.url(DATABASE, user=ROLE, password=password)
        from exporter.database.connection import normalize_url

        demo_cfg = cfg.model_copy(
            update={
                "web": cfg.web.model_copy(
                    update={
                        "listen_address": cfg.web.listen_address
                        if cfg.web.listen_address != ":9733"
                        else "127.0.0.1:9733"
                    }
                )
            }
        )
        running = Running(demo_cfg, normalize_url(url))
        if not once:
            live = Traffic(pg.admin_conninfo(DATABASE), traffic, seed).start()
        if once:
            with urllib.request.urlopen(running.url, timeout=30) as resp:
                sys.stdout.write(resp.read().decode())
            return 0
        print(
            f"\nlitellm-spend-exporter demo is running\n"
            f"  metrics:    {running.url}\n"
            f"  landing:    {running.url.removesuffix('metrics')}\n"
            f"  data:       {stats['spend_logs_rows']} SpendLogs rows loaded in {stats['load_seconds']} s "
            f"({stats['rows_per_second']} rows/s), PostgreSQL in {pg.basedir}"
            f"{' (kept on exit)' if keep else ''}\n"
            f"  read-only login: {ROLE} (SELECT on the columns the exporter reads, nothing else)\n"
            f"  live traffic: {traffic:g} requests/s appended while it runs (--traffic 0 to stop)\n"
            f"Press Ctrl-C to stop.",
            file=sys.stderr,
        )
        wait_for_signal()
        return 0
    finally:
        if live:
            live.stop()
        if running:
            running.stop()
        if keep:
            pg.stop()
            print(f"kept {pg.basedir}", file=sys.stderr)
        else:
            pg.cleanup()
