# The two commands of the README:
#   make demo   runs gunj on the local stack (emulator, local cluster, chart repositories)
#   make test   runs the whole test suite: lint, types, unit, Helm, cluster and end-to-end tests
# Everything else is installed by the project itself; tools are cached in ~/.cache/gunj.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
TEST_TMP ?= $(CURDIR)/.pytest-tmp
# How many clusters the stack runs: `make up CLUSTERS=3` (empty: as many as run now, 1 at first).
# The tests run on three (local, local-2, local-3), for the tests across a fleet.
CLUSTERS ?=
TEST_CLUSTERS ?= 3
CLUSTERS_FLAG = $(if $(CLUSTERS),--clusters $(CLUSTERS))

.PHONY: demo test test-cluster test-others check up down status clean

$(INSTALLED): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

demo: $(INSTALLED)
	$(BIN)/gunj --verbose local demo $(CLUSTERS_FLAG)

# Two pytest processes at once, each report printed whole when its process ends: the cluster
# tier, and the others (unit, Helm, deploy, end to end). They share the local stack but no state:
# every test works in a namespace of its own, and only the end-to-end tier uses Pub/Sub.
test: check
	$(BIN)/gunj --verbose local up --clusters $(TEST_CLUSTERS)
	$(MAKE) --no-print-directory -j2 --output-sync=target test-cluster test-others

test-cluster: $(INSTALLED)
	mkdir -p $(TEST_TMP)
	$(BIN)/pytest tests/cluster --basetemp=$(TEST_TMP)/cluster

test-others: $(INSTALLED)
	mkdir -p $(TEST_TMP)
	$(BIN)/pytest tests/unit tests/helm tests/deploy tests/e2e --basetemp=$(TEST_TMP)/others

check: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

up: $(INSTALLED)
	$(BIN)/gunj --verbose local up $(CLUSTERS_FLAG)

down: $(INSTALLED)
	$(BIN)/gunj local down

status: $(INSTALLED)
	$(BIN)/gunj local status

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .pytest-tmp .ruff_cache .hypothesis
