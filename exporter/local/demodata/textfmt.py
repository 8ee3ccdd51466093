"""Fast COPY-text formatting helpers: timestamps from epoch milliseconds, escaped JSON strings."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1)
NULL = "\\N"
_HMS: list[str] = []
_MS = [f".{i:03d}" for i in range(1000)]
_DAYS: dict[int, str] = {}


def to_ms(dt: datetime) -> int:
    """UTC-naive (or aware) datetime -> epoch milliseconds."""
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    return (dt - EPOCH) // timedelta(milliseconds=1)


def from_ms(ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=ms)


def _hms() -> list[str]:
    if not _HMS:
        _HMS.extend(f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60))
    return _HMS


def ts_formatter():
    """Return fmt(ms) -> 'YYYY-MM-DD HH:MM:SS.mmm' (timestamp(3) text), memoizing the date part per day."""
    hms, ms3, days = _hms(), _MS, _DAYS

    def fmt(ms: int) -> str:
        d, r = divmod(ms, 86_400_000)
        day = days.get(d)
        if day is None:
            day = days[d] = (EPOCH + timedelta(days=d)).strftime("%Y-%m-%d ")
        s, m = divmod(r, 1000)
        return day + hms[s] + ms3[m]

    return fmt


def copy_text(value: str) -> str:
    """Escape a plain string for COPY text format."""
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def cj(value) -> str:
    """JSON-encode a value and escape it for COPY text (json.dumps leaves no raw control characters)."""
    return json.dumps(value).replace("\\", "\\\\")
