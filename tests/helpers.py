"""Test helpers: run the real console script, start `serve` on loopback, poll with deadlines, parse metrics."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from exporter import app, config
from exporter.collect.refresher import Refresher
from exporter.local.postgres import free_port

SCRIPT = shutil.which("litellm-spend-exporter", path=str(Path(sys.executable).parent)) or "litellm-spend-exporter"
ROOT = Path(__file__).resolve().parents[1]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LITELLM_EXPORTER_", "DATABASE_", "PG"))}
    # the console script imports this checkout, not the tree the virtualenv was installed from (another worktree)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env.update(extra)
    return env


def run_cli(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [SCRIPT, *args], capture_output=True, text=True, timeout=timeout, env=env if env is not None else clean_env()
    )


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except Exception as exc:
            last = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def http_get(url: str, timeout: float = 10.0, headers: dict | None = None) -> tuple[int, bytes, dict]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted label items): value} from exposition text."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


class Serve:
    """`litellm-spend-exporter serve` as a real process on 127.0.0.1; stopped on exit."""

    def __init__(
        self,
        database_url: str,
        *args: str,
        env: dict | None = None,
        interval: str = "1s",
        ready_path: str | None = "/healthz",
    ):
        self.ready_path = ready_path
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [SCRIPT, "serve", "--web.listen-address", f"127.0.0.1:{self.port}", "--refresh.interval", interval, *args],
            env={**(env or clean_env()), "LITELLM_EXPORTER_DATABASE_URL": database_url},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def __enter__(self) -> Serve:
        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited {self.proc.returncode}: {self.proc.stderr.read()}")
            if self.ready_path is None:  # e.g. TLS: just wait for the port
                import socket

                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return True
            return http_get(self.base + self.ready_path, timeout=2)[0] == 200

        wait_for(ready, timeout=60, what="serve to be ready")
        return self

    def metrics(self) -> str:
        status, body, _ = http_get(self.base + "/metrics")
        assert status == 200
        return body.decode()

    def stop(self) -> tuple[int, str, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            out, err = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        return self.proc.returncode, out, err

    def __exit__(self, *exc) -> None:
        self.stop()


def exporter_for(db, **settings) -> Refresher:
    data: dict = {"database": {"url": db.url}, "unsafe": {"allow_write_role": True}}  # superuser URL
    for path, value in settings.items():
        section, _, key = path.partition("__")
        data.setdefault(section, {})[key] = value
    cfg = config.Config.model_validate(data)
    return app.build(cfg)


def scrape(ref: Refresher) -> dict:
    assert ref.refresh(), ref.last_error
    return samples(ref.snapshot.body.decode())


def total(s: dict, name: str, **match) -> float:
    return sum(
        v for (n, labels), v in s.items() if n == name and all(dict(labels).get(k) == x for k, x in match.items())
    )


def by(s: dict, name: str, label: str) -> dict:
    out: dict = {}
    for (n, labels), v in s.items():
        if n == name:
            key = dict(labels)[label]
            out[key] = out.get(key, 0) + v
    return out
