"""House style for every dashboard: datasources and variables, units, thresholds, panel factories, layout."""

from __future__ import annotations

import attr
from grafanalib import core as g

from dashboards.thresholds import Thresholds
from exporter.access.grafana_sql import body
from exporter.database import sqlfiles

SCHEMA_VERSION = 39  # Grafana 10.4 / 11: imported as is, no migration
TAGS = ["litellm", "litellm-spend-exporter"]
PROMETHEUS = {"type": "prometheus", "uid": "${datasource}"}
POSTGRES = {"type": "grafana-postgresql-datasource", "uid": "${datasource}"}  # plugin id since Grafana 10.2.3

# Units (Grafana unit ids)
USD = "currencyUSD"
RATIO = "percentunit"
SECONDS = "s"
REQUESTS_PER_SECOND = "reqps"
TOKENS_PER_SECOND = "suffix: tokens/s"
TOKENS = "short"
COUNT = "short"
TIME_FROM_NOW = "dateTimeFromNow"
UP = "bool_yes_no"

# Threshold lines are the alert rules' own thresholds (the same Thresholds object builds both), so a panel turns
# orange or red where the alerts fire.
OK = [{"color": "green", "value": None}]
HEALTH_STEPS = [{"color": "red", "value": None}, {"color": "green", "value": 1}]


def budget_steps(th: Thresholds) -> list[dict]:
    return [
        {"color": "green", "value": None},
        {"color": "orange", "value": th.budget.warning_ratio},
        {"color": "red", "value": th.budget.critical_ratio},
    ]


def error_steps(th: Thresholds) -> list[dict]:
    return [
        {"color": "green", "value": None},
        {"color": "orange", "value": th.errors.ratio / 2},
        {"color": "red", "value": th.errors.ratio},
    ]


def lag_steps(th: Thresholds) -> list[dict]:
    return [
        {"color": "green", "value": None},
        {"color": "orange", "value": th.exporter.ingest_lag_seconds / 2},
        {"color": "red", "value": th.exporter.ingest_lag_seconds},
    ]


def _variable(name: str, label: str, datasource: dict, query: str) -> g.Template:
    """Multi-select with All: a regex matching everything for Prometheus, every value for SQL (IN lists)."""
    variable = g.Template(
        name=name,
        label=label,
        dataSource=datasource,
        query=query,
        multi=True,
        includeAll=True,
        refresh=g.REFRESH_ON_TIME_RANGE_CHANGE,
        sort=g.SORT_ALPHA_ASC,
        allValue=".*" if datasource is PROMETHEUS else None,
    )
    variable._current = {"selected": True, "text": ["All"], "value": ["$__all"]}
    return variable


def datasource_variable(plugin: str, label: str) -> g.Template:
    return g.Template(name="datasource", label=label, query=plugin, type="datasource", default="default")


def prometheus_variables(*, requests: bool = True) -> list[g.Template]:
    """datasource, job, instance, then key alias and team (and model when `requests`); All matches every series.

    Values come from the request counters, or from the key budget gauges on dashboards without requests."""
    target = 'job=~"$job", instance=~"$instance"'
    source = f"litellm_db_requests_total{{{target}}}" if requests else f"litellm_db_key_spend_usd{{{target}}}"
    out = [
        datasource_variable("prometheus", "Prometheus"),
        _variable("job", "Job", PROMETHEUS, "label_values(litellm_db_up, job)"),
        _variable("instance", "Instance", PROMETHEUS, 'label_values(litellm_db_up{job=~"$job"}, instance)'),
    ]
    if requests:
        out.append(_variable("model", "Model", PROMETHEUS, f"label_values({source}, requested_model)"))
    out += [
        _variable("key_alias", "Key alias", PROMETHEUS, f"label_values({source}, api_key_alias)"),
        _variable("team", "Team", PROMETHEUS, f"label_values({source}, team_alias)"),
    ]
    return out


def postgres_variables() -> list[g.Template]:
    """datasource, model, key and team from sql/grafana/var_*.sql; All sends every value (IN lists)."""
    return [
        datasource_variable("grafana-postgresql-datasource", "PostgreSQL (LiteLLM, read-only role)"),
        _variable("model", "Model", POSTGRES, sql_text("var_models")),
        _variable("key", "Key", POSTGRES, sql_text("var_keys")),
        _variable("team", "Team", POSTGRES, sql_text("var_teams")),
    ]


def sql_text(name: str) -> str:
    """The statement of sql/grafana/<name>.sql (its header comment stays in the file)."""
    return body(sqlfiles.text(f"grafana/{name}"))


# Targets
def prom(expr: str, legend: str = "", *, instant: bool = False, table: bool = False, heatmap: bool = False):
    fmt = "table" if table else "heatmap" if heatmap else "time_series"
    return g.Target(
        expr=expr, legendFormat=legend, instant=instant or table, format=fmt, datasource=PROMETHEUS, intervalFactor=1
    )


def sql(name: str, *, table: bool = False):
    return g.SqlTarget(rawSql=sql_text(name), format="table" if table else "time_series", datasource=POSTGRES)


def _with_refs(targets: list) -> list:
    return [attr.evolve(t, refId=chr(ord("A") + i)) for i, t in enumerate(targets)]


def _check(title: str, description: str, unit: str) -> None:
    if not description or not description.endswith("."):
        raise ValueError(f"panel {title!r} needs a description (a sentence)")
    if not unit:
        raise ValueError(f"panel {title!r} needs a unit")


def _size(panel, w: int, h: int):
    panel.gridPos = g.GridPos(h=h, w=w, x=0, y=0)
    return panel


# Panel factories: every panel has a title, a description, a unit and its datasource
def timeseries(
    title: str,
    description: str,
    unit: str,
    targets: list,
    *,
    w: int = 12,
    h: int = 8,
    stack: bool = False,
    bars: bool = False,
    steps: list | None = None,
    max_value: int | None = None,
):
    _check(title, description, unit)
    ds = targets[0].datasource
    return _size(
        g.TimeSeries(
            title=title,
            description=description,
            unit=unit,
            dataSource=ds,
            targets=_with_refs(targets),
            stacking={"mode": "normal", "group": "A"} if stack else {},
            fillOpacity=30 if stack or bars else 10,
            drawStyle="bars" if bars else "line",
            legendDisplayMode="table",
            legendPlacement="right",
            legendCalcs=["mean", "max", "lastNotNull"],
            tooltipMode="multi",
            tooltipSort="desc",
            valueMin=0,
            valueMax=max_value,
            thresholds=steps or OK,
            thresholdsStyleMode="line" if steps else "off",
            maxDataPoints=None,
        ),
        w,
        h,
    )


def stat(
    title: str,
    description: str,
    unit: str,
    target,
    *,
    w: int = 6,
    h: int = 4,
    steps: list | None = None,
    time_from: str | None = None,
    no_value: str = "0",
):
    _check(title, description, unit)
    return _size(
        g.Stat(
            title=title,
            description=description,
            format=unit,
            dataSource=target.datasource,
            targets=_with_refs([target]),
            thresholds=steps or OK,
            timeFrom=time_from,
            reduceCalc="lastNotNull",
            graphMode="none",
            colorMode="value" if steps else "none",
            noValue=no_value,
            maxDataPoints=None,
        ),
        w,
        h,
    )


def table(
    title: str,
    description: str,
    unit: str,
    targets: list,
    *,
    w: int = 24,
    h: int = 9,
    columns: dict[str, tuple[str, str]] | None = None,
    sort_by: str | None = None,
    steps: list | None = None,
    merge: bool = False,
):
    """columns: field name -> (display name, unit); fields not listed keep their name and the panel's unit."""
    _check(title, description, unit)
    overrides = [
        {
            "matcher": {"id": "byName", "options": field},
            "properties": [{"id": "displayName", "value": shown}, {"id": "unit", "value": field_unit}]
            + ([{"id": "custom.cellOptions", "value": {"type": "color-text"}}] if steps else []),
        }
        for field, (shown, field_unit) in (columns or {}).items()
    ]
    transformations = ([{"id": "merge", "options": {}}] if merge else []) + [
        {"id": "organize", "options": {"excludeByName": {"Time": True}, "indexByName": {}, "renameByName": {}}}
    ]
    sort = [g.TableSortByField(displayName=sort_by, desc=True)] if sort_by else []
    return _size(
        g.Table(
            title=title,
            description=description,
            unit=unit,
            dataSource=targets[0].datasource,
            targets=_with_refs(targets),
            overrides=overrides,
            sortBy=sort,
            transformations=transformations,
            thresholds=steps or OK,
            filterable=True,
            maxDataPoints=None,
        ),
        w,
        h,
    )


@attr.s
class _Modern(g.Panel):
    """A panel in Grafana 10's JSON model, for types whose grafanalib 0.7.1 JSON is pre-Grafana 7."""

    type = attr.ib(default="bargauge")
    options: dict[str, object] = attr.ib(factory=dict)
    defaults: dict[str, object] = attr.ib(factory=dict)

    def to_json_data(self):
        return self.panel_json(
            {"type": self.type, "options": self.options, "fieldConfig": {"defaults": self.defaults, "overrides": []}}
        )


def bars(
    title: str,
    description: str,
    unit: str,
    target,
    *,
    w: int = 12,
    h: int = 8,
    steps: list | None = None,
    max_value: float | None = None,
):
    """Horizontal bar gauge, one bar per series (instant query, legend names the bar)."""
    _check(title, description, unit)
    return _size(
        _Modern(  # type: ignore[call-arg]  # untyped grafanalib: the attrs plugin sees only _Modern's fields
            title=title,
            description=description,
            dataSource=target.datasource,
            targets=_with_refs([target]),
            type="bargauge",
            thresholds=steps or OK,
            maxDataPoints=None,
            options={
                "displayMode": "gradient",
                "orientation": "horizontal",
                "showUnfilled": True,
                "valueMode": "color",
                "namePlacement": "auto",
                "sizing": "auto",
                "minVizHeight": 16,
                "minVizWidth": 8,
                "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            },
            defaults={
                "unit": unit,
                "min": 0,
                "max": max_value,
                "color": {"mode": "thresholds" if steps else "palette-classic"},
                "thresholds": {"mode": "absolute", "steps": steps or OK},
            },
        ),
        w,
        h,
    )


def heatmap(title: str, description: str, unit: str, target, *, w: int = 24, h: int = 9):
    """Prometheus histogram buckets (format heatmap) as a heatmap; `unit` is the bucket axis' unit."""
    _check(title, description, unit)
    return _size(
        _Modern(  # type: ignore[call-arg]  # untyped grafanalib: the attrs plugin sees only _Modern's fields
            title=title,
            description=description,
            dataSource=target.datasource,
            targets=_with_refs([target]),
            type="heatmap",
            maxDataPoints=None,
            options={
                "calculate": False,
                "cellGap": 1,
                "yAxis": {"axisPlacement": "left", "unit": unit},
                "rowsFrame": {"layout": "auto"},
                "filterValues": {"le": 1e-9},
                "showValue": "never",
                "color": {
                    "mode": "scheme",
                    "scheme": "Oranges",
                    "scale": "exponential",
                    "exponent": 0.5,
                    "steps": 64,
                    "fill": "dark-orange",
                    "reverse": False,
                },
                "tooltip": {"mode": "single", "yHistogram": True, "showColorScale": False},
                "legend": {"show": True},
                "exemplars": {"color": "rgba(255,0,255,0.7)"},
            },
            defaults={"unit": unit},
        ),
        w,
        h,
    )


# Layout
def row(title: str, *panels) -> list:
    """A row header followed by its panels, placed left to right and wrapped at the grid's 24 columns."""
    return [g.RowPanel(title=title, gridPos=g.GridPos(h=1, w=24, x=0, y=0)), *panels]


def _place(rows: list[list]) -> list:
    placed, y = [], 0
    for row_panels in rows:
        x, line_h = 0, 0
        for panel in row_panels:
            pos = panel.gridPos
            if x + pos.w > 24:
                x, y, line_h = 0, y + line_h, 0
            placed.append(attr.evolve(panel, gridPos=g.GridPos(h=pos.h, w=pos.w, x=x, y=y)))
            x, line_h = x + pos.w, max(line_h, pos.h)
        y += line_h
    return placed


def dashboard(
    uid: str,
    title: str,
    description: str,
    variables: list,
    rows: list[list],
    *,
    time_from: str = "now-24h",
    refresh: str = "1m",
) -> g.Dashboard:
    return g.Dashboard(
        uid=uid,
        title=title,
        description=description,
        tags=TAGS,
        schemaVersion=SCHEMA_VERSION,
        templating=g.Templating(list=variables),
        panels=_place(rows),
        time=g.Time(time_from, "now"),
        refresh=refresh,
        timezone="browser",
        graphTooltip=g.GRAPH_TOOLTIP_MODE_SHARED_CROSSHAIR,
        editable=True,
    ).auto_panel_ids()
