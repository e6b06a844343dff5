# civicloop — `make serve` runs the API, `make test` runs every check. Both set up what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 1
BENCH_ISSUES ?= 100000
# pytest-xdist processes per database leg (each with a database of its own): one per core.
TEST_WORKERS ?= auto
# Tests handed out by index, the long ones first (tests/conftest.py): loadgroup/loadscope key work
# by test id, and the schemathesis test has one id for a hundred operations (it would run once).
TEST_DIST ?= --dist load

.DEFAULT_GOAL := help
.PHONY: help install tools postgis serve worker demo test lint type test-sqlite test-postgis test-browser screenshots migrate revision bench bench-smoke bench-photos bench-limits bench-pages clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## create .venv and install the project with its dev tools

tools: ## what the suite calls besides the databases (docker-compose, Redis; installed with apt-get and started if missing)
	scripts/ensure-tools.sh

postgis: ## PostgreSQL + PostGIS on 127.0.0.1:5432 (installed with apt-get and started if missing)
	scripts/ensure-postgis.sh

serve: $(STAMP) ## run the API on http://$(HOST):$(PORT) (embedded SQLite unless CIVICLOOP_DATABASE_URL is set)
	$(BIN)/civicloop serve --host $(HOST) --port $(PORT) --workers $(WORKERS)

worker: $(STAMP) ## deliver queued notifications until Ctrl-C (e-mail needs CIVICLOOP_SMTP_HOST)
	$(BIN)/civicloop worker

demo: $(STAMP) ## load the Bangkok demo city into the configured database
	$(BIN)/civicloop demo-data

lint: $(STAMP) ## ruff
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

type: $(STAMP) ## mypy --strict
	$(BIN)/mypy

test-sqlite: $(STAMP) tools ## the suite on SQLite
	$(BIN)/pytest --db=sqlite --numprocesses=$(TEST_WORKERS) $(TEST_DIST)

test-postgis: $(STAMP) tools postgis ## the suite on PostgreSQL + PostGIS (installed and started if missing)
	$(BIN)/pytest --db=postgis --numprocesses=$(TEST_WORKERS) $(TEST_DIST)

test-browser: $(STAMP) tools ## only the browser stories (Chromium), on SQLite then PostGIS
	scripts/ensure-postgis.sh
	$(BIN)/pytest --db=sqlite tests/browser
	$(BIN)/pytest --db=postgis tests/browser

screenshots: $(STAMP) tools ## every page in English and Thai, as PNGs in var/screenshots/ (demo city)
	$(BIN)/python -m scripts.screenshots var/screenshots

# The two legs run at once, each leg's output printed whole when it ends: much of the suite waits
# (on live servers starting, deadlines, SMTP, the browser), so one leg uses the cores the other leaves.
test: lint type ## everything CI checks: lint, types, both databases (at once)
	$(MAKE) --no-print-directory --output-sync=target -j2 test-sqlite test-postgis

migrate: $(STAMP) ## upgrade the configured database
	$(BIN)/civicloop migrate

revision: $(STAMP) ## autogenerate a migration: make revision m="what changed"
	$(BIN)/alembic revision --autogenerate -m "$(m)"

bench: $(STAMP) ## API vs direct SQL on PostGIS: make bench BENCH_ISSUES=1000000
	scripts/ensure-postgis.sh
	$(BIN)/python -m bench.run --issues $(BENCH_ISSUES)

bench-smoke: $(STAMP) tools ## every bench/ harness end to end on a small city, both databases (part of make test)
	scripts/ensure-postgis.sh
	$(BIN)/pytest --db=sqlite tests/platform/test_bench.py
	$(BIN)/pytest --db=postgis tests/platform/test_bench.py

bench-photos: $(STAMP) ## photo upload throughput and server memory (12 MP JPEG and HEIC), no database server needed
	$(BIN)/python -m bench.photos

bench-limits: $(STAMP) ## what rate limits cost: report time without limits, counted in memory, in Redis (127.0.0.1:6379)
	$(BIN)/python -m bench.limits

bench-pages: $(STAMP) tools ## the public map's first load in Chromium: bytes and seconds on "Fast 3G" against 300 KB and 2 s
	$(BIN)/python -m bench.pages --issues 200

clean: ## remove the virtualenv, caches and the embedded database
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
