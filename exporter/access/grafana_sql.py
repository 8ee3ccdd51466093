"""Grafana's PostgreSQL macros and template variables, expanded into plain SQL the way Grafana does."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

# Grafana's frontend replaces template variables first ($var, ${var}, ${var:format}, [[var]]); the backend then
# replaces $__interval_ms, $__interval, $__unixEpochFrom() and $__unixEpochTo() (sqleng.Interpolate) and last
# the PostgreSQL macros (pkg/tsdb/grafana-postgresql-datasource/macros.go).
_VARIABLE = re.compile(r"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?::([^}]+))?\}")
_MACRO = re.compile(r"\$([_a-zA-Z0-9]+)\(([^)]*)\)")
_GO_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_GO_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DAY_UNITS = {"d": 86400, "w": 7 * 86400}

# Fixed values for planning the statements (exporter/access/grants.py): a one-day window, one-minute buckets, and one
# sample value per template variable (`variables` maps names to samples; unknown names get 'sample').
PLAN_FROM = datetime(2026, 1, 1, tzinfo=UTC)
PLAN_TO = datetime(2026, 1, 2, tzinfo=UTC)
PLAN_INTERVAL_SECONDS = 60


class MacroError(ValueError):
    """A macro Grafana would also reject (unknown name, missing argument, bad interval)."""


def expand(
    text: str,
    time_from: datetime,
    time_to: datetime,
    interval_seconds: float,
    variables: Mapping[str, str | Sequence[str] | int | float],
) -> str:
    """`text` as Grafana sends it to PostgreSQL for this time range, interval and variable values.

    A list value is a multi-value variable (or All, which Grafana sends as every value): a comma-separated list
    of single-quoted literals, for `IN ($var)`. A str value is a single-value variable: inserted as is, with
    quotes doubled, as Grafana does for variables that are neither multi nor include All. Naive datetimes are
    UTC. Unknown variables are left untouched, as in Grafana.
    """
    start, end = _utc(time_from), _utc(time_to)
    if end < start:
        raise MacroError("the time range ends before it starts")
    interval = timedelta(seconds=interval_seconds)
    text = _variables(text, {**_builtins(start, end, interval), **variables})
    # sqleng.Interpolate, in Grafana's order (_ms first: $__interval is its prefix)
    text = text.replace("$__interval_ms", str(int(interval / timedelta(milliseconds=1))))
    text = text.replace("$__interval", format_interval(interval))
    text = text.replace("$__unixEpochFrom()", str(int(start.timestamp())))
    text = text.replace("$__unixEpochTo()", str(int(end.timestamp())))

    def macro(m: re.Match) -> str:
        name = m.group(1)
        if name == "__timeGroup" and text[m.end() : m.end() + 1] == ",":
            name = "__timeGroupAlias"  # Grafana's pre-5.3 compatibility: `$__timeGroup(...),` adds the alias
        return _macro(name, [a.strip() for a in m.group(2).split(",")], start, end)

    return _MACRO.sub(macro, text)


def expand_for_planning(text: str, variables: Mapping[str, str | Sequence[str]] | None = None) -> str:
    """`text` with fixed sample values, for EXPLAIN (which relations and columns a panel reads)."""
    samples: dict[str, str | Sequence[str]] = {name: ["sample"] for name in variable_names(text)}
    samples.update(variables or {})
    return expand(text, PLAN_FROM, PLAN_TO, PLAN_INTERVAL_SECONDS, samples)


def variable_names(text: str) -> list[str]:
    """Template variables a text refers to (Grafana's built-in __ variables and macros excluded)."""
    names = []
    for m in _VARIABLE.finditer(text):
        name = m.group(1) or m.group(2) or m.group(4)
        if not name.startswith("__") and name not in names:
            names.append(name)
    return names


def body(text: str) -> str:
    """The statement of a SQL file without its header comment (what a panel's rawSql holds)."""
    lines = text.splitlines()
    while lines and (lines[0].startswith("--") or not lines[0].strip()):
        lines.pop(0)
    return "\n".join(lines).strip() + "\n"


def format_interval(interval: timedelta) -> str:
    """Grafana's gtime.FormatInterval: the largest whole unit (90s is 1m), as $__interval reads."""
    ms = int(interval / timedelta(milliseconds=1))
    for unit, size in (
        ("y", 365 * 86_400_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
        ("ms", 1),
    ):
        if ms >= size:
            return f"{ms // size}{unit}"
    return "1ms"


def parse_interval(text: str) -> float:
    """Grafana's gtime.ParseInterval in seconds: `Nd`, `Nw`, or a Go duration such as `5m`, `1h30m`, `0.5s`."""
    text = text.strip().strip("'")
    m = re.fullmatch(r"(\d+)([dw])", text)
    if m:
        return float(int(m.group(1)) * _DAY_UNITS[m.group(2)])
    if re.fullmatch(r"\d+[My]", text):
        raise MacroError(f"calendar interval {text!r} (months, years) is not supported here")
    parts = _GO_DURATION.findall(text)
    if not text or "".join(n + u for n, u in parts) != text:
        raise MacroError(f"error parsing interval {text}")
    return sum(float(n) * _GO_UNITS[u] for n, u in parts)


def quote_literal(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _builtins(start: datetime, end: datetime, interval: timedelta) -> dict[str, str]:
    rng = end - start
    return {
        "__from": str(int(start.timestamp() * 1000)),
        "__to": str(int(end.timestamp() * 1000)),
        "__range_ms": str(int(rng / timedelta(milliseconds=1))),
        "__range_s": str(int(rng.total_seconds())),
        "__range": f"{int(rng.total_seconds())}s",
        "__interval": format_interval(interval),
        "__interval_ms": str(int(interval / timedelta(milliseconds=1))),
    }


def _format(value, fmt: str | None, builtin: bool) -> str:
    if builtin or isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        if fmt in (None, "sqlstring"):
            return quote_literal(value) if fmt else value.replace("'", "''")
        value = [value]
    values = [str(v) for v in value]
    if fmt in (None, "sqlstring"):
        return ",".join(quote_literal(v) for v in values)
    if fmt in ("csv", "raw"):
        return ",".join(values)
    raise MacroError(f"unsupported variable format {fmt!r}")


def _variables(text: str, values: Mapping) -> str:
    def replace(m: re.Match) -> str:
        name = m.group(1) or m.group(2) or m.group(4)
        fmt = m.group(3) or m.group(5)
        if name not in values:
            return m.group(0)
        return _format(values[name], fmt, name.startswith("__"))

    return _VARIABLE.sub(replace, text)


def _go_float(value: float) -> str:
    """Go's %v of a float64 (shortest digits; exponent form from 1e+06 on), as macros.go prints seconds."""
    if value == 0:
        return "0"
    d = Decimal(repr(float(value))).normalize()
    sign, digits, exp = d.as_tuple()
    if not isinstance(exp, int):  # "F", "n" or "N": an infinite or NaN interval (e.g. 400 digits of seconds)
        raise MacroError(f"interval of {value} seconds is out of range")
    e = len(digits) + exp - 1  # decimal exponent of the first digit
    if -4 <= e < 6:
        return format(d, "f")
    mant = "".join(map(str, digits))
    mant = mant[0] + ("." + mant[1:] if len(mant) > 1 else "")
    return f"{'-' if sign else ''}{mant}e{'+' if e >= 0 else '-'}{abs(e):02d}"


def _macro(name: str, args: list[str], start: datetime, end: datetime) -> str:
    col = args[0] if args and args[0] else None
    if name in ("__time", "__timeEpoch", "__timeFilter", "__unixEpochFilter", "__unixEpochNanoFilter") and not col:
        raise MacroError(f"missing time column argument for macro {name}")
    if name == "__time":
        return f'{col} AS "time"'
    if name == "__timeEpoch":
        return f'extract(epoch from {col}) as "time"'
    if name == "__timeFilter":
        return f"{col} BETWEEN '{_rfc3339nano(start)}' AND '{_rfc3339nano(end)}'"
    if name == "__timeFrom":
        return f"'{_rfc3339nano(start)}'"
    if name == "__timeTo":
        return f"'{_rfc3339nano(end)}'"
    if name in ("__timeGroup", "__timeGroupAlias", "__unixEpochGroup", "__unixEpochGroupAlias"):
        if len(args) < 2:
            raise MacroError(f"macro {name} needs time column and interval and optional fill value")
        secs = _go_float(parse_interval(args[1]))  # a third argument (fill mode) only changes Grafana's output
        expr = (
            f"floor(extract(epoch from {col})/{secs})*{secs}"
            if name.startswith("__timeGroup")
            else f"floor(({col})/{secs})*{secs}"
        )
        return expr + (' AS "time"' if name.endswith("Alias") else "")
    if name == "__unixEpochFilter":
        return f"{col} >= {int(start.timestamp())} AND {col} <= {int(end.timestamp())}"
    if name == "__unixEpochNanoFilter":
        return f"{col} >= {_nanos(start)} AND {col} <= {_nanos(end)}"
    if name == "__unixEpochNanoFrom":
        return str(_nanos(start))
    if name == "__unixEpochNanoTo":
        return str(_nanos(end))
    raise MacroError(f"unknown macro {name!r}")


def _nanos(dt: datetime) -> int:
    delta = dt - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86400 + delta.seconds) * 10**9 + delta.microseconds * 1000


def _rfc3339nano(dt: datetime) -> str:
    """Go's time.RFC3339Nano in UTC: fractional seconds without trailing zeros, 'Z'."""
    base = dt.strftime("%Y-%m-%dT%H:%M:%S")
    frac = f"{dt.microsecond:06d}".rstrip("0")
    return f"{base}.{frac}Z" if frac else f"{base}Z"
