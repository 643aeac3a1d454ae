# Two commands on a fresh machine: `make demo` and `make test`.
# Everything installs into .venv with Python 3.12 under Saleor 3.23's pins, which live in
# constraints/ (nothing outside this repository is read).

SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
# Python 3.12, the version Saleor runs on. Override with PYTHON=/path/to/python3.12.
ifeq ($(origin PYTHON),undefined)
PYTHON := $(shell PYENV_VERSION=3.12.1 python3.12 -c 'import sys; print(sys.executable)' 2>/dev/null \
            || python3.12 -c 'import sys; print(sys.executable)' 2>/dev/null)
endif
export PYTHON
# Saleor 3.23.28's locked dependency set (runtime + dev/test, from its uv.lock) and the exact
# versions of the few tools Saleor does not pin. See the headers of these files.
SALEOR_PINS := constraints/saleor-3.23.txt constraints/saleor-3.23-dev.txt
CONSTRAINTS := $(SALEOR_PINS) constraints/tools.txt
CONSTRAINT_FLAGS := $(foreach f,$(CONSTRAINTS),-c $(f))
STAMP := $(VENV)/.installed

# The Stripe emulator runs as a subprocess from its own virtualenv, so that its dependencies
# (an aiohttp Saleor does not pin) never enter .venv or Saleor's environment.
LOCALSTRIPE_VENV ?= .venv-localstripe
LOCALSTRIPE_STAMP := $(LOCALSTRIPE_VENV)/.installed
export LOCALSTRIPE ?= $(abspath $(LOCALSTRIPE_VENV))/bin/localstripe

# The Saleor tier: a virtualenv with Saleor, built by `make saleor-env` (scripts/saleor-env.sh).
export SALEOR_VENV ?= .saleor-venv
export SALEOR_VERSION ?= 3.23.28
export SALEOR_SRC

.PHONY: install localstripe test lint typecheck unit services demo demo-saleor saleor-env test-saleor saleor-dashboard test-dashboard saleor-matrix bench bench-saleor soak bench-reminders bench-billing fuzz clean

define need-python
	@test -n "$(PYTHON)" || { echo "Python 3.12 not found: set PYTHON=/path/to/python3.12" >&2; exit 1; }
endef

$(LOCALSTRIPE_STAMP): constraints/localstripe.txt
	$(need-python)
	@test -x $(LOCALSTRIPE_VENV)/bin/python || $(PYTHON) -m venv $(LOCALSTRIPE_VENV)
	$(LOCALSTRIPE_VENV)/bin/python -m pip install -q -c constraints/localstripe.txt --upgrade pip
	$(LOCALSTRIPE_VENV)/bin/python -m pip install -q -c constraints/localstripe.txt localstripe
	$(LOCALSTRIPE_VENV)/bin/python -m pip check
	$(LOCALSTRIPE_VENV)/bin/python scripts/check_pins.py constraints/localstripe.txt
	@touch $@

localstripe: $(LOCALSTRIPE_STAMP)

$(STAMP): setup.cfg pyproject.toml $(CONSTRAINTS) | $(LOCALSTRIPE_STAMP)
	$(need-python)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -c constraints/tools.txt --upgrade pip
	$(PY) -m pip install -q $(CONSTRAINT_FLAGS) -e ".[test,lint,server]"
	$(PY) -m pip check
	$(PY) scripts/check_pins.py $(CONSTRAINTS)
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

# A virtualenv holding Saleor (locked dependencies, Saleor editable), this plugin and its test
# extras, Saleor's PostgreSQL role and a template of its test database. Saleor comes from
# SALEOR_SRC=/path/to/a/checkout, else it is cloned at SALEOR_VERSION into .saleor-src/.
saleor-env: | $(LOCALSTRIPE_STAMP)
	$(need-python)
	scripts/saleor-env.sh

# A running Saleor shop with the plugin, its catalog, users, a worker and the portal
# (scripts/demo-saleor.sh); builds the Saleor environment first if there is none.
demo-saleor: | $(LOCALSTRIPE_STAMP)
	$(need-python)
	scripts/demo-saleor.sh

# tests/saleor (its own pytest rootdir) in the environment `make saleor-env` built; installs
# nothing. PYTEST_ARGS="-k payments -x" passes options to pytest.
test-saleor: | $(LOCALSTRIPE_STAMP)
	scripts/test-saleor.sh $(PYTEST_ARGS)

# The real Saleor Dashboard (saleor/saleor-dashboard, a checkout of its release tag matching the
# Saleor in .saleor-venv) built into that checkout's build/dashboard/ (scripts/saleor-dashboard.sh;
# Node 24 and pnpm 11 from PATH or DASHBOARD_NODE_BIN). `test-dashboard` builds it when it is not
# built yet, then runs tests/dashboard in headless Chromium against Saleor from `make saleor-env`.
saleor-dashboard:
	@test -n "$(SALEOR_DASHBOARD_SRC)" || { echo "set SALEOR_DASHBOARD_SRC=/path/to/saleor-dashboard" >&2; exit 1; }
	scripts/saleor-dashboard.sh "$(SALEOR_DASHBOARD_SRC)"

test-dashboard: $(STAMP)
	@test -n "$(SALEOR_DASHBOARD_SRC)" || { echo "set SALEOR_DASHBOARD_SRC=/path/to/saleor-dashboard" >&2; exit 1; }
	@test -f "$(SALEOR_DASHBOARD_SRC)/build/dashboard/.saleor-dashboard-version" || scripts/saleor-dashboard.sh "$(SALEOR_DASHBOARD_SRC)"
	SALEOR_DASHBOARD_SRC="$(SALEOR_DASHBOARD_SRC)" $(VENV)/bin/pytest tests/dashboard -ra $(PYTEST_ARGS)

# The Saleor tier on several Saleor versions, one after another, each in its own
# .saleor-venv-<version>: SALEOR_SRCS="/path/to/saleor-3.20.119 /path/to/saleor-3.23.28 ...".
# Prints the README's matrix rows (scripts/saleor-matrix.sh).
saleor-matrix: | $(LOCALSTRIPE_STAMP)
	$(need-python)
	@test -n "$(SALEOR_SRCS)" || { echo "set SALEOR_SRCS to Saleor checkouts" >&2; exit 2; }
	scripts/saleor-matrix.sh $(SALEOR_SRCS)

bench: $(STAMP) services
	$(PY) -m benchmarks.run

# The plugin inside a real Saleor (uvicorn ASGI, one worker) beside Saleor's own API, the
# fulfillment of a 10,000-unit order and the sweeps over 100,000 licenses
# (benchmarks/saleor_bench.py), in the environment `make saleor-env` built.
bench-saleor: services
	@test -f $(SALEOR_VENV)/saleor-env.conf || { echo "run make saleor-env first" >&2; exit 1; }
	$(SALEOR_VENV)/bin/python -m benchmarks.saleor_bench $(BENCH_ARGS)

# >= 100,000 mixed requests against one server process under ASGI and WSGI; Redis clients,
# PostgreSQL connections, file descriptors and memory must stay flat (benchmarks/soak.py).
soak: $(STAMP) services
	$(PY) -m benchmarks.soak $(SOAK_ARGS)

# The renewal-reminder sweep over 100,000 licenses (benchmarks/reminders.py).
bench-reminders: $(STAMP) services
	$(PY) -m benchmarks.reminders

# Billing 10,000 subscriptions in one run (benchmarks/subscription_billing.py).
bench-billing: $(STAMP) services
	$(PY) -m benchmarks.subscription_billing

# Generated inputs against both endpoints (tests/http/test_fuzz.py): FUZZ_EXAMPLES per test,
# five tests, so 100,000 inputs by default; prints the figures. `make test` runs the same tests
# with a few dozen inputs each.
FUZZ_EXAMPLES ?= 20000
fuzz: $(STAMP) services
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) nice $(VENV)/bin/pytest tests/http/test_fuzz.py -p no:cacheprovider -q -s

clean:
	rm -rf $(VENV) $(LOCALSTRIPE_VENV) .venv-uv build *.egg-info .mypy_cache .ruff_cache .pytest_cache .hypothesis
