# Two commands do all set-up on a fresh machine with Python 3.11+ and pip:
#   make demo   - create .venv, install rainforest, run the main job on the bundled example
#   make test   - install with the dev extras, then lint, type-check and run the tests
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test install dev lint types pytest bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

dev: $(VENV)/.dev

demo: install
	$(BIN)/rainforest demo

lint: dev
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools

types: dev
	$(BIN)/mypy
	MYPYPATH=src $(BIN)/mypy tools  # the docs' generators, outside the package

pytest: dev
	$(BIN)/pytest

test: lint types pytest

bench: install
	$(BIN)/python bench/bench_load.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis bench/_data
