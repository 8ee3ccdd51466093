"""The alert runbooks (docs/runbooks/<Alert>.md), shipped in the package and served at /runbooks/: the rules'
runbook_url is `runbook_base_url` + <Alert>.md, so pointing it at an exporter's /runbooks/ links every alert."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[1]  # exporter/
# Installed wheels carry them in exporter/runbooks (pyproject force-include); a checkout keeps them in docs/runbooks.
_CANDIDATES = (_PACKAGE / "runbooks", _PACKAGE.parent / "docs" / "runbooks")
_NAME = re.compile(r"^[A-Za-z0-9]+\.md$")  # an alert name: no dots, slashes or anything a path could climb with


def runbook_dir() -> Path | None:
    return next((p for p in _CANDIDATES if p.is_dir()), None)


@cache
def names() -> tuple[str, ...]:
    found = runbook_dir()
    return tuple(sorted(p.name for p in found.glob("*.md") if _NAME.match(p.name))) if found else ()


def get(name: str) -> bytes | None:
    """The runbook `name` (e.g. LiteLLMDbExporterDown.md), or None: only names of the shipped files are served."""
    found = runbook_dir()
    if found is None or name not in names():
        return None
    return (found / name).read_bytes()
