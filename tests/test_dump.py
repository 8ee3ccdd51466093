"""exporter/local/dump.py: a dump is untrusted input. Restoring runs none of its code (psql meta-commands, server-side
programs, functions planted for the admin), says what it refused, and a dump that ends early fails in one line."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import FIXTURES, Database, drop_database, new_database, restore
from helpers import run_cli

from exporter.local import dump

MARKS = ("shell", "gpipe", "opipe", "copyprog", "backtick", "serverprog", "matview", "admin")


def _dump(db: Database, out: Path, *args: str) -> Path:
    pg = db.pg
    subprocess.run(
        [
            pg.tool("pg_dump"),
            "-h",
            str(pg.socketdir),
            "-p",
            str(pg.port),
            "-U",
            "postgres",
            "--no-owner",
            "--no-privileges",
            *args,
            "-f",
            str(out),
            db.name,
        ],
        check=True,
        capture_output=True,
    )
    return out


@pytest.fixture(scope="module")
def hostile(pg_server, tmp_path_factory):
    """The real fixture plus planted code, dumped in every format; each payload touches a file in `marks`.

    Planted in the database: a materialized view whose refresh (pg_dump emits REFRESH MATERIALIZED VIEW) runs
    COPY ... TO PROGRAM, and a `public.format(text, text, text)` that shadows pg_catalog's for whoever resolves
    names through `public` and runs COPY ... TO PROGRAM when a superuser calls it (the reader sync calls
    format('%I.%I', ...)). Added to the plain SQL: psql meta-commands that run shell commands on the client.
    """
    base = tmp_path_factory.mktemp("hostile")
    marks = base / "marks"
    marks.mkdir()
    os.chmod(marks, 0o777)  # the server (run as nobody under root) must be able to write here, were it allowed to
    db = new_database(pg_server, template="template0")
    restore(db, FIXTURES / "litellm-real-A.dump")
    db.execute(f"""
        CREATE FUNCTION public.trojan_mv() RETURNS int LANGUAGE plpgsql AS $$
        BEGIN
            IF current_database() = 'litellm' THEN
                EXECUTE 'COPY (SELECT 1) TO PROGRAM ' || quote_literal('touch {marks}/matview');
            END IF;
            RETURN 1;
        END $$;
        CREATE MATERIALIZED VIEW public.trojan AS SELECT public.trojan_mv() AS x;
        CREATE FUNCTION public.format(f text, a text, b text) RETURNS text LANGUAGE plpgsql AS $$
        BEGIN
            IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
                EXECUTE 'COPY (SELECT 1) TO PROGRAM ' || quote_literal('touch {marks}/admin');
            END IF;
            RETURN pg_catalog.format(f, a, b);
        END $$;""")
    try:
        files = {"custom": _dump(db, base / "h.dump", "-Fc"), "tar": _dump(db, base / "h.tar", "-Ft")}
        plain = _dump(db, base / "plain.sql").read_bytes()
    finally:
        drop_database(db)
    # server-side statements first, so no refused meta-command leaves text in psql's query buffer before them
    payload = (
        f"COPY (SELECT 1) TO PROGRAM 'touch {marks}/serverprog';\n"
        "SELECT pg_catalog.pg_read_file('/etc/hostname');\n"
        f"\\! touch {marks}/shell\n"
        f"SELECT 1 \\g |touch {marks}/gpipe\n"
        f"\\o |touch {marks}/opipe\n"
        f"\\copy (SELECT 1) TO PROGRAM 'touch {marks}/copyprog'\n"
        f"\\set x `touch {marks}/backtick`\n"
        ";\n"
    ).encode()  # ends the `SELECT 1` the refused \\g left in the buffer
    # after the dump's SET lines, where a statement boundary is certain
    at = plain.index(b"SET row_security = off;\n") + len(b"SET row_security = off;\n")
    plain = plain[:at] + payload + plain[at:]
    (base / "h.sql").write_bytes(plain)
    files["plain"] = base / "h.sql"
    (base / "h.sql.gz").write_bytes(gzip.compress(plain))
    files["plain.gz"] = base / "h.sql.gz"
    (base / "h.dump.gz").write_bytes(gzip.compress(files["custom"].read_bytes()))
    files["custom.gz"] = base / "h.dump.gz"
    return files, marks


def _reader_count(r: dump.Restored) -> int:
    import psycopg

    from exporter.database import connection as dbmod

    url = dbmod.normalize_url(r.reader_url)
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, password=url.password, dbname=url.database
    ) as c:
        return c.execute('SELECT count(*) FROM "LiteLLM_SpendLogs"').fetchone()[0]


@pytest.mark.parametrize("fmt", ["plain", "plain.gz", "custom", "custom.gz", "tar"])
def test_a_hostile_dump_runs_none_of_its_code(hostile, fmt, pg_server, capsys):
    files, marks = hostile
    r = dump.restore(files[fmt], postgres=str(pg_server.bindir))
    try:
        assert _reader_count(r) == 600  # the data arrived, read through the read-only reader
        owner = r.pg.psql(
            dump.DBNAME, "-At", "-c", "SELECT tableowner FROM pg_tables WHERE tablename = 'LiteLLM_SpendLogs'"
        ).stdout.strip()
        assert owner == dump.RESTORE_ROLE
    finally:
        r.pg.cleanup()
    assert sorted(p.name for p in marks.iterdir()) == []
    err = capsys.readouterr().err
    # the refresh of the materialized view was refused in every format; the meta-commands only exist in plain
    assert f"refused {len(r.refused)} command(s) of {files[fmt].name}" in err
    assert any("external program" in x for x in r.refused), r.refused  # the materialized view's COPY
    expected = 1 + (7 if fmt.startswith("plain") else 0)  # 5 meta-commands, COPY TO PROGRAM, pg_read_file
    assert len(r.refused) == expected, r.refused
    if fmt.startswith("plain"):
        assert sum("backslash commands are restricted" in x for x in r.refused) == 5
        assert all(x.startswith("line ") for x in r.refused), r.refused
        assert any("pg_read_file" in x for x in r.refused), r.refused


def test_audit_of_a_hostile_dump_reports_what_it_refused(hostile):
    files, marks = hostile
    res = run_cli("audit", "--dump", str(files["plain.gz"]), "--format", "json", timeout=300)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["requests"] == 600
    assert sorted(p.name for p in marks.iterdir()) == []
    refused = [line for line in res.stderr.splitlines() if "refused 8 command(s) of h.sql.gz" in line]
    assert len(refused) == 1, res.stderr


def _cut(src: Path, out: Path, fraction: float) -> Path:
    data = src.read_bytes()
    out.write_bytes(data[: int(len(data) * fraction)])
    return out


@pytest.mark.parametrize("fmt", ["plain", "plain.gz", "custom", "custom.gz", "tar"])
@pytest.mark.parametrize("fraction", [0.5, 0.98])
def test_a_truncated_dump_fails_in_one_line(hostile, fmt, fraction, tmp_path, pg_server):
    files, _ = hostile
    cut = _cut(files[fmt], tmp_path / f"cut-{files[fmt].name}", fraction)
    with pytest.raises(dump.DumpError) as exc:
        dump.restore(cut, postgres=str(pg_server.bindir)).pg.cleanup()
    msg = str(exc.value)
    assert "\n" not in msg and msg.startswith(str(cut))
    assert "incomplete" in msg, msg


def test_a_tar_cut_anywhere_is_incomplete(hostile, tmp_path):
    """pg_restore spins forever on some cut tar files, so the archive is checked first: cut at 40 points."""
    files, _ = hostile
    data = files["tar"].read_bytes()
    packed = gzip.compress(data)
    whole = tmp_path / "whole.tar.gz"
    whole.write_bytes(packed)
    dump._check_tar(files["tar"], gz=False)  # the whole files pass
    dump._check_tar(whole, gz=True)
    cut, cut_gz = tmp_path / "cut.tar", tmp_path / "cut.tar.gz"
    for i in range(1, 41):
        cut.write_bytes(data[: len(data) * i // 41])
        cut_gz.write_bytes(packed[: len(packed) * i // 41])
        for path, gz in ((cut, False), (cut_gz, True)):
            with pytest.raises(dump.DumpError, match="incomplete"):
                dump._check_tar(path, gz=gz)


def test_a_gzip_stream_with_a_bad_crc_fails(hostile, tmp_path, pg_server):
    files, _ = hostile
    data = bytearray(files["plain.gz"].read_bytes())
    data[-8] ^= 0xFF  # the CRC32 in gzip's trailer
    bad = tmp_path / "crc.sql.gz"
    bad.write_bytes(bytes(data))
    with pytest.raises(dump.DumpError, match="incomplete .*gzip stream is cut or corrupt"):
        dump.restore(bad, postgres=str(pg_server.bindir)).pg.cleanup()


def test_a_truncated_dump_fails_through_the_cli(hostile, tmp_path):
    files, _ = hostile
    cut = _cut(files["plain.gz"], tmp_path / "cut.sql.gz", 0.98)
    for command in ("audit", "serve"):
        res = (
            run_cli(command, "--dump", str(cut), "--web.listen-address", "127.0.0.1:0", timeout=300)
            if command == "serve"
            else run_cli(command, "--dump", str(cut), timeout=300)
        )
        assert res.returncode == 1, (command, res.stdout, res.stderr)
        lines = [x for x in res.stderr.splitlines() if x.strip()]
        assert len(lines) == 1 and "incomplete" in lines[0], (command, res.stderr)
        assert "Traceback" not in res.stderr


def test_a_decompression_bomb_stops_at_the_free_space(tmp_path, pg_server, monkeypatch):
    """A gzip that inflates past the free disk space stops there (the bound is patched down to 1 MB here)."""
    bomb = tmp_path / "bomb.sql.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as g:
        g.write(b"-- PostgreSQL database dump\n")
        g.write(b"SELECT 1;\n" * 500_000)  # 5 MB of SQL in a few kB
    assert bomb.stat().st_size < 50_000

    class Usage:
        free = 1 << 20

    monkeypatch.setattr(dump.shutil, "disk_usage", lambda path: Usage)
    with pytest.raises(dump.DumpError, match="decompresses to more than the 1 MiB free"):
        dump.restore(bomb, postgres=str(pg_server.bindir)).pg.cleanup()
