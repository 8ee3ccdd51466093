"""The audit's options, its stable JSON keys and small number helpers shared by the builders and renderers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

AUDIT_VERSION = 1
# Top-level keys of the JSON report, in order; documented in README ("Audit") and pinned by tests/test_audit.py.
KEYS = (
    "audit_version",
    "generated_at",
    "source",
    "window",
    "requests",
    "failures",
    "error_rate",
    "errors_by_class",
    "models",
    "deployments",
    "keys",
    "always_failing_models",
    "context_overflow",
    "spend_usd",
    "cost_concentration",
    "tokens",
    "latency_seconds",
    "ttft_seconds",
    "attribution",
    "pricing",
    "budgets",
    "timeline",
    "findings",
)
FORMATS = ("text", "md", "html", "json")


@dataclass(frozen=True)
class Options:
    """What to audit and how to show it (filled from the `audit` flags)."""

    since: datetime | None = None  # UTC, naive
    until: datetime | None = None
    last: float | None = None  # seconds before the newest request
    key: str | None = None  # key alias, masked key name or hash
    team: str | None = None  # team alias or id
    model: str | None = None  # model group
    min_requests: int = 5
    ratio_threshold: float = 20.0
    budget_threshold: float = 0.8
    top: int = 10
    fmt: str = "text"
    output: str | None = None
    dump: str | None = None
    source: str = ""
    filters: dict = field(default_factory=dict)


def share(part: float, whole: float) -> float | None:
    """part / whole, or None when whole is 0."""
    return float(part) / float(whole) if whole else None


def ratio(a: float, b: float) -> float | None:
    return float(a) / float(b) if b else None


def pct(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value * 100:.{digits}f}%"


def usd(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"${value:,.4f}" if abs(value) < 100 else f"${value:,.2f}"


def secs(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.1f} s"


def num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def ratio_text(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}:1" if value >= 10 else f"{value:.1f}:1"
