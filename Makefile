# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: install run test test-sqlite test-postgres bench-ingest clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: install
	$(BIN)/postmetric serve --host 127.0.0.1 --port 8000

# The whole suite; metadata tests run once on SQLite and once on the PostgreSQL
# server named by POSTMETRIC_TEST_DATABASE_URL.
test: install
	POSTMETRIC_TEST_DATABASE_URL=$(PG_URL) $(BIN)/pytest -q

bench-ingest: install
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) build *.egg-info
