# The two commands of the README:
#   make demo   runs gunj on the local stack (emulator, local cluster, chart repositories)
#   make test   runs the whole test suite: lint, types, unit, Helm, cluster and end-to-end tests
# Everything else is installed by the project itself; tools are cached in ~/.cache/gunj.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: demo test check up down status clean

$(INSTALLED): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

demo: $(INSTALLED)
	$(BIN)/gunj --verbose local demo

test: check
	$(BIN)/gunj --verbose local up
	$(BIN)/pytest

check: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

up: $(INSTALLED)
	$(BIN)/gunj --verbose local up

down: $(INSTALLED)
	$(BIN)/gunj local down

status: $(INSTALLED)
	$(BIN)/gunj local status

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis
