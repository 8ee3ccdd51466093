"""Exact, restart-safe counters over LiteLLM_SpendLogs that read only what changed.

Cold start: one SQL aggregate of every row before the window [newest - overlap, ...), plus the window's rows
one by one. Every refresh after that reads the rows after its cursor (the last row it read, in (startTime,
request_id) order). Rows LiteLLM writes late land behind the cursor; they are found by a census of rows per
minute inside the window, compared with what each minute held when last looked at, re-reading only minutes
whose count changed. The census is skipped while PostgreSQL's own insert counter for the table grows by exactly
the rows read after the cursor (no row can then have landed elsewhere), and runs at least every
CENSUS_MAX_AGE seconds regardless. Rows are de-duplicated by (request_id, startTime). Everything read is applied
only when the whole refresh has succeeded (`commit`), so a failed refresh changes nothing.

Memory stays bounded by what is kept per window minute and per label set: rows are read in pages, what a
refresh read is summed per label set before it is applied, and counted rows are remembered as 64-bit digests.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Connection

from exporter.collect import families
from exporter.collect.totals import (
    FIRST_DAY,
    MAX_FUTURE_SECONDS,
    ZERO,
    Observation,
    Skips,
    Tally,
    Totals,
    clean_row,
    negated_bounds,
)
from exporter.config import Config
from exporter.database import sqlfiles
from exporter.database.schema import Capabilities
from exporter.metrics import error_classes
from exporter.metrics.spec import DEFAULT_LIMITS, DURATION_BUCKETS, SUMS, TTFT_BUCKETS

log = logging.getLogger("exporter.spend_logs")
_YEAR_ONE = datetime(1, 1, 1)
MAX_MINUTES_PER_QUERY = 60  # a re-read covers at most this many contiguous minutes
PAGE_ROWS = 10_000  # rows per round trip (bounds the result held in memory)
CENSUS_MAX_AGE = 300.0
_SKIP_REASONS = (
    "nonfinite_spend",
    "negative_spend",
    "negative_tokens",
    "huge_tokens",
    "negative_duration",
    "nonfinite_duration",
)


@dataclass
class _Row:
    """A row of sql/spend_logs_rows.sql, in the shape totals.clean_row reads."""

    day: int
    dims: tuple
    start_epoch: float
    status: str
    values: dict  # spec.SUMS value -> the row's column (spend, tokens; NULL, NaN or negative included)
    negative_cache_tokens: int  # how many of the two cache token values the row block clamped up to 0
    huge_cache_tokens: int  # ... or down to 1e15
    duration: float | None
    ttft: float | None
    normalized_error: str | None
    error_code: str | None
    error_class: str | None
    error_hint: str | None


@dataclass
class _Pending:
    """What one refresh read, applied by `commit` once the whole refresh succeeded."""

    window_from: datetime
    cursor: tuple
    newest: datetime | None
    db_now: datetime
    totals: dict = field(default_factory=dict)  # (day, dims, status, error_class) -> [Totals, first start]
    idents: dict = field(default_factory=dict)  # minute -> digests of the rows counted in it
    census: dict = field(default_factory=dict)  # minute -> rows it holds (every minute of the window)
    counted: int = 0  # rows counted by this refresh
    after_cursor: int = 0  # ... of which read after the cursor
    inserted: int | None = None  # PostgreSQL's insert counter now
    census_ran: bool = False
    tally: Tally | None = None  # cold start: the history, counted into a new tally
    skips: Skips = field(default_factory=Skips)
    key_names: dict = field(default_factory=dict)
    team_names: dict = field(default_factory=dict)
    out_of_range: int = 0

    def add(self, key: tuple, value: Observation | Totals, first: float) -> None:
        """key = (day, dims, status, error_class); first = epoch of the earliest row in `value`."""
        slot = self.totals.get(key)
        if slot is None:
            slot = self.totals[key] = [Totals(), first]
        slot[0].add(value)
        slot[1] = min(slot[1], first)


def _minute(ts: datetime) -> datetime:
    return ts.replace(second=0, microsecond=0)


def _epoch(ts: datetime) -> float:
    return (ts if ts.tzinfo else ts.replace(tzinfo=UTC)).timestamp()


def _from_minute(minute: int, aware: bool) -> datetime:
    try:
        ts = datetime.fromtimestamp(minute * 60, tz=UTC)
    except (OverflowError, ValueError, OSError):  # the minute after 9999-12-31 23:59: the end of time
        ts = datetime.max.replace(tzinfo=UTC)
    return ts if aware else ts.replace(tzinfo=None)


def _digest(row) -> int:
    """A row's identity (request_id, startTime) in 8 bytes; collisions within one minute are negligible."""
    return hash((row.request_id, row.start_time))


class SpendLogs:
    name = "spend_logs"

    def __init__(self, cfg: Config):
        self.overlap = timedelta(seconds=cfg.spend_logs.overlap)
        self.cache_tokens = cfg.spend_logs.cache_tokens
        self.max_rows = cfg.spend_logs.max_rows_per_refresh
        self.statement_timeout = cfg.database.statement_timeout
        self._history_days = 7.0  # span of one cold-start aggregate, adapted to how long the last one took
        self.labels = families.family_labels(cfg.metrics.labels, self.cache_tokens)
        used = {lbl for labels in self.labels.values() for lbl in labels}
        self.with_user = "user" in used
        self.with_end_user = "end_user" in used
        self.tally = Tally({**DEFAULT_LIMITS, **cfg.metrics.limits})
        self.seen: dict[int, set] = {}  # minute -> digests of every row counted in it
        # minute -> rows it held when last looked at. Compared with the census rather than len(seen): after a
        # delete or TRUNCATE a minute holds fewer rows than were counted, and new rows bringing it back to the
        # same number must still be read.
        self.census: dict[int, int] = {}
        self.window_from: datetime | None = None
        self.cursor: tuple | None = None  # (startTime, request_id) of the last row read in order
        self.newest: datetime | None = None  # newest startTime counted, at most the database clock
        self.db_now: datetime | None = None
        self.inserted: int | None = None  # PostgreSQL's insert counter at the last census
        self.counted_since = 0  # rows counted after the cursor since then
        self.census_at: datetime | None = None
        self.key_names: dict = {}
        self.team_names: dict = {}
        self._pending: _Pending | None = None
        self._logged: set[str] = set()
        self.out_of_range = 0  # most rows with an unrepresentable startTime seen at once (skipped, counted)

    # -- reading -----------------------------------------------------------------------------------
    def _flags(self) -> dict:
        return {
            "with_user": self.with_user,
            "with_end_user": self.with_end_user,
            "with_cache_tokens": self.cache_tokens,
        }

    def collect(self, conn: Connection, caps: Capabilities) -> None:
        variant = "" if caps.status_column else "_nostatus"
        aware = caps.timestamps_with_time_zone
        hw = conn.execute(sqlfiles.statement("spend_logs_high_water")).one()
        db_now = hw.db_now.replace(tzinfo=UTC) if aware else hw.db_now
        cold = self.window_from is None
        newest = self.newest
        if cold:
            newest = min(hw.max_start, db_now) if hw.max_start is not None else None
        window_from = _minute((newest or db_now) - self.overlap)
        if self.window_from is not None:  # not cold
            window_from = max(window_from, self.window_from)  # never re-open counted history
        p = _Pending(
            window_from=window_from,
            cursor=self.cursor or (window_from, ""),
            newest=self.newest,
            db_now=db_now,
            inserted=hw.inserted,
            out_of_range=max(self.out_of_range, hw.out_of_range),
        )
        if p.out_of_range > self.out_of_range:
            p.skips["start_time_out_of_range"] += p.out_of_range - self.out_of_range
        if cold:
            p.tally = self._history(conn, variant, window_from, aware, p)
        p.census = {m: n for m, n in self.census.items() if m >= int(_epoch(window_from) // 60)}

        # 1. the rows after the cursor, up to a few minutes past the database clock (later rows: the census)
        horizon = db_now + timedelta(seconds=MAX_FUTURE_SECONDS)
        read = 0
        last_minute = None
        for row in self._rows(conn, variant, p.cursor, horizon):
            if read >= self.max_rows and row.minute != last_minute:
                break  # over budget: stop at a minute boundary; the next refresh resumes from the cursor
            read += 1
            p.cursor, last_minute = (row.start_time, row.request_id), row.minute
            if self._count(row, p, aware):
                p.after_cursor += 1
                p.census[row.minute] = p.census.get(row.minute, 0) + 1
        caught_up = read < self.max_rows

        # 2. rows that landed behind the cursor: a census of the window when the insert counter cannot rule
        # them out (or it is old), then every minute whose count changed is read again
        unexplained = (
            None
            if self.inserted is None or hw.inserted is None
            else hw.inserted - self.inserted - self.counted_since - p.after_cursor
        )
        age = (_epoch(db_now) - _epoch(self.census_at)) if self.census_at else None
        if caught_up and (cold or unexplained != 0 or age is None or age >= CENSUS_MAX_AGE):
            self._census(conn, variant, p, aware, self.max_rows - read)

        for sql_name, target, column in (
            ("key_names", p.key_names, "hashed_api_key"),
            ("team_names", p.team_names, "team_id"),
        ):
            deleted = "LiteLLM_Deleted" + ("VerificationToken" if sql_name == "key_names" else "TeamTable")
            names = ["deleted_" + sql_name] if caps.usable(deleted) else []
            for name in names + [sql_name]:  # live rows last, so they win
                for row in conn.execute(sqlfiles.statement(name)):
                    target[getattr(row, column)] = row
        self._pending = p

    def _history(self, conn: Connection, variant: str, before: datetime, aware: bool, p: _Pending) -> Tally:
        """A new tally of every row before the window: one aggregate per UTC day (each statement stays short and
        what it returns small), applied in the order rows were written."""
        tally = Tally(self.tally.limits_configured)
        today = int(_epoch(p.db_now) // 86400)
        after: datetime | str = "-infinity"
        params = {
            **self._flags(),
            "neg_duration_bounds": negated_bounds(DURATION_BUCKETS),
            "neg_ttft_bounds": negated_bounds(TTFT_BUCKETS),
        }
        started, logged, days = time.monotonic(), time.monotonic(), 0
        while True:
            first = conn.execute(
                sqlfiles.statement("spend_logs_next_start"), {"after": after, "before": before}
            ).scalar()
            if first is None:
                break
            # a span of history whose aggregate stays well inside statement_timeout ('-infinity' rows: up to year
            # 1, the first day Python can represent)
            if math.isfinite(first):
                upper = min(_from_minute(int(first // 60) + max(1, int(self._history_days * 1440)), aware), before)
            else:
                upper = min(_YEAR_ONE.replace(tzinfo=UTC) if aware else _YEAR_ONE, before)
            t0 = time.monotonic()
            conn.execute(sqlfiles.statement("history_planning"), {"enable": "off"})
            groups = [
                self._group(g, p.skips)
                for g in conn.execute(
                    sqlfiles.statement("spend_logs_totals" + variant), {"after": after, "before": upper, **params}
                )
            ]
            conn.execute(sqlfiles.statement("history_planning"), {"enable": "on"})
            self._history_days = _next_span(self._history_days, time.monotonic() - t0, self.statement_timeout)
            for key, totals, _first in sorted(groups, key=lambda g: (g[0][0], g[2], g[0])):
                tally.forget_before(min(key[0], today))
                tally.apply(*key, totals)
            after, days = upper, days + 1
            if time.monotonic() - logged > 10:
                logged = time.monotonic()
                log.info(
                    "cold start: counting SpendLogs history",
                    extra={"days_done": days, "up_to": str(upper), "rows": tally.rows_counted},
                )
        if days > 30 or time.monotonic() - started > 10:
            log.info(
                "cold start: SpendLogs history counted",
                extra={"days": days, "rows": tally.rows_counted, "seconds": round(time.monotonic() - started, 1)},
            )
        return tally

    def _rows(self, conn: Connection, variant: str, start: tuple, end: datetime):
        """Rows from `start` = (startTime, request_id) on (inclusive) with startTime < end, in order, in pages."""
        stmt = sqlfiles.statement("spend_logs_rows" + variant)
        resumed = False
        while True:
            page = conn.execute(
                stmt, {"from_time": start[0], "from_id": start[1], "to_time": end, "limit": PAGE_ROWS, **self._flags()}
            ).all()
            for row in page:
                if resumed and (row.start_time, row.request_id) == start:
                    continue  # the last row of the previous page
                yield row
            if len(page) < PAGE_ROWS:
                return
            start, resumed = (page[-1].start_time, page[-1].request_id), True

    def _count(self, row, p: _Pending, aware: bool) -> bool:
        """Count a row unless it was counted before; True when it is new."""
        ident = _digest(row)
        if ident in self.seen.get(row.minute, ()) or ident in p.idents.get(row.minute, ()):
            return False
        p.idents.setdefault(row.minute, set()).add(ident)
        obs = clean_row(self._raw(row), p.skips, _epoch(p.db_now))
        p.add((obs.day, obs.dims, obs.status, obs.error_class), obs, obs.first)
        p.counted += 1
        start = min(row.start_time, p.db_now)
        if p.newest is None or start > p.newest:
            p.newest = start
        return True

    def _census(self, conn: Connection, variant: str, p: _Pending, aware: bool, budget: int) -> None:
        census = {
            row.minute: row.n for row in conn.execute(sqlfiles.statement("spend_logs_census"), {"since": p.window_from})
        }
        rows = 0
        changed = sorted(m for m in census.keys() | p.census.keys() if census.get(m, 0) != p.census.get(m, 0))
        known = dict(p.census)
        p.census = dict(census)
        p.census_ran = True
        for first, last in _runs(changed):
            if rows >= budget:  # minutes left unread keep their old count: read next time
                for m in changed:
                    if m >= first:
                        p.census.pop(m, None)
                        if m in known:
                            p.census[m] = known[m]
                break
            for row in self._rows(conn, variant, (_from_minute(first, aware), ""), _from_minute(last + 1, aware)):
                rows += 1
                self._count(row, p, aware)

    def _raw(self, row) -> _Row:
        return _Row(
            day=FIRST_DAY if row.day is None else row.day,
            dims=(row.requested_model, row.model, row.api_provider, row.api_key, row.team, row.user, row.end_user),
            start_epoch=_epoch(row.start_time),
            status=row.status,
            values={v: getattr(row, v) for v in SUMS},
            negative_cache_tokens=row.negative_cache_tokens,
            huge_cache_tokens=row.huge_cache_tokens,
            duration=row.duration,
            ttft=row.ttft,
            normalized_error=row.normalized_error,
            error_code=row.error_code,
            error_class=row.error_class,
            error_hint=row.error_hint,
        )

    @staticmethod
    def _group(g, skips: Skips) -> tuple[tuple[int, tuple, str, str], Totals, float]:
        """A row of sql/spend_logs_totals.sql -> (key, Totals, first start)."""
        for reason in _SKIP_REASONS:
            if getattr(g, reason):
                skips[reason] += int(getattr(g, reason))
        failed = g.status == "failure"
        error = error_classes.classify(g.normalized_error, g.error_code, g.error_class, g.error_hint) if failed else ""
        totals = Totals(
            requests=int(g.requests),
            sums={v: (getattr(g, v) or ZERO) if unit == "usd" else int(getattr(g, v) or 0) for v, unit in SUMS.items()},
            duration=_buckets(g, "duration_w", DURATION_BUCKETS),
            duration_sum=g.duration_sum or ZERO,
            ttft=_buckets(g, "ttft_w", TTFT_BUCKETS),
            ttft_sum=g.ttft_sum or ZERO,
        )
        dims = (g.requested_model, g.model, g.api_provider, g.api_key, g.team, g.user, g.end_user)
        key = (FIRST_DAY if g.day is None else g.day, dims, "failure" if failed else "success", error)
        return key, totals, g.first_start

    # -- applying ----------------------------------------------------------------------------------
    def commit(self) -> None:
        p, self._pending = self._pending, None
        if p is None:
            return
        # in the order rows were written (day, then first row): admissions do not depend on how rows were read
        today = int(_epoch(p.db_now) // 86400)
        if p.tally is not None:
            self.tally = p.tally
        for (day, dims, status, error_class), (totals, _first) in sorted(
            p.totals.items(), key=lambda kv: (kv[0][0], kv[1][1], kv[0])
        ):
            self.tally.forget_before(min(day, today))
            self.tally.apply(day, dims, status, error_class, totals)
        first_minute = int(_epoch(p.window_from) // 60)
        self.tally.forget_before(min(first_minute // 1440, today))
        self.tally.skips.update(p.skips)
        for reason, count in p.skips.items():
            if count and reason not in self._logged:  # once per reason, not per row
                self._logged.add(reason)
                log.warning(
                    "skipped or clamped SpendLogs values (counted in litellm_db_rows_skipped_total)",
                    extra={"reason": reason, "rows": count},
                )
        for minute, idents in p.idents.items():
            self.seen.setdefault(minute, set()).update(idents)
        for minute in [m for m in self.seen if m < first_minute]:
            del self.seen[minute]
        self.census = {m: n for m, n in p.census.items() if m >= first_minute}
        if p.census_ran:
            self.inserted, self.counted_since, self.census_at = p.inserted, 0, p.db_now
        else:
            self.counted_since += p.after_cursor
        self.window_from = p.window_from
        self.cursor = p.cursor
        self.newest = p.newest
        self.db_now = p.db_now
        self.out_of_range = p.out_of_range
        self.key_names, self.team_names = p.key_names, p.team_names

    def rollback(self) -> None:
        self._pending = None

    # -- exposing ----------------------------------------------------------------------------------
    def families(self) -> list:
        lag = (_epoch(self.db_now) - _epoch(self.newest)) if self.db_now and self.newest else None
        return families.families(self.tally, self.labels, self.key_names, self.team_names, lag)


def _next_span(days: float, seconds: float, timeout: float) -> float:
    """The next cold-start span: halved when an aggregate took over a quarter of statement_timeout, doubled when
    it took under a sixteenth (between an hour and 60 days)."""
    target = (timeout or 600.0) / 4
    if seconds > target:
        days /= 2
    elif seconds < target / 4:
        days *= 2
    return min(max(days, 1 / 24), 60.0)


def _buckets(g, prefix: str, bounds: tuple) -> list[int]:
    """Per-bucket counts (not cumulative) from the width_bucket columns: width_bucket w is bucket len - w."""
    counts = [0] * (len(bounds) + 1)
    for w in range(len(bounds) + 1):
        counts[len(bounds) - w] = int(getattr(g, f"{prefix}{w}"))
    return counts


def _runs(minutes: list[int]) -> Iterator[tuple[int, int]]:
    """Contiguous runs of minutes, at most MAX_MINUTES_PER_QUERY long: [(first, last), ...]."""
    start: int | None = None
    prev = 0  # read only once start is set (then prev is too)
    for m in minutes:
        if start is None:
            start = prev = m
        elif m == prev + 1 and m - start < MAX_MINUTES_PER_QUERY:
            prev = m
        else:
            yield start, prev
            start = prev = m
    if start is not None:
        yield start, prev
