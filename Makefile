# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

TRACKER_SOURCES := $(wildcard tracker/src/*.ts) tracker/build.mjs tracker/package.json tracker/package-lock.json
TRACKER_BUILD := src/postmetric/static/js/script.js
DASHBOARD_SOURCES := $(shell find dashboard/src dashboard/public -type f -not -path 'dashboard/src/generated/*' 2>/dev/null) \
	dashboard/index.html dashboard/vite.config.ts
DASHBOARD_MODULES := dashboard/node_modules/.package-lock.json
DASHBOARD_BUILD := src/postmetric/static/dashboard/index.html
# The API contract for the dashboard: the OpenAPI document the Python app serves, and the
# TypeScript types generated from it (both git-ignored, made here).
PYTHON_SOURCES := $(shell find src/postmetric -name '*.py' 2>/dev/null)
OPENAPI_DOCUMENT := dashboard/src/generated/openapi.json
OPENAPI_STAMP := dashboard/src/generated/.openapi.stamp
API_TYPES := dashboard/src/generated/api.d.ts
CHROMIUM := /usr/bin/chromium

.PHONY: install run test test-full fuzz bench-ingest bench-query wheel clean

install: $(STAMP) $(TRACKER_BUILD) $(API_TYPES) $(DASHBOARD_BUILD)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The tracking script: esbuild from npm; the build prints its size report.
$(TRACKER_BUILD): $(TRACKER_SOURCES)
	cd tracker && npm ci --no-audit --no-fund --loglevel=error
	cd tracker && npm run --silent build

# The dashboard SPA: Vite builds it into the package; web/routes/dashboard.py serves it.
# npm ci runs only when the lockfile changed, so a source edit rebuilds in about a second.
$(DASHBOARD_MODULES): dashboard/package.json dashboard/package-lock.json
	cd dashboard && npm ci --no-audit --no-fund --loglevel=error
	touch $(DASHBOARD_MODULES)

# The metric and dimension definitions the dashboard reads (labels, formats, kinds), printed by
# the stats package before every dashboard build; the copy is committed, and
# tests/stats/test_definitions.py fails when it is stale.
DEFINITIONS_JSON := dashboard/src/generated/definitions.json
$(DEFINITIONS_JSON): $(STAMP) src/postmetric/stats/definitions.py
	$(BIN)/python -m postmetric.stats.definitions > $@.tmp && mv $@.tmp $@


# Any Python edit may change the document, so it is written again after one (a second), but
# replaced only when it differs: the types and the bundle are rebuilt only for a contract change.
$(OPENAPI_STAMP): $(STAMP) $(PYTHON_SOURCES)
	mkdir -p $(@D)
	$(BIN)/python -m postmetric.web.openapi > $(OPENAPI_DOCUMENT).tmp
	if cmp -s $(OPENAPI_DOCUMENT).tmp $(OPENAPI_DOCUMENT); then rm $(OPENAPI_DOCUMENT).tmp; \
	else mv $(OPENAPI_DOCUMENT).tmp $(OPENAPI_DOCUMENT); fi
	touch $@

# Made by the stamp's rule; this one only brings back a document deleted since.
$(OPENAPI_DOCUMENT): $(OPENAPI_STAMP)
	@test -f $@ || { rm -f $(OPENAPI_STAMP); $(MAKE) --no-print-directory $(OPENAPI_STAMP); }

$(API_TYPES): $(OPENAPI_DOCUMENT) $(DASHBOARD_MODULES)
	cd dashboard && npx openapi-typescript src/generated/openapi.json -o src/generated/api.d.ts >/dev/null

$(DASHBOARD_BUILD): $(DASHBOARD_MODULES) $(DASHBOARD_SOURCES) $(DEFINITIONS_JSON) $(API_TYPES)
	cd dashboard && npx vite build --logLevel warn

# Browser tests drive Debian's Chromium (Playwright cannot download browsers here).
$(CHROMIUM):
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

# A data dir without an event store gets the demo site first, and its login is printed.
run: install
	test -e "$${POSTMETRIC_DATA_DIR:-data}/events.duckdb" || $(BIN)/postmetric demo
	$(BIN)/postmetric serve --host 127.0.0.1 --port 8000

# The whole suite; metadata tests run once on SQLite and once on the PostgreSQL
# server named by POSTMETRIC_TEST_DATABASE_URL. pytest-xdist runs it in TEST_WORKERS processes:
# much of a test's time is spent waiting on servers, subprocesses, Chromium and disks, so more
# workers than cores pay (see the note on issue 16). loadscope keeps a module's tests on one
# worker: the browser modules' servers and Chromium are module-scoped, and some of their tests
# build on the one before. Bytecode is written: without it each worker compiles the sources and
# rewrites every test module again. The 15 slowest tests are printed last.
# `make test-full` runs the property tests with the full Hypothesis profile (tests/hypothesis_profiles.py).
TEST_WORKERS ?= 3
PYTEST = PYTHONDONTWRITEBYTECODE= POSTMETRIC_TEST_DATABASE_URL=$(PG_URL) $(BIN)/pytest -q \
	-n $(TEST_WORKERS) --dist loadscope --durations=15
test: install $(CHROMIUM)
	cd dashboard && npm run --silent check && npm test --silent
	$(PYTEST)

test-full: install $(CHROMIUM)
	cd dashboard && npm run --silent check && npm test --silent
	HYPOTHESIS_PROFILE=full $(PYTEST)

# The schema-driven fuzz test of `make test` (tests/web/test_fuzz_api.py), with far more
# examples per operation: any 5xx, or an answer the OpenAPI document does not describe, fails it.
FUZZ_EXAMPLES ?= 300
fuzz: install
	POSTMETRIC_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -q tests/web/test_fuzz_api.py

bench-ingest: install
	$(BIN)/python bench/ingest.py

bench-query: install
	$(BIN)/python bench/query.py

# dist/postmetric-<version>.tar.gz and the wheel built from it, both with the built tracker
# and dashboard inside: `pipx install dist/postmetric-*.whl` runs on a machine without Node.
wheel: install
	rm -rf dist
	$(BIN)/python -m build --quiet --outdir dist .
	$(BIN)/python -m zipfile --list dist/postmetric-*.whl | grep -E 'static/|migrations/versions/'

clean:
	rm -rf $(VENV) build dist src/*.egg-info *.egg-info tracker/node_modules src/postmetric/static/js \
		dashboard/node_modules src/postmetric/static/dashboard \
		$(OPENAPI_DOCUMENT) $(OPENAPI_STAMP) $(API_TYPES)
