"""Configuration: a strict YAML schema (pydantic), overlaid by environment variables and flags."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from exporter.errors import ConfigError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
ENV_PREFIX = "LITELLM_EXPORTER_"
MAX_DURATION_DAYS = 366  # no setting needs more; keeps timers and date arithmetic far from their limits
POSTGRES_MAX_MS = 2147483647  # PostgreSQL's limit for statement_timeout and lock_timeout (int4 milliseconds)


def parse_duration(value: Any) -> float:
    """`30s`, `500ms`, `5m`, `1h`, `7d` or a number of seconds -> seconds (float), at most 366 days."""
    if isinstance(value, bool):
        raise ValueError("expected a duration like 30s, 5m or 1h")
    try:
        if isinstance(value, (int, float)):
            seconds = float(value)
        elif isinstance(value, str) and (m := _DURATION.match(value)):
            seconds = float(m.group(1)) * _UNITS[m.group(2)]
        else:
            raise ValueError("expected a duration like 30s, 5m or 1h")
    except OverflowError:  # an integer too large for a float
        seconds = float("inf")
    if not (seconds >= 0):
        raise ValueError("expected a non-negative duration")
    if seconds > MAX_DURATION_DAYS * 86400:
        raise ValueError(f"expected a duration of at most {MAX_DURATION_DAYS}d")
    return seconds


def postgres_milliseconds(seconds: float) -> int:
    """A duration as the whole milliseconds PostgreSQL is given (what `statement_timeout` is set to)."""
    return int(seconds * 1000)


def _postgres_timeout(seconds: float) -> float:
    if postgres_milliseconds(seconds) >= POSTGRES_MAX_MS:
        raise ValueError(f"must be below {POSTGRES_MAX_MS}ms (PostgreSQL's limit, about 24.8 days)")
    return seconds


def url_schema(url: Any) -> str | None:
    """The `schema` argument of a Prisma-style database URL (`...?schema=litellm`), if it has one."""
    raw = url.get_secret_value() if isinstance(url, SecretStr) else url
    if not isinstance(raw, str):
        return None
    try:
        values = parse_qs(urlsplit(raw.strip()).query).get("schema")
    except ValueError:  # not a URL: reported when the URL is used
        return None
    return values[-1] if values else None


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class DatabaseConfig(Strict):
    url: SecretStr | None = Field(None, description="PostgreSQL URL of LiteLLM's database (read-only role)")
    db_schema: str = Field(
        "public",
        alias="schema",
        min_length=1,
        max_length=63,
        description="schema holding LiteLLM's tables (LiteLLM's DATABASE_SCHEMA)",
    )
    statement_timeout: float = Field(30.0, description="per-statement timeout")
    lock_timeout: float = Field(2.0, description="lock wait timeout")
    connect_timeout: float = Field(5.0, description="connection timeout")
    application_name: str = Field("litellm-spend-exporter", min_length=1, max_length=63)

    _durations = field_validator("statement_timeout", "lock_timeout", "connect_timeout", mode="before")(
        lambda v: parse_duration(v)
    )
    _postgres_limit = field_validator("statement_timeout", "lock_timeout")(_postgres_timeout)

    @model_validator(mode="before")
    @classmethod
    def _schema_from_url(cls, data: Any) -> Any:
        """A Prisma URL's `?schema=` (LiteLLM's DATABASE_URL) is the schema, unless one is set explicitly."""
        if isinstance(data, dict) and "schema" not in data and "db_schema" not in data:
            schema = url_schema(data.get("url"))
            if schema is not None:
                data = {**data, "schema": schema}
        return data

    @field_validator("connect_timeout")
    @classmethod
    def _connect_timeout_positive(cls, v: float) -> float:
        if v < 1:
            raise ValueError("must be at least 1s")
        return v


class WebConfig(Strict):
    listen_address: str = Field(":9733", description="host:port the HTTP server listens on")
    config_file: str | None = Field(None, description="TLS and basic auth (Prometheus exporter-toolkit format)")

    @field_validator("listen_address")
    @classmethod
    def _valid_address(cls, v: str) -> str:
        parse_listen_address(v)
        return v


class RefreshConfig(Strict):
    interval: float = Field(30.0, description="how often the exporter reads the database")
    _durations = field_validator("interval", mode="before")(lambda v: parse_duration(v))

    @field_validator("interval")
    @classmethod
    def _positive(cls, v: float) -> float:
        if v < 1:
            raise ValueError("must be at least 1s")
        return v


class SpendLogsConfig(Strict):
    overlap: float = Field(900.0, description="how far behind the newest row LiteLLM may still write rows late")
    cache_tokens: bool = Field(False, description="count prompt-cache tokens (reads metadata of every row)")
    max_rows_per_refresh: int = Field(500_000, ge=1000, description="soft cap on rows read per refresh")
    _durations = field_validator("overlap", mode="before")(lambda v: parse_duration(v))

    @field_validator("overlap")
    @classmethod
    def _at_least_a_minute(cls, v: float) -> float:
        if v < 60:
            raise ValueError("must be at least 1m (LiteLLM writes rows 10-30 s after a request ends)")
        return v


class MetricsConfig(Strict):
    labels: dict[str, list[str]] = Field(
        default_factory=dict, description="label set per SpendLogs family, e.g. litellm_db_spend_usd_total"
    )
    limits: dict[str, int] = Field(
        default_factory=dict, description="top-N values kept per label (the rest are summed as __other__)"
    )

    @field_validator("labels")
    @classmethod
    def _known_labels(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        from exporter.metrics.spec import SPEND_LOGS_FAMILIES

        families = {f.name: f for f in SPEND_LOGS_FAMILIES}
        for name, labels in v.items():
            if name not in families:
                raise ValueError(f"unknown family {name!r}; choose from {', '.join(sorted(families))}")
            unknown = [lbl for lbl in labels if lbl not in families[name].configurable]
            if unknown:
                raise ValueError(
                    f"{name}: unknown label(s) {', '.join(map(repr, unknown))}; choose from "
                    f"{', '.join(families[name].configurable)}"
                )
            if len(set(labels)) != len(labels):
                raise ValueError(f"{name}: a label is listed twice")
        return v

    @field_validator("limits")
    @classmethod
    def _known_limits(cls, v: dict[str, int]) -> dict[str, int]:
        from exporter.metrics.spec import DEFAULT_LIMITS

        for label, limit in v.items():
            if label not in DEFAULT_LIMITS:
                raise ValueError(f"unknown label {label!r}; limits apply to {', '.join(DEFAULT_LIMITS)}")
            if not isinstance(limit, int) or limit < 1:
                raise ValueError(f"{label}: the limit must be a positive integer")
        return v


_ROLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$-]{0,62}$")


class ReaderConfig(Strict):
    name: str = Field(description="login role name")
    connection_limit: int = Field(5, ge=1, le=1000)
    statement_timeout: float = Field(60.0, description="statement_timeout set on the role itself")
    password_file: str | None = Field(None, description="file holding the password (else the environment)")
    _durations = field_validator("statement_timeout", mode="before")(lambda v: parse_duration(v))
    _postgres_limit = field_validator("statement_timeout")(_postgres_timeout)

    @field_validator("name")
    @classmethod
    def _identifier(cls, v: str) -> str:
        if not _ROLE_NAME.match(v) or v.lower().startswith("pg_"):
            raise ValueError("expected a role name: letters, digits, _ $ -, at most 63, not starting with pg_")
        return v


class RolesConfig(Strict):
    exporter: ReaderConfig | None = ReaderConfig(name="litellm_spend_exporter")
    grafana: ReaderConfig | None = ReaderConfig(name="litellm_grafana", connection_limit=10, statement_timeout=30)


class UnsafeConfig(Strict):
    allow_write_role: bool = Field(False, description="run even when the database role could write")


class LogConfig(Strict):
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["text", "json"] = "text"


class Config(Strict):
    database: DatabaseConfig = DatabaseConfig()
    web: WebConfig = WebConfig()
    refresh: RefreshConfig = RefreshConfig()
    spend_logs: SpendLogsConfig = SpendLogsConfig()
    metrics: MetricsConfig = MetricsConfig()
    roles: RolesConfig = RolesConfig()
    unsafe: UnsafeConfig = UnsafeConfig()
    log: LogConfig = LogConfig()


def parse_listen_address(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError("expected host:port, e.g. :9733 or 127.0.0.1:9733")
    host = host.strip("[]")
    return host, int(port)


# -- sources ---------------------------------------------------------------------------------------

# Every setting that can come from a flag or an environment variable: (path, flag, env vars...).
SETTINGS: list[tuple[tuple[str, str], str, tuple[str, ...]]] = [
    (("database", "url"), "--database.url", (ENV_PREFIX + "DATABASE_URL", "DATABASE_URL")),
    (("database", "schema"), "--database.schema", (ENV_PREFIX + "DATABASE_SCHEMA", "DATABASE_SCHEMA")),
    (("database", "statement_timeout"), "--database.statement-timeout", (ENV_PREFIX + "DATABASE_STATEMENT_TIMEOUT",)),
    (("database", "lock_timeout"), "--database.lock-timeout", (ENV_PREFIX + "DATABASE_LOCK_TIMEOUT",)),
    (("database", "connect_timeout"), "--database.connect-timeout", (ENV_PREFIX + "DATABASE_CONNECT_TIMEOUT",)),
    (("web", "listen_address"), "--web.listen-address", (ENV_PREFIX + "WEB_LISTEN_ADDRESS",)),
    (("web", "config_file"), "--web.config.file", (ENV_PREFIX + "WEB_CONFIG_FILE",)),
    (("refresh", "interval"), "--refresh.interval", (ENV_PREFIX + "REFRESH_INTERVAL",)),
    (("spend_logs", "overlap"), "--spend-logs.overlap", (ENV_PREFIX + "SPEND_LOGS_OVERLAP",)),
    (("unsafe", "allow_write_role"), "--unsafe.allow-write-role", (ENV_PREFIX + "UNSAFE_ALLOW_WRITE_ROLE",)),
    (("log", "level"), "--log.level", (ENV_PREFIX + "LOG_LEVEL",)),
    (("log", "format"), "--log.format", (ENV_PREFIX + "LOG_FORMAT",)),
]
CONFIG_FILE_FLAG = "--config.file"
CONFIG_FILE_ENV = ENV_PREFIX + "CONFIG_FILE"


def read_yaml(path: str) -> dict:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist; fix --config.file or {CONFIG_FILE_ENV}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"config file {path} is not valid YAML{where}: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"config file {path} must hold a mapping of sections (database, web, refresh, log), "
            f"not a {type(data).__name__}"
        )
    return data


def load(
    flags: dict[tuple[str, str], Any] | None = None,
    config_file: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Build the config: file < environment < flags. Raises ConfigError naming the key and its source."""
    environ = os.environ if environ is None else environ
    flags = flags or {}
    config_file = config_file or environ.get(CONFIG_FILE_ENV) or None
    data: dict[str, Any] = read_yaml(config_file) if config_file else {}
    origin = f"config file {config_file}" if config_file else "defaults"
    sources: dict[tuple[str, str], str] = {}
    merged = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    for path, flag, envs in SETTINGS:
        value, source = None, None
        if flags.get(path) is not None:
            value, source = flags[path], f"flag {flag}"
        else:
            for env in envs:
                if environ.get(env):
                    value, source = environ[env], f"environment variable {env}"
                    break
        if source is None:
            continue
        section = merged.setdefault(path[0], {})
        if not isinstance(section, dict):
            continue  # reported by validation below
        section[path[1]] = value
        sources[path] = source
    database = merged.get("database")
    if (
        ("database", "schema") not in sources
        and isinstance(database, dict)
        and "schema" not in database
        and url_schema(database.get("url")) is not None
    ):
        sources[("database", "schema")] = (
            f"the schema= argument of the database URL ({sources.get(('database', 'url'), origin)})"
        )
    try:
        return Config.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, sources, origin)) from None


def _describe(exc: ValidationError, sources: dict[tuple[str, str], str], origin: str) -> str:
    lines = []
    for err in exc.errors():
        loc = tuple(str(p) for p in err["loc"])
        # a key that is not a plain word (a newline, a quote, a dot) is shown quoted, so the message stays one line
        key = ".".join(p if re.fullmatch(r"[\w-]+", p) else repr(p) for p in loc) or "(top level)"
        source = sources.get((loc[0], loc[1]), origin) if len(loc) >= 2 else origin
        kind = err["type"]
        if kind == "extra_forbidden":
            parent = ".".join(loc[:-1])
            allowed = _allowed_keys(loc[:-1])
            msg = f"unknown key {key!r}" + (
                f" (allowed under {parent or 'the top level'}: {', '.join(allowed)})" if allowed else ""
            )
        elif kind == "missing":
            msg = f"missing required value {key}"
        else:
            got = err.get("input")
            shown = "<hidden>" if loc[-1:] == ("url",) else _shorten(repr(got))
            msg = f"invalid value for {key}: {err['msg'].removeprefix('Value error, ')} (got {shown})"
        lines.append(f"{msg} [from {source}]")
    return "; ".join(lines)


def _shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _allowed_keys(loc: tuple[str, ...]) -> list[str]:
    model: type[BaseModel] = Config
    for part in loc:
        field = model.model_fields.get(part) or next((f for f in model.model_fields.values() if f.alias == part), None)
        if field is None or not isinstance(field.annotation, type) or not issubclass(field.annotation, BaseModel):
            return []
        model = field.annotation
    return sorted(f.alias or name for name, f in model.model_fields.items())
