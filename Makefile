# Convenience targets; each calls the script the README documents.
.PHONY: demo test
demo:
	scripts/demo
test:
	scripts/test

# Benchmarks (bench/run.py): writes BENCHMARKS.md and bench/results.json. Override e.g. BENCH_ARGS="--repeat 3".
BENCH_ARGS ?= --rows 1000000 10000000 --servers embedded debian-15 --repeat 5
.PHONY: bench
bench:
	.venv/bin/python -m bench.run $(BENCH_ARGS)
