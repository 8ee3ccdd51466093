"""The Helm chart, rendered and linted by the real Helm engine (helm-python-sdk), validated like a cluster would.

Every ci/<scenario>-values.yaml renders and passes strict lint; core kinds pass kubernetes-validate's strict
schemas for Kubernetes 1.29-1.33; CRD kinds pass the vendored CRD schemas in tests/crds; the PrometheusRule
passes promtool and follows thresholds/excludeRules; the dashboards are byte-identical; bad values fail with a
message saying what to fix; every pod is locked down. The image the chart runs: the wheel builds and installs
into a fresh venv the way the Dockerfile does. One test runs the rendered env and config against PostgreSQL.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
import subprocess
import sys
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from conftest import require, require_binary

import exporter

ROOT = Path(__file__).resolve().parents[1]
CHART = ROOT / "deploy" / "helm" / "litellm-spend-exporter"
CRDS = Path(__file__).resolve().parent / "crds"
SCENARIOS = [
    "defaults",
    "everything-on",
    "cnpg-managed-roles",
    "eso",
    "external-secret",
    "replicas-2",
    "readme-minimal",
]
KUBE_VERSIONS = ["1.29", "1.30", "1.31", "1.32", "1.33"]
CRD_GROUPS = ("monitoring.coreos.com", "external-secrets.io", "postgresql.cnpg.io")
RELEASE, NAMESPACE = "lse", "litellm"
FULLNAME = f"{RELEASE}-litellm-spend-exporter"
MINIMAL = {"database": {"existingSecret": {"name": "litellm-spend-exporter-db"}}}

nodb = pytest.mark.nodb

try:
    import helm_python as helm
except ImportError:  # pragma: no cover - the test extra installs it
    helm = None


@pytest.fixture(autouse=True)
def _needs_helm():
    if helm is None:
        require("helm-python-sdk", "pip install 'litellm-spend-exporter[test]'")


# -- rendering helpers -------------------------------------------------------------------------------------


def scenario(name: str) -> dict:
    return yaml.safe_load((CHART / "ci" / f"{name}-values.yaml").read_text()) or {}


def merged(*layers: dict) -> dict:
    def merge(a: dict, b: dict) -> dict:
        out = copy.deepcopy(a)
        for k, v in b.items():
            out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else copy.deepcopy(v)
        return out

    return functools.reduce(merge, layers, {})


@functools.cache
def _chart():
    return helm.Chart.load(str(CHART))


@functools.lru_cache(maxsize=64)
def _render(values_json: str, upgrade: bool) -> tuple[tuple[str, str], ...]:
    out = _chart().render(
        json.loads(values_json), name=RELEASE, namespace=NAMESPACE, is_install=not upgrade, is_upgrade=upgrade
    )
    return tuple(sorted(out.items()))


def render(values: dict, upgrade: bool = False) -> dict[str, str]:
    """Template path -> rendered text (NOTES.txt included)."""
    return dict(_render(json.dumps(values, sort_keys=True), upgrade))


def documents(values: dict) -> list[dict]:
    return [
        d
        for path, text in render(values).items()
        if not path.endswith("NOTES.txt")
        for d in yaml.safe_load_all(text)
        if d
    ]


def notes(values: dict) -> str:
    return next(text for path, text in render(values).items() if path.endswith("NOTES.txt"))


def one(docs: list[dict], kind: str, name: str | None = None) -> dict:
    found = [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {[d['metadata']['name'] for d in found]}"
    return found[0]


def render_error(values: dict) -> str:
    with pytest.raises(helm.HelmError) as info:
        _chart().render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    return str(info.value)


def pod_specs(docs: list[dict]) -> list[tuple[str, dict]]:
    out = []
    for d in docs:
        if d["kind"] == "Pod":
            out.append((f"Pod/{d['metadata']['name']}", d["spec"]))
        elif d["kind"] in ("Deployment", "Job", "StatefulSet", "DaemonSet"):
            out.append((f"{d['kind']}/{d['metadata']['name']}", d["spec"]["template"]["spec"]))
    return out


def env_of(container: dict) -> dict[str, object]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


# -- every scenario: lint, schemas, security --------------------------------------------------------------


@nodb
def test_the_ci_scenarios_are_the_documented_ones():
    assert sorted(p.name for p in (CHART / "ci").glob("*-values.yaml")) == sorted(f"{s}-values.yaml" for s in SCENARIOS)


@nodb
@pytest.mark.parametrize("name", SCENARIOS)
@pytest.mark.parametrize("kube", KUBE_VERSIONS)
def test_scenario_passes_strict_lint(name, kube):
    report = helm.lint(str(CHART), scenario(name), strict=True, kube_version=f"v{kube}.0")
    problems = [m for m in report["messages"] if m["severity"] >= 2] + report.get("errors", [])
    assert not problems, problems


@nodb
@pytest.mark.parametrize("name", SCENARIOS)
@pytest.mark.parametrize("kube", KUBE_VERSIONS)
def test_scenario_core_kinds_pass_strict_kubernetes_schemas(name, kube):
    import kubernetes_validate

    core = [d for d in documents(scenario(name)) if d["apiVersion"].split("/")[0] not in CRD_GROUPS]
    assert core
    for doc in core:
        try:
            kubernetes_validate.validate(doc, f"{kube}.0", strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{doc['kind']}/{doc['metadata']['name']} on Kubernetes {kube}: {exc.message}")


def crd_schema(api_version: str, kind: str) -> dict:
    group, version = api_version.split("/")
    path = CRDS / f"{group}_{version}_{kind.lower()}.yaml"
    assert path.exists(), f"no vendored CRD schema for {api_version} {kind} ({path.name})"
    doc = yaml.safe_load(path.read_text())
    return {**doc["openAPIV3Schema"], "definitions": doc.get("definitions", {})}


def _list_map_keys(validator, keys, instance, schema):
    """x-kubernetes-list-map-keys: the API server rejects two items of a list-map with the same keys."""
    if not validator.is_type(instance, "array"):
        return
    seen = set()
    for item in instance:
        key = tuple(item.get(k) for k in keys) if isinstance(item, dict) else (item,)
        if key in seen:
            import jsonschema

            yield jsonschema.ValidationError(f"duplicate entry for key {dict(zip(keys, key))}")
        seen.add(key)


def validate_crd(doc: dict) -> None:
    import jsonschema

    validator = jsonschema.validators.extend(jsonschema.Draft7Validator, {"x-kubernetes-list-map-keys": _list_map_keys})
    errors = sorted(validator(crd_schema(doc["apiVersion"], doc["kind"])).iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, [
        f"{doc['kind']}/{doc['metadata']['name']} at {'.'.join(map(str, e.path))}: {e.message}" for e in errors
    ]


@nodb
@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_crd_kinds_pass_the_vendored_crd_schemas(name):
    for doc in documents(scenario(name)):
        if doc["apiVersion"].split("/")[0] in CRD_GROUPS:
            validate_crd(doc)


@nodb
def test_the_vendored_crd_schemas_reject_what_the_api_server_would():
    sm = one(documents(merged(MINIMAL, {"serviceMonitor": {"enabled": True}})), "ServiceMonitor")
    bad = copy.deepcopy(sm)
    bad["spec"]["endpoints"][0]["scrapeIntervall"] = "30s"
    with pytest.raises(AssertionError, match="scrapeIntervall"):
        validate_crd(bad)
    bad = copy.deepcopy(sm)
    bad["spec"]["endpoints"][0]["interval"] = "30 seconds"
    with pytest.raises(AssertionError, match="does not match"):
        validate_crd(bad)


@nodb
def test_the_vendored_prometheusrule_schema_rejects_what_upstream_does_for_the_fields_the_chart_emits():
    rule = one(documents(merged(MINIMAL, {"prometheusRule": {"enabled": True}})), "PrometheusRule")
    validate_crd(rule)
    emitted = {k for g in rule["spec"]["groups"] for r in g["rules"] for k in r} | {
        k for g in rule["spec"]["groups"] for k in g
    }
    assert emitted == {"name", "rules", "alert", "expr", "for", "labels", "annotations"}

    def rejected(change, match: str) -> None:
        bad = copy.deepcopy(rule)
        change(bad["spec"]["groups"])
        with pytest.raises(AssertionError, match=match):
            validate_crd(bad)

    rejected(lambda gs: gs.append(copy.deepcopy(gs[0])), "duplicate entry for key")  # list-map keyed by name
    rejected(lambda gs: gs[0].update(name=""), "should be non-empty")
    rejected(lambda gs: gs[0].pop("name"), "'name' is a required property")
    rejected(lambda gs: gs[0]["rules"][0].pop("expr"), "'expr' is a required property")
    rejected(lambda gs: gs[0]["rules"][0].update({"for": "5 minutes"}), "does not match")
    rejected(lambda gs: gs[0]["rules"][0]["labels"].update(team=1), "is not of type 'string'")
    rejected(lambda gs: gs[0]["rules"][0]["annotations"].update(summary=None), "is not of type 'string'")
    rejected(lambda gs: gs[0]["rules"][0].update(keep_firing_for=""), "should be non-empty")
    rejected(lambda gs: gs[0]["rules"][0].update(forr="5m"), "forr")


@nodb
def test_every_scenario_renders_every_kind_it_enables():
    kinds = {name: sorted({d["kind"] for d in documents(scenario(name))}) for name in SCENARIOS}
    assert kinds["defaults"] == ["ConfigMap", "Deployment", "Pod", "Service", "ServiceAccount"]
    assert {"ServiceMonitor", "PrometheusRule", "NetworkPolicy", "PodDisruptionBudget", "Job", "Secret"} <= set(
        kinds["everything-on"]
    )
    assert len([d for d in documents(scenario("eso")) if d["kind"] == "ExternalSecret"]) == 4
    assert "ExternalSecret" in kinds["external-secret"]
    assert "PodDisruptionBudget" in kinds["replicas-2"]


@nodb
@pytest.mark.parametrize("name", SCENARIOS)
def test_every_pod_is_non_root_read_only_and_without_capabilities(name):
    specs = pod_specs(documents(scenario(name)))
    assert {s.split("/")[0] for s, _ in specs} >= {"Deployment", "Pod"}
    for where, spec in specs:
        psc = spec["securityContext"]
        assert psc["runAsNonRoot"] is True and psc["runAsUser"] == 65532, where
        assert psc["seccompProfile"] == {"type": "RuntimeDefault"}, where
        assert spec["automountServiceAccountToken"] is False, where
        assert not spec.get("hostNetwork") and not spec.get("hostPID"), where
        assert all("hostPath" not in v for v in spec.get("volumes", [])), where
        for c in spec["containers"] + spec.get("initContainers", []):
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True, where
            assert sc["allowPrivilegeEscalation"] is False, where
            assert sc["capabilities"] == {"drop": ["ALL"]}, where
            assert sc["runAsNonRoot"] is True and sc["runAsUser"] == 65532, where
            assert sc["seccompProfile"] == {"type": "RuntimeDefault"}, where
            assert c["resources"]["requests"] and c["resources"]["limits"]["memory"], where
            assert any(m["mountPath"] == "/tmp" for m in c["volumeMounts"]), where


@nodb
def test_the_job_and_the_test_pod_are_checked_too():
    where = [w for w, _ in pod_specs(documents(scenario("everything-on")))]
    assert sorted(w.split("/")[0] for w in where) == ["Deployment", "Job", "Pod"]


# -- the exporter Deployment -------------------------------------------------------------------------------


def deployment(values: dict) -> dict:
    return one(documents(values), "Deployment")


def exporter_container(values: dict) -> dict:
    return deployment(values)["spec"]["template"]["spec"]["containers"][0]


@nodb
def test_probes_startup_guards_the_cold_start_and_all_use_healthz():
    c = exporter_container(MINIMAL)
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert c[probe]["httpGet"] == {"path": "/healthz", "port": "http", "scheme": "HTTP"}
    startup = c["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 600  # a long cold start is not killed
    liveness = c["livenessProbe"]
    assert liveness["periodSeconds"] * liveness["failureThreshold"] >= 300
    assert exporter_container(merged(MINIMAL, {"web": {"tls": True}}))["livenessProbe"]["httpGet"]["scheme"] == "HTTPS"


@nodb
def test_the_config_file_comes_from_the_configmap_and_tmp_is_an_emptydir():
    d = deployment(MINIMAL)
    spec, c = d["spec"]["template"]["spec"], d["spec"]["template"]["spec"]["containers"][0]
    assert c["args"] == ["serve", "--config.file=/etc/litellm-spend-exporter/config/config.yaml"]
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["config"]["configMap"]["name"] == FULLNAME
    assert volumes["tmp"]["emptyDir"] == {"sizeLimit": "64Mi"}
    assert "checksum/config" in d["spec"]["template"]["metadata"]["annotations"]


@nodb
@pytest.mark.parametrize("name", SCENARIOS)
def test_the_rendered_config_file_is_valid_for_the_exporter_and_holds_no_url(name, tmp_path):
    from exporter import config

    cm = one(documents(scenario(name)), "ConfigMap", FULLNAME)
    text = cm["data"]["config.yaml"]
    assert "url" not in yaml.safe_load(text).get("database", {})
    path = tmp_path / "config.yaml"
    path.write_text(text)
    cfg = config.load(config_file=str(path), environ={})
    assert cfg.web.listen_address == ":9733"
    assert cfg.roles.exporter.name == "litellm_spend_exporter"


@nodb
def test_without_the_grafana_login_no_role_job_or_example_mentions_it(tmp_path):
    from exporter import config

    values = merged(
        MINIMAL,
        {
            "roles": {"grafana": {"enabled": False}},
            "rolesJob": {"enabled": True, "setPasswords": True, "adminSecret": {"name": "a"}},
        },
    )
    docs = documents(values)
    path = tmp_path / "roles.yaml"
    path.write_text(one(docs, "ConfigMap", f"{FULLNAME}-roles")["data"]["roles.yaml"])
    assert config.load(config_file=str(path), environ={}).roles.grafana is None
    assert "LITELLM_GRAFANA_ROLE_PASSWORD" not in env_of(one(docs, "Job")["spec"]["template"]["spec"]["containers"][0])
    assert "litellm_grafana" not in notes(values)


@nodb
def test_the_schema_config_section_matches_the_exporter_config_model():
    """values.schema.json `config` must allow exactly the exporter's keys, minus what the chart owns."""
    from exporter.config import Config

    schema = json.loads((CHART / "values.schema.json").read_text())["properties"]["config"]
    chart_owned = {"web", "roles"}
    assert set(schema["properties"]) == {n for n in Config.model_fields} - chart_owned
    for section, prop in schema["properties"].items():
        model = Config.model_fields[section].annotation
        fields = {f.alias or n for n, f in model.model_fields.items()} - {"url"}
        assert set(prop["properties"]) == fields, section
        assert prop["additionalProperties"] is False


@nodb
@pytest.mark.parametrize("instances, service", [(1, "litellm-pg-rw"), (2, "litellm-pg-ro"), (3, "litellm-pg-ro")])
def test_database_host_follows_the_cnpg_replicas(instances, service):
    env = env_of(exporter_container(merged(MINIMAL, {"cnpg": {"instances": instances}})))
    assert (
        env["LITELLM_EXPORTER_DATABASE_URL"] == f"postgresql://{service}.{NAMESPACE}.svc:5432/litellm?sslmode=require"
    )
    job = one(
        documents(
            merged(
                MINIMAL,
                {
                    "cnpg": {"instances": instances},
                    "rolesJob": {"enabled": True, "adminSecret": {"name": "litellm-pg-superuser"}},
                },
            )
        ),
        "Job",
    )
    assert (
        env_of(job["spec"]["template"]["spec"]["containers"][0])["LITELLM_EXPORTER_ADMIN_URL"]
        == f"postgresql://litellm-pg-rw.{NAMESPACE}.svc:5432/litellm?sslmode=require"
    )  # grants go to the primary


@nodb
def test_credentials_come_only_from_the_existing_secret():
    env = env_of(exporter_container(merged(MINIMAL, {"cnpg": {"namespace": "databases"}})))
    assert env["PGUSER"] == {"secretKeyRef": {"name": "litellm-spend-exporter-db", "key": "username"}}
    assert env["PGPASSWORD"] == {"secretKeyRef": {"name": "litellm-spend-exporter-db", "key": "password"}}
    assert "databases.svc" in env["LITELLM_EXPORTER_DATABASE_URL"]
    url_secret = {"name": "litellm-db", "urlKey": "DATABASE_URL"}
    url_mode = env_of(exporter_container({"database": {"existingSecret": url_secret}}))
    assert url_mode == {
        "LITELLM_EXPORTER_DATABASE_URL": {"secretKeyRef": {"name": "litellm-db", "key": "DATABASE_URL"}}
    }
    for values in (MINIMAL, scenario("everything-on")):
        assert not [
            d
            for d in documents(values)
            if d["kind"] == "Secret" and "password" in json.dumps(d).lower() and "$__env{" not in json.dumps(d)
        ]


@nodb
def test_replicas_are_independent_readers_with_a_pdb_and_a_spread():
    docs = documents(scenario("replicas-2"))
    d = one(docs, "Deployment")
    assert d["spec"]["replicas"] == 2
    spread = d["spec"]["template"]["spec"]["topologySpreadConstraints"][0]
    assert spread["labelSelector"]["matchLabels"]["app.kubernetes.io/component"] == "exporter"
    assert one(docs, "PodDisruptionBudget")["spec"]["maxUnavailable"] == 1
    assert "de-duplicate them" in notes(scenario("replicas-2"))


@nodb
def test_service_keeps_not_ready_pods_so_prometheus_sees_db_down():
    svc = one(documents(MINIMAL), "Service")
    assert svc["spec"]["publishNotReadyAddresses"] is True
    assert svc["spec"]["ports"] == [{"name": "http", "port": 9733, "targetPort": "http", "protocol": "TCP"}]


@nodb
def test_servicemonitor_names_the_job_like_the_shipped_rules_select_it():
    sm = one(
        documents(merged(MINIMAL, {"serviceMonitor": {"enabled": True, "namespace": "monitoring"}})), "ServiceMonitor"
    )
    assert sm["spec"]["jobLabel"] == "app.kubernetes.io/name"
    svc = one(documents(MINIMAL), "Service")
    shipped_selector = yaml.safe_load((CHART / "files" / "thresholds.yaml").read_text())["thresholds"]["selector"]
    assert shipped_selector["default"] == f'job="{svc["metadata"]["labels"]["app.kubernetes.io/name"]}"'
    assert sm["spec"]["namespaceSelector"] == {"matchNames": [NAMESPACE]}


# -- PrometheusRule ----------------------------------------------------------------------------------------

RULES_ON = merged(MINIMAL, {"prometheusRule": {"enabled": True}})


def rule_groups(values: dict) -> list[dict]:
    return one(documents(values), "PrometheusRule")["spec"]["groups"]


def alerts(values: dict) -> list[dict]:
    return [r for g in rule_groups(values) for r in g["rules"]]


def shipped_groups() -> list[dict]:
    files = sorted((CHART / "files" / "rules").glob("*.yaml"))
    return [g for p in files for g in yaml.safe_load(p.read_text())["groups"]]


@nodb
def test_rules_by_default_are_the_shipped_rules():
    assert shipped_groups(), "files/rules is empty: run scripts/sync-chart-files"
    assert rule_groups(RULES_ON) == shipped_groups()


@nodb
@pytest.mark.parametrize("name", ["everything-on", None])
def test_rendered_rules_pass_promtool(name, tmp_path):
    promtool = require_binary("promtool")
    values = scenario(name) if name else RULES_ON
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": rule_groups(values)}, sort_keys=False))
    result = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@nodb
def test_exclude_rules_removes_a_rule():
    names = [r["alert"] for r in alerts(RULES_ON)]
    assert "LiteLLMDbSpendRateAnomalous" in names
    excluded = merged(RULES_ON, {"prometheusRule": {"excludeRules": ["LiteLLMDbSpendRateAnomalous"]}})
    after = [r["alert"] for r in alerts(excluded)]
    assert "LiteLLMDbSpendRateAnomalous" not in after
    assert len(after) == len(names) - names.count("LiteLLMDbSpendRateAnomalous")
    assert "litellm-db-spend" not in [g["name"] for g in rule_groups(excluded)]  # an emptied group is dropped


@nodb
def test_a_threshold_value_changes_the_expression_and_only_where_it_is_used():
    default = alerts(RULES_ON)
    changed = alerts(merged(RULES_ON, {"prometheusRule": {"thresholds": {"budget": {"warning_ratio": 0.7}}}}))
    assert ">= 0.8 < 0.95" in default[0]["expr"]
    assert ">= 0.7 < 0.95" in changed[0]["expr"]
    assert "(warning from 70%)" in changed[0]["annotations"]["description"]
    differing = [(a["alert"], a["labels"]["severity"]) for a, b in zip(default, changed) if a != b]
    assert differing == [("LiteLLMDbBudgetUsageHigh", "warning")] * 3  # key, team and user warnings only


OVERRIDES = {
    "budget": {"warning_ratio": 0.65, "critical_ratio": 0.9, "burn_window": "12h", "for": "10m"},
    "errors": {"ratio": 0.025, "min_requests": 50, "window": "15m"},
    "latency": {"quantile": 0.95, "seconds": 45.5},
    "spend": {"factor": 2.5, "baseline_window": "14d"},
    "exporter": {"refresh_stale_after": "1h30m", "ingest_lag_seconds": 3600, "down_for": "2m"},
}


@nodb
def test_chart_thresholds_equal_what_the_alert_generator_writes_for_the_same_config():
    """The chart's parts + formats reproduce dashboards.alerts for overridden thresholds (not just the defaults)."""
    from dashboards import alerts as generator
    from dashboards import thresholds

    config = yaml.safe_load(thresholds.CONFIG.read_text())
    for section, values in OVERRIDES.items():
        config[section].update(values)
    config["selector"] = 'job="lse-litellm-spend-exporter"'
    want = [g for _, g in sorted(generator.groups(thresholds.Thresholds.model_validate(config)).items())]
    got = rule_groups(
        merged(RULES_ON, {"prometheusRule": {"thresholds": OVERRIDES, "selector": 'job="lse-litellm-spend-exporter"'}})
    )
    assert got == want


@nodb
@pytest.mark.parametrize(
    "thresholds, message",
    [
        (
            {"budget": {"warning_percent": 70}},
            'unknown threshold "budget.warning_percent"; known thresholds: budget.burn_window',
        ),
        ({"budget": {"warning_ratio": "high"}}, "prometheusRule.thresholds.budget.warning_ratio must be a number"),
        ({"errors": {"window": 600}}, "prometheusRule.thresholds.errors.window must be a Prometheus duration"),
    ],
)
def test_bad_thresholds_fail_with_the_known_names(thresholds, message):
    assert message in render_error(merged(RULES_ON, {"prometheusRule": {"thresholds": thresholds}}))


@nodb
def test_a_runbook_base_url_links_every_alert_and_the_chart_ships_the_runbooks():
    assert all("runbook_url" not in r.get("annotations", {}) for r in alerts(RULES_ON))  # shipped: no base
    base = "https://litellm-exporter.example.com/runbooks/"
    rules = alerts(merged(RULES_ON, {"prometheusRule": {"runbookBaseUrl": base}}))
    assert rules and all(r["annotations"]["runbook_url"] == f"{base}{r['alert']}.md" for r in rules)
    shipped = {p.name for p in (ROOT / "docs" / "runbooks").glob("*.md")}
    assert (
        {f"{r['alert']}.md" for r in rules} <= shipped == {p.name for p in (CHART / "files" / "runbooks").glob("*.md")}
    )
    assert "runbookBaseUrl" in render_error(merged(RULES_ON, {"prometheusRule": {"runbookBaseUrl": "no-scheme/"}}))


@nodb
@pytest.mark.parametrize(
    "section, name, value",
    [
        ("budget", "warning_ratio", 0.7),
        ("budget", "critical_ratio", 0.9),
        ("budget", "burn_window", "12h"),
        ("errors", "ratio", 0.05),
        ("exporter", "ingest_lag_seconds", 900),
    ],
)
def test_a_threshold_the_shipped_dashboards_draw_cannot_be_overridden_while_the_chart_ships_them(section, name, value):
    """The chart's dashboards are built with the shipped thresholds; overriding one they draw would make their
    threshold lines (or burn window) disagree with the rules, so the chart refuses it and says how to do it."""
    assert f"{section}.{name}" in yaml.safe_load((CHART / "files" / "thresholds.yaml").read_text())["dashboards"]
    override = {"prometheusRule": {"thresholds": {section: {name: value}}}}
    message = render_error(merged(RULES_ON, override, {"grafana": {"dashboards": {"enabled": True}}}))
    assert f"prometheusRule.thresholds.{section}.{name} is also drawn by the dashboards" in message
    assert "litellm-spend-exporter dashboards --thresholds FILE" in message
    assert rule_groups(merged(RULES_ON, override)) != shipped_groups()  # without the chart's dashboards: allowed


@nodb
def test_additional_rule_labels_never_replace_a_rules_own_labels():
    rules = alerts(
        merged(RULES_ON, {"prometheusRule": {"additionalRuleLabels": {"team": "platform", "severity": "page"}}})
    )
    assert all(r["labels"]["team"] == "platform" for r in rules)
    assert {r["labels"]["severity"] for r in rules} <= {"info", "warning", "critical"}


# -- files copied into the chart ---------------------------------------------------------------------------

COPIES = [
    (ROOT / "dashboards" / "generated", "*.json", CHART / "files" / "dashboards"),
    (ROOT / "deploy" / "prometheus" / "rules", "*.yaml", CHART / "files" / "rules"),
]


@nodb
@pytest.mark.parametrize("source, pattern, copy_dir", COPIES, ids=["dashboards", "rules"])
def test_chart_copies_equal_their_sources_byte_for_byte(source, pattern, copy_dir):
    sources = {p.name: p.read_bytes() for p in source.glob(pattern)}
    copies = {p.name: p.read_bytes() for p in copy_dir.glob(pattern)}
    assert sources, f"{source} is empty"
    assert sorted(copies) == sorted(sources), "run scripts/sync-chart-files"
    for name in sources:
        assert copies[name] == sources[name], f"{copy_dir.name}/{name} differs: run scripts/sync-chart-files"


@nodb
def test_sync_script_reports_nothing_out_of_date():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "sync-chart-files"), "--check"],
        capture_output=True,
        text=True,
        env={**os.environ, "SYNC_CHART_FILES_NO_REEXEC": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr


@nodb
def test_dashboard_configmaps_hold_the_committed_json_byte_for_byte():
    values = merged(MINIMAL, {"grafana": {"dashboards": {"enabled": True, "namespace": "monitoring"}}})
    maps = [
        d
        for d in documents(values)
        if d["kind"] == "ConfigMap" and d["metadata"]["labels"].get("app.kubernetes.io/component") == "dashboards"
    ]
    generated = sorted((ROOT / "dashboards" / "generated").glob("*.json"))
    assert generated and len(maps) == len(generated)
    by_key = {k: v for m in maps for k, v in m["data"].items()}
    for path in generated:
        assert by_key[path.name].encode() == path.read_bytes(), path.name
    for m in maps:
        assert m["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert m["metadata"]["annotations"] == {"grafana_folder": "LiteLLM"}
        assert m["metadata"]["namespace"] == "monitoring"
        assert len(m["metadata"]["name"]) <= 63


# -- Grafana datasource ------------------------------------------------------------------------------------

DATASOURCE = merged(MINIMAL, {"grafana": {"datasource": {"enabled": True}}})


def datasource_file(doc: dict) -> dict:
    (text,) = (doc.get("stringData") or doc["spec"]["target"]["template"]["data"]).values()
    return yaml.safe_load(text)["datasources"][0]


@nodb
def test_datasource_env_mode_is_a_labelled_secret_without_the_password():
    docs = documents(merged(DATASOURCE, {"grafana": {"datasource": {"passwordFrom": "env"}}}))
    secret = one(docs, "Secret")
    assert secret["metadata"]["labels"]["grafana_datasource"] == "1"
    ds = datasource_file(secret)
    assert ds["type"] == "grafana-postgresql-datasource" and ds["user"] == "litellm_grafana"
    assert ds["url"] == f"litellm-pg-rw.{NAMESPACE}.svc:5432"
    assert ds["jsonData"]["database"] == "litellm" and ds["jsonData"]["sslmode"] == "require"
    assert ds["secureJsonData"] == {"password": "$__env{LITELLM_GRAFANA_DB_PASSWORD}"}


@nodb
def test_datasource_external_secret_mode_lets_eso_render_the_labelled_secret():
    values = merged(
        DATASOURCE,
        {
            "externalSecrets": {
                "secretStoreRef": {"name": "gsm"},
                "grafanaRole": {"remoteRef": {"key": "litellm-grafana-ro-password"}},
            }
        },
    )
    docs = documents(values)
    assert not [d for d in docs if d["kind"] == "Secret"]
    es = one(docs, "ExternalSecret", f"{FULLNAME}-datasource")
    template = es["spec"]["target"]["template"]
    assert template["metadata"]["labels"]["grafana_datasource"] == "1"
    (text,) = template["data"].values()
    assert "password: {{ .password | toJson }}" in text
    tricky = 'pa"ss: {x}\\n#'  # what ESO's toJson makes of it must parse back to the same password
    rendered = yaml.safe_load(text.replace("{{ .password | toJson }}", json.dumps(tricky)))
    assert rendered["datasources"][0]["secureJsonData"] == {"password": tricky}
    assert es["spec"]["data"] == [{"secretKey": "password", "remoteRef": {"key": "litellm-grafana-ro-password"}}]


@nodb
def test_datasource_plain_password_needs_explicit_consent():
    plain = merged(DATASOURCE, {"grafana": {"datasource": {"passwordFrom": "value", "password": 'p"w'}}})
    assert "set grafana.datasource.allowPlaintextPassword=true" in render_error(plain)
    allowed = merged(plain, {"grafana": {"datasource": {"allowPlaintextPassword": True}}})
    assert datasource_file(one(documents(allowed), "Secret"))["secureJsonData"] == {"password": 'p"w'}


# -- the roles Job and ExternalSecrets ---------------------------------------------------------------------


@nodb
def test_roles_job_is_a_pre_install_hook_after_its_configmap():
    docs = documents(scenario("cnpg-managed-roles"))
    job = one(docs, "Job")
    ann = job["metadata"]["annotations"]
    assert ann["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert ann["helm.sh/hook-delete-policy"] == "before-hook-creation,hook-succeeded"
    cm = one(docs, "ConfigMap", f"{FULLNAME}-roles")
    assert int(cm["metadata"]["annotations"]["helm.sh/hook-weight"]) < int(ann["helm.sh/hook-weight"])
    c = job["spec"]["template"]["spec"]["containers"][0]
    assert c["args"] == ["roles", "apply", "--config.file=/etc/litellm-spend-exporter/roles/roles.yaml"]
    env = env_of(c)
    assert env["PGUSER"] == {"secretKeyRef": {"name": "litellm-pg-superuser", "key": "username"}}
    assert "LITELLM_EXPORTER_ROLE_PASSWORD" not in env  # CNPG owns the managed roles' passwords
    roles = yaml.safe_load(cm["data"]["roles.yaml"])["roles"]
    assert roles["exporter"]["name"] == "litellm_spend_exporter" and roles["grafana"]["name"] == "litellm_grafana"


@nodb
def test_roles_job_sets_passwords_from_the_login_secrets_when_asked():
    env = env_of(one(documents(scenario("everything-on")), "Job")["spec"]["template"]["spec"]["containers"][0])
    assert env["LITELLM_EXPORTER_ROLE_PASSWORD"] == {
        "secretKeyRef": {"name": "litellm-spend-exporter-db", "key": "password"}
    }
    assert env["LITELLM_GRAFANA_ROLE_PASSWORD"] == {"secretKeyRef": {"name": "litellm-grafana-db", "key": "password"}}


# Hook events that run after the release's ordinary resources exist.
AFTER_INSTALL = {"post-install", "post-upgrade", "test", "test-success"}


def hook_of(doc: dict) -> tuple[set[str], int, set[str]]:
    """(events, weight, delete policies) of a rendered object; no events for an ordinary resource."""
    ann = doc["metadata"].get("annotations") or {}
    split = lambda key: {v.strip() for v in ann.get(key, "").split(",") if v.strip()}
    return split("helm.sh/hook"), int(ann.get("helm.sh/hook-weight", "0")), split("helm.sh/hook-delete-policy")


def pod_references(spec: dict) -> set[tuple[str, str]]:
    """(kind, name) of every ServiceAccount, ConfigMap and Secret a pod spec needs to start."""
    refs = {("ServiceAccount", spec.get("serviceAccountName") or "default")}
    refs |= {("Secret", s["name"]) for s in spec.get("imagePullSecrets", [])}
    for v in spec.get("volumes", []):
        sources = [v, *v.get("projected", {}).get("sources", [])]
        refs |= {("ConfigMap", src["configMap"]["name"]) for src in sources if "configMap" in src}
        refs |= {
            ("Secret", src["secret"].get("secretName") or src["secret"]["name"]) for src in sources if "secret" in src
        }
    for c in spec["containers"] + spec.get("initContainers", []):
        for e in c.get("env", []):
            ref = e.get("valueFrom", {})
            refs |= {("Secret", ref["secretKeyRef"]["name"])} if "secretKeyRef" in ref else set()
            refs |= {("ConfigMap", ref["configMapKeyRef"]["name"])} if "configMapKeyRef" in ref else set()
        for e in c.get("envFrom", []):
            refs |= {("Secret", e["secretRef"]["name"])} if "secretRef" in e else set()
            refs |= {("ConfigMap", e["configMapRef"]["name"])} if "configMapRef" in e else set()
    return refs


def hook_dependency_problems(docs: list[dict]) -> list[str]:
    """Objects a hook pod needs that the chart creates too late: an ordinary resource before the release's
    resources exist, or a hook that is not of every one of the pod's events at a lower weight."""
    created: dict[tuple[str, str, str], dict] = {}
    for d in docs:
        ns = d["metadata"].get("namespace", NAMESPACE)
        created[(d["kind"], ns, d["metadata"]["name"])] = d
        if d["kind"] == "ExternalSecret":  # ESO writes the Secret; it exists no earlier than its ExternalSecret
            created[("Secret", ns, d["spec"]["target"].get("name") or d["metadata"]["name"])] = d
    problems = []
    for d in docs:
        events, weight, _ = hook_of(d)
        if not events or d["kind"] not in ("Pod", "Job"):
            continue
        spec = d["spec"] if d["kind"] == "Pod" else d["spec"]["template"]["spec"]
        ns = d["metadata"].get("namespace", NAMESPACE)
        for kind, name in sorted(pod_references(spec)):
            obj = created.get((kind, ns, name))
            if obj is None:
                continue  # not the chart's: it must exist beforehand, whatever the order
            obj_events, obj_weight, _ = hook_of(obj)
            where = (
                f"{d['kind']}/{d['metadata']['name']} ({','.join(sorted(events))}, weight {weight}) needs "
                f"{kind} {name} from {obj['kind']}/{obj['metadata']['name']}"
            )
            if not obj_events:
                if not events <= AFTER_INSTALL:
                    problems.append(f"{where}, an ordinary resource, created only after the hook ran")
            elif not events <= obj_events or obj_weight >= weight:
                problems.append(f"{where}, a hook of {','.join(sorted(obj_events))} at weight {obj_weight}")
    return problems


HOOK_CASES = {f"scenario {name}": scenario(name) for name in SCENARIOS}
HOOK_CASES["roles Job, chart's ServiceAccount"] = merged(
    MINIMAL, {"rolesJob": {"enabled": True, "adminSecret": {"name": "admin"}}}
)
HOOK_CASES["roles Job, existing ServiceAccount"] = merged(
    HOOK_CASES["roles Job, chart's ServiceAccount"], {"serviceAccount": {"create": False, "name": "existing"}}
)


@nodb
@pytest.mark.parametrize("case", sorted(HOOK_CASES))
def test_everything_a_hook_pod_refers_to_exists_before_it(case):
    docs = documents(HOOK_CASES[case])
    assert [d for d in docs if hook_of(d)[0] and d["kind"] in ("Pod", "Job")]  # some hook pod is checked
    assert not hook_dependency_problems(docs)


@nodb
def test_the_hook_dependency_check_catches_the_chart_service_account_and_a_late_config_map():
    docs = documents(HOOK_CASES["roles Job, chart's ServiceAccount"])
    job = one(docs, "Job")
    job["spec"]["template"]["spec"]["serviceAccountName"] = FULLNAME  # the chart's ordinary ServiceAccount
    assert hook_dependency_problems(docs) == [
        f"Job/{FULLNAME}-roles (pre-install,pre-upgrade, weight 0) needs ServiceAccount {FULLNAME} from "
        f"ServiceAccount/{FULLNAME}, an ordinary resource, created only after the hook ran"
    ]
    job["spec"]["template"]["spec"]["serviceAccountName"] = f"{FULLNAME}-roles"
    one(docs, "ConfigMap", f"{FULLNAME}-roles")["metadata"]["annotations"]["helm.sh/hook-weight"] = "0"
    assert [p.split(" from ")[1] for p in hook_dependency_problems(docs)] == [
        f"ConfigMap/{FULLNAME}-roles, a hook of pre-install,pre-upgrade at weight 0"
    ]
    test_pod = one(docs, "Pod")
    test_pod["spec"]["volumes"].append({"name": "x", "configMap": {"name": f"{FULLNAME}-roles"}})
    assert any(p.startswith(f"Pod/{FULLNAME}-test-metrics") for p in hook_dependency_problems(docs))


@nodb
def test_the_roles_job_runs_as_its_own_hook_service_account_removed_with_its_config_map():
    docs = documents(HOOK_CASES["roles Job, chart's ServiceAccount"])
    job = one(docs, "Job")
    sa = one(docs, "ServiceAccount", f"{FULLNAME}-roles")
    assert job["spec"]["template"]["spec"]["serviceAccountName"] == sa["metadata"]["name"]
    assert sa["automountServiceAccountToken"] is False
    for obj in (sa, one(docs, "ConfigMap", f"{FULLNAME}-roles")):
        events, weight, policies = hook_of(obj)
        assert events == {"pre-install", "pre-upgrade"} and weight == -5
        assert policies == {"before-hook-creation", "hook-succeeded"}  # not left behind
    assert one(docs, "Deployment")["spec"]["template"]["spec"]["serviceAccountName"] == FULLNAME
    existing = documents(HOOK_CASES["roles Job, existing ServiceAccount"])
    assert not [d for d in existing if d["kind"] == "ServiceAccount"]
    assert {w: s["serviceAccountName"] for w, s in pod_specs(existing)} == {
        f"Deployment/{FULLNAME}": "existing",
        f"Job/{FULLNAME}-roles": "existing",
        f"Pod/{FULLNAME}-test-metrics": "existing",
    }


@nodb
def test_external_secrets_the_job_reads_exist_before_it():
    docs = documents(scenario("eso"))
    by_name = {d["metadata"]["name"]: d for d in docs if d["kind"] == "ExternalSecret"}
    job_weight = int(one(docs, "Job")["metadata"]["annotations"]["helm.sh/hook-weight"])
    for name in ("litellm-spend-exporter-db", "litellm-grafana-db", "litellm-spend-exporter-admin"):
        ann = by_name[name]["metadata"]["annotations"]
        assert ann["helm.sh/hook"] == "pre-install,pre-upgrade" and int(ann["helm.sh/hook-weight"]) < job_weight
        assert by_name[name]["spec"]["target"]["creationPolicy"] == "Orphan"  # replacing the hook keeps the Secret
    assert "annotations" not in by_name[f"{FULLNAME}-datasource"]["metadata"]
    login = by_name["litellm-spend-exporter-db"]["spec"]["target"]["template"]
    assert login["type"] == "kubernetes.io/basic-auth" and login["metadata"]["labels"] == {"cnpg.io/reload": "true"}
    assert login["data"] == {"username": "litellm_spend_exporter", "password": "{{ .password }}"}


@nodb
def test_external_secret_url_mode_writes_the_url_key():
    es = one(documents(scenario("external-secret")), "ExternalSecret", "litellm-spend-exporter-url")
    assert es["apiVersion"] == "external-secrets.io/v1beta1"
    assert es["spec"]["data"] == [
        {"secretKey": "DATABASE_URL", "remoteRef": {"key": "litellm/exporter", "property": "database_url"}}
    ]
    assert "template" not in es["spec"]["target"]


@nodb
def test_cnpg_managed_roles_example_is_printed_and_valid():
    text = notes(scenario("cnpg-managed-roles"))
    block = text.split("  spec:\n", 1)[1].split("\n\n", 1)[0]
    roles = yaml.safe_load("spec:\n" + block)["spec"]["managed"]["roles"]
    validate_crd(
        {
            "apiVersion": "postgresql.cnpg.io/v1",
            "kind": "Cluster",
            "metadata": {"name": "litellm-pg"},
            "spec": {"managed": {"roles": roles}},
        }
    )
    assert [(r["name"], r["passwordSecret"]["name"]) for r in roles] == [
        ("litellm_spend_exporter", "litellm-spend-exporter-db"),
        ("litellm_grafana", "litellm-grafana-db"),
    ]
    example = yaml.safe_load((CHART / "examples" / "cnpg-cluster.yaml").read_text())
    validate_crd(example)
    strip = lambda rs: [{k: v for k, v in r.items() if k != "comment"} for r in rs]
    assert strip(example["spec"]["managed"]["roles"]) == roles  # the example and the notes agree


# -- NetworkPolicy, NOTES ----------------------------------------------------------------------------------


@nodb
def test_network_policy_allows_only_prometheus_in_and_postgres_and_dns_out():
    np = one(documents(scenario("everything-on")), "NetworkPolicy")["spec"]
    assert np["policyTypes"] == ["Ingress", "Egress"]
    (ingress,) = np["ingress"]
    assert ingress["ports"] == [{"port": "http", "protocol": "TCP"}]
    assert ingress["from"][0]["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}
    assert ingress["from"][1]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "test"
    pg, dns = np["egress"]
    assert pg["ports"] == [{"port": 5432, "protocol": "TCP"}]
    assert pg["to"][0] == {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "databases"}},
        "podSelector": {"matchLabels": {"cnpg.io/cluster": "litellm-pg"}},
    }
    assert {p["port"] for p in dns["ports"]} == {53}


NP_ON = merged(MINIMAL, {"networkPolicy": {"enabled": True}})


@nodb
@pytest.mark.parametrize(
    "database, named",
    [
        ({"host": "pg.example.internal"}, "the database is database.host pg.example.internal"),
        ({"existingSecret": {"urlKey": "DATABASE_URL"}}, "the database is the URL in database.existingSecret.urlKey"),
    ],
)
def test_network_policy_refuses_to_guess_the_database_pods_of_a_non_cnpg_database(database, named):
    values = merged(NP_ON, {"database": database})
    message = render_error(values)
    assert named in message and "would cut the exporter off" in message
    assert "set networkPolicy.postgres.podSelector" in message and "networkPolicy.extraEgress" in message
    pods = {"matchLabels": {"app": "postgres"}}
    np = one(documents(merged(values, {"networkPolicy": {"postgres": {"podSelector": pods}}})), "NetworkPolicy")
    assert np["spec"]["egress"][0]["to"][0]["podSelector"] == pods
    rule = {"to": [{"ipBlock": {"cidr": "10.0.0.5/32"}}], "ports": [{"port": 5432, "protocol": "TCP"}]}
    np = one(documents(merged(values, {"networkPolicy": {"extraEgress": [rule]}})), "NetworkPolicy")
    assert [e["ports"][0]["port"] for e in np["spec"]["egress"]] == [53, 5432]  # DNS and the ipBlock, no CNPG rule
    assert np["spec"]["egress"][-1] == rule
    assert "cnpg.io/cluster" not in json.dumps(np)


@nodb
def test_network_policy_selects_the_cnpg_pods_without_being_told():
    np = one(documents(NP_ON), "NetworkPolicy")["spec"]
    assert np["egress"][0]["to"][0]["podSelector"] == {"matchLabels": {"cnpg.io/cluster": "litellm-pg"}}


@nodb
def test_notes_tell_the_next_step():
    text = notes(MINIMAL)
    assert "Next: declare the read-only logins" in text and "Next: grant the logins" in text
    assert "helm test lse -n litellm" in text
    assert "envValueFrom" in notes(merged(DATASOURCE, {"grafana": {"datasource": {"passwordFrom": "env"}}}))


def readme_minimal_install() -> tuple[str, str]:
    """The README's minimal values block and the shell block after it (Install on Kubernetes)."""
    text = (ROOT / "README.md").read_text()
    rest = text[text.index("A minimal values file for a CNPG Cluster") :]
    values = rest.split("```yaml\n", 1)[1].split("```", 1)[0]
    shell = rest.split("```sh\n", 1)[1].split("```", 1)[0]
    return values, shell


@nodb
def test_the_readme_minimal_values_are_the_tested_ci_file():
    """The README's block is ci/readme-minimal-values.yaml byte for byte, so every scenario test covers it."""
    values, _ = readme_minimal_install()
    assert values == (CHART / "ci" / "readme-minimal-values.yaml").read_text()
    docs = documents(scenario("readme-minimal"))
    assert one(docs, "Job")["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"


@nodb
def test_the_readme_and_the_notes_tell_the_user_to_create_every_managed_roles_secret():
    text = notes(scenario("readme-minimal"))
    block = text.split("  spec:\n", 1)[1].split("\n\n", 1)[0]
    managed = {
        r["passwordSecret"]["name"]: r["name"] for r in yaml.safe_load("spec:\n" + block)["spec"]["managed"]["roles"]
    }
    assert managed == {"litellm-spend-exporter-db": "litellm_spend_exporter", "litellm-grafana-db": "litellm_grafana"}
    _, shell = readme_minimal_install()
    for source in (shell.replace("\\\n", " "), text.replace("\\\n", " ")):
        created = dict(
            re.findall(
                r"create secret generic (\S+) --type=kubernetes.io/basic-auth\s+"
                r"--from-literal=username=(\S+)",
                source,
            )
        )
        assert created == managed
    assert "set roles.grafana.enabled=false instead of providing litellm-grafana-db" in text
    assert "roles: {grafana: {enabled: false}}" in (ROOT / "README.md").read_text()
    without = notes(merged(scenario("readme-minimal"), {"roles": {"grafana": {"enabled": False}}}))
    assert "litellm-grafana-db" not in without and "create secret generic litellm-spend-exporter-db" in without
    eso = notes(scenario("eso"))
    assert "litellm-grafana-db: written by its ExternalSecret" in eso and "create secret generic" not in eso


# -- bad values fail with a message ------------------------------------------------------------------------


@nodb
@pytest.mark.parametrize(
    "values, message",
    [
        ({}, "database.existingSecret.name is required: the Secret with the exporter's database login"),
        (
            merged(MINIMAL, {"rolesJob": {"enabled": True}}),
            "rolesJob.adminSecret.name is required: the Secret with the admin connection",
        ),
        (
            merged(MINIMAL, {"externalSecrets": {"database": {"enabled": True, "remoteRef": {"key": "k"}}}}),
            "externalSecrets.secretStoreRef.name is required",
        ),
        (
            merged(MINIMAL, {"externalSecrets": {"secretStoreRef": {"name": "gsm"}, "database": {"enabled": True}}}),
            "externalSecrets.database.remoteRef.key is required",
        ),
        (
            merged(
                MINIMAL,
                {
                    "database": {"existingSecret": {"urlKey": "uri"}},
                    "rolesJob": {"enabled": True, "setPasswords": True, "adminSecret": {"name": "a"}},
                },
            ),
            "rolesJob.setPasswords reads the exporter's password",
        ),
    ],
)
def test_missing_or_inconsistent_values_fail_with_a_clear_message(values, message):
    assert message in render_error(values)


@nodb
@pytest.mark.parametrize(
    "values, message",
    [
        (merged(MINIMAL, {"replicaCount": -1}), "replicaCount"),
        (merged(MINIMAL, {"replicaCount": -1}), "minimum"),
        (merged(MINIMAL, {"replicas": 2}), "replicas"),
        (merged(MINIMAL, {"config": {"database": {"url": "postgresql://u:p@h/db"}}}), "url"),
        (merged(MINIMAL, {"serviceMonitor": {"enabeld": True}}), "enabeld"),
        (merged(MINIMAL, {"grafana": {"datasource": {"passwordFrom": "plain"}}}), "passwordFrom"),
    ],
)
def test_values_outside_the_schema_fail_naming_the_key(values, message):
    with pytest.raises(helm.HelmValuesError) as info:
        _chart().validate_schema(values)
    assert message in str(info.value)
    assert message in render_error(values)  # install/upgrade fail the same way


# -- the helm test pod -------------------------------------------------------------------------------------


class _Metrics(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


def test_script(values: dict) -> str:
    pod = next(d for d in documents(values) if d["kind"] == "Pod")
    c = pod["spec"]["containers"][0]
    assert c["command"] == ["python", "-c"] and c["image"] == exporter_container(values)["image"]
    return c["args"][0]


test_script.__test__ = False  # a helper, not a test


@nodb
@pytest.mark.parametrize("body, rc", [(b"# HELP x\nlitellm_db_up 1.0\n", 0), (b"litellm_db_up 0.0\n", 1)])
def test_helm_test_pod_passes_only_on_db_up_1(body, rc):
    handler = type("H", (_Metrics,), {"body": body})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        script = test_script(merged(MINIMAL, {"tests": {"timeoutSeconds": 1}}))
        url = f"http://{FULLNAME}.{NAMESPACE}.svc:9733/metrics"
        assert url in script
        script = script.replace(url, f"http://127.0.0.1:{server.server_address[1]}/metrics")
        result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)
    finally:
        server.shutdown()
    assert result.returncode == rc, result.stdout + result.stderr


# -- the image ---------------------------------------------------------------------------------------------


def dockerfile_stages() -> list[list[str]]:
    lines = (ROOT / "Dockerfile").read_text().replace("\\\n", " ").splitlines()
    stages: list[list[str]] = []
    for line in (raw.strip() for raw in lines):
        if line.startswith("FROM "):
            stages.append([])
        if stages and line and not line.startswith("#"):
            stages[-1].append(line)
    return stages


@nodb
def test_dockerfile_is_multi_stage_non_root_and_has_no_build_tools_in_the_final_stage():
    text = (ROOT / "Dockerfile").read_text()
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in text
    build, final = dockerfile_stages()
    assert any("pip wheel --no-deps --wheel-dir /dist ." in line for line in build)
    final_text = "\n".join(final)
    assert "python -m venv --without-pip /opt/venv" in final_text
    assert "python -m pip --python /opt/venv/bin/python install --only-binary=:all: /dist/*.whl" in final_text
    assert not re.search(r"apt-get|apk |gcc|build-essential|hatchling|COPY \. ", final_text)
    assert "USER 65532:65532" in final
    assert final[-2:] == ['ENTRYPOINT ["litellm-spend-exporter"]', 'CMD ["serve"]']
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    assert ignore[1:2] == ["*"] and "!pyproject.toml" in ignore  # an allowlist


@nodb
def test_the_chart_app_version_is_the_package_version():
    """One version: exporter/__init__.py (pyproject reads it); the chart's appVersion (the image tag) follows it."""
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["appVersion"] == exporter.__version__, "set appVersion in Chart.yaml to exporter.__version__"
    assert 'dynamic = ["version"]' in (ROOT / "pyproject.toml").read_text()


@nodb
@pytest.mark.slow
def test_wheel_installs_into_a_fresh_venv_like_the_dockerfile_and_runs(tmp_path):
    """The Dockerfile's two steps, here: pip wheel --no-deps; venv --without-pip + pip --python install."""
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    dist = tmp_path / "dist"
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--wheel-dir", str(dist), str(ROOT)], check=True, timeout=300, capture_output=True
    )
    (wheel,) = dist.glob("litellm_spend_exporter-*.whl")
    assert wheel.name.startswith(f"litellm_spend_exporter-{exporter.__version__}-")  # the version's one place
    names = zipfile.ZipFile(wheel).namelist()
    assert "exporter/sql/spend_logs_rows.sql" in names and "exporter/sql/key_budgets.sql" in names
    repo_sql = {str(p.relative_to(ROOT)).replace("sql/", "exporter/sql/", 1) for p in (ROOT / "sql").rglob("*.sql")}
    assert repo_sql <= set(names), sorted(repo_sql - set(names))
    assert {"exporter/sql/grants/exporter.json", "exporter/sql/grants/grafana.json"} <= set(names)
    runbooks = {f"exporter/runbooks/{p.name}" for p in (ROOT / "docs" / "runbooks").glob("*.md")}
    assert runbooks and runbooks <= set(names), "the runbooks /runbooks/ serves are not in the wheel"
    assert (
        any(n.startswith("exporter/access/migrations/versions/") for n in names)
        and "exporter/access/migrations/env.py" in names
    )
    assert "dashboards/__init__.py" in names, "the dashboards package is not in the wheel (pyproject packages)"
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    subprocess.run(
        [*pip, "--python", str(venv / "bin" / "python"), "install", "--only-binary=:all:", str(wheel)],
        check=True,
        timeout=600,
        capture_output=True,
    )
    assert not (venv / "bin" / "pip").exists()
    exe = str(venv / "bin" / "litellm-spend-exporter")
    for args in (["--help"], ["serve", "--help"], ["roles", "--help"]):
        result = subprocess.run([exe, *args], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
    assert "--config.file" in subprocess.run([exe, "serve", "--help"], capture_output=True, text=True).stdout


# -- the rendered wiring against a real PostgreSQL ---------------------------------------------------------


def _resolve(env: dict, secrets: dict[str, dict[str, str]]) -> dict[str, str]:
    out = {}
    for name, value in env.items():
        if isinstance(value, dict):
            ref = value["secretKeyRef"]
            value = secrets[ref["name"]][ref["key"]]
        out[name] = value
    return out


@pytest.mark.slow
def test_rendered_job_and_deployment_env_work_against_postgres(litellm_db, tmp_path):
    """roles apply with the Job's env and config, then serve with the Deployment's, then the helm test script."""
    from conftest import remove_logins
    from helpers import clean_env

    from exporter.local.postgres import free_port

    db, port = litellm_db, free_port()
    exporter_role, grafana_role, admin = f"exp_{db.name}", f"gra_{db.name}", f"adm_{db.name}"
    db.execute(f"CREATE ROLE {admin} LOGIN SUPERUSER PASSWORD 'admin-Pa55'")
    values = merged(
        MINIMAL,
        {
            "database": {"host": "127.0.0.1", "port": db.pg.port, "name": db.name, "sslMode": "disable"},
            "roles": {"exporter": {"name": exporter_role}, "grafana": {"name": grafana_role}},
            "rolesJob": {"enabled": True, "setPasswords": True, "adminSecret": {"name": "admin"}},
            "config": {"refresh": {"interval": "2s"}, "log": {"format": "text"}},
            "web": {"port": port},
            "service": {"port": port},
            "tests": {"timeoutSeconds": 60},
        },
    )
    secrets = {
        "admin": {"username": admin, "password": "admin-Pa55"},
        "litellm-spend-exporter-db": {"username": exporter_role, "password": "exp'Pa55@:/?"},
        "litellm-grafana-db": {"username": grafana_role, "password": "gra-Pa55"},
    }
    docs = documents(values)
    try:
        job = one(docs, "Job")["spec"]["template"]["spec"]["containers"][0]
        roles_cfg = tmp_path / "roles.yaml"
        roles_cfg.write_text(one(docs, "ConfigMap", f"{FULLNAME}-roles")["data"]["roles.yaml"])
        args = [a.replace("/etc/litellm-spend-exporter/roles/roles.yaml", str(roles_cfg)) for a in job["args"]]
        exe = str(Path(sys.executable).parent / "litellm-spend-exporter")
        result = subprocess.run(
            [exe, *args], env=clean_env(**_resolve(env_of(job), secrets)), capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr
        assert db.scalar("SELECT count(*) FROM pg_roles WHERE rolname IN (%s, %s)", (exporter_role, grafana_role)) == 2

        c = one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]
        config_file = tmp_path / "config.yaml"
        config_file.write_text(one(docs, "ConfigMap", FULLNAME)["data"]["config.yaml"])
        args = [a.replace("/etc/litellm-spend-exporter/config/config.yaml", str(config_file)) for a in c["args"]]
        env = clean_env(**_resolve(env_of(c), secrets))  # URL without credentials; PGUSER/PGPASSWORD from the Secret
        proc = subprocess.Popen([exe, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            script = test_script(values).replace(f"{FULLNAME}.{NAMESPACE}.svc", "127.0.0.1")
            result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=90)
            assert result.returncode == 0, result.stdout + result.stderr
        finally:
            proc.terminate()
            out, err = proc.communicate(timeout=30)
        assert "exp'Pa55" not in out + err
    finally:
        remove_logins(db)
        db.execute(f"DROP ROLE IF EXISTS {admin}")
