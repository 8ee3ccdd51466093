"""Database access: a read-only SQLAlchemy engine on psycopg 3, URL redaction and clear connection errors."""

from __future__ import annotations

import re
import socket
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import sqlalchemy as sa
from psycopg.rows import TupleRow
from sqlalchemy.engine import URL, Connection, Engine, make_url

from exporter.config import POSTGRES_MAX_MS, DatabaseConfig, postgres_milliseconds
from exporter.errors import ConfigError, DatabaseError

_URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")
_KV_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def redact(text: str) -> str:
    """Hide passwords in URLs (`user:***@`) and conninfo strings (`password=***`)."""
    return _KV_PASSWORD.sub(r"\1***", _URL_PASSWORD.sub(r"\1***@", text))


# LiteLLM's DATABASE_URL is a Prisma connection URL: these arguments are Prisma's own, libpq refuses them.
# `schema` sets database.schema (exporter/config.py) unless that is set explicitly; the pool and statement-cache
# arguments have no meaning for the exporter's one connection.
PRISMA_ONLY = ("schema", "connection_limit", "pool_timeout", "socket_timeout", "pgbouncer", "statement_cache_size")
# Prisma's TLS arguments libpq has no equivalent for: dropping them could connect with less checking than asked.
PRISMA_TLS = {
    "sslidentity": "give the client certificate and key as sslcert= and sslkey= (PEM)",
    "sslaccept": "use sslmode=verify-full (with sslrootcert=) to verify the server's certificate",
}


def normalize_url(raw: str) -> URL:
    """Accept LiteLLM's `postgresql://` / `postgres://` (Prisma) URLs and use the psycopg 3 driver."""
    try:
        url = make_url(raw.strip())
    except Exception:
        raise ConfigError(
            "database URL is not a valid URL; expected postgresql://user:password@host:5432/dbname"
        ) from None
    if url.get_backend_name() not in ("postgresql", "postgres"):
        raise ConfigError(f"database URL must start with postgresql:// (got {url.drivername}://)")
    for name, instead in PRISMA_TLS.items():
        if name in url.query and not (name == "sslaccept" and url.query[name] == "accept_invalid_certs"):
            raise ConfigError(f"database URL: {name}= is a Prisma argument libpq does not have; {instead}")
    return url.difference_update_query(PRISMA_ONLY + ("sslaccept",)).set(drivername="postgresql+psycopg")


def display(url: URL) -> str:
    """A URL safe to print: the password replaced by ***."""
    return url.render_as_string(hide_password=True)


def target(url: URL) -> str:
    host = url.host or url.query.get("host") or "localhost"
    if isinstance(host, tuple):
        host = host[0]
    return f"{host}:{url.port or url.query.get('port') or 5432}/{url.database or ''}"


def create_engine(cfg: DatabaseConfig, url: URL | None = None) -> Engine:
    """An engine whose every session is read-only, time-limited and named."""
    if url is None:
        if cfg.url is None:
            raise ConfigError(
                "no database URL: set --database.url, LITELLM_EXPORTER_DATABASE_URL or DATABASE_URL "
                "(or run `litellm-spend-exporter demo` for a local demo)"
            )
        url = normalize_url(cfg.url.get_secret_value())
    idle = min(postgres_milliseconds(max(cfg.statement_timeout * 2, 60)), POSTGRES_MAX_MS)
    settings = {
        "default_transaction_read_only": "on",
        "statement_timeout": f"{postgres_milliseconds(cfg.statement_timeout)}ms",
        "lock_timeout": f"{postgres_milliseconds(cfg.lock_timeout)}ms",
        "idle_in_transaction_session_timeout": f"{idle}ms",
    }
    engine = sa.create_engine(
        url,
        pool_size=1,
        max_overflow=1,
        pool_pre_ping=True,
        pool_recycle=3600,
        connect_args={"application_name": cfg.application_name, "connect_timeout": int(cfg.connect_timeout)},
    )
    schema = cfg.db_schema
    # A frozen server cannot enforce its own statement_timeout: give up client-side a little later.
    dog = _WATCHDOGS[engine] = Watchdog(
        cfg.statement_timeout + cfg.connect_timeout if cfg.statement_timeout > 0 else None, cfg.connect_timeout
    )

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _arm(*_args):
        dog.arm()

    @sa.event.listens_for(engine, "after_cursor_execute")
    def _disarm(*_args):
        dog.disarm()

    @sa.event.listens_for(engine, "handle_error")
    def _disarm_on_error(_context):
        dog.disarm()

    @sa.event.listens_for(engine, "connect")
    def _session_setup(dbapi_conn, _record):  # runs once per new connection
        dog.track(dbapi_conn)
        with dbapi_conn.cursor() as cur:
            for name, value in settings.items():
                cur.execute("SELECT set_config(%s, %s, false)", (name, value))
            # LiteLLM's tables are found through search_path, so no schema name is formatted into SQL text
            cur.execute("SELECT set_config('search_path', quote_ident(%s), false)", (schema,))
        dbapi_conn.commit()

    return engine


class Watchdog:
    """A client-side deadline on each round trip to the server (statement, ping, commit).

    The server enforces statement_timeout, but a frozen server (SIGSTOP, a paused VM, a stuck storage layer)
    cannot, and TCP keeps its connections open: without a deadline a refresh would wait forever while
    `/metrics` still said `litellm_db_up 1`. When a statement outlasts `limit` (statement_timeout plus
    connect_timeout), or the ping of a pooled connection outlasts `ping_limit` (connect_timeout), the sockets of
    the engine's connections are shut down, so the blocked call fails at once; the refresh fails (nothing is
    applied) and the next one reconnects. Time spent between round trips (processing rows) is not counted.
    """

    def __init__(self, limit: float | None, ping_limit: float | None = None):
        self.limit = limit
        self.ping_limit = ping_limit if limit else None
        self.tripped: float | None = None  # the limit that expired, if one did
        self._lock = threading.Lock()
        self._conns: weakref.WeakSet = weakref.WeakSet()
        self._timer: threading.Timer | None = None
        self._generation = 0

    def track(self, dbapi_conn) -> None:
        self._conns.add(dbapi_conn)

    def arm(self, limit: float | None = None) -> None:
        limit = limit or self.limit
        if not limit:
            return
        with self._lock:
            self._cancel()
            self._timer = threading.Timer(limit, self._trip, (self._generation, limit))
            self._timer.daemon = True
            self._timer.start()

    def disarm(self) -> None:
        with self._lock:
            self._cancel()

    def _cancel(self) -> None:
        self._generation += 1
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _trip(self, generation: int, limit: float) -> None:
        with self._lock:
            if generation != self._generation:  # disarmed or re-armed meanwhile
                return
            self._timer = None
            self.tripped = limit
            conns = list(self._conns)
        for conn in conns:
            _shut_down(conn)


def _shut_down(dbapi_conn) -> None:
    """Shut down a connection's socket (without closing its descriptor): a blocked read returns at once."""
    try:
        fd = dbapi_conn.pgconn.socket
        sock = socket.socket(fileno=fd)
    except Exception:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        sock.detach()


def driver_connection(conn: Connection) -> psycopg.Connection[TupleRow]:
    """The psycopg connection under a SQLAlchemy one: for notices, and for SQL run without parameter parsing."""
    driver = conn.connection.driver_connection
    if not isinstance(driver, psycopg.Connection):
        raise TypeError(f"expected a psycopg connection, got {type(driver).__name__}")
    return driver


_WATCHDOGS: weakref.WeakKeyDictionary[Engine, Watchdog] = weakref.WeakKeyDictionary()


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """One consistent, read-only view of the database for a whole refresh."""
    dog = _WATCHDOGS.get(engine) or Watchdog(None)
    dog.tripped = None
    try:
        dog.arm(dog.ping_limit)  # a pooled connection's ping (then a new connection has connect_timeout)
        with engine.connect() as conn:
            dog.disarm()
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                try:
                    conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                    yield conn
                finally:
                    dog.arm()  # COMMIT or ROLLBACK, and the connection's return to the pool
    except sa.exc.DBAPIError as exc:
        if dog.tripped:
            raise DatabaseError(
                f"no answer from PostgreSQL at {target(engine.url)} within {dog.tripped:g}s; the "
                "server may be frozen or the network down; the connection was dropped and will be "
                "re-established",
                transient=True,
            ) from exc
        raise translate(exc, engine.url) from exc
    finally:
        dog.disarm()


def translate(exc: BaseException, url: URL | None = None) -> DatabaseError:
    """Turn a driver error into one line that says what is wrong and how to fix it, without secrets."""
    orig = getattr(exc, "orig", exc)
    where = target(url) if url is not None else "the database"
    user = url.username if url is not None else None
    state = getattr(orig, "sqlstate", None)
    text = redact(str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__)
    lowered = str(orig).lower()
    if state == "28P01" or "password authentication failed" in lowered:
        return DatabaseError(
            f"password authentication failed for user {user!r} at {where}: check the password in the database URL"
        )
    if state == "28000" or "no pg_hba.conf entry" in lowered:
        return DatabaseError(f"the server at {where} rejected user {user!r} ({text}); check pg_hba.conf and the role")
    if state == "3D000":
        return DatabaseError(f"database at {where} does not exist; check the database name in the URL")
    if state == "25006":
        return DatabaseError(f"read-only violation: {text} (the exporter only reads; this is a bug if it happens)")
    if state == "42501":
        return DatabaseError(
            f"permission denied: {text}; grant the exporter role SELECT on what it reads "
            "(see `litellm-spend-exporter check`)"
        )
    if state == "57014":
        return DatabaseError(
            f"query cancelled by statement_timeout at {where}; raise --database.statement-timeout "
            "or check the database load",
            transient=True,
        )
    if state == "55P03":
        return DatabaseError(f"lock wait timed out at {where}: {text}", transient=True)
    if state in ("42P01", "42703"):
        return DatabaseError(f"LiteLLM schema mismatch at {where}: {text}; run `litellm-spend-exporter check`")
    if "connection refused" in lowered:
        return DatabaseError(
            f"cannot connect to PostgreSQL at {where}: connection refused; is the server running "
            "and are host and port in the database URL right?",
            transient=True,
        )
    if "timeout expired" in lowered or "timed out" in lowered:
        return DatabaseError(
            f"cannot connect to PostgreSQL at {where}: connection timed out; check host, port "
            "and firewalls, or raise --database.connect-timeout",
            transient=True,
        )
    if "could not translate host name" in lowered or "name or service not known" in lowered:
        return DatabaseError(
            f"cannot resolve the database host in {where}; check the host name in the URL", transient=True
        )
    if isinstance(orig, psycopg.OperationalError):
        return DatabaseError(f"database connection to {where} failed: {text}", transient=True)
    return DatabaseError(f"database error at {where}: {text}")
