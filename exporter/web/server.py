"""HTTP server: /metrics (pre-rendered snapshot), /healthz, the alert runbooks, and a small landing page."""

from __future__ import annotations

import html
import logging
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from exporter import __version__
from exporter.collect.refresher import Refresher
from exporter.errors import ExporterError
from exporter.web import runbooks
from exporter.web.webconfig import BasicAuth, WebConfig, ssl_context

log = logging.getLogger("exporter.http")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _Deadlines:
    """Shuts down connections that have not sent a complete request head in time, from one thread.

    The per-read socket timeout alone lets a client that sends a byte every few seconds (slowloris) hold a
    connection and its thread forever; this bounds the whole request line and headers (and a TLS handshake).
    """

    def __init__(self) -> None:
        self._due: dict[socket.socket, float] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, sock: socket.socket, seconds: float) -> None:
        with self._lock:
            self._due[sock] = time.monotonic() + seconds
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="http-deadlines", daemon=True)
                self._thread.start()

    def forget(self, sock: socket.socket) -> None:
        with self._lock:
            self._due.pop(sock, None)

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            now = time.monotonic()
            # under the lock: a handler forgets its socket (taking the lock) before closing it, so the descriptor
            # shut down here cannot have been reused by another connection meanwhile
            with self._lock:
                for sock in [sock for sock, due in self._due.items() if due <= now]:
                    del self._due[sock]
                    try:  # on the descriptor, not the (TLS) object another thread is reading through
                        raw = socket.socket(fileno=sock.fileno())
                    except OSError:
                        continue
                    try:
                        raw.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    finally:
                        raw.detach()

    def stop(self) -> None:
        self._stop.set()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stopping must not wait for idle keep-alive or slowloris connections to time out
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, handler, refresher: Refresher, landing: Callable[[], str], web: WebConfig | None):
        host = addr[0]
        if host and ":" in host:
            self.address_family = socket.AF_INET6
        super().__init__(addr, handler)
        self.refresher = refresher
        self.landing = landing
        self.tls = ssl_context(web.tls_server_config) if web and web.tls_server_config else None
        self.auth = BasicAuth(web.basic_auth_users) if web and web.basic_auth_users else None
        self.deadlines = _Deadlines()

    def get_request(self):
        sock, addr = super().get_request()
        if self.tls is not None:  # the handshake happens in the handler's thread, not in the accept loop
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = 30  # seconds a client may stay idle mid-request
    # TCP_NODELAY: the body is written after the headers; without it a body that fits in one segment waits for
    # the client's delayed ACK (~40 ms per scrape on a kept-alive connection)
    disable_nagle_algorithm = True
    head_deadline = 30.0  # seconds to send a whole request line and headers (or a TLS handshake), idle included
    protocol_version = "HTTP/1.1"
    default_request_version = "HTTP/1.0"  # so that refusing an unparsable request line still sends a status line
    server_version = f"litellm-spend-exporter/{__version__}"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        if self.server.tls is not None:
            self.request.settimeout(self.timeout)
            self.server.deadlines.watch(self.request, self.head_deadline)
            try:
                self.request.do_handshake()
            finally:
                self.server.deadlines.forget(self.request)

    def handle(self) -> None:
        try:
            super().handle()
        except (OSError, ValueError) as exc:  # TLS failures, resets, timeouts: the client's problem
            log.debug("connection from %s ended: %s", self.client_address[0], exc)

    def handle_one_request(self) -> None:
        self.server.deadlines.watch(self.connection, self.head_deadline)
        try:
            super().handle_one_request()
        finally:
            self.server.deadlines.forget(self.connection)

    def parse_request(self) -> bool:
        ok = super().parse_request()  # reads the headers
        self.server.deadlines.forget(self.connection)  # the head is in; writing the answer has its own timeout
        if not ok:
            return False
        if len(self.requestline.split()) == 2:  # "GET /path": HTTP/0.9, which has no headers (nor auth)
            self.send_error(400, "HTTP/0.9 is not supported")
            return False
        return True

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if (
            self.server.auth is not None
            and path != "/healthz"
            and not self.server.auth.check(self.headers.get("Authorization"))
        ):
            self._send(
                401, b"unauthorized\n", "text/plain", {"WWW-Authenticate": 'Basic realm="litellm-spend-exporter"'}
            )
            return
        if path == "/metrics":
            snap = self.server.refresher.snapshot
            if "gzip" in (self.headers.get("Accept-Encoding") or ""):
                self._send(200, snap.gzipped, CONTENT_TYPE, {"Content-Encoding": "gzip"})
            else:
                self._send(200, snap.body, CONTENT_TYPE)
        elif path == "/healthz":
            ok = self.server.refresher.healthy()
            self._send(200 if ok else 503, b"ok\n" if ok else b"last refresh failed or is stale\n", "text/plain")
        elif path == "/":
            self._send(200, self.server.landing().encode(), "text/html; charset=utf-8")
        elif path == "/runbooks/":
            index = "".join(f"<li><a href='{name}'>{name.removesuffix('.md')}</a></li>" for name in runbooks.names())
            self._send(
                200, f"<!doctype html><title>runbooks</title><ul>{index}</ul>".encode(), "text/html; charset=utf-8"
            )
        elif path.startswith("/runbooks/") and (body := runbooks.get(path.removeprefix("/runbooks/"))) is not None:
            self._send(200, body, "text/markdown; charset=utf-8")
        else:
            self._send(404, b"not found\n", "text/plain")

    def do_HEAD(self) -> None:
        self._head_only = True
        self.do_GET()

    def _method_not_allowed(self) -> None:
        self._send(405, b"method not allowed\n", "text/plain", {"Allow": "GET, HEAD"})

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _method_not_allowed

    def _send(self, code: int, body: bytes, ctype: str, headers: dict | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if not getattr(self, "_head_only", False):
            self.wfile.write(body)

    def log_message(self, fmt: str, *args) -> None:
        log.debug("%s %s", self.address_string(), fmt % args)


def landing_page(refresher: Refresher) -> Callable[[], str]:
    def render() -> str:
        caps = refresher.caps.summary() if refresher.caps else {}
        rows = "".join(
            f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>" for k, v in caps.items()
        )
        status = "up" if refresher.healthy() else "down: " + html.escape(refresher.last_error or "not refreshed yet")
        return (
            f"<!doctype html><html><head><title>litellm-spend-exporter</title></head><body>"
            f"<h1>litellm-spend-exporter {html.escape(__version__)}</h1>"
            f"<p>Prometheus metrics from LiteLLM's Postgres spend ledger. Database: {status}.</p>"
            f"<ul><li><a href='metrics'>/metrics</a></li><li><a href='healthz'>/healthz</a></li>"
            f"<li><a href='runbooks/'>/runbooks/</a> (what each alert means and what to do)</li></ul>"
            f"<h2>Detected LiteLLM schema</h2><table>{rows}</table></body></html>"
        )

    return render


class HttpServer:
    def __init__(self, host: str, port: int, refresher: Refresher, web: WebConfig | None = None):
        try:
            self._server = _Server((host, port), _Handler, refresher, landing_page(refresher), web)
        except OSError as exc:
            where = f"{host or '0.0.0.0'}:{port}"
            reason = "address already in use" if exc.errno == 98 else exc.strerror or str(exc)
            raise ExporterError(f"cannot listen on {where}: {reason}; pick another --web.listen-address") from None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def start(self) -> None:
        self._thread = threading.Thread(target=self._server.serve_forever, name="http", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._server.deadlines.stop()
