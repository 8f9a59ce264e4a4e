# Margin: `make run` serves a demo on SQLite; `make test` runs the whole suite.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test lint typecheck unit container-base container-test bench clean

$(UV):
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv

$(VENV)/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen
	touch $@

run: $(VENV)/.synced
	MARGIN_DEMO=1 $(VENV)/bin/margin serve

lint: $(VENV)/.synced
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.synced
	$(VENV)/bin/mypy

unit: $(VENV)/.synced
	$(VENV)/bin/pytest -q

# The whole suite: lint, types, tests on SQLite and PostgreSQL (when reachable, required in CI).
test: lint typecheck unit

container-base:
	bash container/build-base.sh

container-test: $(VENV)/.synced
	bash container/test.sh

# In-process benchmarks (seconds each). The side-by-side comparison with Isso takes about
# 20 minutes and is documented in docs/performance.md: python3 bench/compare.py
bench: $(VENV)/.synced
	$(PY) bench/moderation_bench.py
	$(PY) bench/spam_bench.py

clean:
	rm -rf $(VENV) .tools .pytest_cache .mypy_cache .ruff_cache
