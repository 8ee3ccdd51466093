"""LiteLLM's real schema, applied from the pinned `litellm-proxy-extras` migrations (for demo and tests).

LiteLLM's migrations are plain SQL files, one folder each, applied in C-locale folder order. Five of them
use CREATE INDEX CONCURRENTLY, so every statement must run in autocommit mode, the way psql runs a file;
we drive the psql of the same local server for exactly that reason.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from exporter.errors import ExporterError
from exporter.local.postgres import LocalPostgres

PINNED_VERSION = "0.4.110"


class MigrationsError(ExporterError):
    """LiteLLM's migrations are missing or do not have what was asked for (exit code 1, one line)."""


def migrations_dir() -> Path:
    spec = importlib.util.find_spec("litellm_proxy_extras")
    if spec is None or not spec.submodule_search_locations:
        raise MigrationsError(
            f"litellm-proxy-extras is not installed; `pip install litellm-proxy-extras=={PINNED_VERSION}`"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "migrations"


def migration_names() -> list[str]:
    """Every migration folder name, in the order Prisma applies them (byte order of the names)."""
    root = migrations_dir()
    return sorted(p.name for p in root.iterdir() if (p / "migration.sql").is_file())


def select(upto: str | None = None, after: str | None = None) -> list[str]:
    """Folders up to and including the one starting with `upto`, and/or strictly after `after`."""
    names = migration_names()
    if after is not None:
        names = [n for n in names if n > after and not n.startswith(after)]
    if upto is not None:
        matches = [i for i, n in enumerate(names) if n.startswith(upto)]
        if not matches:
            raise MigrationsError(f"no LiteLLM migration starts with {upto!r}")
        names = names[: matches[-1] + 1]
    return names


def apply(pg: LocalPostgres, dbname: str, names: list[str] | None = None, schema: str = "public") -> int:
    """Apply the given migrations (default: all) to an empty database; return how many ran.

    A `schema` other than public mimics LiteLLM's DATABASE_SCHEMA: the objects are created there.
    """
    root = migrations_dir()
    names = migration_names() if names is None else names
    script = "\n".join("\\i '" + str(root / n / "migration.sql").replace("'", "''") + "'" for n in names)
    ident = '"' + schema.replace('"', '""') + '"'
    prelude = "SET client_min_messages = error;\n"
    if schema != "public":
        prelude += f"CREATE SCHEMA IF NOT EXISTS {ident};\nSET search_path = {ident};\n"
    pg.psql(dbname, input=prelude + script + "\n")
    return len(names)
