"""Restores a LiteLLM database dump (pg_dump custom/tar or plain SQL, optionally gzipped) into a private
embedded PostgreSQL, for `audit --dump` (and `serve --dump`); the server and its data go away afterwards."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from exporter.errors import ExporterError
from exporter.localpg import LocalPostgres, LocalPostgresError, resolve_bindir

DBNAME = "litellm"
CHUNK = 1 << 20
Progress = Callable[[int, int], None]  # (bytes read so far, total bytes)


class DumpError(ExporterError):
    """The dump is missing, unreadable, not a PostgreSQL dump, or could not be restored."""

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
                except (OSError, EOFError) as exc:
                    raise DumpError(f"{path}: corrupt gzip data ({exc})") from None
    except FileNotFoundError:
        raise DumpError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DumpError(f"{path} is a directory; pass a pg_dump file (custom, tar or plain SQL, gzipped or not)") \
            from None
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
    raise DumpError(f"{path}: not a PostgreSQL dump (expected pg_dump custom or tar format, or plain SQL, "
                    "optionally gzipped)")


def _pump(src, dst, total: int, progress: Progress | None, raw) -> None:
    """Copy src to dst (a process's stdin), reporting bytes of the file read so far."""
    try:
        while True:
            chunk = src.read(CHUNK)
            if not chunk:
                break
            dst.write(chunk)
            if progress:
                progress(raw.tell(), total)
    except BrokenPipeError:
        pass
    finally:
        try:
            dst.close()
        except BrokenPipeError:
            pass


def _restore_into(pg: LocalPostgres, path: Path, fmt: str, gz: bool, progress: Progress | None) -> None:
    conn = ["-h", str(pg.socketdir), "-p", str(pg.port), "-U", "postgres", "-d", DBNAME]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    if fmt == "plain":
        cmd = [pg.tool("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=0", *conn]
    else:
        cmd = [pg.tool("pg_restore"), "--no-owner", "--no-privileges", *conn]
    total = path.stat().st_size
    if fmt != "plain" and not gz:  # pg_restore reads the file itself (seekable; custom format in 2 jobs)
        res = subprocess.run([*cmd, *(["-j", "2"] if fmt == "custom" else []), str(path)], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, errors="replace")
        if progress:
            progress(total, total)
        _check(pg, path, res.stderr)
        return
    with open(path, "rb") as raw:
        src = gzip.GzipFile(fileobj=raw) if gz else raw
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                env=env)
        pump = threading.Thread(target=_pump, args=(src, proc.stdin, total, progress, raw), daemon=True)
        pump.start()
        try:
            stderr = proc.stderr.read().decode("utf-8", "replace")
        except (OSError, EOFError):
            stderr = ""
        proc.wait()
        pump.join()
    _check(pg, path, stderr)


def _check(pg: LocalPostgres, path: Path, stderr: str) -> None:
    errors = [line for line in stderr.splitlines() if "ERROR" in line or "error:" in line.lower()]
    if not _has_spend_logs(pg):
        first = errors[0] if errors else (stderr.strip().splitlines() or ["no LiteLLM tables in it"])[0]
        raise DumpError(f"{path}: restore failed: {first.strip()[:300]}")
    if errors:  # e.g. extensions or roles of the source server: the LiteLLM tables are there
        print(f"litellm-spend-exporter: warning: {len(errors)} restore error(s) ignored, first: {errors[0][:200]}",
              file=sys.stderr)


def _has_spend_logs(pg: LocalPostgres) -> bool:
    return bool(schema_of(pg))


def schema_of(pg: LocalPostgres) -> str | None:
    """The schema holding LiteLLM_SpendLogs in the restored database (public unless DATABASE_SCHEMA was set)."""
    res = pg.psql(DBNAME, "-At", "-c", "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = "
                  "c.relnamespace WHERE c.relname = 'LiteLLM_SpendLogs' ORDER BY n.nspname = 'public' DESC LIMIT 1",
                  check=False)
    return res.stdout.strip() or None


def restore(path: str | Path, progress: Progress | None = None, postgres: str = "embedded") -> tuple[LocalPostgres, str]:
    """Start a private PostgreSQL and restore `path` into database 'litellm'; the caller must `pg.cleanup()`."""
    path = Path(path)
    fmt, gz = detect(path)
    try:
        pg = LocalPostgres(resolve_bindir(postgres), settings={"maintenance_work_mem": "256MB"}).start()
    except LocalPostgresError as exc:
        raise DumpError(f"cannot start a local PostgreSQL for {path}: {exc}") from None
    try:
        pg.psql("postgres", "-c", f"CREATE DATABASE {DBNAME}")
        _restore_into(pg, path, fmt, gz, progress)
        pg.psql(DBNAME, "-c", "ANALYZE", check=False)
    except BaseException:
        pg.cleanup()
        raise
    return pg, DBNAME


@contextmanager
def restored(path: str | Path, progress: Progress | None = None, postgres: str = "embedded") \
        -> Iterator[tuple[LocalPostgres, str]]:
    """`restore` as a context manager: the server and its directory are removed on exit."""
    pg, name = restore(path, progress, postgres)
    try:
        yield pg, name
    finally:
        pg.cleanup()

