"""Generate chunks in this thread while writer threads (one connection each) COPY and roll up earlier ones."""

from __future__ import annotations

import queue
import random
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

import psycopg

from exporter.local.demodata.profiles import key_profiles
from exporter.local.demodata.rows import RowGen
from exporter.local.demodata.schema import BASE_COLUMNS, Schema
from exporter.local.demodata.timeline import Timing, slot_times
from exporter.local.demodata.writer import Chunk, Writer

RETRIES = 5
_switch_lock = threading.Lock()
_switch_users = [0, 0.005]  # concurrent big loads in this process, the interval to restore


@contextmanager
def _fast_thread_switches(enabled: bool):
    """Writer threads wake for socket I/O constantly; with Python's 5 ms switch interval they would wait on the
    generating thread's GIL that long each time. Lowered while big loads run (process-wide, so refcounted)."""
    if not enabled:
        yield
        return
    with _switch_lock:
        if _switch_users[0] == 0:
            _switch_users[1] = sys.getswitchinterval()
            sys.setswitchinterval(0.0005)
        _switch_users[0] += 1
    try:
        yield
    finally:
        with _switch_lock:
            _switch_users[0] -= 1
            if _switch_users[0] == 0:
                sys.setswitchinterval(_switch_users[1])


@dataclass
class GenSpec:
    """Everything the generator needs, as plain data."""

    seed: str | int
    times_seed: str
    rows: int
    start_ms: int
    end_ms: int
    timing: Timing
    optional: list[str]
    has_status: bool
    hazards: dict = field(default_factory=dict)
    chunk_rows: int = 40_000

    @property
    def columns(self) -> list[str]:
        return BASE_COLUMNS + self.optional


def chunks(spec: GenSpec) -> Iterator[Chunk]:
    profiles, weights, unknown = key_profiles(spec.hazards)
    gen = RowGen(random.Random(spec.seed), profiles, weights, unknown, spec.optional, spec.has_status)
    times = slot_times(random.Random(spec.times_seed), spec.rows, spec.start_ms, spec.end_ms)
    for seq, (lines, agg) in enumerate(gen.generate(times, spec.rows, spec.timing, spec.chunk_rows)):
        yield Chunk(seq, len(lines), "".join(lines).encode(), agg.fine_text().encode(), agg.spend_text().encode())


class _Turns:
    """Chunks run their rollups strictly in sequence, each after the previous one committed."""

    def __init__(self) -> None:
        self.cv = threading.Condition()
        self.next = 0
        self.aborted = False

    def wait(self, seq: int) -> None:
        with self.cv:
            self.cv.wait_for(lambda: self.next == seq or self.aborted)
            if self.aborted:
                raise RuntimeError("another demo data writer failed")

    def done(self, seq: int) -> None:
        with self.cv:
            self.next = seq + 1
            self.cv.notify_all()

    def abort(self) -> None:
        with self.cv:
            self.aborted = True
            self.cv.notify_all()


class _Progress:
    """A rich progress bar on stderr: rows done, rows/s, elapsed and remaining time."""

    def __init__(self, total: int):
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(
            TextColumn("SpendLogs"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
        )
        self.task = self.bar.add_task("load", total=total, rate="")
        self.t0 = time.perf_counter()
        self.bar.start()

    def update(self, done: int) -> None:
        rate = done / max(time.perf_counter() - self.t0, 1e-9)
        self.bar.update(self.task, completed=done, rate=f"{rate:,.0f} rows/s")

    def stop(self) -> None:
        self.bar.stop()


def _write(writer: Writer, chunk: Chunk, stamp: datetime, turns: _Turns) -> None:
    """A deadlock or serialization failure rolls the whole chunk back, so it is safe to retry it."""
    for attempt in range(RETRIES):
        try:
            writer.write(chunk, stamp, turns.wait)
            turns.done(chunk.seq)
            return
        except (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure):
            if attempt == RETRIES - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


def run(
    conninfo: str, schema: Schema, spec: GenSpec, stamp: datetime, progress: bool, writers: int = 2
) -> tuple[int, int]:
    """Write spec.rows rows; return (chunks, bytes of SpendLogs COPY text)."""
    n = spec.rows
    if n == 0:
        return 0, 0
    writers = max(1, min(writers, -(-n // spec.chunk_rows)))
    q: queue.Queue = queue.Queue(maxsize=writers)
    stop = threading.Event()
    errors: list[BaseException] = []
    lock = threading.Lock()
    totals = {"chunks": 0, "bytes": 0, "rows": 0}
    bar = _Progress(n) if progress else None
    turns = _Turns()

    def consume() -> None:
        try:
            with psycopg.connect(conninfo, autocommit=True) as conn:
                conn.execute("SET synchronous_commit = off")
                writer = Writer(conn, schema, spec.columns)
                writer.setup()
                while (chunk := q.get()) is not None:
                    if stop.is_set():
                        continue  # drain after a failure elsewhere
                    _write(writer, chunk, stamp, turns)
                    with lock:
                        totals["chunks"] += 1
                        totals["bytes"] += len(chunk.spend_logs)
                        totals["rows"] += chunk.rows
                        if bar:
                            bar.update(totals["rows"])
        except BaseException as exc:
            errors.append(exc)
            stop.set()
            turns.abort()

    def put(item) -> bool:
        while not stop.is_set() or item is None:
            if item is None and not any(t.is_alive() for t in threads):
                return False
            try:
                q.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    threads = [threading.Thread(target=consume, name=f"demodata-writer-{i}", daemon=True) for i in range(writers)]
    for t in threads:
        t.start()
    try:
        with _fast_thread_switches(n > spec.chunk_rows):
            for chunk in chunks(spec):
                if not put(chunk):
                    break
    finally:
        for _ in threads:
            put(None)
        for t in threads:
            t.join()
        if bar:
            bar.stop()
    if errors:
        raise errors[0]
    return totals["chunks"], totals["bytes"]
