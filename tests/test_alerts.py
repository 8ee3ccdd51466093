"""Alert rules: generated from one thresholds file, valid for promtool, tested as shipped, each with a runbook."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import require_binary
from pydantic import ValidationError

from dashboards import alerts, rulefiles, thresholds

pytestmark = pytest.mark.nodb
ROOT = Path(__file__).resolve().parents[1]
RULES = sorted(rulefiles.RULES_DIR.glob("*.yaml"))
TESTS = sorted((thresholds.DEPLOY / "tests").glob("*_test.yaml"))
RUNBOOKS = ROOT / "docs" / "runbooks"
SECTIONS = ["## Meaning", "## Impact", "## Diagnosis", "## Mitigation"]


def shipped_rules() -> list[dict]:
    return [r for path in RULES for g in yaml.safe_load(path.read_text())["groups"] for r in g["rules"]]


def promtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [require_binary("promtool"), *args], capture_output=True, text=True, timeout=120, cwd=thresholds.DEPLOY
    )


def test_regenerating_changes_nothing(tmp_path):
    written = rulefiles.write_all(tmp_path, thresholds.load())
    assert sorted(p.name for p in written) == [p.name for p in RULES]
    for path in written:
        assert path.read_text() == (rulefiles.RULES_DIR / path.name).read_text(), (
            f"run `python -m dashboards` and commit deploy/prometheus/rules/{path.name}"
        )


def test_promtool_checks_every_rule_file():
    assert [p.stem for p in RULES] == ["budgets", "errors", "exporter", "latency", "spend"]
    for path in RULES:
        proc = promtool("check", "rules", str(path))
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "SUCCESS" in proc.stdout


def test_promtool_unit_tests_pass():
    assert [p.name.removesuffix("_test.yaml") for p in TESTS] == [p.stem for p in RULES]  # one test file per group
    proc = promtool("test", "rules", *[str(p) for p in TESTS])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("SUCCESS") == len(TESTS)


def identity(alert: str, labels: dict) -> tuple:
    """What tells apart the rules that share an alert name (the budget rules: one per entity and severity)."""
    return alert, labels["severity"], labels.get("entity")


def test_every_alert_is_tested_firing_not_firing_and_with_its_exact_text():
    names = {r["alert"] for r in shipped_rules()}
    rules = [identity(r["alert"], r["labels"]) for r in shipped_rules()]
    assert len(rules) == len(set(rules)), "two rules share alert name, severity and entity"
    firing, quiet, fired_rules = set(), set(), set()
    for path in TESTS:
        for group in yaml.safe_load(path.read_text())["tests"]:
            for case in group.get("alert_rule_test", []):
                name = case["alertname"]
                if not case["exp_alerts"]:
                    quiet.add(name)
                for alert in case["exp_alerts"]:
                    firing.add(name)
                    fired_rules.add(identity(name, alert["exp_labels"]))
                    assert set(alert["exp_annotations"]) == {"summary", "description"}, name  # no runbook base
                    assert "{{" not in str(alert["exp_annotations"]), name  # rendered text, not templates
                    assert alert["exp_labels"]["severity"], name
    assert names <= firing, f"no firing test for {sorted(names - firing)}"
    missing = sorted(set(rules) - fired_rules, key=str)
    assert not missing, f"no firing test for these rules (alert, severity, entity): {missing}"
    assert names <= quiet, f"no not-firing test for {sorted(names - quiet)}"


def test_rule_conventions():
    cfg = thresholds.load()
    groups = [g for path in RULES for g in yaml.safe_load(path.read_text())["groups"]]
    assert len(groups) == len(RULES) and len({g["name"] for g in groups}) == len(groups)  # one group per file
    for rule in shipped_rules():
        name = rule["alert"]
        assert re.fullmatch(r"LiteLLMDb([A-Z][a-z0-9]+)+", name), name
        assert rule["labels"]["severity"] in ("info", "warning", "critical"), name
        notes = rule["annotations"]
        assert set(notes) == {"summary", "description"} and not cfg.runbook_base_url, name  # shipped: no base
        assert "$labels." in notes["description"], name
        if name != "LiteLLMDbExporterDown":  # its expression is `up == 0`: the value says nothing more
            assert "$value |" in notes["description"] or "printf" in notes["description"], name
        assert cfg.selector in rule["expr"], name


def test_every_alert_has_a_runbook():
    names = {r["alert"] for r in shipped_rules()}
    assert names == set(alerts.alert_names(thresholds.load()))
    assert {p.stem for p in RUNBOOKS.glob("*.md")} == names
    for name in names:
        text = (RUNBOOKS / f"{name}.md").read_text()
        assert text.startswith(f"# {name}\n"), name
        positions = [text.find(s + "\n") for s in SECTIONS]
        assert -1 not in positions and positions == sorted(positions), f"{name}: sections {SECTIONS} in order"


def test_config_is_validated():
    data = yaml.safe_load(thresholds.CONFIG.read_text())
    thresholds.Thresholds.model_validate(data)
    for broken in (
        {**data, "extra": 1},
        {**data, "budget": {**data["budget"], "warning_ratio": 0.99}},
        {**data, "errors": {**data["errors"], "window": "10 minutes"}},
        {**data, "runbook_url": "https://example.org/runbooks/{alert}.md"},  # the old key: refused, not ignored
        {**data, "runbook_base_url": "https://example.org/runbooks"},  # <AlertName>.md follows: must end with /
        {**data, "runbook_base_url": "javascript:alert(1)/"},
    ):
        with pytest.raises(ValidationError):
            thresholds.Thresholds.model_validate(broken)


def test_a_runbook_base_url_links_every_alert_to_its_runbook(tmp_path):
    data = yaml.safe_load(thresholds.CONFIG.read_text())
    data["runbook_base_url"] = "https://wiki.example.org/litellm/runbooks/"
    cfg = thresholds.Thresholds.model_validate(data)
    rules = [r for g in alerts.groups(cfg).values() for r in g["rules"]]
    assert rules and all(
        r["annotations"]["runbook_url"] == f"https://wiki.example.org/litellm/runbooks/{r['alert']}.md" for r in rules
    )
    assert all((RUNBOOKS / f"{r['alert']}.md").exists() for r in rules)


def test_other_thresholds_generate_valid_rules(tmp_path):
    """Per-model latency thresholds with regex metacharacters, an empty selector: still valid rules."""
    data = yaml.safe_load(thresholds.CONFIG.read_text())
    data["selector"] = ""
    data["latency"]["per_model"] = {"llama-3.3-70b": 30, "qwen/qwen3-coder:free": 90}
    cfg = thresholds.Thresholds.model_validate(data)
    for path in rulefiles.write_all(tmp_path, cfg):
        proc = promtool("check", "rules", str(path))
        assert proc.returncode == 0, proc.stdout + proc.stderr
    text = (tmp_path / "latency.yaml").read_text()
    assert 'requested_model!~"llama-3\\\\.3-70b|qwen/qwen3-coder:free"' in text
    assert '{{ if eq $labels.requested_model "llama-3.3-70b" }}30{{ else }}' in text
