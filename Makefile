# geoservice — set-up, demo and tests. Needs only Python 3.11 and the package registries.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench serve clean setup

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "需要 Python 3.11 / Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

## demo: build the sample database if missing, serve on 127.0.0.1:8000 and print the map URL
demo: $(STAMP)
	$(BIN)/geoservice demo

## test: the whole test suite (PostGIS tests run when GEOSERVICE_TEST_POSTGRES_URL reaches a server)
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check geoservice layers siting tests bench
	$(BIN)/ruff format --check geoservice layers siting tests bench
	$(BIN)/mypy

## bench: every benchmark (slow); one with: .venv/bin/python -m bench NAME
bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m bench all

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
