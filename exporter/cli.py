"""Command line: Prometheus-style dotted flags, each with an environment variable; nothing else lives here."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import NoReturn

from exporter import __version__, config, logs
from exporter.errors import ConfigError, ExporterError

EPILOG = (
    "Precedence: flags > environment variables > --config.file > defaults. "
    "Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error."
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _setting(parser: argparse.ArgumentParser, path: tuple[str, str], help_text: str, **kw) -> None:
    flag, envs = next((f, e) for p, f, e in config.SETTINGS if p == path)
    dest = "cfg__" + "__".join(path)
    parser.add_argument(flag, dest=dest, default=None, help=f"{help_text} [env: {', '.join(envs)}]", **kw)


def _common(parser: argparse.ArgumentParser, database: bool = True) -> None:
    parser.add_argument(
        config.CONFIG_FILE_FLAG,
        dest="config_file",
        metavar="FILE",
        help=f"YAML config file [env: {config.CONFIG_FILE_ENV}]",
    )
    if database:
        _setting(
            parser,
            ("database", "url"),
            "PostgreSQL URL of LiteLLM's database, e.g. "
            "postgresql://exporter@db:5432/litellm (prefer the env var: flags show in `ps`)",
            metavar="URL",
        )
        _setting(parser, ("database", "schema"), "schema of LiteLLM's tables (default public)", metavar="NAME")
        _setting(parser, ("database", "statement_timeout"), "per-statement timeout (default 30s)", metavar="DUR")
        _setting(parser, ("database", "lock_timeout"), "lock wait timeout (default 2s)", metavar="DUR")
        _setting(parser, ("database", "connect_timeout"), "connection timeout (default 5s)", metavar="DUR")
    _setting(parser, ("log", "level"), "debug, info, warning or error (default info)", metavar="LEVEL")
    _setting(parser, ("log", "format"), "text or json (default text)", metavar="FMT")


def _web(parser: argparse.ArgumentParser, default: str) -> None:
    _setting(parser, ("web", "listen_address"), f"address for /metrics (default {default})", metavar="HOST:PORT")
    _setting(
        parser, ("web", "config_file"), "TLS and basic auth config (Prometheus exporter-toolkit format)", metavar="FILE"
    )
    _setting(parser, ("refresh", "interval"), "how often to read the database (default 30s)", metavar="DUR")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="litellm-spend-exporter",
        epilog=EPILOG,
        description="Prometheus metrics, checks and a demo over LiteLLM's Postgres spend ledger.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    serve = sub.add_parser(
        "serve",
        help="run the exporter",
        epilog=EPILOG,
        description="Read LiteLLM's database on a schedule and serve /metrics, /healthz and /.",
    )
    _common(serve)
    _web(serve, ":9733")
    _setting(
        serve,
        ("unsafe", "allow_write_role"),
        "run even if the database role could write (logs a warning every refresh)",
        action="store_const",
        const=True,
    )
    serve.add_argument(
        "--dump",
        dest="serve_dump",
        metavar="FILE",
        help="serve metrics from a pg_dump of LiteLLM's database (custom, tar or plain SQL, optionally "
        "gzipped) restored into a private PostgreSQL, removed on exit, instead of --database.url",
    )

    check = sub.add_parser(
        "check",
        help="check the database connection and LiteLLM schema",
        epilog=EPILOG,
        description="Connect, report the detected LiteLLM schema capabilities, exit non-zero "
        "when something required is missing.",
    )
    _common(check)
    check.add_argument(
        "--reader",
        dest="check_reader",
        choices=["exporter", "grafana"],
        default="exporter",
        help="whose grants to verify the login against: exporter (default, sql/grants/exporter.json) "
        "or grafana (the dashboards' datasource login, sql/grants/grafana.json)",
    )

    demo = sub.add_parser(
        "demo",
        help="run the exporter on an embedded PostgreSQL with demo data",
        epilog=EPILOG,
        description="Start a private PostgreSQL with LiteLLM's real schema and generated demo "
        "traffic, create a read-only login, and serve /metrics from it. "
        "Ctrl-C stops everything and removes the data unless --keep.",
    )
    _common(demo, database=False)
    _web(demo, "127.0.0.1:9733")
    demo.add_argument("--rows", type=int, default=100_000, help="SpendLogs rows to generate (default 100000)")
    demo.add_argument("--seed", type=int, default=42, help="random seed for the demo data (default 42)")
    demo.add_argument("--days", type=float, default=30.0, help="days of history to generate (default 30)")
    demo.add_argument(
        "--traffic",
        type=float,
        default=2.0,
        metavar="RPS",
        help="new requests per second appended while the demo runs (default 2; 0 for none)",
    )
    demo.add_argument("--once", action="store_true", help="print one scrape of /metrics and exit")
    demo.add_argument("--keep", action="store_true", help="keep the data directory when stopping")
    demo.add_argument(
        "--postgres",
        default="embedded",
        metavar="KIND",
        help="embedded (default), debian-15, or a PostgreSQL bin/ directory",
    )
    roles = sub.add_parser(
        "roles",
        help="create or remove the read-only roles for the exporter and Grafana",
        epilog=EPILOG,
        description="Apply (or remove) litellm-spend-exporter's migrations and read-only logins with an admin "
        "connection: each login may SELECT exactly the LiteLLM columns its SQL reads, and nothing else. "
        "Passwords come from LITELLM_EXPORTER_ROLE_PASSWORD / LITELLM_GRAFANA_ROLE_PASSWORD or "
        "roles.<reader>.password_file, never from flags. Re-run after a LiteLLM upgrade.",
    )
    roles.add_argument("action", choices=["apply", "remove"], help="apply (idempotent) or remove")
    roles.add_argument(
        "--admin.url",
        dest="admin_url",
        metavar="URL",
        help="URL of a role that may create roles and grant on LiteLLM's tables, without a password "
        "(use PGPASSWORD or ~/.pgpass) [env: LITELLM_EXPORTER_ADMIN_URL, may hold the password]",
    )
    roles.add_argument("--sql", action="store_true", help="print the SQL instead of running it (for DBAs)")
    roles.add_argument(
        "--roles.exporter-name",
        dest="exporter_name",
        metavar="NAME",
        help="the exporter's login (default litellm_spend_exporter; '-' to skip it)",
    )
    roles.add_argument(
        "--roles.grafana-name",
        dest="grafana_name",
        metavar="NAME",
        help="the Grafana datasource's login (default litellm_grafana; '-' to skip it)",
    )
    _common(roles, database=False)
    _setting(roles, ("database", "schema"), "schema of LiteLLM's tables (default public)", metavar="NAME")

    dashboards = sub.add_parser(
        "dashboards",
        help="write the Grafana dashboards as JSON files",
        epilog=EPILOG,
        description="Write the Grafana dashboards (spend overview, budgets, errors and latency over Prometheus; "
        "the spend ledger over a PostgreSQL datasource with the read-only Grafana role) as JSON files "
        "to import in Grafana's UI or to provision from a folder.",
    )
    dashboards.add_argument(
        "--output",
        dest="dashboards_output",
        metavar="DIR",
        default="dashboards/generated",
        help="directory to write <name>.json into (default dashboards/generated, the "
        "committed copies in a source checkout)",
    )
    dashboards.add_argument(
        "--thresholds",
        dest="dashboards_thresholds",
        metavar="FILE",
        help="alert thresholds (the format of deploy/prometheus/config.yaml) for the panels' threshold lines and "
        "burn window, and for the alert rules written next to them (--rules-output, default DIR/rules), so both "
        "agree; default: the shipped thresholds, and no rules written",
    )
    dashboards.add_argument(
        "--rules-output",
        dest="dashboards_rules_output",
        metavar="DIR",
        help="also write the Prometheus alert rules (<concern>.yaml) from the same thresholds into DIR",
    )
    dashboards.set_defaults(config_file=None)

    audit = sub.add_parser(
        "audit",
        help="a one-shot audit report of LiteLLM's spend tables (errors, cost, tokens, latency, budgets)",
        epilog=EPILOG,
        description="Read LiteLLM's tables (through a read-only session, or from a pg_dump file "
        "restored into a private PostgreSQL) and report error rates and classes, always-failing models, "
        "context-window overflows, cost concentration, token ratios, latency, attribution gaps, pricing gaps and "
        "budgets, with a prioritized list of actions.",
    )
    _common(audit)
    audit.add_argument(
        "--format",
        dest="audit_format",
        choices=["text", "md", "html", "json"],
        default="text",
        help="text (default), md, html (one self-contained file with charts) or json",
    )
    audit.add_argument("--output", dest="audit_output", metavar="FILE", help="write the report here (default stdout)")
    audit.add_argument(
        "--since",
        dest="audit_since",
        metavar="TIME",
        help="start of the window, ISO 8601 (UTC unless it has an offset), e.g. 2026-11-01 or 2026-11-01T08:00",
    )
    audit.add_argument("--until", dest="audit_until", metavar="TIME", help="end of the window (exclusive), ISO 8601")
    audit.add_argument(
        "--last", dest="audit_last", metavar="DUR", help="the last DUR of data (24h, 7d, 90m) up to the newest request"
    )
    audit.add_argument(
        "--key", dest="audit_key", metavar="ALIAS", help="only this virtual key (alias, sk-...abcd name or hash)"
    )
    audit.add_argument("--team", dest="audit_team", metavar="ALIAS", help="only this team (alias or id)")
    audit.add_argument("--model", dest="audit_model", metavar="GROUP", help="only this model group")
    audit.add_argument(
        "--min-requests",
        dest="audit_min_requests",
        type=int,
        default=5,
        metavar="N",
        help="requests a model needs before it can be called always-failing (default 5)",
    )
    audit.add_argument(
        "--ratio-threshold",
        dest="audit_ratio",
        type=float,
        default=20.0,
        metavar="X",
        help="flag input/output token ratios above X:1 (default 20)",
    )
    audit.add_argument(
        "--top", dest="audit_top", type=int, default=10, metavar="N", help="how many top requests to list (default 10)"
    )
    audit.add_argument(
        "--dump",
        dest="audit_dump",
        metavar="FILE",
        help="audit a pg_dump file (custom, tar or plain "
        "SQL, optionally gzipped) instead of --database.url; it is restored into a private embedded "
        "PostgreSQL and removed afterwards",
    )
    return parser


def _flags(args: argparse.Namespace) -> dict[tuple[str, str], str]:
    flags: dict[tuple[str, str], str] = {}
    for k, v in vars(args).items():
        if k.startswith("cfg__") and v is not None:
            section, key = k.removeprefix("cfg__").split("__")  # dest is "cfg__" + "__".join(path), see _setting
            flags[(section, key)] = v
    return flags


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    debug = False
    try:
        cfg = config.load(_flags(args), args.config_file)
        debug = cfg.log.level == "debug"
        logs.setup(cfg.log.level, cfg.log.format)
        if (
            "://" in (getattr(args, "cfg__database__url", None) or "")
            and ":" in args.cfg__database__url.split("://", 1)[1].split("@", 1)[0]
            and "@" in args.cfg__database__url
        ):
            logging.getLogger("exporter").warning(
                "the password in --database.url is visible to other users of this machine (ps, /proc); "
                "pass the URL in DATABASE_URL or LITELLM_EXPORTER_DATABASE_URL instead"
            )
        if args.command == "serve":
            if args.serve_dump:
                if args.cfg__database__url:
                    raise ConfigError("--dump and --database.url are exclusive: serve one or the other")
                from exporter.local.serve import serve_dump

                return serve_dump(cfg, args.serve_dump)
            from exporter.app import serve

            return serve(cfg)
        if args.command == "check":
            from exporter.access.check import run as run_check

            return run_check(cfg, args.check_reader)
        if args.command == "dashboards":
            from dashboards.build import run as run_dashboards

            return run_dashboards(
                args.dashboards_output, args.dashboards_thresholds, rules_output=args.dashboards_rules_output
            )
        if args.command == "roles":
            from exporter.access.rolescmd import run as run_roles

            return run_roles(
                cfg,
                args.action,
                admin_url=args.admin_url,
                sql_only=args.sql,
                names={"exporter": args.exporter_name, "grafana": args.grafana_name},
            )
        if args.command == "audit":
            from exporter.audit.command import options
            from exporter.audit.command import run as run_audit

            return run_audit(cfg, options(args))
        if args.command == "demo":
            from exporter.local.demo import run as run_demo

            return run_demo(
                cfg,
                rows=args.rows,
                seed=args.seed,
                days=args.days,
                once=args.once,
                keep=args.keep,
                postgres=args.postgres,
                traffic=args.traffic,
            )
        raise ConfigError(f"unknown command {args.command}")
    except ExporterError as exc:
        if debug:
            logging.getLogger("exporter").exception("failed")
        print(
            f"litellm-spend-exporter {args.command}: {'configuration error: ' if exc.exit_code == 2 else ''}{exc}",
            file=sys.stderr,
        )
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if debug:
            raise
        from exporter.database.connection import redact

        print(
            f"litellm-spend-exporter {args.command}: unexpected error: {type(exc).__name__}: {redact(str(exc))} "
            "(run with --log.level=debug for a traceback)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
