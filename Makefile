# Convenience targets; each calls the script the README documents.
.PHONY: demo test test-fast lint dashboards
PYTHON ?= .venv/bin/python
demo:
	scripts/demo
test:
	scripts/test

# The edit loop: no database, no servers, seconds. The pure core (exact totals, with Hypothesis properties), the
# config loader, the SQL files, the exposition, the dashboards and rules (with promtool).
FAST_TESTS = tests/test_totals.py tests/test_config.py tests/test_sql.py tests/test_exposition.py tests/test_spec.py \
	tests/test_dashboards.py tests/test_alerts.py
test-fast:
	$(PYTHON) -m pytest -q -m "nodb and not slow" $(FAST_TESTS)

# What scripts/test checks first: ruff (lint and format) and mypy, configured in pyproject.toml.
lint:
	scripts/lint

# Regenerate the committed dashboards (dashboards/generated/*.json) and alert rules (deploy/prometheus/rules/*.yaml)
# from code and deploy/prometheus/config.yaml, then the Helm chart's copies of both (files/); commit the result.
dashboards:
	$(PYTHON) -m dashboards
	$(PYTHON) scripts/sync-chart-files

# Benchmarks (scripts/bench -> bench/run.py): writes BENCHMARKS.md and bench/results.json. E.g. BENCH_ARGS="--repeat 3".
BENCH_ARGS ?= --rows 1000000 10000000 --servers embedded debian-15 --repeat 5
.PHONY: bench
bench:
	scripts/bench $(BENCH_ARGS)
