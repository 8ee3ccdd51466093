"""`audit` end to end: connect (or restore --dump), run the queries in one snapshot, build, render, write."""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from exporter.audit import queries, render_html, render_md, render_text
from exporter.audit.model import Options
from exporter.audit.report import build
from exporter.config import Config, DatabaseConfig, parse_duration
from exporter.database import connection, schema
from exporter.errors import ConfigError, ExporterError, SchemaError
from exporter.local.progress import TerminalProgress

MIN_STATEMENT_TIMEOUT = 900.0  # an audit scans the whole window: allow each statement at least 15 minutes


def audit(dbcfg: DatabaseConfig, opts: Options, url=None, step=lambda name: None) -> dict:
    """The report for one database: every query in one REPEATABLE READ READ ONLY snapshot."""
    dbcfg = dbcfg.model_copy(update={"statement_timeout": max(dbcfg.statement_timeout, MIN_STATEMENT_TIMEOUT)})
    engine = connection.create_engine(dbcfg, url)
    try:
        with connection.snapshot(engine) as conn:
            caps = schema.detect(conn, dbcfg.db_schema)
            problems = caps.missing_required()
            if problems:
                raise SchemaError("; ".join(problems))
            raw = queries.collect(conn, caps, opts, step)
    finally:
        engine.dispose()
    step("report")
    return build(raw, opts)


def render(report: dict, fmt: str, color: bool = False) -> str:
    if fmt == "json":
        return json.dumps(report, indent=2, default=str) + "\n"
    if fmt == "md":
        return render_md.render(report)
    if fmt == "html":
        return render_html.render(report)
    return render_text.render(report, color=color)


def run(cfg: Config, opts: Options, postgres: str = "embedded") -> int:
    t0 = time.monotonic()
    if opts.fmt not in ("text", "md", "html", "json"):
        raise ConfigError(f"unknown --format {opts.fmt!r}: use text, md, html or json")
    with TerminalProgress(sys.stderr.isatty()) as progress:
        if opts.dump:
            from exporter.local import dump

            with dump.restored(opts.dump, progress=progress.bytes, postgres=postgres) as restored:
                progress.step("reading")
                dbcfg = cfg.database.model_copy(update={"db_schema": restored.schema})
                opts = _with_source(opts, f"dump {Path(opts.dump).name}")
                report = audit(dbcfg, opts, connection.normalize_url(restored.reader_url), progress.step)
        else:
            if cfg.database.url is None:
                raise ConfigError(
                    "no database: set --database.url (or LITELLM_EXPORTER_DATABASE_URL / DATABASE_URL)"
                    " or pass --dump FILE"
                )
            url = connection.normalize_url(cfg.database.url.get_secret_value())
            opts = _with_source(opts, f"{url.username or ''}@{connection.target(url)}")
            report = audit(cfg.database, opts, None, progress.step)
    color = opts.output is None and opts.fmt == "text" and sys.stdout.isatty()
    text = render(report, opts.fmt, color=color)
    if opts.output:
        try:
            Path(opts.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise ExporterError(f"cannot write {opts.output}: {exc.strerror or exc}") from None
        print(
            f"litellm-spend-exporter audit: wrote {opts.output} ({report['requests']} requests, "
            f"{len(report['findings'])} findings, {time.monotonic() - t0:.1f}s)",
            file=sys.stderr,
        )
    else:
        sys.stdout.write(text)
    return 0


def _time(flag: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        ts = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"{flag} {value!r} is not an ISO 8601 time (e.g. 2026-11-01 or 2026-11-01T08:00Z)") from None
    return ts.astimezone(UTC).replace(tzinfo=None) if ts.tzinfo else ts


def options(args) -> Options:
    """Options from the `audit` flags (argparse namespace), validated; errors exit 2."""
    since, until = _time("--since", args.audit_since), _time("--until", args.audit_until)
    if since and until and since >= until:
        raise ConfigError("--since must be before --until")
    last = None
    if args.audit_last is not None:
        try:
            last = parse_duration(args.audit_last)
        except ValueError as exc:
            raise ConfigError(f"--last {args.audit_last!r}: {exc}") from None
        if last <= 0:
            raise ConfigError("--last must be a positive duration such as 24h")
    if args.audit_min_requests < 1 or args.audit_top < 1:
        raise ConfigError("--min-requests and --top must be at least 1")
    if not args.audit_ratio > 0:
        raise ConfigError("--ratio-threshold must be positive")
    if args.audit_dump and (args.cfg__database__url or os.environ.get("LITELLM_EXPORTER_DATABASE_URL")):
        raise ConfigError("--dump and --database.url are exclusive: audit one or the other")
    return Options(
        since=since,
        until=until,
        last=last,
        key=args.audit_key,
        team=args.audit_team,
        model=args.audit_model,
        min_requests=args.audit_min_requests,
        ratio_threshold=args.audit_ratio,
        top=args.audit_top,
        fmt=args.audit_format,
        output=args.audit_output,
        dump=args.audit_dump,
    )


def _with_source(opts: Options, source: str) -> Options:
    from dataclasses import replace

    return replace(opts, source=source)
