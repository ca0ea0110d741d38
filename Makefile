# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MLFLOW2_VENV := .venv-mlflow2

.PHONY: run test install install-test mlflow2-client clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"

# An MLflow 2.x client in its own environment, for the compatibility test.
mlflow2-client:
	test -x $(MLFLOW2_VENV)/bin/python || $(PYTHON) -m venv $(MLFLOW2_VENV)
	$(MLFLOW2_VENV)/bin/pip install --quiet "mlflow-skinny>=2.9,<3"

run: install
	$(BIN)/mltracker serve

test: install-test mlflow2-client
	MLTRACKER_MLFLOW2_PYTHON=$(CURDIR)/$(MLFLOW2_VENV)/bin/python PYTEST=$(BIN)/pytest PYTEST_ARGS="$(PYTEST_ARGS)" \
		bash tests/run_suite.sh

clean:
	rm -rf $(VENV) $(MLFLOW2_VENV) mltracker-data

# Side-by-side benchmark against a pinned `mlflow server` (benchmarks/README.md): every workload on
# SQLite and PostgreSQL, 3 repetitions, ratios with their spread; each run appended to
# benchmarks/RESULTS.md. BENCH_ARGS=--quick for small sizes and one repetition on SQLite.
.PHONY: bench bench-scale bench-scale-out
bench: install-test
	$(BIN)/python benchmarks/compare_mlflow.py $(BENCH_ARGS)

# Search latency with 100,000 runs × 20 metrics in PostgreSQL.
bench-scale: install-test
	$(BIN)/python benchmarks/scale_search.py $(BENCH_ARGS)

# Replicas behind HAProxy on one PostgreSQL and one S3 (moto): 1 vs 2 replicas, nothing lost or doubled.
bench-scale-out: install-test
	$(BIN)/python benchmarks/scale_out.py $(BENCH_ARGS)
