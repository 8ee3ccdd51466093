"""The alert thresholds (deploy/prometheus/config.yaml), validated: what the alert rules and the dashboards'
threshold lines are built from."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from exporter.errors import ConfigError

DEPLOY = Path(__file__).resolve().parent.parent / "deploy" / "prometheus"
CONFIG = DEPLOY / "config.yaml"
# The wheel carries a copy of CONFIG (pyproject.toml force-include), so the dashboards, which read their thresholds
# from it, build from an installed package too.
PACKAGED_CONFIG = Path(__file__).resolve().parent / "alert-config.yaml"


def _duration(value: str) -> str:
    if not re.fullmatch(r"(\d+(ms|s|m|h|d|w|y))+", value):
        raise ValueError(f"{value!r} is not a Prometheus duration (e.g. 30s, 10m, 1h, 7d)")
    return value


def seconds(duration: str) -> int:
    """A Prometheus duration in seconds (Prometheus 2 compares numbers, not durations)."""
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
    return int(sum(int(n) * units[u] for n, u in re.findall(r"(\d+)(ms|s|m|h|d|w|y)", duration)))


Duration = Annotated[str, AfterValidator(_duration)]
Ratio = Annotated[float, Field(gt=0, le=1)]
Positive = Annotated[float, Field(gt=0)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Budget(_Section):
    warning_ratio: Ratio
    critical_ratio: Ratio
    for_: Duration = Field(alias="for")
    burn_window: Duration
    exhaustion_for: Duration


class Errors(_Section):
    window: Duration
    ratio: Ratio
    min_requests: Positive
    for_: Duration = Field(alias="for")
    always_failing_window: Duration
    always_failing_min_failures: Positive
    always_failing_for: Duration
    context_window_window: Duration
    context_window_min_errors: Positive
    context_window_for: Duration


class Latency(_Section):
    window: Duration
    quantile: Ratio
    seconds: Positive
    per_model: dict[str, Positive] = {}
    for_: Duration = Field(alias="for")


class Spend(_Section):
    window: Duration
    baseline_window: Duration
    factor: Annotated[float, Field(gt=1)]
    min_usd_per_hour: Annotated[float, Field(ge=0)]
    for_: Duration = Field(alias="for")


class Exporter(_Section):
    down_for: Duration
    refresh_stale_after: Duration
    refresh_for: Duration
    ingest_lag_seconds: Positive
    ingest_lag_min_requests_yesterday: Annotated[float, Field(ge=0)]
    ingest_lag_for: Duration


class Thresholds(_Section):
    selector: str
    runbook_base_url: str = ""
    budget: Budget
    errors: Errors
    latency: Latency
    spend: Spend
    exporter: Exporter

    def model_post_init(self, _context) -> None:
        for model in self.latency.per_model:
            if not model or re.search(r'["\\\n]', model):
                raise ValueError(f"latency.per_model: {model!r} cannot be a PromQL label value here")
        if self.budget.warning_ratio >= self.budget.critical_ratio:
            raise ValueError("budget.warning_ratio must be below budget.critical_ratio")
        if self.runbook_base_url and not re.fullmatch(r"https?://\S+/", self.runbook_base_url):
            raise ValueError("runbook_base_url must be empty or an http(s) URL ending with / (<AlertName>.md follows)")


def config_path() -> Path:
    """deploy/prometheus/config.yaml in a checkout, else the installed package's copy of it."""
    return CONFIG if CONFIG.exists() else PACKAGED_CONFIG


def load(path: Path | None = None) -> Thresholds:
    """The thresholds in `path` (default: the shipped ones); a file that is missing or invalid is a ConfigError
    in one line."""
    path = path or config_path()
    try:
        return Thresholds.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read the thresholds: {' '.join(str(exc).split())}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ConfigError(
            f"{path}: invalid thresholds at {where}: {first['msg']} (deploy/prometheus/config.yaml shows every key)"
        ) from None
