"""Dashboards: generated JSON is current and well-formed, every PromQL panel returns data from a real Prometheus
scraping two replicas of the real exporter (and counts them once), every SQL panel runs as the read-only Grafana
role against LiteLLM's schema."""

from __future__ import annotations

import contextlib
import json
import math
import re
import subprocess
import time
import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
import yaml
from conftest import drop_database, make_login, new_database, remove_logins, require_binary
from helpers import Serve, http_get, run_cli, wait_for

from dashboards import build, queries, style, thresholds
from exporter.access import grafana_sql
from exporter.access.grafana_sql import MacroError, expand
from exporter.database import sqlfiles
from exporter.local.postgres import free_port
from exporter.metrics import spec

SHIPPED = thresholds.load()
ROOT = Path(__file__).resolve().parents[1]
RULES = sorted((ROOT / "deploy" / "prometheus" / "rules").glob("*.yaml"))
UIDS = {
    "spend-overview": "litellm-db-spend-overview",
    "budgets": "litellm-db-budgets",
    "errors-latency": "litellm-db-errors-latency",
    "spend-ledger": "litellm-db-spend-ledger",
}
NOW = datetime.now(UTC)


def panels(dash: dict) -> list[dict]:
    return [p for p in dash["panels"] if p["type"] != "row"]


def targets(kind: str) -> list[tuple[str, str, dict]]:
    """(dashboard, panel title, target) for every target on a datasource kind (prometheus / postgresql)."""
    return [
        (name, p["title"], t)
        for name, dash in build.dashboards(SHIPPED).items()
        for p in panels(dash)
        for t in p["targets"]
        if kind in t["datasource"]["type"]
    ]


# Generated files and structure ---------------------------------------------------------------------------------
@pytest.mark.nodb
def test_regenerating_changes_nothing(tmp_path):
    written = build.write_all(tmp_path, SHIPPED)
    assert [p.name for p in written] == [f"{n}.json" for n in build.LAYOUTS]
    for path in written:
        committed = build.GENERATED / path.name
        assert committed.exists(), f"run `python -m dashboards` and commit {committed}"
        assert committed.read_text(encoding="utf-8") == path.read_text(encoding="utf-8"), (
            f"run `python -m dashboards` and commit {committed.name}"
        )
        assert json.dumps(json.loads(path.read_text()), sort_keys=True, indent=2) + "\n" == path.read_text()
    assert sorted(p.name for p in build.GENERATED.glob("*.json")) == sorted(p.name for p in written)


@pytest.mark.nodb
def test_dashboards_command_writes_the_same_files(tmp_path):
    proc = run_cli("dashboards", "--output", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [str(tmp_path / "out" / f"{n}.json") for n in build.LAYOUTS]
    for name in build.LAYOUTS:
        assert (tmp_path / "out" / f"{name}.json").read_text() == (build.GENERATED / f"{name}.json").read_text()


@pytest.mark.nodb
def test_dashboard_structure():
    dashboards = build.dashboards(SHIPPED)
    assert {n: d["uid"] for n, d in dashboards.items()} == UIDS  # stable: links and provisioning depend on them
    for name, dash in dashboards.items():
        assert dash["schemaVersion"] == 39 and dash["title"] and dash["description"], name
        assert {"litellm", "litellm-spend-exporter"} <= set(dash["tags"]), name
        variables = {v["name"]: v for v in dash["templating"]["list"]}
        source = variables["datasource"]
        assert source["type"] == "datasource", name
        plugin = source["query"]
        assert plugin in ("prometheus", "grafana-postgresql-datasource"), name
        wanted = {"job", "instance", "key_alias", "team"} if plugin == "prometheus" else {"model", "key", "team"}
        assert wanted <= set(variables), name
        for var in variables.values():
            if var["type"] == "query":
                assert var["multi"] and var["includeAll"], (name, var["name"])
                assert var["datasource"] == {"type": plugin, "uid": "${datasource}"}, (name, var["name"])
        ids = [p["id"] for p in dash["panels"]]
        assert len(ids) == len(set(ids)), name
        cells = set()
        for p in panels(dash):
            where = (name, p["title"])
            assert p["description"] and p["description"].endswith("."), where
            assert p["fieldConfig"]["defaults"]["unit"], where
            assert p["datasource"] == {"type": plugin, "uid": "${datasource}"}, where
            assert p["targets"] and all(t["datasource"] == p["datasource"] for t in p["targets"]), where
            assert len({t["refId"] for t in p["targets"]}) == len(p["targets"]), where
            pos = p["gridPos"]
            assert pos["x"] >= 0 and pos["x"] + pos["w"] <= 24, where
            mine = {(x, y) for x in range(pos["x"], pos["x"] + pos["w"]) for y in range(pos["y"], pos["y"] + pos["h"])}
            assert not cells & mine, f"{where} overlaps another panel"
            cells |= mine
            for t in p["targets"]:
                if plugin == "prometheus":
                    assert 'job=~"$job", instance=~"$instance"' in t["expr"], where
                else:
                    assert t["rawSql"] in {style.sql_text(n.removeprefix("grafana/")) for n in sql_names()}, where


def metric_names(expr: str) -> set[str]:
    return set(re.findall(r"\b(litellm_[a-z0-9_]+)", expr)) | {
        m for m in re.findall(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{", expr) if m not in ("by", "on", "without")
    }


@pytest.mark.nodb
def test_every_metric_a_dashboard_or_rule_names_is_declared():
    exprs = [t["expr"] for _, _, t in targets("prometheus")]
    exprs += [
        v["query"]
        for d in build.dashboards(SHIPPED).values()
        for v in d["templating"]["list"]
        if v["type"] == "query" and v["datasource"]["type"] == "prometheus"
    ]
    exprs += [r["expr"] for path in RULES for g in yaml.safe_load(path.read_text())["groups"] for r in g["rules"]]
    assert len(exprs) > 60
    used = set().union(*(metric_names(e) for e in exprs))
    unknown = used - spec.all_series_names() - {"up"}
    assert not unknown, f"not in exporter/metrics/spec.py: {sorted(unknown)}"
    assert {"litellm_db_spend_usd_total", "litellm_db_request_duration_seconds_bucket", "up"} <= used


HEALTH = {n for f in spec.HEALTH_FAMILIES for n in spec.series_names(f)} | {"up"}  # per replica on purpose
COLLAPSED = re.compile(r"max without \(instance, pod\) \((?:rate\(|increase\()?$")


@pytest.mark.nodb
def test_every_query_collapses_exporter_replicas_before_aggregating():
    """Replicas (Helm replicaCount > 1) expose identical series that differ in instance/pod: every selector of a
    spend, request or budget series sits directly in `queries.dedup` (max without (instance, pod)), so no sum,
    topk or quantile counts a replica twice. Only exporter health (per replica on purpose) is exempt."""
    exprs = [(f"{d} / {title}", t["expr"]) for d, title, t in targets("prometheus")]
    exprs += [
        (r["alert"], r["expr"])
        for path in RULES
        if path.stem != "exporter"
        for g in yaml.safe_load(path.read_text())["groups"]
        for r in g["rules"]
    ]
    checked = 0
    for where, expr in exprs:
        for m in re.finditer(r"\b([a-z_:][a-z0-9_:]*)\{", expr):
            if m.group(1) in HEALTH:
                continue
            assert COLLAPSED.search(expr[: m.start()]), f"{where}: {m.group(1)} is not collapsed over replicas: {expr}"
            checked += 1
        assert not re.search(r"\b(by|on) \([^)]*\b(instance|pod)\b", expr), f"{where} keeps replicas apart: {expr}"
    assert checked > 100
    assert queries.dedup("x") == "max without (instance, pod) (x)"


def steps(panel: dict) -> list:
    return [s["value"] for s in panel["fieldConfig"]["defaults"]["thresholds"]["steps"]]


@pytest.mark.nodb
def test_threshold_lines_are_the_alert_configs():
    """The panels' orange/red lines and the budget burn window are where the alerts fire (config.yaml)."""
    cfg = SHIPPED
    by_title = {(name, p["title"]): p for name, dash in build.dashboards(SHIPPED).items() for p in panels(dash)}
    budget = [p for (_, title), p in by_title.items() if re.search(r"budget use|Most used", title)]
    assert len(budget) == 7 and all(
        steps(p)[1:] == [cfg.budget.warning_ratio, cfg.budget.critical_ratio] for p in budget
    )
    errors = [p for (_, title), p in by_title.items() if title.startswith("Error rate")]
    assert errors and all(steps(p)[-1] == cfg.errors.ratio for p in errors)
    assert steps(by_title["spend-overview", "Ingest lag"])[-1] == cfg.exporter.ingest_lag_seconds
    burn = [t["expr"] for _, title, t in targets("prometheus") if "budgets by risk" in title and "rate(" in t["expr"]]
    assert len(burn) == 6 and all(f"[{cfg.budget.burn_window}]" in e for e in burn)  # burn rate and time left


@pytest.mark.nodb
def test_dashboards_command_with_other_thresholds_writes_dashboards_and_rules_that_agree(tmp_path):
    """`dashboards --thresholds FILE`: the panels' lines and burn window and the alert rules follow the file."""
    data = yaml.safe_load(thresholds.CONFIG.read_text())
    data["budget"].update(warning_ratio=0.61, critical_ratio=0.87, burn_window="3h")
    data["errors"]["ratio"] = 0.13
    data["exporter"]["ingest_lag_seconds"] = 1234
    custom = tmp_path / "thresholds.yaml"
    custom.write_text(yaml.safe_dump(data))
    res = run_cli("dashboards", "--output", str(tmp_path / "out"), "--thresholds", str(custom))
    assert res.returncode == 0, res.stderr
    dash = {p.stem: json.loads(p.read_text()) for p in (tmp_path / "out").glob("*.json")}
    assert set(dash) == set(UIDS)
    all_panels = [p for d in dash.values() for p in panels(d)]
    budget = [p for p in all_panels if re.search(r"budget use|Most used", p["title"])]
    assert len(budget) == 7 and all(steps(p)[1:] == [0.61, 0.87] for p in budget)
    assert all(steps(p)[-1] == 0.13 for p in all_panels if p["title"].startswith("Error rate"))
    assert [steps(p)[-1] for p in all_panels if p["title"] == "Ingest lag"] == [1234]
    exprs = [t.get("expr", "") for p in all_panels for t in p.get("targets", [])]
    assert sum("[3h]" in e for e in exprs) == 6 and not any("[6h]" in e for e in exprs)

    def alerts(rules_dir: Path) -> list[dict]:
        return [
            r
            for p in sorted(rules_dir.glob("*.yaml"))
            for g in yaml.safe_load(p.read_text())["groups"]
            for r in g["rules"]
        ]

    written, shipped = alerts(tmp_path / "out" / "rules"), alerts(RULES[0].parent)
    assert sorted(r["alert"] for r in written) == sorted(r["alert"] for r in shipped)
    usage = " ".join(r["expr"] for r in written if r["alert"] == "LiteLLMDbBudgetUsageHigh")
    assert ">= 0.61" in usage and ">= 0.87" in usage
    assert all("[3h]" in r["expr"] for r in written if r["alert"] == "LiteLLMDbBudgetExhaustionProjected")
    bad = tmp_path / "bad.yaml"
    bad.write_text("budget: {warning_ratio: 2}\n")
    res = run_cli("dashboards", "--output", str(tmp_path / "out2"), "--thresholds", str(bad))
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1 and "bad.yaml" in res.stderr, res.stderr


@pytest.mark.nodb
def test_an_installed_package_carries_the_thresholds():
    """Outside a checkout the dashboards read the wheel's copy of config.yaml (pyproject force-include)."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    force = project["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    assert force["deploy/prometheus/config.yaml"] == f"dashboards/{thresholds.PACKAGED_CONFIG.name}"
    assert thresholds.PACKAGED_CONFIG.parent == Path(build.__file__).parent
    assert "!deploy/prometheus/config.yaml" in (ROOT / ".dockerignore").read_text().splitlines()


# Grafana's macros --------------------------------------------------------------------------------------------
@pytest.mark.nodb
def test_macros_expand_as_grafana_does():
    start = datetime(2018, 4, 12, 18, 0, tzinfo=UTC)
    end = start + timedelta(minutes=5)
    x = lambda text, interval=60, **v: expand(text, start, end, interval, v)
    assert x("select $__time(time_column)") == 'select time_column AS "time"'
    assert (
        x("WHERE $__timeFilter(time_column)")
        == "WHERE time_column BETWEEN '2018-04-12T18:00:00Z' AND '2018-04-12T18:05:00Z'"
    )
    assert x("select $__timeFrom(), $__timeTo()") == "select '2018-04-12T18:00:00Z', '2018-04-12T18:05:00Z'"
    assert (
        x("SELECT $__timeGroup(time_column,'5m'), value")
        == 'SELECT floor(extract(epoch from time_column)/300)*300 AS "time", value'
    )  # pre-5.3 compatibility
    assert (
        x("SELECT $__timeGroup(time_column,'5m') as time")
        == "SELECT floor(extract(epoch from time_column)/300)*300 as time"
    )
    assert x("$__timeGroupAlias(time_column , '5m')") == 'floor(extract(epoch from time_column)/300)*300 AS "time"'
    assert x("$__timeGroup(c, '14d')") == "floor(extract(epoch from c)/1.2096e+06)*1.2096e+06"
    assert x("$__timeGroup(c, 20ms)") == "floor(extract(epoch from c)/0.02)*0.02"
    assert x("SELECT $__unixEpochGroup(t+a,'5m')") == "SELECT floor((t+a)/300)*300"
    assert x("select $__unixEpochFilter(time)") == "select time >= 1523556000 AND time <= 1523556300"
    assert x("$__unixEpochFrom() $__unixEpochTo()") == "1523556000 1523556300"
    assert x("$__unixEpochNanoFrom()") == "1523556000000000000"
    assert x("$__interval $__interval_ms", 90) == "1m 90000"  # Grafana's interval text keeps the largest unit
    assert x("$__timeGroupAlias(c, $__interval)", 3600) == 'floor(extract(epoch from c)/3600)*3600 AS "time"'
    with pytest.raises(MacroError):
        x("$__timeFilter()")
    with pytest.raises(MacroError):
        x("$__nope(x)")
    frac = expand("$__timeFrom()", datetime(1960, 2, 1, 7, 0, 0, 500000), end, 60, {})
    assert frac == "'1960-02-01T07:00:00.5Z'"


@pytest.mark.nodb
def test_variables_are_quoted_as_grafana_does():
    start, end = NOW - timedelta(hours=1), NOW
    x = lambda text, **v: expand(text, start, end, 60, v)
    assert x("m IN ($model)", model=["gpt-4o", "o'brien"]) == "m IN ('gpt-4o','o''brien')"  # multi / All
    assert x("m IN (${model})", model=["a"]) == "m IN ('a')"
    assert x("m = '$one'", one="it's") == "m = 'it''s'"  # single-value variables are not quoted
    assert x("${model:csv}", model=["a", "b"]) == "a,b"
    assert x("$unknown stays") == "$unknown stays"
    assert grafana_sql.variable_names("a IN ($model) AND $__timeFilter(x) AND ${team}") == ["model", "team"]
    planned = grafana_sql.expand_for_planning("SELECT 1 WHERE x IN ($key)")
    assert planned == "SELECT 1 WHERE x IN ('sample')"


# SQL panels: the read-only Grafana role against LiteLLM's schema with demo data --------------------------------
def sql_names() -> list[str]:
    return [n for n in sqlfiles.names() if n.startswith("grafana/")]


def header(name: str) -> dict[str, str]:
    """The header comment of sql/<name>.sql as {field: text} (continuation lines joined)."""
    fields: dict[str, str] = {}
    key = None
    for line in sqlfiles.text(name).splitlines():
        if not line.startswith("--"):
            break
        m = re.match(r"--\s(\S[^:]*):\s*(.*)", line)
        if m and not line.startswith("--  "):
            key = m.group(1)
            fields[key] = m.group(2)
        elif key:
            fields[key] += " " + line[2:].strip()
    return fields


def output_columns(name: str) -> list[str]:
    text = re.sub(r"\([^)]*\)", "", header(name)["Output columns"])
    return [c.strip() for c in text.split(",")]


@pytest.mark.nodb
def test_sql_files_document_themselves_and_never_read_prompts():
    names = sql_names()
    assert len(names) >= 10
    used = {t["rawSql"] for _, _, t in targets("postgresql")}
    used |= {
        v["query"] for d in build.dashboards(SHIPPED).values() for v in d["templating"]["list"] if v["type"] == "query"
    }
    for name in names:
        fields = header(name)
        assert {"Purpose", "Binds/macros", "Output columns", "Tables", "Checked against"} <= set(fields), name
        body = grafana_sql.body(sqlfiles.text(name))
        assert not re.search(r"\b(messages|response|proxy_server_request)\b", body), name
        assert body in used, f"{name} is used by no panel or variable"


@pytest.fixture(scope="module")
def ledger(pg_server):
    """LiteLLM's schema with 20,000 demo requests over 30 days (one database for the whole module)."""
    from exporter.local.demodata import load

    db = new_database(pg_server)
    load(db.conninfo, rows=20_000, seed=1, days=30)
    yield db
    remove_logins(db)
    drop_database(db)


@pytest.fixture(scope="module")
def grafana_conn(ledger):
    login = make_login(ledger, "grafana")
    with psycopg.connect(login.url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        assert conn.execute("SELECT current_user").fetchone()[0] == login.role
        yield conn


def variable_values(conn) -> dict[str, list[str]]:
    """Every option of each ledger variable, as Grafana's All sends them (the variable queries run as the role)."""
    out = {}
    for var in build.dashboards(SHIPPED)["spend-ledger"]["templating"]["list"]:
        if var["type"] == "query":
            cur = conn.execute(expand(var["query"], NOW - timedelta(days=7), NOW, 60, {}))
            assert [d.name for d in cur.description] == ["__text", "__value"]
            out[var["name"]] = [value for _, value in cur.fetchall()]
            assert out[var["name"]], var["name"]
    return out


def sql_panels() -> list[tuple[dict, str, str]]:
    """(panel, target format, SQL file name) of every SQL target."""
    by_body = {style.sql_text(n.removeprefix("grafana/")): n for n in sql_names()}
    return [
        (p, t["format"], by_body[t["rawSql"]])
        for p in panels(build.dashboards(SHIPPED)["spend-ledger"])
        for t in p["targets"]
    ]


@pytest.mark.parametrize("hours", [6, 24 * 30], ids=["detail-6h", "rollup-30d"])
def test_every_sql_panel_runs_as_the_grafana_role(grafana_conn, hours):
    values = variable_values(grafana_conn)
    assert {"", "gpt-4o"} <= set(values["model"]) and "" in values["team"]
    for panel, fmt, name in sql_panels():
        text = grafana_sql.body(sqlfiles.text(name))
        cur = grafana_conn.execute(expand(text, NOW - timedelta(hours=hours), NOW, 60 if hours < 24 else 3600, values))
        rows = cur.fetchall()
        columns = [d.name for d in cur.description]
        assert columns == output_columns(name), (panel["title"], name)
        assert rows, f"{panel['title']} ({name}) returned no rows over the last {hours}h"
        if fmt == "time_series":  # Grafana's SQL time series: a "time" column, ordered by it
            assert columns[0] == "time" and [r[0] for r in rows] == sorted(r[0] for r in rows), name
        for override in panel["fieldConfig"]["overrides"]:  # the columns the panel styles exist
            assert override["matcher"]["options"] in columns, (panel["title"], override["matcher"])


def test_sql_variables_filter(grafana_conn):
    values = variable_values(grafana_conn)
    text = grafana_sql.body(sqlfiles.text("grafana/spend_by_model"))
    for hours in (6, 24 * 30):
        rows = grafana_conn.execute(
            expand(text, NOW - timedelta(hours=hours), NOW, 60, {**values, "model": ["gpt-4o"]})
        ).fetchall()
        assert rows and {r[0] for r in rows} == {"gpt-4o"}
    rows = grafana_conn.execute(
        expand(grafana_sql.body(sqlfiles.text("grafana/key_budgets")), NOW, NOW, 60, {**values, "team": [""]})
    ).fetchall()
    assert rows and {r[1] for r in rows} == {"(no team)"}


def plan(conn, text: str, hours: float, analyze: bool = False) -> list[dict]:
    sql = expand(text, NOW - timedelta(hours=hours), NOW, 60, variable_values(conn))
    options = "ANALYZE, FORMAT JSON" if analyze else "FORMAT JSON"
    nodes, stack = [], [conn.execute(f"EXPLAIN ({options}) {sql}").fetchone()[0][0]["Plan"]]
    while stack:
        node = stack.pop()
        nodes.append(node)
        stack.extend(node.get("Plans", []))
    return nodes


def test_detail_tables_use_the_start_time_index(grafana_conn):
    for name in ("grafana/expensive_requests", "grafana/recent_failures"):
        nodes = [n for n in plan(grafana_conn, sqlfiles.text(name), 1) if n.get("Relation Name") == "LiteLLM_SpendLogs"]
        assert nodes and all(n["Node Type"] != "Seq Scan" for n in nodes), name
        assert any(n.get("Index Name", "").startswith("LiteLLM_SpendLogs_startTime") for n in nodes), name


@pytest.mark.parametrize(
    "name", ["spend_over_time", "tokens_over_time", "spend_by_model", "spend_by_key", "spend_by_team"]
)
def test_long_ranges_read_the_daily_rollup_and_short_ones_spend_logs(grafana_conn, name):
    text = sqlfiles.text(f"grafana/{name}")

    def loops(nodes, table):
        found = [n["Actual Loops"] for n in nodes if n.get("Relation Name") == table]
        assert found, (name, table)
        return sum(found)

    month = plan(grafana_conn, text, 24 * 30, analyze=True)
    assert loops(month, "LiteLLM_SpendLogs") == 0 and loops(month, "LiteLLM_DailyTeamSpend") > 0, name
    hours = plan(grafana_conn, text, 6, analyze=True)
    assert loops(hours, "LiteLLM_SpendLogs") > 0 and loops(hours, "LiteLLM_DailyTeamSpend") == 0, name
    assert any(n.get("Index Name", "").startswith("LiteLLM_SpendLogs_startTime") for n in hours), name


# PromQL panels: a real Prometheus scraping the real exporter over demo data -------------------------------------
class Prometheus:
    """Debian's prometheus on a free loopback port, scraping the targets (one job) every second; stopped by `stop`."""

    def __init__(self, binary: str, workdir: Path, targets: list[str], rule_files: list[Path]):
        self.instances = targets  # their `instance` labels
        self.appended_at = 0.0  # set by the fixture: when new requests started landing in the ledger
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        config = {
            "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(p) for p in rule_files],
            "scrape_configs": [{"job_name": "litellm-spend-exporter", "static_configs": [{"targets": targets}]}],
        }
        (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
        self.log = (workdir / "prometheus.log").open("w")
        self.proc = subprocess.Popen(
            [
                binary,
                f"--config.file={workdir / 'prometheus.yml'}",
                f"--storage.tsdb.path={workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--log.level=warn",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_for(
            lambda: self.proc.poll() is None and http_get(self.base + "/-/ready", timeout=2)[0] == 200,
            timeout=30,
            what="prometheus /-/ready",
        )

    def api(self, path: str, **params) -> dict:
        status, body, _ = http_get(f"{self.base}/api/v1/{path}?{urllib.parse.urlencode(params)}")
        data = json.loads(body)
        assert status == 200 and data["status"] == "success", (path, params, data)
        return data["data"]

    def query(self, expr: str, at: float | None = None) -> list:
        return self.api("query", query=expr, **({"time": at} if at else {}))["result"]

    def wait(self, expr: str, timeout: float = 30) -> None:
        wait_for(lambda: self.query(expr), timeout=timeout, what=expr)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


REPLICAS = 2
HISTORY = 15  # scrapes of every replica before the new requests land: the comparison windows start within them
TOLERANCE = 0.02  # a scrape's timestamp jitter (ms) over a ~15 s window; not collapsing replicas is off by 100%


@pytest.fixture(scope="module")
def prometheus(ledger, tmp_path_factory):
    """Prometheus scraping two `serve` replicas of one database as one job (Helm's replicaCount: 2; 1 s refreshes),
    before and after 2,000 new requests land in the ledger."""
    from exporter.local.demodata import append

    binary = require_binary("prometheus")
    login = make_login(ledger, "exporter")
    with contextlib.ExitStack() as stack:
        replicas = [Serve(login.url, interval="1s") for _ in range(REPLICAS)]  # start together, then wait for each
        for srv in replicas:
            stack.push(srv)
        for srv in replicas:
            srv.__enter__()
        prom = Prometheus(
            binary, tmp_path_factory.mktemp("prometheus"), [f"127.0.0.1:{srv.port}" for srv in replicas], RULES
        )
        try:
            prom.wait(f"count(count_over_time(litellm_db_up[1m]) >= {HISTORY}) == {REPLICAS}")
            before = max(float(r["value"][1]) for r in prom.query("litellm_db_spend_logs_rows_counted"))
            prom.appended_at = time.time()
            append(ledger.conninfo, rows=2000, seed=2)
            prom.wait(f"count(litellm_db_spend_logs_rows_counted >= {before + 2000}) == {REPLICAS}")
            mark = time.time()
            prom.wait(f"min(timestamp(litellm_db_up)) > {mark + 2}")  # two more scrapes of each with the new rows
            yield prom
        finally:
            prom.stop()


VARIABLES = {
    "job": "job",
    "instance": "instance",
    "model": "requested_model",
    "key_alias": "api_key_alias",
    "team": "team_alias",
}  # Prometheus variable -> the label it selects


def grafana_regex(value: str) -> str:
    """One selected value of a multi-value variable as Grafana writes it into `=~"..."` (regex-escaped)."""
    return re.sub(r"([\\^$*+?.()|{}\[\]])", r"\\\\\1", value)


def substitute(expr: str, selected: dict[str, str] | None = None) -> str:
    """Template variables as Grafana sends them (All, or the one value in `selected`), and short windows for a
    young Prometheus."""
    for name in VARIABLES:
        value = (selected or {}).get(name)
        expr = expr.replace(f"${name}", grafana_regex(value) if value is not None else ".*")
    return expr.replace("$__rate_interval", "1m").replace("$__interval", "1m").replace("$__range", "1h")


def legend_labels(target: dict) -> set[str]:
    return set(re.findall(r"\{\{\s*(\w+)\s*\}\}", target.get("legendFormat") or ""))


def check_legend(where: tuple, target: dict, result: list) -> None:
    """Every label the legend names is kept by the query (Prometheus drops empty labels, so: on some series)."""
    for label in legend_labels(target):
        assert any(label in r["metric"] for r in result), f"{where}: legend {{{{{label}}}}} not in {result[:3]}"


def test_every_promql_panel_returns_data(prometheus):
    at = time.time()
    checked = 0
    for dashboard, title, target in targets("prometheus"):
        expr = substitute(target["expr"])
        assert "$" not in expr, (dashboard, title, expr)
        result = prometheus.query(expr, at)
        assert result, f"{dashboard} / {title}: no data for {expr}"
        check_legend((dashboard, title), target, result)
        if not target["instant"]:
            series = prometheus.api("query_range", query=expr, start=at - 20, end=at, step=5)["result"]
            assert series, f"{dashboard} / {title}: no range data for {expr}"
            check_legend((dashboard, title), target, series)
        checked += 1
    assert checked >= 60


def busiest(prom: Prometheus, label: str) -> str:
    """The value of `label` with the most requests (so that most panels have data with it selected)."""
    (top,) = prom.query(f'topk(1, sum by ({label}) (litellm_db_requests_total{{{label}!=""}}))')
    return top["metric"][label]


def test_every_promql_panel_with_one_value_selected(prometheus):
    """One specific value per variable (the others All): a panel that keeps the variable's label shows only that
    value, its legend labels exist, and most panels still have data (a filter written wrong empties them)."""
    at = time.time()
    for variable, label in VARIABLES.items():
        value = busiest(prometheus, label)
        with_data, total = 0, 0
        for dashboard, title, target in targets("prometheus"):
            if f"${variable}" not in target["expr"]:
                continue
            where = (dashboard, title, f"{variable}={value}")
            result = prometheus.query(substitute(target["expr"], {variable: value}), at)
            total += 1
            if not result:
                continue
            with_data += 1
            check_legend(where, target, result)
            shown = {r["metric"][label] for r in result if label in r["metric"]}
            assert shown <= {value}, f"{where}: shows {sorted(shown)}"
        assert total >= 20 and with_data >= 0.75 * total, (variable, value, with_data, total)


def test_variable_queries_have_options(prometheus):
    for name, dash in build.dashboards(SHIPPED).items():
        for var in dash["templating"]["list"]:
            m = re.fullmatch(r"label_values\((.+), (\w+)\)", var["query"] or "")
            if var["type"] != "query" or not m:
                continue
            values = prometheus.api(f"label/{m.group(2)}/values", **{"match[]": substitute(m.group(1))})
            assert values, (name, var["name"])


def test_alert_rules_evaluate_on_real_metrics(prometheus):
    """Every shipped rule loads into Prometheus and evaluates without error over the exporter's real series."""
    shipped = sum(len(g["rules"]) for p in RULES for g in yaml.safe_load(p.read_text())["groups"])

    def evaluated():
        groups = prometheus.api("rules")["groups"]
        rules = [r for g in groups for r in g["rules"]]
        return groups if all(not r["lastEvaluation"].startswith("0001") for r in rules) else None

    groups = wait_for(evaluated, timeout=10, what="every rule evaluated")
    assert {g["file"] for g in groups} == {str(p) for p in RULES}
    rules = [r for g in groups for r in g["rules"]]
    assert len(rules) == shipped
    for rule in rules:
        assert rule["health"] == "ok", (rule["name"], rule.get("lastError"))


def _values(prom: Prometheus, expr: str, at: float) -> dict[tuple, float]:
    return {tuple(sorted(r["metric"].items())): float(r["value"][1]) for r in prom.query(expr, at)}


def test_replicas_are_counted_once(prometheus):
    """Two replicas on one database: spend by model, request rate, error ratio, a budget gauge and a latency
    quantile over both equal the same panel over one replica's target (instance="..."), not twice it.

    Windows span the new requests and start after both replicas' first scrape, so the replicas' own values agree
    (each sees the same increase over the same whole number of 1 s scrapes, up to the scrapes' timestamp jitter)."""
    first = prometheus.instances[0]
    at = time.time()
    window = f"{math.ceil(at - prometheus.appended_at) + HISTORY - 3}s"

    def expr(text: str, instance: str | None = None) -> str:
        if instance:
            text = text.replace('instance=~"$instance"', f'instance="{instance}"')
        return substitute(text.replace("$__rate_interval", window).replace("$__range", window))

    assert len(prometheus.query("count by (instance) (litellm_db_spend_usd_total)", at)) == REPLICAS
    panels = {
        "spend per hour by model": queries.SPEND_PER_HOUR_BY_MODEL,
        "spend in range": queries.SPEND_IN_RANGE,
        "requests per second by model": queries.REQUESTS_PER_SECOND_BY_MODEL,
        "error ratio": queries.ERROR_RATIO,
        "key budget spend": queries.budget("key", SHIPPED.budget.burn_window)["spend"],
        "team budget used": queries.budget("team", SHIPPED.budget.burn_window)["used"],
        "p95 latency by model": queries.latency_quantile(0.95, "requested_model"),
        "top keys by spend": queries.TOP_KEYS_BY_SPEND,
    }
    for name, text in panels.items():
        both, one = _values(prometheus, expr(text), at), _values(prometheus, expr(text, first), at)
        assert both and both.keys() == one.keys(), (name, both, one)
        assert any(v > 0 for v in both.values()), (name, both)
        for labels, value in both.items():
            if math.isnan(value):
                assert math.isnan(one[labels]), (name, labels, value, one[labels])
            else:
                assert value == pytest.approx(one[labels], rel=TOLERANCE, abs=1e-12), (name, labels, value, one[labels])
    # the setup does duplicate every series: summing without collapsing replicas counts the spend twice
    naive = _values(prometheus, f"sum(increase(litellm_db_spend_usd_total[{window}]))", at)[()]
    single = _values(prometheus, expr(queries.SPEND_IN_RANGE, first), at)[()]
    assert single > 0 and naive == pytest.approx(REPLICAS * single, rel=TOLERANCE)


def test_budget_tables_list_only_entities_with_a_limit(prometheus):
    """Every column of a budget table (spend, burn rate, time left, reset, ...) has a row only for an entity with a
    limit: the demo has keys, teams and users without one, and their rows would otherwise fill the tables."""
    at = time.time()

    def label_sets(expr: str) -> set[tuple]:
        return {tuple(sorted(r["metric"].items())) for r in prometheus.query(substitute(expr), at)}

    for entity, exprs in (
        ("key", queries.budget("key", SHIPPED.budget.burn_window)),
        ("team", queries.budget("team", SHIPPED.budget.burn_window)),
        ("user", queries.budget("user", SHIPPED.budget.burn_window)),
    ):
        limited = label_sets(exprs["limit"])
        everyone = label_sets(exprs["spend"].split(" and ")[0])  # the spend gauge alone: with and without a limit
        assert limited and everyone - limited, f"the demo has {entity}s with and without a limit"
        for column, expr in exprs.items():
            assert label_sets(expr) <= limited, f"{entity} {column}: rows without a limit"
