"""`serve --dump FILE`: a pg_dump restored into a private PostgreSQL and served like a live database."""

from __future__ import annotations

import sys

from exporter.app import Running, wait_for_signal
from exporter.config import Config
from exporter.database import connection
from exporter.local import dump
from exporter.local.progress import TerminalProgress


def serve_dump(cfg: Config, path: str) -> int:
    """Restore a pg_dump of LiteLLM's database into a private PostgreSQL and serve metrics from it (read-only)."""
    with TerminalProgress(sys.stderr.isatty()) as progress, dump.restored(path, progress=progress.bytes) as restored:
        local = cfg.model_copy(update={"database": cfg.database.model_copy(update={"db_schema": restored.schema})})
        running = Running(local, connection.normalize_url(restored.reader_url))
        print(
            f"serving metrics from the dump {path} (restored into {restored.pg.basedir}, removed on exit): "
            f"{running.url}",
            file=sys.stderr,
        )
        try:
            wait_for_signal()
        finally:
            running.stop()
    return 0
