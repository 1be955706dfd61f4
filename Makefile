# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

TRACKER_SOURCES := $(wildcard tracker/src/*.ts) tracker/build.mjs tracker/package.json tracker/package-lock.json
TRACKER_BUILD := src/postmetric/static/js/script.js
CHROMIUM := /usr/bin/chromium

.PHONY: install run test bench-ingest bench-query clean

install: $(STAMP) $(TRACKER_BUILD)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The tracking script: esbuild from npm; the build prints its size report.
$(TRACKER_BUILD): $(TRACKER_SOURCES)
	cd tracker && npm ci --no-audit --no-fund --loglevel=error
	cd tracker && npm run --silent build

# Browser tests drive Debian's Chromium (Playwright cannot download browsers here).
$(CHROMIUM):
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

run: install
	$(BIN)/postmetric serve --host 127.0.0.1 --port 8000

# The whole suite; metadata tests run once on SQLite and once on the PostgreSQL
# server named by POSTMETRIC_TEST_DATABASE_URL.
test: install $(CHROMIUM)
	POSTMETRIC_TEST_DATABASE_URL=$(PG_URL) $(BIN)/pytest -q

bench-ingest: install
	$(BIN)/python bench/ingest.py

bench-query: install
	$(BIN)/python bench/query.py

clean:
	rm -rf $(VENV) build *.egg-info tracker/node_modules src/postmetric/static/js
