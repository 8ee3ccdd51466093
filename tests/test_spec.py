"""The declared metric contract: documented, and exactly what the exporter exposes."""

from __future__ import annotations

import re

from helpers import exporter_for, scrape

from exporter.metrics import docs, spec


def test_readme_metric_table_is_generated_from_spec():
    text = docs.README.read_text(encoding="utf-8")
    assert docs.render(text) == text, "run `python -m exporter.metrics.docs` and commit README.md"


def test_names_follow_prometheus_conventions():
    for fam in spec.ALL_FAMILIES:
        assert fam.name.startswith("litellm_db_"), fam.name
        assert fam.help and fam.help.endswith("."), fam.name
        assert fam.name.endswith("_total") == (fam.type == "counter"), fam.name
        assert not set(fam.labels) & {"job", "instance", "cluster", "env"}, fam.name
        if "usd" in fam.name or "seconds" in fam.name or "tokens" in fam.name:
            assert re.search(r"_(usd|seconds|tokens)(_total)?$", fam.name), fam.name


def test_every_declared_family_is_exposed_and_nothing_else(fixture_db):
    ref = exporter_for(fixture_db, spend_logs__cache_tokens=True)
    scrape(ref)
    text = ref.snapshot.body.decode()
    exposed = {line.split()[2] for line in text.splitlines() if line.startswith("# HELP ")}
    declared = {f.name.removesuffix("_total") if f.type == "counter" else f.name for f in spec.ALL_FAMILIES}
    exposed = {n.removesuffix("_total") for n in exposed}
    assert exposed == declared
    helps = {line.split()[2]: line for line in text.splitlines() if line.startswith("# HELP ")}
    assert all(len(h.split(" ", 3)[3]) > 20 for h in helps.values())


def test_readme_layout_names_every_package():
    """The README's layout section matches the tree: every sub-package of exporter/ and every top-level folder."""
    text = docs.README.read_text(encoding="utf-8")
    layout = text[text.index("- Layout") :].split("\n\n", 1)[0]
    root = docs.README.parent
    packages = [p.name for p in (root / "exporter").iterdir() if (p / "__init__.py").exists()]
    skip = {"exporter", "build", "dist", "__pycache__"}  # the first is listed by package; the others are not sources
    folders = [p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and p.name not in skip]
    missing = [f"{name}/" for name in packages + folders if f"`{name}/`" not in layout]
    assert not missing, f"README.md's layout section does not name {missing}"
