"""Loads the read-only SQL statements kept one per file in `sql/`, by name, with named bind parameters."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import sqlalchemy as sa

_PACKAGE = Path(__file__).resolve().parents[1]  # exporter/
# Installed wheels carry the files in exporter/sql; a source checkout keeps them in the top-level sql/.
_CANDIDATES = (_PACKAGE / "sql", _PACKAGE.parent / "sql")
_NAME = re.compile(r"^[a-z0-9_]+(/[a-z0-9_]+)*$")


def sql_dir() -> Path:
    for path in _CANDIDATES:
        if path.is_dir():
            return path
    raise FileNotFoundError("the sql/ folder is missing from this installation")


def names() -> list[str]:
    root = sql_dir()
    return sorted(str(p.relative_to(root).with_suffix("")) for p in root.rglob("*.sql"))


@cache
def text(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"invalid SQL file name {name!r}")
    return (sql_dir() / f"{name}.sql").read_text(encoding="utf-8")


@cache
def statement(name: str) -> sa.TextClause:
    """The statement in sql/<name>.sql; values are bound with :name parameters, never formatted in."""
    clause = sa.text(text(name))
    _NAMES[id(clause)] = name  # the clause lives in the cache, so its id stays its own
    return clause


_NAMES: dict[int, str] = {}


def name_of(clause: object) -> str | None:
    """The sql/ file name of a clause made by `statement`, else None."""
    return _NAMES.get(id(clause))
