"""Build (once) and reopen the benchmark datasets: LiteLLM's schema + demo data on a LocalPostgres.

A dataset lives in `<cache>/<server>-<rows>/` (a PostgreSQL data directory plus a `ready.json` marker written
after the load finished), so `bench.run` builds each dataset once per server and later runs reuse it.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from exporter.local import demodata, litellm_migrations
from exporter.local.postgres import LocalPostgres, resolve_bindir

DB = "litellm"
SETTINGS = {
    "shared_preload_libraries": "pg_stat_statements",
    "shared_buffers": "1GB",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "30min",
    "pg_stat_statements.track": "all",
    "track_io_timing": "on",
}
DEFAULT_CACHE = Path("/tmp/litellm-spend-exporter-bench")


def open_dataset(
    server: str, rows: int, cache: Path | None = DEFAULT_CACHE, seed: int = 1, days: float = 30.0, log=print
) -> tuple[LocalPostgres, dict]:
    """Start a server holding `rows` demo SpendLogs rows (building it when the cache has none). With cache=None
    the data directory is temporary (removed by pg.cleanup())."""
    basedir = None if cache is None else Path(cache) / f"{server}-{rows}"
    marker = basedir / "ready.json" if basedir else None
    pg = LocalPostgres(resolve_bindir(server), basedir=basedir, settings=dict(SETTINGS))
    if basedir is not None and basedir.exists() and not marker.exists():
        import shutil

        shutil.rmtree(basedir)  # an interrupted build
    pg.start()
    try:
        if marker is not None and marker.exists():
            info = json.loads(marker.read_text())
            info["reused"] = True
            return pg, info
        with psycopg.connect(pg.admin_conninfo(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {DB}")
        t0 = time.perf_counter()
        litellm_migrations.apply(pg, DB)
        t_mig = time.perf_counter() - t0
        # the data ends a few minutes before now so appended rows are always the newest
        end = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=5)
        st = demodata.load(pg.admin_conninfo(DB), rows=rows, seed=seed, days=days, end=end)
        with psycopg.connect(pg.admin_conninfo(DB), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            version = conn.execute("SHOW server_version").fetchone()[0]
            size = conn.execute("SELECT pg_total_relation_size('\"LiteLLM_SpendLogs\"')").fetchone()[0]
        info = {
            "server": server,
            "server_version": version,
            "rows": rows,
            "seed": seed,
            "days": days,
            "end": end.isoformat(),
            "migrations_seconds": round(t_mig, 1),
            "load_seconds": round(st.seconds, 1),
            "spend_logs_bytes": size,
            "reused": False,
        }
        if marker is not None:
            marker.write_text(json.dumps(info))
        log(f"[{server} {rows:,}] built in {st.seconds:.0f} s (PostgreSQL {version}, SpendLogs {size / 2**20:,.0f} MB)")
        return pg, info
    except BaseException:
        if cache is None:
            pg.cleanup()
        else:
            pg.stop()
        raise


if __name__ == "__main__":  # python -m bench.datasets SERVER ROWS: build a dataset ahead of a run
    import sys

    pg, info = open_dataset(sys.argv[1], int(sys.argv[2]))
    try:
        print(json.dumps(info))
    finally:
        pg.stop()
