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


FRAGMENTS = "fragments"  # sql/fragments/*.sql: pieces of statements (`-- include: NAME`), never run alone
# `-- Variants: NAME` in a file's header makes sql/<file>_<NAME> too: the same text with these replacements.
VARIANTS: dict[str, tuple[tuple[str, str], ...]] = {
    # LiteLLM before 20250508072103 has no SpendLogs.status column: the status is in metadata
    "nostatus": (("COALESCE(s.status, s.metadata->>'status')", "s.metadata->>'status'"),),
}
_INCLUDE = re.compile(r"^[ \t]*-- include: ([a-z0-9_/]+)\n", re.M)
_EXPAND = re.compile(r"^([ \t]*)-- expand: ([a-z_]+)\n", re.M)
_DECLARED = re.compile(r"^-- Variants: ([a-z_, ]+)$", re.M)


def _files() -> list[str]:
    root = sql_dir()
    found = (str(p.relative_to(root).with_suffix("")) for p in root.rglob("*.sql"))
    return sorted(n for n in found if not n.startswith(FRAGMENTS + "/"))


def _variants_of(name: str) -> list[str]:
    m = _DECLARED.search(_read(name))
    return [v.strip() for v in m.group(1).split(",")] if m else []


def names() -> list[str]:
    """Every statement: each file of sql/ but the fragments, and the variants the files declare."""
    return sorted(f"{n}_{v}" if v else n for n in _files() for v in ["", *_variants_of(n)])


def _read(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"invalid SQL file name {name!r}")
    return (sql_dir() / f"{name}.sql").read_text(encoding="utf-8")


def _expansion(what: str, indent: str) -> str:
    """Text generated from the metric contract, so that it has one place (spec.py)."""
    from exporter.metrics.spec import HISTOGRAMS, SUMS

    if what == "counter_sums":  # one column per value the counters sum, as the exporter clamps single rows
        usd = "sum(CASE WHEN {v} >= 0 AND {v} < 'Infinity' THEN {v}::numeric ELSE 0 END) AS {v},\n"
        tokens = "sum(greatest({v}, 0)) AS {v},\n"
        return "".join(indent + (usd if unit == "usd" else tokens).format(v=v) for v, unit in SUMS.items())
    if what == "negative_tokens":  # token values below 0, counted 0 (NULL counts 0); cache tokens: the row block's
        terms = " + ".join(f"(COALESCE({v}, 0) < 0)::int" for v, unit in SUMS.items() if unit == "tokens")
        return f"{indent}sum({terms} + negative_cache_tokens) AS negative_tokens,\n"
    if what == "histogram_bucket_columns":  # rows per width_bucket value 0 .. len(bounds), one column each
        return (
            "".join(
                f"{indent}count(*) FILTER (WHERE {h.value}_bucket = {i}) AS {h.value}_w{i},\n"
                for h in HISTOGRAMS
                for i in range(len(h.buckets) + 1)
            ).removesuffix(",\n")
            + "\n"
        )
    raise ValueError(f"unknown `-- expand: {what}` in sql/")


@cache
def text(name: str) -> str:
    """The statement sql/<name>.sql (or a declared variant of one), fragments included, expansions generated."""
    base, _, variant = name.rpartition("_")
    if base and variant in VARIANTS and (sql_dir() / f"{base}.sql").exists() and variant in _variants_of(base):
        body = text(base)
        for old, new in VARIANTS[variant]:
            if old not in body:
                raise ValueError(f"sql/{base}.sql declares the variant {variant} but has no {old!r}")
            body = body.replace(old, new)
        return body
    body = _INCLUDE.sub(lambda m: _read(m.group(1)), _read(name))
    return _EXPAND.sub(lambda m: _expansion(m.group(2), m.group(1)), body)


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
