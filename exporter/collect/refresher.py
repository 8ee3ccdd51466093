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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import sqlalchemy as sa
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from sqlalchemy.engine import Connection, Engine

from exporter import __version__
from exporter.collect.exposition import Renderer
from exporter.database import connection, schema, sqlfiles
from exporter.errors import ExporterError, SchemaError
from exporter.metrics.spec import BY_NAME

log = logging.getLogger("exporter.refresh")


class Source(Protocol):
    """A named group of queries feeding metric families.

    `collect` reads inside the refresh's transaction (statements from sql/, each timed by the refresher);
    `commit` applies what was read once the whole refresh succeeded (`rollback` drops it otherwise);
    `families` builds the exposition.
    """

    name: str

    def collect(self, conn: Connection, caps: schema.Capabilities) -> None: ...
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
    _query: dict = field(default_factory=dict)  # sql/ statement name -> (duration, success) when it last ran
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
    _renderer: Renderer = field(default_factory=Renderer)
    _ran: dict = field(default_factory=dict)  # this refresh: statement name -> [seconds, rows]
    _failed: str | None = None  # this refresh: the statement that failed

    def __post_init__(self) -> None:
        # every round trip of a statement from sql/ is timed, pages of one statement summed
        @sa.event.listens_for(self.engine, "before_cursor_execute")
        def _start(_conn, _cursor, _statement, _params, context, _many):
            context._lse_started = time.perf_counter()

        @sa.event.listens_for(self.engine, "after_cursor_execute")
        def _done(_conn, cursor, _statement, _params, context, _many):
            name = self._statement_name(context)
            if name:
                slot = self._ran.setdefault(name, [0.0, 0])
                slot[0] += time.perf_counter() - getattr(context, "_lse_started", time.perf_counter())
                slot[1] += max(cursor.rowcount, 0)

        @sa.event.listens_for(self.engine, "handle_error")
        def _error(ctx):
            name = self._statement_name(ctx.execution_context) if ctx.execution_context else None
            if name:
                self._failed = name
                slot = self._ran.setdefault(name, [0.0, 0])
                slot[0] += time.perf_counter() - getattr(ctx.execution_context, "_lse_started", time.perf_counter())

    @staticmethod
    def _statement_name(context) -> str | None:
        compiled = getattr(context, "compiled", None)
        return sqlfiles.name_of(compiled.statement) if compiled is not None else None

    # -- one refresh -------------------------------------------------------------------------------
    def refresh(self, log_failure: bool = True) -> bool:
        """Run every source in one read-only transaction; publish on success. Returns success.

        `log_failure=False` leaves a failure's report to the caller (`serve` prints a fatal first one once).
        """
        started = time.perf_counter()
        self._ran, self._failed = {}, None
        try:
            with connection.snapshot(self.engine) as conn:
                if self._schema_stale():  # the catalog read is the costliest fixed part of a refresh
                    self.caps = schema.detect(conn, self.schema_name)
                    self._caps_at = time.monotonic()
                    schema.require(self.caps)
                    self._guard_write_role(self.caps)
                if self._write_risks:
                    log.warning(
                        "the database role can write: %s (running anyway: --unsafe.allow-write-role)",
                        "; ".join(self._write_risks),
                    )
                for source in self.sources:
                    source.collect(conn, self.caps)
        except Exception as exc:
            for source in self.sources:
                source.rollback()
            if not isinstance(exc, ExporterError):
                exc = connection.translate(exc, self.engine.url) if hasattr(exc, "orig") else exc
            self._fail(exc, started, log_failure)
            return False
        for source in self.sources:
            source.commit()
        self._record_statements()
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
        return (
            self.caps is None
            or self._caps_at is None
            or not self._up
            or time.monotonic() - self._caps_at > self.schema_ttl
        )

    def _guard_write_role(self, caps: schema.Capabilities) -> None:
        risks = schema.write_risks(caps)
        if risks and not self.allow_write_role:
            raise ExporterError(
                f"refusing to run: {risks[0]}; connect as a read-only role (see "
                "`litellm-spend-exporter roles apply`) or pass --unsafe.allow-write-role"
            )
        self._write_risks = risks

    def _record_statements(self) -> None:
        for name, (secs, rows) in self._ran.items():
            self._query[name] = (secs, name != self._failed)
            self._rows_read[name] = self._rows_read.get(name, 0) + rows

    def _fail(self, exc: BaseException, started: float, log_failure: bool = True) -> None:
        self._record_statements()
        self._up = False
        self._last_duration = time.perf_counter() - started
        self._results["failure"] += 1
        self.last_exception = exc
        message = str(exc) if isinstance(exc, ExporterError) else f"{type(exc).__name__}: {connection.redact(str(exc))}"
        if log_failure and message != self.last_error:
            log.error("refresh failed: %s", message, exc_info=log.isEnabledFor(logging.DEBUG))
        self.last_error = message
        self._publish()

    # -- exposition --------------------------------------------------------------------------------
    def health_families(self) -> list:
        def gauge(name, **kw):
            return GaugeMetricFamily(name, BY_NAME[name].help, **kw)

        def counter(name, **kw):
            return CounterMetricFamily(name.removesuffix("_total"), BY_NAME[name].help, **kw)

        up = gauge("litellm_db_up", value=1.0 if self._up else 0.0)
        info = gauge("litellm_db_build_info", labels=["version", "python_version"])
        info.add_metric([__version__, platform.python_version()], 1.0)
        last = gauge("litellm_db_last_refresh_timestamp_seconds", value=self._last_ok)
        duration = gauge("litellm_db_refresh_duration_seconds", value=self._last_duration)
        results = counter("litellm_db_refreshes_total", labels=["result"])
        for result, count in sorted(self._results.items()):
            results.add_metric([result], count)
        qdur = gauge("litellm_db_query_duration_seconds", labels=["query"])
        qok = gauge("litellm_db_query_success", labels=["query"])
        for name, (secs, ok) in sorted(self._query.items()):
            qdur.add_metric([name], secs)
            qok.add_metric([name], 1.0 if ok else 0.0)
        rows = counter("litellm_db_rows_read_total", labels=["query"])
        for name, count in sorted(self._rows_read.items()):
            rows.add_metric([name], count)
        return [up, info, last, duration, results, qdur, qok, rows]

    def _publish(self) -> Snapshot:
        body = self._renderer.render(self.health_families() + list(self._data))
        snap = self._snapshot = Snapshot(body, gzip.compress(body, compresslevel=5), self._last_ok, self._up)
        if self.on_refresh:
            self.on_refresh()
        return snap

    @property
    def snapshot(self) -> Snapshot:
        snap = self._snapshot
        return self._publish() if snap is None else snap

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
