# Two commands on a fresh machine: `make demo` and `make test`.
# Everything installs into .venv with Python 3.12 under Saleor 3.23's pins.

SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
# Python 3.12, the version Saleor runs on. Override with PYTHON=/path/to/python3.12.
PYTHON ?= $(shell PYENV_VERSION=3.12.1 python3.12 -c 'import sys; print(sys.executable)' 2>/dev/null \
            || python3.12 -c 'import sys; print(sys.executable)' 2>/dev/null)
# Saleor's locked dependency set (runtime + dev/test). Beside the checkout in CI.
SALEOR_CONSTRAINTS ?= ../shared/saleor
CONSTRAINT_FILES := $(wildcard $(SALEOR_CONSTRAINTS)/constraints-3.23.txt \
                               $(SALEOR_CONSTRAINTS)/constraints-3.23-dev.txt)
CONSTRAINT_FLAGS := $(foreach f,$(CONSTRAINT_FILES),-c $(f))
STAMP := $(VENV)/.installed

.PHONY: install test lint typecheck unit services demo test-saleor bench soak fuzz clean

$(STAMP): setup.cfg pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.12 not found: set PYTHON=/path/to/python3.12" >&2; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(if $(CONSTRAINT_FLAGS),,echo "warning: $(SALEOR_CONSTRAINTS) not found; installing without Saleor's pins" >&2;)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(CONSTRAINT_FLAGS) -e ".[test,server]"
	$(PY) -m pip check
	$(if $(CONSTRAINT_FILES),$(PY) scripts/check_pins.py $(CONSTRAINT_FILES))
	@touch $@

install: $(STAMP)

services:
	@scripts/ensure-services.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy saleor_license_plugin

unit: $(STAMP) services
	$(VENV)/bin/pytest

test: lint unit

demo: $(STAMP)
	$(PY) -m saleor_license_plugin.server.demo

# The Saleor tier: with the Python found on PATH, from a venv that already holds Saleor
# (see README). Installs the plugin and its test extras into it, then runs tests/saleor on
# Saleor's test settings. SALEOR_PYTHON=/path/to/python picks another interpreter.
SALEOR_PYTHON ?= python
test-saleor:
	@$(SALEOR_PYTHON) -c "import saleor" || { echo "saleor is not importable by $(SALEOR_PYTHON)" >&2; exit 1; }
	@$(SALEOR_PYTHON) -m pip --version >/dev/null 2>&1 || $(SALEOR_PYTHON) -m ensurepip >/dev/null
	$(SALEOR_PYTHON) -m pip install -q $(CONSTRAINT_FLAGS) -e ".[test,server]"
	cd tests/saleor && $(abspath $(shell command -v $(SALEOR_PYTHON) || echo $(SALEOR_PYTHON))) -m pytest -c pytest.ini $(PYTEST_ARGS)

bench: $(STAMP) services
	$(PY) -m benchmarks.run

# >= 100,000 mixed requests against one server process under ASGI and WSGI; Redis clients,
# PostgreSQL connections, file descriptors and memory must stay flat (benchmarks/soak.py).
soak: $(STAMP) services
	$(PY) -m benchmarks.soak $(SOAK_ARGS)

# Generated inputs against both endpoints (tests/http/test_fuzz.py): FUZZ_EXAMPLES per test,
# five tests, so 100,000 inputs by default; prints the figures. `make test` runs the same tests
# with a few dozen inputs each.
FUZZ_EXAMPLES ?= 20000
fuzz: $(STAMP) services
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) nice $(VENV)/bin/pytest tests/http/test_fuzz.py -p no:cacheprovider -q -s

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache .pytest_cache .hypothesis
