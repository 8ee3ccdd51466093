"""Restores a LiteLLM database dump (pg_dump custom/tar or plain SQL, optionally gzipped) into a private
embedded PostgreSQL, for `audit --dump` and `serve --dump`; the server and its data go away afterwards.

A dump is untrusted input (a copy of production someone hands you), so restoring it must never run code:
- plain SQL goes through psql in restricted mode (`\\restrict` with a key only this process knows), so no psql
  meta-command of the file runs (`\\!`, `\\o |cmd`, `\\g |cmd`, `\\copy ... program`, backticks, `\\i`);
- every statement runs as an unprivileged role that owns only the restored database's schema (no superuser, no
  `pg_execute_server_program` or server file access, no untrusted languages), so `COPY ... TO PROGRAM` and the
  like fail on the server;
- what runs afterwards runs as that role or as the read-only reader (`roles apply` pins its search_path to
  pg_catalog), so functions or operators the dump defines never run with a superuser's privileges.
What was refused is reported in one warning line. A dump that ends early (no pg_dump completion trailer, a gzip
stream cut or with a bad CRC, a custom or tar archive pg_restore cannot read to its end) fails with one line.
"""

from __future__ import annotations

import gzip
import os
import re
import secrets
import shutil
import subprocess
import sys
import tarfile
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from exporter.errors import ExporterError
from exporter.local.postgres import LocalPostgres, LocalPostgresError, resolve_bindir

DBNAME = "litellm"
RESTORE_ROLE = "litellm_dump_restore"  # owns what the dump creates; no privilege beyond that
READER = "litellm_spend_exporter"  # the exporter's read-only reader, as `roles apply` creates it in production
CHUNK = 1 << 20
TRAILER = b"-- PostgreSQL database dump complete"
TAIL = 4096  # pg_dump writes only its \unrestrict line and blank lines after the trailer
Progress = Callable[[int, int], None]  # (bytes read so far, total bytes)

_REFUSED = (
    "backslash commands are restricted",
    "permission denied",
    "must be superuser",
    "must have privileges of",
    "only roles with privileges of",
)
_LINE = re.compile(r"^psql:[^:]*:(\d+): ")


class DumpError(ExporterError):
    """The dump is missing, unreadable, incomplete, not a PostgreSQL dump, or could not be restored."""

    exit_code = 1


def detect(path: Path) -> tuple[str, bool]:
    """(format, gzipped): format is 'custom', 'tar' or 'plain', from the file's magic bytes."""
    try:
        with open(path, "rb") as f:
            head = f.read(512)
            gz = head[:2] == b"\x1f\x8b"
            if gz:
                f.seek(0)
                try:
                    with gzip.GzipFile(fileobj=f) as g:
                        head = g.read(512)
                except (OSError, EOFError, zlib.error) as exc:
                    raise DumpError(f"{path}: corrupt gzip data ({exc})") from None
    except FileNotFoundError:
        raise DumpError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DumpError(
            f"{path} is a directory; pass a pg_dump file (custom, tar or plain SQL, gzipped or not)"
        ) from None
    except PermissionError:
        raise DumpError(f"{path}: permission denied") from None
    if head.startswith(b"PGDMP"):
        return "custom", gz
    if head[257:262] == b"ustar":
        return "tar", gz
    if not head.strip():
        raise DumpError(f"{path}: the file is empty")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = ""
    if "\x00" not in text and any(w in text for w in ("--", "SET ", "CREATE ", "\\restrict", "SELECT ")):
        return "plain", gz
    raise DumpError(
        f"{path}: not a PostgreSQL dump (expected pg_dump custom or tar format, or plain SQL, optionally gzipped)"
    )


def _incomplete(path: Path, why: str) -> DumpError:
    return DumpError(f"{path}: the dump is incomplete ({why}); copy or download the whole file again")


def _check_plain_tail(path: Path, tail: bytes) -> None:
    if TRAILER not in tail:
        raise _incomplete(path, "it ends before pg_dump's '-- PostgreSQL database dump complete' line")


def _check_tar(path: Path, gz: bool) -> None:
    """Every member whole, ending with pg_dump's restore.sql: pg_restore spins forever on some cut tar files."""
    try:
        with tarfile.open(path, "r:gz" if gz else "r:") as tar:
            members = tar.getmembers()
            if gz:  # a stream: read to its end, so a cut or corrupt gzip raises here
                for m in members:
                    if m.isfile():
                        member = tar.extractfile(m)
                        assert member is not None  # extractfile returns None only for a non-file member
                        member.read()
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise _incomplete(path, f"the tar archive is cut or corrupt: {exc}") from None
    if not gz and any(m.offset_data + m.size > path.stat().st_size for m in members):
        raise _incomplete(path, "a member of the tar archive ends after the end of the file")
    if not members or members[-1].name != "restore.sql":
        raise _incomplete(path, "the tar archive does not end with pg_dump's restore.sql")


@dataclass
class _Pump:
    """Copies a dump (decompressing it if gzipped) into a process's stdin, in a thread; keeps what it learns."""

    src: IO[bytes] | gzip.GzipFile  # the dump as it is read: `raw`, or a gzip stream over it
    raw: IO[bytes]  # the file itself, whose position is the progress
    dst: IO[bytes]
    total: int
    limit: int  # bytes it may write at most (the free disk space): a decompression bomb stops here
    progress: Progress | None
    head: bytes = b""
    tail: bytes = b""
    written: int = 0
    error: BaseException | None = None
    thread: threading.Thread = field(init=False)

    def start(self) -> _Pump:
        self.thread = threading.Thread(target=self._run, daemon=True, name="dump-pump")
        self.thread.start()
        return self

    def _run(self) -> None:
        try:
            while True:
                chunk = self.src.read(CHUNK)
                if not chunk:
                    break
                if len(self.head) < TAIL:
                    self.head += chunk[:TAIL]
                self.tail = (self.tail + chunk)[-TAIL:]
                self.written += len(chunk)
                if self.written > self.limit:
                    raise OverflowError(self.limit)
                self.dst.write(chunk)
                if self.progress:
                    self.progress(self.raw.tell(), self.total)
        except BrokenPipeError:
            pass
        except (OSError, EOFError, zlib.error, OverflowError) as exc:  # cut or corrupt gzip, or too big
            self.error = exc
        finally:
            try:
                self.dst.close()
            except BrokenPipeError:
                pass


def _restore_into(pg: LocalPostgres, path: Path, fmt: str, gz: bool, progress: Progress | None) -> list[str]:
    """Run psql or pg_restore as the restore role; returns the refused statements (raises on an incomplete dump)."""
    conn = ["-h", str(pg.socketdir), "-p", str(pg.port), "-U", RESTORE_ROLE, "-d", DBNAME]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    total = path.stat().st_size
    if fmt == "plain" and not gz:
        with open(path, "rb") as f:
            f.seek(max(0, total - TAIL))
            _check_plain_tail(path, f.read())
    if fmt == "tar":
        _check_tar(path, gz)
    if fmt == "plain":
        cmd = [pg.tool("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=0", "-f", "-", *conn]
    else:
        cmd = [pg.tool("pg_restore"), "--no-owner", "--no-privileges", *conn]
    if fmt != "plain" and not gz:  # pg_restore reads the file itself (seekable; custom format in 2 jobs)
        res = subprocess.run(
            [*cmd, *(["-j", "2"] if fmt == "custom" else []), str(path)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
        )
        if progress:
            progress(total, total)
        return _outcome(pg, path, fmt, res.stderr)
    key = secrets.token_hex(16)
    limit = shutil.disk_usage(pg.base).free
    with open(path, "rb") as raw:
        src = gzip.GzipFile(fileobj=raw) if gz else raw
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        assert proc.stdin is not None and proc.stderr is not None  # both are PIPE
        if fmt == "plain":  # restricted mode: from here on psql runs no meta-command but \unrestrict <key>
            proc.stdin.write(f"\\restrict {key}\n".encode())
        pump = _Pump(src, raw, proc.stdin, total, limit, progress).start()
        try:
            stderr = proc.stderr.read().decode("utf-8", "replace")
        except (OSError, EOFError):
            stderr = ""
        proc.wait()
        pump.thread.join()
    if isinstance(pump.error, OverflowError):
        raise DumpError(
            f"{path}: decompresses to more than the {limit / 2**20:,.0f} MiB free in {pg.base.parent} "
            "(a decompression bomb, or too little space: set TMPDIR to a larger disk)"
        )
    if pump.error is not None:
        raise _incomplete(path, f"the gzip stream is cut or corrupt: {pump.error}")
    if fmt == "plain":
        _check_plain_tail(path, pump.tail)
    return _outcome(pg, path, fmt, stderr, own_restrict=_own_restrict_line(pump.head))


def _own_restrict_line(head: bytes) -> int | None:
    """The line of the dump's own `\\restrict KEY` (pg_dump since 17.6/16.10/15.14), +1 for our line before it."""
    for n, line in enumerate(head.split(b"\n")[:20], start=2):
        if re.fullmatch(rb"\\restrict [A-Za-z0-9]+", line.strip()):
            return n
    return None


def _outcome(pg: LocalPostgres, path: Path, fmt: str, stderr: str, own_restrict: int | None = None) -> list[str]:
    """Sort the restore's messages: unreadable input fails, refused statements are returned, the rest warned."""
    refused, errors = [], []
    for line in stderr.splitlines():
        text = line.strip()
        if fmt != "plain" and text.startswith("pg_restore: error:") and "could not execute query" not in text:
            raise _incomplete(path, text.removeprefix("pg_restore: error:").strip()[:200])
        m = _LINE.match(text)
        where = f"line {int(m.group(1)) - 1}: " if m else ""  # our \restrict line came first
        if "\\unrestrict: wrong key" in text or (m and own_restrict and int(m.group(1)) == own_restrict):
            continue  # the dump's own \restrict and \unrestrict lines: refused, and they need not run
        if any(r in text for r in _REFUSED):
            what = _LINE.sub("", text).removeprefix("pg_restore: error: could not execute query: ")
            refused.append(where + re.sub(r"^(error|ERROR):\s+", "", what))
        elif "ERROR" in text or "error:" in text.lower():
            errors.append(text)
    if not schema_of(pg):
        first = errors[0] if errors else (stderr.strip().splitlines() or ["no LiteLLM tables in it"])[0]
        raise DumpError(f"{path}: restore failed: {first.strip()[:300]}")
    if errors:  # e.g. extensions or roles of the source server: the LiteLLM tables are there
        print(
            f"litellm-spend-exporter: warning: {len(errors)} restore error(s) ignored, first: {errors[0][:200]}",
            file=sys.stderr,
        )
    if refused:
        print(
            f"litellm-spend-exporter: warning: refused {len(refused)} command(s) of {path.name} that a data "
            f"restore never runs (first, {refused[0][:200]}); restored the rest without them",
            file=sys.stderr,
        )
    return refused


def schema_of(pg: LocalPostgres) -> str | None:
    """The schema holding LiteLLM_SpendLogs in the restored database (public unless DATABASE_SCHEMA was set)."""
    res = pg.psql(
        DBNAME,
        "-At",
        "-c",
        "SELECT n.nspname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
        "ON n.oid OPERATOR(pg_catalog.=) c.relnamespace WHERE c.relname OPERATOR(pg_catalog.=) "
        "'LiteLLM_SpendLogs' ORDER BY n.nspname OPERATOR(pg_catalog.=) 'public' DESC LIMIT 1",
        check=False,
        user=RESTORE_ROLE,
    )
    return res.stdout.strip() or None


@dataclass
class Restored:
    """A restored dump: its private server, the schema of LiteLLM's tables, and the reader's URL."""

    pg: LocalPostgres
    schema: str
    reader_url: str
    refused: list[str]
    dbname: str = DBNAME


def restore(path: str | Path, progress: Progress | None = None, postgres: str = "embedded") -> Restored:
    """Start a private PostgreSQL and restore `path` into database 'litellm'; the caller must `pg.cleanup()`."""
    from sqlalchemy.engine import make_url

    from exporter.access import roles

    path = Path(path)
    fmt, gz = detect(path)
    try:
        pg = LocalPostgres(resolve_bindir(postgres), settings={"maintenance_work_mem": "256MB"}).start()
    except LocalPostgresError as exc:
        raise DumpError(f"cannot start a local PostgreSQL for {path}: {exc}") from None
    try:
        pg.psql(
            "postgres",
            "-c",
            f"CREATE ROLE {RESTORE_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS",
        )
        pg.psql("postgres", "-c", f"CREATE DATABASE {DBNAME}")
        pg.psql(
            DBNAME,
            "-c",
            f"GRANT CREATE ON DATABASE {DBNAME} TO {RESTORE_ROLE}; ALTER SCHEMA public OWNER TO {RESTORE_ROLE}",
        )
        refused = _restore_into(pg, path, fmt, gz, progress)
        pg.psql(DBNAME, "-c", "ANALYZE", check=False, user=RESTORE_ROLE)
        schema = schema_of(pg) or "public"
        password = secrets.token_urlsafe(18)
        roles.apply(make_url(pg.url(DBNAME)), [roles.Reader("exporter", READER, 5, "60s", password)], schema)
    except BaseException:
        pg.cleanup()
        raise
    return Restored(pg, schema, pg.url(DBNAME, user=READER, password=password), refused)


@contextmanager
def restored(path: str | Path, progress: Progress | None = None, postgres: str = "embedded") -> Iterator[Restored]:
    """`restore` as a context manager: the server and its directory are removed on exit."""
    r = restore(path, progress, postgres)
    try:
        yield r
    finally:
        r.pg.cleanup()
