# Fund portal: `make demo` runs the portal with demo data; `make test` runs every test
# (on PostgreSQL when DATABASE_URL points there); `make test-sqlite` runs them again on SQLite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: demo test test-sqlite install serve lint format messages bench clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

## demo: install, migrate, seed demo data, print logins, serve on http://127.0.0.1:8000
demo: install
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py seed_demo
	@echo "Fund portal: http://$(HOST):$(PORT)/  (English /en/, Spanish /es/, staff /admin/)"
	$(PY) manage.py runserver $(HOST):$(PORT)

## test: install (and Chromium, LibreOffice when missing), lint, migrations check, then the whole suite
test: install
	bash scripts/ensure-tools.sh
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run -v0
	FUNDPORTAL_TESTING=1 $(PY) -m pytest -n 2 $(PYTEST_ARGS)

## test-sqlite: the whole suite on SQLite whatever DATABASE_URL says (tests marked postgres excluded)
test-sqlite: install
	bash scripts/ensure-tools.sh
	env -u DATABASE_URL -u DATABASE_TEST_NAME FUNDPORTAL_TESTING=1 \
		$(PY) -m pytest -n 2 -m "not postgres" $(PYTEST_ARGS)

lint: install
	$(PY) -m ruff check . && $(PY) -m ruff format --check .

format: install
	$(PY) -m ruff check --fix . && $(PY) -m ruff format .

## messages: extract strings into locale/es and compile them (needs gettext's msgfmt)
messages: install
	$(PY) manage.py makemessages -l es --ignore=.venv --ignore=staticfiles --no-obsolete
	$(PY) manage.py compilemessages --ignore=.venv

## bench: the benchmarks (tests/bench) on PostgreSQL; each prints its ratio and whether its target holds
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
bench: install
	bash scripts/ensure-postgres.sh
	DATABASE_URL=$(BENCH_DATABASE_URL) DATABASE_TEST_NAME=bench_fundportal FUNDPORTAL_TESTING=1 \
		$(PY) -m pytest tests/bench -p no:randomly -s --create-db

clean:
	rm -rf $(VENV) db.sqlite3 media private_media staticfiles
