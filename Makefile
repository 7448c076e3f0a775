# Quick start: `make chat` (try the intake in this terminal) and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: install chat test test-postgres lint run migration bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

install: $(VENV)/.installed

# make chat LANG=en (or bg); without it, the language of the LANG environment variable.
chat: install
	$(VENV)/bin/intake-bot chat $(if $(filter bg% en%,$(LANG)),--lang $(LANG))

run: install
	$(VENV)/bin/intake-bot run

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The suite twice: every store on a SQLite file, then on a fresh PostgreSQL database.
test: lint
	$(PY) -m pytest -q
	$(MAKE) --no-print-directory test-postgres

test-postgres: install
	INTAKE_TEST_DATABASE=postgresql $(PY) -m pytest -q

# A new schema migration from the models: make migration MESSAGE="add the x table"
migration: install
	$(PY) -m storage.migrations "$(MESSAGE)"

# Load benchmarks of the real bot process; several minutes. Results: docs/benchmarks.md
bench: install
	$(PY) -m bench.load

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
