"""Builds every dashboard and writes it as sorted, deterministic JSON (`python -m dashboards` regenerates).

Dashboards and alert rules are functions of one Thresholds object (deploy/prometheus/config.yaml, or a file of
your own), so a panel's threshold lines and its burn window are the rules' own.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from grafanalib._gen import DashboardEncoder

from dashboards import budgets, errors, ledger, overview, rulefiles, thresholds
from dashboards.thresholds import Thresholds

GENERATED = Path(__file__).resolve().parent / "generated"
LAYOUTS = {  # file name (without .json) -> layout module
    "spend-overview": overview,
    "budgets": budgets,
    "errors-latency": errors,
    "spend-ledger": ledger,
}


def dashboards(th: Thresholds) -> dict[str, dict]:
    """File name -> dashboard JSON model (plain data)."""
    return {name: json.loads(render(module.build(th))) for name, module in LAYOUTS.items()}


def render(dashboard) -> str:
    return json.dumps(dashboard.to_json_data(), sort_keys=True, indent=2, cls=DashboardEncoder) + "\n"


def write_all(output_dir: Path, th: Thresholds) -> list[Path]:
    """Write every dashboard to output_dir/<name>.json (unchanged files are not rewritten); returns the paths."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, module in LAYOUTS.items():
        path = output_dir / f"{name}.json"
        text = render(module.build(th))
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def run(
    output_dir: str | Path, thresholds_file: str | Path | None = None, rules_output: str | Path | None = None
) -> int:
    """The `dashboards` subcommand: the dashboards in output_dir and, from the same thresholds, the alert rules
    (in rules_output; with a thresholds file, by default output_dir/rules); lists what it wrote."""
    th = thresholds.load(Path(thresholds_file) if thresholds_file else None)
    if rules_output is None and thresholds_file:
        rules_output = Path(output_dir) / "rules"
    paths = write_all(Path(output_dir), th)
    if rules_output is not None:
        paths += rulefiles.write_all(Path(rules_output), th)
    for path in paths:
        print(path)
    return 0


def main() -> int:
    """Regenerate the committed files: dashboards/generated/*.json and, in a checkout, the alert rules."""
    th = thresholds.load()
    for path in write_all(GENERATED, th):
        print(path)
    if thresholds.CONFIG.exists():
        for path in rulefiles.write_all(rulefiles.RULES_DIR, th):
            print(path)
    else:
        print(f"{thresholds.CONFIG} not found (not a source checkout): alert rules not regenerated", file=sys.stderr)
    return 0
