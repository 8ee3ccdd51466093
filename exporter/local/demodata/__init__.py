"""Deterministic demo data written the way LiteLLM writes it: SpendLogs, Daily* rollups, entities and budgets."""

# How: rows are generated in startTime order (rows.py) from precomputed, COPY-escaped fragments (catalog.py,
# profiles.py) and COPied into SpendLogs in chunks by parallel writer connections (pipeline.py, writer.py).
# While generating, each chunk's Daily* rollups and entity spend are aggregated in memory, as LiteLLM's
# DBSpendUpdateWriter does, and upserted additively, chunk after chunk, in the chunk's transaction (rollup.py).

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg import sql

from exporter.local.demodata import entities, pipeline
from exporter.local.demodata.schema import DAILY_TABLES, SPEND_LOGS, DemoDataError, copy_columns, read_schema
from exporter.local.demodata.textfmt import from_ms, to_ms
from exporter.local.demodata.timeline import Timing
from exporter.local.demodata.writer import Writer

__all__ = ["LoadStats", "load", "append", "DemoDataError"]
CHUNK_ROWS = 40_000  # rows per COPY transaction
WRITERS = 2  # parallel writer connections (the server does most of the work)


@dataclass
class LoadStats:
    spend_logs_rows: int
    seconds: float
    rows_per_second: float
    start: datetime  # the window the rows' startTime falls in (late rows of `append` start before it)
    end: datetime
    seed: int
    chunks: int = 0
    copy_megabytes: float = 0.0


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _naive_ms(dt: datetime) -> datetime:
    return from_ms(to_ms(dt))


def load(
    conninfo: str,
    *,
    rows: int,
    seed: int = 42,
    end: datetime | None = None,
    days: float = 30.0,
    progress: bool = False,
    schema: str = "public",
    chunk_rows: int = CHUNK_ROWS,
    writers: int = WRITERS,
) -> LoadStats:
    """Create entities (orgs, teams, users, keys, end users, budgets) and `rows` SpendLogs rows spread over
    `days` days ending at `end` (default: now, UTC naive), plus consistent Daily*Spend rollups and entity spend."""
    if rows < 0 or days <= 0:
        raise ValueError("rows must be >= 0 and days > 0")
    end = _naive_ms(end or _utcnow())
    end_ms = to_ms(end)
    start_ms = end_ms - int(days * 86_400_000)
    t0 = time.perf_counter()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        s = read_schema(conn, schema)
        entities.insert(conn, s, entities.build(end, days))
        spec = _spec(
            s,
            seed,
            f"times:{seed}",
            rows,
            start_ms,
            end_ms,
            Timing(end_ms, hold_p=0.003),
            entities.hazards(end),
            chunk_rows,
        )
        chunks, size = _pipeline(conninfo, conn, s, spec, end, progress, writers)
        entities.apply_budgets(conn, s)
        _analyze(conn, s)
    return _stats(rows, t0, from_ms(start_ms), end, seed, chunks, size)


def append(
    conninfo: str,
    *,
    rows: int,
    seed: int,
    start: datetime | None = None,
    end: datetime | None = None,
    late_fraction: float = 0.0,
    schema: str = "public",
    chunk_rows: int = CHUNK_ROWS,
    writers: int = WRITERS,
) -> LoadStats:
    """Add `rows` more SpendLogs rows (for the same entities created by `load`) with startTime in [start, end)
    (default: the last minute up to now); late_fraction of them get a startTime well before `start` (rows LiteLLM
    writes late). Keeps Daily*Spend and entity spend consistent (additive upserts). request_ids never collide with
    existing ones for a different seed."""
    if rows < 0 or not 0.0 <= late_fraction <= 1.0:
        raise ValueError("rows must be >= 0 and late_fraction within [0, 1]")
    end = _naive_ms(end or _utcnow())
    start = _naive_ms(start or end - timedelta(minutes=1))
    if start >= end:
        raise ValueError("start must be before end")
    start_ms, end_ms = to_ms(start), to_ms(end)
    t0 = time.perf_counter()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        s = read_schema(conn, schema)
        entities.insert(conn, s, entities.build(end, 1.0))  # no-op when `load` created them
        # the window is part of the seed, so appending twice with one seed does not repeat request ids either
        spec = _spec(
            s,
            f"append:{seed}:{start_ms}:{end_ms}:{rows}",
            f"append-times:{seed}:{start_ms}:{end_ms}",
            rows,
            start_ms,
            end_ms,
            Timing(end_ms, back_p=late_fraction, window_start_ms=start_ms),
            entities.hazards_from_db(conn, s),
            chunk_rows,
        )
        chunks, size = _pipeline(conninfo, conn, s, spec, end, False, writers)
    return _stats(rows, t0, start, end, seed, chunks, size)


def _stats(rows, t0, start, end, seed, chunks, size) -> LoadStats:
    seconds = time.perf_counter() - t0
    return LoadStats(rows, seconds, rows / seconds if seconds > 0 else 0.0, start, end, seed, chunks, size / 1e6)


def _spec(s, seed, times_seed, rows, start_ms, end_ms, timing, hazards, chunk_rows) -> pipeline.GenSpec:
    return pipeline.GenSpec(
        seed,
        times_seed,
        rows,
        start_ms,
        end_ms,
        timing,
        copy_columns(s.defaults),
        s.has(SPEND_LOGS, "status"),
        hazards,
        chunk_rows,
    )


def _pipeline(conninfo, conn, s, spec, stamp, progress, writers) -> tuple[int, int]:
    Writer(conn, s, spec.columns).setup()  # fail early, in this thread, if the statements do not fit the schema
    return pipeline.run(conninfo, s, spec, stamp, progress, writers)


def _analyze(conn: psycopg.Connection, s) -> None:
    for table in (SPEND_LOGS, *DAILY_TABLES):
        if s.has(table):
            conn.execute(sql.SQL("ANALYZE {}").format(s.tbl(table)))
