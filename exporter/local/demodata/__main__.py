"""Benchmark: `python -m exporter.local.demodata --rows 1000000` loads demo data into a throwaway PostgreSQL."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime

import psycopg

from exporter.local import demodata, litellm_migrations
from exporter.local.postgres import LocalPostgres, resolve_bindir

# a throwaway server taking a bulk load: fewer checkpoints, and the SpendLogs indexes mostly in shared memory
BULK_LOAD_SETTINGS = {"shared_buffers": "1GB", "max_wal_size": "8GB", "checkpoint_timeout": "30min"}


def _scalar(conn: psycopg.Connection, query: str) -> object:
    """The one value of a query that returns one row."""
    row = conn.execute(query).fetchone()
    if row is None:
        raise RuntimeError(f"no row from {query}")
    return row[0]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m exporter.local.demodata", description=__doc__)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--days", type=float, default=30.0)
    ap.add_argument("--end", type=datetime.fromisoformat, default=None, help="UTC, e.g. 2026-11-22T12:00")
    ap.add_argument("--writers", type=int, default=demodata.WRITERS)
    ap.add_argument("--chunk-rows", type=int, default=demodata.CHUNK_ROWS)
    ap.add_argument("--append", type=int, default=0, help="then append this many rows (last minute)")
    ap.add_argument("--postgres", default="embedded", help="embedded, debian-15 or a bin/ folder")
    ap.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra server setting, e.g. shared_buffers=2GB (repeatable)",
    )
    ap.add_argument(
        "--server-defaults",
        action="store_true",
        help=f"do not apply the bulk-load settings {BULK_LOAD_SETTINGS} (LocalPostgres defaults only)",
    )
    ap.add_argument("--keep", action="store_true", help="keep the server running and print how to connect")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)

    settings = {} if args.server_defaults else dict(BULK_LOAD_SETTINGS)
    settings.update(s.split("=", 1) for s in args.setting)
    pg = LocalPostgres(resolve_bindir(args.postgres), settings=settings).start()
    keep = False
    try:
        with psycopg.connect(pg.admin_conninfo(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE litellm")
            version = _scalar(conn, "SHOW server_version")
        t0 = time.perf_counter()
        count = litellm_migrations.apply(pg, "litellm")
        print(f"PostgreSQL {version}: {count} LiteLLM migrations in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        conninfo = pg.admin_conninfo("litellm")
        st = demodata.load(
            conninfo,
            rows=args.rows,
            seed=args.seed,
            days=args.days,
            end=args.end,
            progress=not args.no_progress,
            writers=args.writers,
            chunk_rows=args.chunk_rows,
        )
        with psycopg.connect(conninfo) as conn:
            size = _scalar(conn, "SELECT pg_size_pretty(pg_total_relation_size('\"LiteLLM_SpendLogs\"'))")
            daily = _scalar(conn, 'SELECT count(*) FROM "LiteLLM_DailyUserSpend"')
        print(
            f"load: {st.spend_logs_rows:,} SpendLogs rows in {st.seconds:.1f} s = {st.rows_per_second:,.0f} rows/s "
            f"({st.chunks} chunks, {st.copy_megabytes:,.0f} MB of COPY text, SpendLogs {size} on disk, "
            f"{daily:,} DailyUserSpend rows, writers={args.writers}, server settings {settings or 'default'})"
        )
        if args.append:
            ap_st = demodata.append(conninfo, rows=args.append, seed=args.seed + 1, late_fraction=0.01)
            print(
                f"append: {ap_st.spend_logs_rows:,} rows in {ap_st.seconds:.2f} s = {ap_st.rows_per_second:,.0f} rows/s"
            )
        if args.keep:
            print(f"kept: psql '{conninfo}'  (stop: pg_ctl -D {pg.datadir} stop)", file=sys.stderr)
            keep = True
    finally:
        if not keep:
            pg.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
