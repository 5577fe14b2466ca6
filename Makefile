# Two commands for a newcomer: `make demo` and `make test`. Everything installs from uv.lock.
PYTHON ?= python3.11
UV_VERSION := 0.13.8
UV := .tools/bin/uv
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint typecheck pytest airflow-up bench clean

# uv lives in its own small venv so that `uv sync --frozen` may own .venv exactly.
$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON) --quiet
	touch $@

demo: $(VENV)/.synced
	$(BIN)/elections demo

# The local Airflow (scheduler, dag-processor, triggerer, API server with UI) in the foreground.
airflow-up: $(VENV)/.synced
	$(BIN)/elections airflow up

lint: $(VENV)/.synced
	$(BIN)/ruff check pipelines dags tests bench
	$(BIN)/ruff format --check pipelines dags tests bench
	$(BIN)/lint-imports --no-cache

typecheck: $(VENV)/.synced
	$(BIN)/mypy

# Debian's Chromium renders the results page in tests/integration/test_results_page.py (root machines).
/usr/bin/chromium:
	command -v chromium >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium)

pytest: $(VENV)/.synced /usr/bin/chromium
	$(BIN)/pytest

test: lint typecheck pytest

# Not part of `make test`: a full run up to a million polling stations takes 10-30 minutes.
# Try a subset with e.g. `make bench BENCH_ARGS="--sizes 10000,100000 --repeats 3 --skip-latency"`;
# the drop-to-publish phase alone (a real local Airflow, ~5 minutes): BENCH_ARGS="--latency-only".
BENCH_ARGS ?=
bench: $(VENV)/.synced
	$(BIN)/python -m bench.run_benchmarks $(BENCH_ARGS)

clean:
	rm -rf .venv .tools .airflow var
