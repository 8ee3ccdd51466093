"""Builds every dashboard and writes it as sorted, deterministic JSON (`python -m dashboards` regenerates)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from grafanalib._gen import DashboardEncoder

from dashboards import budgets, errors, ledger, overview

GENERATED = Path(__file__).resolve().parent / "generated"
LAYOUTS = {  # file name (without .json) -> layout module
    "spend-overview": overview,
    "budgets": budgets,
    "errors-latency": errors,
    "spend-ledger": ledger,
}


def dashboards() -> dict[str, dict]:
    """File name -> dashboard JSON model (plain data)."""
    return {name: json.loads(render(module.build())) for name, module in LAYOUTS.items()}


def render(dashboard) -> str:
    return json.dumps(dashboard.to_json_data(), sort_keys=True, indent=2, cls=DashboardEncoder) + "\n"


def write_all(output_dir: Path) -> list[Path]:
    """Write every dashboard to output_dir/<name>.json (unchanged files are not rewritten); returns the paths."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, module in LAYOUTS.items():
        path = output_dir / f"{name}.json"
        text = render(module.build())
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def run(output_dir: str | Path) -> int:
    """The `dashboards` subcommand: write the JSON files and list them."""
    for path in write_all(Path(output_dir)):
        print(path)
    return 0


def main() -> int:
    """Regenerate the committed files: dashboards/generated/*.json and, in a checkout, the alert rules."""
    run(GENERATED)
    from dashboards import rulefiles, thresholds

    if thresholds.CONFIG.exists():
        for path in rulefiles.write_all(rulefiles.RULES_DIR):
            print(path)
    else:
        print(f"{thresholds.CONFIG} not found (not a source checkout): alert rules not regenerated", file=sys.stderr)
    return 0
