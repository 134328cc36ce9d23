# geoservice — set-up, demo and tests. Needs only Python 3.11 and the package registries.
# Every install comes from requirements.lock (exact versions with hashes). `make lock` adds what pyproject.toml
# gained, keeping locked versions; `make test-latest` tries the newest allowed versions; `make upgrade` takes them.
PYTHON     ?= python3.11
VENV       := .venv
BIN        := $(VENV)/bin
LOCK       := requirements.lock
UV_VERSION := 0.13.9
STAMP      := $(VENV)/.installed
LATEST     := .venv-latest
# uv never downloads a Python of its own: the machine's 3.11 is the one
export UV_PYTHON_DOWNLOADS := never

.PHONY: demo test test-latest lint bench serve clean setup lock upgrade

# venv + uv (pinned), then exactly the locked versions, hash-checked, then the project itself (editable, no deps)
define install
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "需要 Python 3.11 / Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(1)
	$(1)/bin/pip install --quiet uv==$(UV_VERSION)
endef

$(STAMP): pyproject.toml $(LOCK)
	$(call install,$(VENV))
	$(BIN)/uv pip install --quiet --python $(BIN)/python --require-hashes -r $(LOCK)
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)

setup: $(STAMP)

## demo: build the sample database if missing, serve on 127.0.0.1:8000 and print the map URL
demo: $(STAMP)
	$(BIN)/geoservice demo

## test: the whole test suite (PostGIS tests run when GEOSERVICE_TEST_POSTGRES_URL reaches a server)
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile

## test-latest: a separate venv with the newest versions pyproject.toml allows (not the lock), then the suite
test-latest:
	rm -rf $(LATEST)
	$(call install,$(LATEST))
	$(LATEST)/bin/uv pip install --quiet --python $(LATEST)/bin/python --upgrade -e '.[dev,bench]'
	$(LATEST)/bin/uv pip freeze --python $(LATEST)/bin/python > $(LATEST)/versions.txt
	$(LATEST)/bin/python -m pytest -n 2 --dist loadfile

COMPILE = $(BIN)/uv pip compile pyproject.toml --all-extras --generate-hashes --quiet \
	  --python-version 3.11 --python-platform x86_64-manylinux_2_28 -o $(LOCK)

## lock: re-resolve requirements.lock after pyproject.toml changed, keeping every version it can (then make test)
lock: $(STAMP)
	$(COMPILE)

## upgrade: move requirements.lock to the newest versions pyproject.toml allows (try make test-latest first)
upgrade: $(STAMP)
	$(COMPILE) --upgrade

lint: $(STAMP)
	$(BIN)/ruff check geoservice layers siting tests bench
	$(BIN)/ruff format --check geoservice layers siting tests bench
	$(BIN)/mypy

## bench: every benchmark (slow); one with: .venv/bin/python -m bench NAME
bench: $(STAMP)
	$(BIN)/python -m bench all

clean:
	rm -rf $(VENV) $(LATEST) .pytest_cache .mypy_cache .ruff_cache
