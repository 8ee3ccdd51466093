"""Exact, restart-safe counters over LiteLLM_SpendLogs that read only what changed.

Cold start: one SQL aggregate of every row before the window, plus the window's rows one by one.
Every refresh after that: a census of rows per minute inside the window [newest counted - overlap, ...),
compared with the rows each minute held at the last refresh; only minutes whose count changed are read (new
rows, rows LiteLLM wrote late, rows written after a delete), and rows are de-duplicated by (request_id,
startTime). Everything read is applied only when the whole refresh has succeeded (`commit`), so a failed refresh
changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy.engine import Connection

from exporter import errorclass, exposition, sqlfiles
from exporter.config import Config
from exporter.ledger import ZERO, Ledger, Observation, Skips, clean_row, negated_bounds, sql_bucket
from exporter.schema import Capabilities
from exporter.spec import DEFAULT_LIMITS, DURATION_BUCKETS, TTFT_BUCKETS

log = logging.getLogger("exporter.spend_logs")
MAX_MINUTES_PER_QUERY = 60


@dataclass
class _Row:
    """A row of sql/spend_logs_rows.sql, in the shape ledger.clean_row reads."""

    dims: tuple
    start_epoch: float
    status: str
    spend: float
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int | None
    cache_creation_tokens: int | None
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
    observations: list = field(default_factory=list)
    seed: bool = False
    idents: dict = field(default_factory=dict)  # minute -> set of (request_id, startTime)
    census: dict = field(default_factory=dict)  # minute -> rows it held, for every minute of the window
    newest: datetime | None = None
    skips: Skips = field(default_factory=Skips)
    key_names: dict = field(default_factory=dict)
    team_names: dict = field(default_factory=dict)
    db_now: datetime | None = None
    out_of_range: int = 0


def _minute(ts: datetime) -> datetime:
    return ts.replace(second=0, microsecond=0)


def _epoch(ts: datetime) -> float:
    return (ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)).timestamp()


def _from_minute(minute: int, aware: bool) -> datetime:
    try:
        ts = datetime.fromtimestamp(minute * 60, tz=timezone.utc)
    except (OverflowError, ValueError, OSError):  # the minute after 9999-12-31 23:59: the end of time
        ts = datetime.max.replace(tzinfo=timezone.utc)
    return ts if aware else ts.replace(tzinfo=None)


class SpendLogs:
    name = "spend_logs"

    def __init__(self, cfg: Config):
        self.overlap = timedelta(seconds=cfg.spend_logs.overlap)
        self.cache_tokens = cfg.spend_logs.cache_tokens
        self.max_rows = cfg.spend_logs.max_rows_per_refresh
        self.labels = exposition.family_labels(cfg.metrics.labels, self.cache_tokens)
        used = {lbl for labels in self.labels.values() for lbl in labels}
        self.with_user = "user" in used
        self.with_end_user = "end_user" in used
        self.ledger = Ledger({**DEFAULT_LIMITS, **cfg.metrics.limits})
        self.seen: dict[int, set] = {}  # minute -> (request_id, startTime) of every row counted in it
        # minute -> rows it held at the last refresh. Compared with the census rather than len(seen): after a
        # delete or TRUNCATE a minute holds fewer rows than were counted, and new rows bringing it back to the
        # same number must still be read.
        self.census: dict[int, int] = {}
        self.window_from: datetime | None = None
        self.newest: datetime | None = None
        self.db_now: datetime | None = None
        self.key_names: dict = {}
        self.team_names: dict = {}
        self._pending: _Pending | None = None
        self._logged: set[str] = set()
        self.out_of_range = 0  # most rows with an unrepresentable startTime seen at once (skipped, counted)

    # -- reading -----------------------------------------------------------------------------------
    def _flags(self) -> dict:
        return {"with_user": self.with_user, "with_end_user": self.with_end_user,
                "with_cache_tokens": self.cache_tokens}

    def collect(self, conn: Connection, caps: Capabilities) -> int:
        variant = "" if caps.status_column else "_nostatus"
        aware = caps.timestamps_with_time_zone
        hw = conn.execute(sqlfiles.statement("spend_logs_high_water")).one()
        db_now = hw.db_now.replace(tzinfo=timezone.utc) if aware else hw.db_now
        newest = min(hw.max_start, db_now) if hw.max_start is not None else None
        cold = self.window_from is None
        anchor = (self.newest if not cold else newest) or db_now
        window_from = _minute(anchor - self.overlap)
        if not cold:
            window_from = max(window_from, self.window_from)  # never re-open counted history
        pending = _Pending(window_from=window_from, newest=self.newest, db_now=db_now,
                           out_of_range=max(self.out_of_range, hw.out_of_range))
        if pending.out_of_range > self.out_of_range:
            pending.skips["start_time_out_of_range"] += pending.out_of_range - self.out_of_range
        rows_read = 0
        if cold:
            pending.seed = True
            for g in conn.execute(sqlfiles.statement("spend_logs_totals" + variant),
                                  {"before": window_from, **self._flags(),
                                   "neg_duration_bounds": negated_bounds(DURATION_BUCKETS),
                                   "neg_ttft_bounds": negated_bounds(TTFT_BUCKETS)}):
                pending.observations.append(self._group(g, pending.skips))
                rows_read += 1
        census = {row.minute: row.n for row in
                  conn.execute(sqlfiles.statement("spend_logs_census"), {"since": window_from})}
        rows_read += len(census)
        changed = sorted(m for m, n in census.items() if n != self.census.get(m, 0))
        pending.census = dict(census)
        budget = self.max_rows
        for first, last in _runs(changed):
            if budget <= 0:  # minutes left unread keep their old count, so the next refresh reads them
                for m in changed:
                    if m >= first:
                        pending.census.pop(m, None)
                        if m in self.census:
                            pending.census[m] = self.census[m]
                break
            result = conn.execute(sqlfiles.statement("spend_logs_rows" + variant),
                                  {"from_time": _from_minute(first, aware), "to_time": _from_minute(last + 1, aware),
                                   **self._flags()})
            for row in result:
                rows_read += 1
                budget -= 1
                ident = (row.request_id, row.start_time)
                if ident in self.seen.get(row.minute, ()) or ident in pending.idents.get(row.minute, ()):
                    continue
                pending.idents.setdefault(row.minute, set()).add(ident)
                pending.observations.append(clean_row(self._raw(row), pending.skips, _epoch(db_now)))
                start = min(row.start_time, db_now)
                if pending.newest is None or start > pending.newest:
                    pending.newest = start
        for sql_name, target, column in (("key_names", pending.key_names, "hashed_api_key"),
                                         ("team_names", pending.team_names, "team_id")):
            deleted = "LiteLLM_Deleted" + ("VerificationToken" if sql_name == "key_names" else "TeamTable")
            names = ["deleted_" + sql_name] if caps.usable(deleted) else []
            for name in names + [sql_name]:  # live rows last, so they win
                for row in conn.execute(sqlfiles.statement(name)):
                    target[getattr(row, column)] = row
                    rows_read += 1
        self._pending = pending
        return rows_read

    def _raw(self, row) -> _Row:
        return _Row(dims=(row.requested_model, row.model, row.api_provider, row.api_key, row.team, row.user,
                          row.end_user), start_epoch=_epoch(row.start_time), status=row.status, spend=row.spend,
                    input_tokens=row.input_tokens, output_tokens=row.output_tokens,
                    cache_read_tokens=row.cache_read_tokens, cache_creation_tokens=row.cache_creation_tokens,
                    negative_cache_tokens=row.negative_cache_tokens, huge_cache_tokens=row.huge_cache_tokens,
                    duration=row.duration, ttft=row.ttft, normalized_error=row.normalized_error,
                    error_code=row.error_code, error_class=row.error_class, error_hint=row.error_hint)

    @staticmethod
    def _group(g, skips: Skips) -> Observation:
        for reason in ("nonfinite_spend", "negative_spend", "negative_tokens", "huge_tokens", "negative_duration",
                       "nonfinite_duration"):
            if getattr(g, reason):
                skips[reason] += int(getattr(g, reason))
        failed = g.status == "failure"
        dur_bucket = sql_bucket(DURATION_BUCKETS, g.duration_bucket)
        ttft_bucket = sql_bucket(TTFT_BUCKETS, g.ttft_bucket)
        return Observation(
            dims=(g.requested_model, g.model, g.api_provider, g.api_key, g.team, g.user, g.end_user),
            status="failure" if failed else "success",
            error_class=errorclass.classify(g.normalized_error, g.error_code, g.error_class, g.error_hint)
            if failed else "",
            requests=int(g.requests), spend=g.spend or ZERO, input_tokens=int(g.input_tokens or 0),
            output_tokens=int(g.output_tokens or 0), cache_read_tokens=int(g.cache_read_tokens or 0),
            cache_creation_tokens=int(g.cache_creation_tokens or 0), duration_bucket=dur_bucket,
            duration_sum=(g.duration_sum or ZERO) if dur_bucket is not None else ZERO,
            ttft_bucket=ttft_bucket, ttft_sum=(g.ttft_sum or ZERO) if ttft_bucket is not None else ZERO)

    # -- applying ----------------------------------------------------------------------------------
    def commit(self) -> None:
        p, self._pending = self._pending, None
        if p is None:
            return
        if p.seed:
            self.ledger.seed(p.observations)
        for obs in p.observations:
            self.ledger.apply(obs)
        self.ledger.skips.update(p.skips)
        for reason, count in p.skips.items():
            if count and reason not in self._logged:  # once per reason, not per row
                self._logged.add(reason)
                log.warning("skipped or clamped SpendLogs values (counted in litellm_db_rows_skipped_total)",
                            extra={"reason": reason, "rows": count})
        for minute, idents in p.idents.items():
            self.seen.setdefault(minute, set()).update(idents)
        self.window_from = p.window_from
        first_minute = int(_epoch(p.window_from) // 60)
        for minute in [m for m in self.seen if m < first_minute]:
            del self.seen[minute]
        self.census = {m: n for m, n in p.census.items() if m >= first_minute}
        self.newest = p.newest
        self.db_now = p.db_now
        self.out_of_range = p.out_of_range
        self.key_names, self.team_names = p.key_names, p.team_names

    def rollback(self) -> None:
        self._pending = None

    # -- exposing ----------------------------------------------------------------------------------
    def families(self) -> list:
        lag = (_epoch(self.db_now) - _epoch(self.newest)) if self.db_now and self.newest else None
        return exposition.families(self.ledger, self.labels, self.key_names, self.team_names, lag)


def _runs(minutes: list[int]):
    """Contiguous runs of minutes, at most MAX_MINUTES_PER_QUERY long: [(first, last), ...]."""
    start = prev = None
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
