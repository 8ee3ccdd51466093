"""The local PostgreSQL used by demo and tests: loopback only, no changes outside its own directory."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import psycopg

from exporter.local.postgres import LocalPostgres


def stat_of(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return st.st_mode, st.st_uid, st.st_gid


def test_start_stop_touches_nothing_outside_its_directory(pg_server):
    tmp_path = Path(tempfile.mkdtemp())
    tmp_path.chmod(0o755)  # as root the server runs as `nobody`, which must be able to reach its directory
    parents = [tmp_path, *tmp_path.parents]
    before = {p: stat_of(p) for p in parents}
    passwd = Path("/etc/passwd").read_bytes()
    pg = LocalPostgres(pg_server.bindir, basedir=tmp_path / "pg")
    pg.start()
    try:
        with psycopg.connect(pg.admin_conninfo(), autocommit=True) as conn:
            assert conn.execute("SHOW listen_addresses").fetchone()[0] == "127.0.0.1"
    finally:
        pg.cleanup()
        shutil.rmtree(pg.basedir, ignore_errors=True)
    assert {p: stat_of(p) for p in parents} == before
    assert Path("/etc/passwd").read_bytes() == passwd  # no system user was added
    tmp_path.rmdir()


def test_owned_directory_is_removed(pg_server):
    pg = LocalPostgres(pg_server.bindir).start()
    basedir = pg.basedir
    assert (basedir / "data" / "PG_VERSION").exists()
    if os.geteuid() == 0:
        assert basedir.stat().st_uid != 0  # the server ran unprivileged
    pg.cleanup()
    assert not basedir.exists()
