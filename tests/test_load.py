"""Load and hostile HTTP against the real `serve`: 50 concurrent scrapers, malformed and oversized requests,
slowloris and idle connections."""

from __future__ import annotations

import gzip
import http.client
import os
import socket
import threading
import time
from dataclasses import dataclass, field

import psycopg
import pytest
from conftest import make_login
from helpers import Serve, http_get, samples, wait_for
from test_faults import OwnServer, check_ledger

from exporter.local.demodata import load

LOAD_SECONDS = float(os.environ.get("LITELLM_EXPORTER_LOAD_SECONDS", "15"))
BASELINE_SECONDS = 5.0
SCRAPERS = 50
INTERVAL = 1.0


@dataclass
class Target:
    server: OwnServer
    srv: Serve
    role: str

    def statements(self) -> int:
        """Statements the exporter's role has run (pg_stat_statements, across the cluster)."""
        with psycopg.connect(self.server.pg.admin_conninfo(), autocommit=True) as c:
            return int(
                c.execute(
                    """SELECT COALESCE(sum(s.calls), 0) FROM pg_stat_statements s
                                    JOIN pg_roles r ON r.oid = s.userid WHERE r.rolname = %s""",
                    (self.role,),
                ).fetchone()[0]
            )

    def refreshes(self) -> float:
        text = http_get(self.srv.base + "/metrics")[1].decode()
        return samples(text)[("litellm_db_refreshes_total", (("result", "success"),))]


@pytest.fixture(scope="module")
def target(pg_server):
    """The exporter as deployed: its own PostgreSQL (with pg_stat_statements), 20k rows of demo traffic, the
    read-only role, `serve` refreshing every second."""
    server = OwnServer.create(pg_server.bindir, shared_preload_libraries="pg_stat_statements")
    try:
        with psycopg.connect(server.pg.admin_conninfo(), autocommit=True) as c:
            c.execute("CREATE EXTENSION pg_stat_statements")
        load(server.db.conninfo, rows=20_000, days=2, seed=7)
        login = make_login(server.db)
        with Serve(login.url, interval=f"{INTERVAL:g}s") as srv:
            wait_for(
                lambda: check_ledger(server.db, samples(http_get(srv.base + "/metrics")[1].decode())),
                timeout=30,
                what="the exporter to count the demo data",
            )
            yield Target(server, srv, login.role)
            assert srv.proc.poll() is None, "serve died"
        code, _, err = srv.stop()
        assert code == 0, err
        assert "Traceback" not in err
    finally:
        server.cleanup()


# -- many scrapers ----------------------------------------------------------------------------------------


@dataclass
class Results:
    latencies: dict = field(default_factory=lambda: {"keep-alive": [], "new connection": []})
    errors: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def scraper(port: int, keep_alive: bool, compressed: bool, until: float, out: Results) -> None:
    kind = "keep-alive" if keep_alive else "new connection"
    headers = {"Accept-Encoding": "gzip"} if compressed else {}
    conn = None
    mine = []
    while time.monotonic() < until:
        t0 = time.perf_counter()
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/metrics", headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            if resp.getheader("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            if resp.status != 200 or not body.startswith(b"# HELP") or b"\nlitellm_db_up 1.0\n" not in body:
                raise AssertionError(f"bad response {resp.status}: {body[:80]!r}")
            mine.append(time.perf_counter() - t0)
        except Exception as exc:
            with out.lock:
                out.errors.append(repr(exc))
            conn = None
        if not keep_alive and conn is not None:
            conn.close()
            conn = None
    if conn is not None:
        conn.close()
    with out.lock:
        out.latencies[kind].extend(mine)


def run_scrapers(port: int, n: int, seconds: float) -> Results:
    out = Results()
    until = time.monotonic() + seconds
    threads = [
        threading.Thread(target=scraper, args=(port, i % 2 == 0, i % 4 < 2, until, out), daemon=True) for i in range(n)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 30)
    assert not any(t.is_alive() for t in threads), "a scraper hung"
    return out


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))]


@pytest.mark.slow
def test_fifty_scrapers_do_not_change_the_database_load(target, record_property):
    """50 scrapers (half keep-alive, half a new connection per scrape; half gzip) for LOAD_SECONDS: no errors,
    bounded latency, and the exporter runs as many statements per second as with one scraper."""
    port = target.srv.port

    def phase(n: int, seconds: float):
        s0, r0, t0 = target.statements(), target.refreshes(), time.monotonic()
        res = run_scrapers(port, n, seconds)
        s1, r1, t1 = target.statements(), target.refreshes(), time.monotonic()
        return res, (s1 - s0) / (t1 - t0), (s1 - s0) / max(r1 - r0, 1), (r1 - r0) / (t1 - t0)

    one, rate_one, per_refresh_one, refresh_rate_one = phase(1, BASELINE_SECONDS)
    many, rate_many, per_refresh_many, refresh_rate_many = phase(SCRAPERS, LOAD_SECONDS)
    assert not one.errors and not many.errors, (one.errors + many.errors)[:5]
    figures = {}
    for kind, values in many.latencies.items():
        assert values, kind
        figures[kind] = (len(values), pct(values, 0.5), pct(values, 0.99), max(values))
        record_property(f"{kind} p50 ms", round(pct(values, 0.5) * 1000, 1))
        record_property(f"{kind} p99 ms", round(pct(values, 0.99) * 1000, 1))
    scrapes = sum(len(v) for v in many.latencies.values())
    print(
        f"\nload: {SCRAPERS} scrapers for {LOAD_SECONDS:g}s, {scrapes} scrapes ({scrapes / LOAD_SECONDS:.0f}/s), "
        f"0 errors; "
        + "; ".join(
            f"{k}: {n} scrapes p50 {a * 1000:.1f} ms p99 {b * 1000:.1f} ms max {c * 1000:.1f} ms"
            for k, (n, a, b, c) in figures.items()
        )
        + f"\nstatements/s: {rate_one:.1f} with 1 scraper, {rate_many:.1f} with {SCRAPERS}; statements/refresh "
        f"{per_refresh_one:.1f} vs {per_refresh_many:.1f}; refreshes/s {refresh_rate_one:.2f} vs "
        f"{refresh_rate_many:.2f}"
    )
    record_property("statements per second, 1 scraper", round(rate_one, 1))
    record_property(f"statements per second, {SCRAPERS} scrapers", round(rate_many, 1))
    # generous bounds: performance is measured by benchmarks, this only catches a scrape that touches the database
    # or waits on a refresh
    for kind, (_, p50, p99, _) in figures.items():
        assert p50 < 0.5 and p99 < 2.0, (kind, p50, p99)
    assert abs(per_refresh_many - per_refresh_one) <= 0.25 * per_refresh_one
    assert rate_many <= 1.25 * rate_one + per_refresh_one / LOAD_SECONDS
    assert refresh_rate_many >= 0.5 / INTERVAL  # refreshes keep their schedule under load


# -- malformed, oversized and slow requests ---------------------------------------------------------------


def raw(port: int, payload: bytes, timeout: float = 10.0) -> bytes:
    """Send raw bytes, half-close, read until the server closes (a reset counts as closed)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(payload)
            s.shutdown(socket.SHUT_WR)
        except OSError:  # it stopped reading and hung up (EPIPE, ECONNRESET, ENOTCONN), answering first or not
            pass
        chunks = []
        try:
            while chunk := s.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:
            pass
        return b"".join(chunks)


def metrics_ok(port: int) -> float:
    t0 = time.perf_counter()
    status, body, _ = http_get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    assert status == 200 and b"litellm_db_up 1.0" in body
    return time.perf_counter() - t0


HOSTILE_REQUESTS = {
    "garbage bytes": (bytes(range(256)) * 16 + b"\r\n\r\n", (b"HTTP/1.1 400", b"")),
    "binary request line": (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 500, (b"HTTP/1.1 400", b"")),
    "1 MB header": (
        b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 1_000_000 + b"\r\n\r\n",
        (b"HTTP/1.1 431", b""),
    ),
    "1000 headers": (
        b"GET /metrics HTTP/1.1\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(1000)) + b"\r\n",
        (b"HTTP/1.1 431",),
    ),
    "100 kB request line": (b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", (b"HTTP/1.1 414", b"")),
    "HTTP/0.9": (b"GET /metrics\r\n", (b"HTTP/1.1 400", b"")),
    "HTTP/2 preface": (
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        (b"HTTP/1.1 400", b"HTTP/1.1 405", b"HTTP/1.1 501", b"HTTP/1.1 505", b""),
    ),
    "unknown method": (b"BREW /metrics HTTP/1.1\r\nHost: x\r\n\r\n", (b"HTTP/1.1 501",)),
    "POST with a body": (b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", (b"HTTP/1.1 405",)),
    "bad Content-Length": (
        b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        (b"HTTP/1.1 200", b"HTTP/1.1 400", b""),
    ),
    "NUL in path": (b"GET /met\x00rics HTTP/1.1\r\nHost: x\r\n\r\n", (b"HTTP/1.1 404", b"HTTP/1.1 400")),
    "path traversal": (b"GET /../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", (b"HTTP/1.1 404",)),
    "absolute URI": (
        b"GET http://evil.example/metrics HTTP/1.1\r\nHost: x\r\n\r\n",
        (b"HTTP/1.1 404", b"HTTP/1.1 200"),
    ),
}


@pytest.mark.parametrize("name", list(HOSTILE_REQUESTS))
def test_malformed_and_oversized_requests(target, name):
    """Each is refused (or answered harmlessly) at once, the connection ends, and the server serves on."""
    payload, allowed = HOSTILE_REQUESTS[name]
    t0 = time.perf_counter()
    reply = raw(target.srv.port, payload)
    elapsed = time.perf_counter() - t0
    head = reply.split(b"\r\n", 1)[0]
    assert any(head.startswith(a) for a in allowed if a) or (b"" in allowed and not reply), (name, reply[:200])
    assert b"/etc/passwd" not in reply and b"root:" not in reply
    assert elapsed < 5, elapsed
    metrics_ok(target.srv.port)


def slowloris(port: int, seconds: float, gap: float, out: dict) -> None:
    """Send a request head a byte at a time, `gap` seconds apart; record when the server cut us off."""
    t0 = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        head = b"GET /metrics HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 10_000
        try:
            for byte in head:
                if time.monotonic() - t0 > seconds:
                    break
                s.sendall(bytes([byte]))
                time.sleep(gap)
            out["cut_after"] = None
        except OSError:
            out["cut_after"] = time.monotonic() - t0


def test_slowloris_and_idle_connections_do_not_delay_scrapes(target, record_property):
    """A client trickling a request a byte per second, 200 idle connections and 50 half-sent requests hold
    connections; a normal client still gets /metrics quickly."""
    port = target.srv.port
    trickle: dict = {}
    thread = threading.Thread(target=slowloris, args=(port, 6.0, 1.0, trickle), daemon=True)
    thread.start()
    idle = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(200)]
    half = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(50)]
    try:
        for s in half:
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Half: ")
        latencies = [metrics_ok(port) for _ in range(30)]
    finally:
        for s in idle + half:
            s.close()
    thread.join(20)
    assert not thread.is_alive()
    latencies.sort()
    record_property("scrape p50 ms with 250 held connections", round(latencies[15] * 1000, 1))
    print(
        f"\nheld connections: 200 idle + 50 half-sent + 1 slowloris; scrapes p50 {latencies[15] * 1000:.1f} ms, "
        f"max {latencies[-1] * 1000:.1f} ms"
    )
    assert latencies[-1] < 2.0
    metrics_ok(port)


class _StubRefresher:
    """What the HTTP server reads from a refresher: a snapshot, health, capabilities."""

    caps = None
    last_error = None

    def __init__(self):
        from exporter.collect.refresher import Snapshot

        body = b"# HELP litellm_db_up x\n# TYPE litellm_db_up gauge\nlitellm_db_up 1.0\n"
        self.snapshot = Snapshot(body, gzip.compress(body), time.time(), True)

    def healthy(self) -> bool:
        return True


@pytest.mark.nodb
def test_request_head_deadline_cuts_slowloris(monkeypatch):
    """The whole request head has a deadline (30 s in `serve`; 2 s here): a client trickling bytes, or one that
    connects and says nothing, is disconnected once it passes; a normal client is served meanwhile."""
    from exporter.web import server

    monkeypatch.setattr(server._Handler, "head_deadline", 2.0)
    http = server.HttpServer("127.0.0.1", 0, _StubRefresher())
    http.start()
    try:
        trickle: dict = {}
        thread = threading.Thread(target=slowloris, args=(http.port, 15.0, 0.2, trickle), daemon=True)
        thread.start()
        silent = socket.create_connection(("127.0.0.1", http.port), timeout=10)
        t0 = time.monotonic()
        assert silent.recv(1) == b""  # the server hung up
        silent_cut = time.monotonic() - t0
        assert metrics_ok(http.port) < 1.0
        thread.join(20)
        silent.close()
    finally:
        http.stop()
    print(
        f"\nhead deadline 2s: silent connection closed after {silent_cut:.2f}s, slowloris after "
        f"{trickle.get('cut_after')}s"
    )
    assert 1.5 <= silent_cut <= 3.5
    assert trickle.get("cut_after") is not None and trickle["cut_after"] <= 4.0


@pytest.mark.nodb
def test_stop_does_not_wait_for_held_connections():
    """Stopping the server (SIGTERM in `serve`) closes at once although idle keep-alive, half-sent and silent
    connections are still open, instead of waiting for each to time out (30 s)."""
    from exporter.web import server

    http = server.HttpServer("127.0.0.1", 0, _StubRefresher())
    http.start()
    kept = http_client = None
    try:
        http_client = __import__("http.client").client.HTTPConnection("127.0.0.1", http.port, timeout=10)
        http_client.request("GET", "/metrics")
        assert http_client.getresponse().read().startswith(b"# HELP")  # the connection stays open (HTTP/1.1)
        kept = [socket.create_connection(("127.0.0.1", http.port), timeout=10) for _ in range(3)]
        kept[0].sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        time.sleep(0.3)  # every connection has its handler thread
    finally:
        t0 = time.monotonic()
        http.stop()
        took = time.monotonic() - t0
        for s in kept or []:
            s.close()
        if http_client is not None:
            http_client.close()
    assert took < 5.0, f"stop waited {took:.1f}s for held connections"
