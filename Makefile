# Convenience targets; each calls the script the README documents.
.PHONY: demo test dashboards
PYTHON ?= .venv/bin/python
demo:
	scripts/demo
test:
	scripts/test

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
