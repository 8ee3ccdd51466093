"""`serve`: wire config, engine, sources, refresher and HTTP server together, and run until a signal."""

from __future__ import annotations

import logging
import signal
import socket
import sys

from sqlalchemy.engine import URL

from exporter.collect.budgets import Budgets
from exporter.collect.refresher import Refresher
from exporter.config import Config, parse_listen_address
from exporter.database import connection
from exporter.errors import DatabaseError, ExporterError
from exporter.web import webconfig
from exporter.web.server import HttpServer

log = logging.getLogger("exporter")
SWITCH_INTERVAL = 0.0005  # seconds (sys.setswitchinterval)


def default_sources(cfg: Config) -> list:
    from exporter.collect.spend_logs import SpendLogs

    return [SpendLogs(cfg), Budgets(cfg.metrics.limits)]


def build(cfg: Config, url: URL | None = None) -> Refresher:
    engine = connection.create_engine(cfg.database, url)
    return Refresher(
        engine=engine,
        sources=default_sources(cfg),
        schema_name=cfg.database.db_schema,
        interval=cfg.refresh.interval,
        allow_write_role=cfg.unsafe.allow_write_role,
    )


class Running:
    """A started exporter: refresher thread plus HTTP server. `stop()` ends both."""

    def __init__(self, cfg: Config, url: URL | None = None):
        # A scrape takes the interpreter lock a few times (read the request, write the answer); while a refresh
        # computes, each take waits up to the switch interval (5 ms by default), which made the slowest 1% of
        # scrapes 50-60 ms. At 0.5 ms they wait a tenth of that; the refresh barely slows.
        sys.setswitchinterval(SWITCH_INTERVAL)
        web = webconfig.load(cfg.web.config_file) if cfg.web.config_file else None
        self.refresher = build(cfg, url)
        host, port = parse_listen_address(cfg.web.listen_address)
        try:  # listen first: a port in use fails fast, and scrapes during a long cold start see up 0
            self.http = HttpServer(host, port, self.refresher, web)
        except ExporterError:
            self.refresher.stop()
            raise
        self.http.start()
        first_ok = self.refresher.refresh(log_failure=False)  # reported once below, not also as a log line
        if not first_ok:
            cause = self.refresher.last_exception
            if not (isinstance(cause, DatabaseError) and cause.transient):
                self.stop()
                raise ExporterError(self.refresher.last_error or "the first refresh failed") from cause
            log.warning(
                "database not reachable yet (%s); serving litellm_db_up 0 and retrying", self.refresher.last_error
            )
        self.refresher.start(delay_first=first_ok)
        scheme = "https" if web and web.tls_server_config else "http"
        self.url = f"{scheme}://{host or '127.0.0.1'}:{self.http.port}/metrics"
        log.info(
            "listening",
            extra={"address": f"{host or '0.0.0.0'}:{self.http.port}", "refresh_interval_s": cfg.refresh.interval},
        )

    def stop(self) -> None:
        self.http.stop()
        self.refresher.stop()


def wait_for_signal() -> int:
    """Block until SIGINT or SIGTERM and return it.

    The signal's byte arrives on a wakeup socket, so the main thread wakes at once even when the kernel
    delivers the signal to another thread, and no lock is taken inside a signal handler (an Event.set() there
    can deadlock against the main thread's own wait).
    """
    wanted = (signal.SIGINT, signal.SIGTERM)
    reader, writer = socket.socketpair()
    writer.setblocking(False)
    previous = {sig: signal.signal(sig, lambda *_: None) for sig in wanted}
    old_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    try:
        while True:
            for signum in reader.recv(64):
                if signum in wanted:
                    return signum
    finally:
        signal.set_wakeup_fd(old_fd)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        reader.close()
        writer.close()


def serve(cfg: Config) -> int:
    running = Running(cfg)
    try:
        wait_for_signal()
    finally:
        log.info("stopping")
        running.stop()
    return 0
