# Margin: `make run` serves a demo on SQLite; `make test` runs the whole suite.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test lint typecheck unit container-base container-test bench clean

$(UV):
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv

# `make run` installs only what serving needs (no dev group: ~85 MB instead of ~400 MB);
# --inexact keeps the dev tools if `make test` installed them already. `make test` and the
# other targets install the whole dev group.
SERVE := $(VENV)/.synced-serve
DEV := $(VENV)/.synced-dev

$(SERVE): uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --no-dev --inexact
	touch $@

$(DEV): uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen
	touch $@ $(SERVE)

# The demo on SQLite; MARGIN_PORT / MARGIN_HOST choose where (the demo site allows that origin).
run: $(SERVE)
	MARGIN_DEMO=1 $(VENV)/bin/margin serve

lint: $(DEV)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(DEV)
	$(VENV)/bin/mypy

unit: $(DEV)
	$(VENV)/bin/pytest -q

# The whole suite: lint, types, tests on SQLite and PostgreSQL (when reachable, required in CI).
test: lint typecheck unit

container-base:
	bash container/build-base.sh

container-test: $(DEV)
	bash container/test.sh

# In-process benchmarks (seconds each). The side-by-side comparison with Isso takes about
# 20 minutes and is documented in docs/performance.md: python3 bench/compare.py
bench: $(DEV)
	$(PY) bench/moderation_bench.py
	$(PY) bench/spam_bench.py

clean:
	rm -rf $(VENV) .tools .pytest_cache .mypy_cache .ruff_cache
