"""Refresh loop: reads the database on the exporter's own schedule and publishes an immutable snapshot.

Scrapes never touch the database: they serve the exposition text rendered after the last refresh.
A failed refresh changes no data: the last good families stay, with litellm_db_up 0.
"""

from __future__ import annotations

import gzip
import logging
import platform
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Protocol

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from sqlalchemy.engine import Connection, Engine

from exporter import __version__, db, schema
from exporter.errors import ExporterError, SchemaError

log = logging.getLogger("exporter.refresh")


class Source(Protocol):
    """A named group of queries feeding metric families.

    `collect` reads inside the refresh's transaction and returns the rows it read; `commit` applies what was
    read once the whole refresh succeeded (`rollback` drops it otherwise); `families` builds the exposition.
    """

    name: str

    def collect(self, conn: Connection, caps: schema.Capabilities) -> int: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def families(self) -> list: ...


@dataclass(frozen=True)
class Snapshot:
    """Exposition bytes ready to serve, and when they were made."""

    body: bytes
    gzipped: bytes
    refreshed_at: float  # wall time of the last successful refresh (0 = never)
    up: bool


class _Families:
    def __init__(self, families):
        self.families = families

    def collect(self):
        return self.families


@dataclass
class Refresher:
    engine: Engine
    sources: list
    schema_name: str
    interval: float
    allow_write_role: bool = False
    schema_ttl: float = 300.0  # re-detect LiteLLM's schema (and the role's rights) this often, and after a failure
    clock: Callable[[], float] = time.time
    on_refresh: Callable[[], None] | None = None  # hook run after every refresh attempt (e.g. warn each time)
    caps: schema.Capabilities | None = None
    _data: list = field(default_factory=list)
    _query: dict = field(default_factory=dict)  # name -> (duration, success)
    _results: dict = field(default_factory=lambda: {"success": 0, "failure": 0})
    _rows_read: dict = field(default_factory=dict)
    _last_ok: float = 0.0
    _last_duration: float = 0.0
    _up: bool = False
    _snapshot: Snapshot | None = None
    _caps_at: float | None = None
    _write_risks: list = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    last_error: str | None = None
    last_exception: BaseException | None = None

    # -- one refresh -------------------------------------------------------------------------------
    def refresh(self, log_failure: bool = True) -> bool:
        """Run every source in one read-only transaction; publish on success. Returns success.

        `log_failure=False` leaves a failure's report to the caller (`serve` prints a fatal first one once).
        """
        started = time.perf_counter()
        current = None
        timings = {}
        try:
            with db.snapshot(self.engine) as conn:
                if self._schema_stale():  # the catalog read is the costliest fixed part of a refresh
                    self.caps = schema.detect(conn, self.schema_name)
                    self._caps_at = time.monotonic()
                    schema.require(self.caps)
                    self._guard_write_role(self.caps)
                if self._write_risks:
                    log.warning("the database role can write: %s (running anyway: --unsafe.allow-write-role)",
                                "; ".join(self._write_risks))
                for source in self.sources:
                    current = source.name
                    t0 = time.perf_counter()
                    rows = source.collect(conn, self.caps)
                    timings[source.name] = (time.perf_counter() - t0, rows)
                current = None
        except Exception as exc:  # noqa: BLE001 - a refresh must never kill the loop
            for source in self.sources:
                source.rollback()
            if not isinstance(exc, ExporterError):
                exc = db.translate(exc, self.engine.url) if hasattr(exc, "orig") else exc
            self._fail(current, exc, started, log_failure)
            return False
        for source in self.sources:
            source.commit()
        for name, (secs, rows) in timings.items():
            self._query[name] = (secs, True)
            self._rows_read[name] = self._rows_read.get(name, 0) + rows
        self._data = [f for source in self.sources for f in source.families()]
        self._up = True
        self._last_ok = self.clock()
        self._last_duration = time.perf_counter() - started
        self._results["success"] += 1
        if self.last_error:
            log.info("refresh recovered", extra={"after_error": self.last_error})
        self.last_error = None
        self.last_exception = None
        self._publish()
        return True

    def _schema_stale(self) -> bool:
        return (self.caps is None or self._caps_at is None or not self._up
                or time.monotonic() - self._caps_at > self.schema_ttl)

    def _guard_write_role(self, caps: schema.Capabilities) -> None:
        risks = schema.write_risks(caps)
        if risks and not self.allow_write_role:
            raise ExporterError(f"refusing to run: {risks[0]}; connect as a read-only role (see "
                                "`litellm-spend-exporter roles apply`) or pass --unsafe.allow-write-role")
        self._write_risks = risks

    def _fail(self, query: str | None, exc: BaseException, started: float, log_failure: bool = True) -> None:
        if query:
            self._query[query] = (time.perf_counter() - started, False)
        self._up = False
        self._last_duration = time.perf_counter() - started
        self._results["failure"] += 1
        self.last_exception = exc
        message = str(exc) if isinstance(exc, ExporterError) else f"{type(exc).__name__}: {db.redact(str(exc))}"
        if log_failure and message != self.last_error:
            log.error("refresh failed: %s", message, exc_info=log.isEnabledFor(logging.DEBUG))
        self.last_error = message
        self._publish()

    # -- exposition --------------------------------------------------------------------------------
    def health_families(self) -> list:
        up = GaugeMetricFamily("litellm_db_up", "1 if the last refresh read the database successfully, else 0.",
                               value=1.0 if self._up else 0.0)
        info = GaugeMetricFamily("litellm_db_build_info", "Build information of litellm-spend-exporter.",
                                 labels=["version", "python_version"])
        info.add_metric([__version__, platform.python_version()], 1.0)
        last = GaugeMetricFamily("litellm_db_last_refresh_timestamp_seconds",
                                 "Unix time of the last successful refresh (0 before the first).",
                                 value=self._last_ok)
        duration = GaugeMetricFamily("litellm_db_refresh_duration_seconds",
                                     "Wall time of the last refresh attempt, all queries included.",
                                     value=self._last_duration)
        results = CounterMetricFamily("litellm_db_refreshes", "Refresh attempts by result.", labels=["result"])
        for result, count in sorted(self._results.items()):
            results.add_metric([result], count)
        qdur = GaugeMetricFamily("litellm_db_query_duration_seconds",
                                 "Duration of each named query in the last refresh that ran it.", labels=["query"])
        qok = GaugeMetricFamily("litellm_db_query_success",
                                "1 if the named query succeeded the last time it ran, else 0.", labels=["query"])
        for name, (secs, ok) in sorted(self._query.items()):
            qdur.add_metric([name], secs)
            qok.add_metric([name], 1.0 if ok else 0.0)
        rows = CounterMetricFamily("litellm_db_rows_read", "Rows returned to the exporter by each named query.",
                                   labels=["query"])
        for name, count in sorted(self._rows_read.items()):
            rows.add_metric([name], count)
        return [up, info, last, duration, results, qdur, qok, rows]

    def _publish(self) -> None:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Families(self.health_families() + list(self._data)))
        body = generate_latest(registry)
        self._snapshot = Snapshot(body, gzip.compress(body, compresslevel=5), self._last_ok, self._up)
        if self.on_refresh:
            self.on_refresh()

    @property
    def snapshot(self) -> Snapshot:
        if self._snapshot is None:
            self._publish()
        return self._snapshot

    def healthy(self) -> bool:
        """True when the last refresh succeeded and is recent (within three intervals)."""
        return self._up and (self.clock() - self._last_ok) <= max(3 * self.interval, 30.0)

    # -- schedule ----------------------------------------------------------------------------------
    def start(self, delay_first: bool = False) -> None:
        """Refresh in a background thread; `delay_first` when a refresh just ran."""
        self._thread = threading.Thread(target=self._loop, args=(delay_first,), name="refresh", daemon=True)
        self._thread.start()

    def _loop(self, delay_first: bool) -> None:
        failures = 0
        if delay_first:
            self._stop.wait(self.interval)
        while not self._stop.is_set():
            t0 = time.monotonic()
            ok = self.refresh()
            failures = 0 if ok else failures + 1
            wait = self.interval if ok else min(self.interval, 2.0 ** min(failures, 6))
            self._stop.wait(max(0.0, wait - (time.monotonic() - t0)) if ok else wait)

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=30)
        self.engine.dispose()


__all__ = ["Refresher", "Snapshot", "SchemaError"]
