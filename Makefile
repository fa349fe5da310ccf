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

## demo: install, migrate, seed demo data, print logins, serve on http://$(HOST):$(PORT) with the scheduler
# The demo's public address (links in emails) follows HOST and PORT; listening on 0.0.0.0 or ::
# (every interface) names this machine 127.0.0.1 in links and accepts any host name.
comma := ,
DEMO_URL_HOST := $(if $(filter 0.0.0.0 ::,$(HOST)),127.0.0.1,$(HOST))
BASE_URL ?= http://$(DEMO_URL_HOST):$(PORT)
DEMO_ALLOWED_HOSTS := $(if $(filter 0.0.0.0 ::,$(HOST)),*,127.0.0.1$(comma)localhost$(comma)[::1]$(comma)$(HOST))
DEMO_ENV := BASE_URL='$(BASE_URL)' ALLOWED_HOSTS='$(DEMO_ALLOWED_HOSTS)' PORTAL_ERROR_PAGES=1
demo: install
	$(DEMO_ENV) $(PY) manage.py migrate --noinput -v0
	$(DEMO_ENV) $(PY) manage.py seed_demo
	@echo "Fund portal: $(BASE_URL)/  (English /en/, Spanish /es/, staff /admin/); Ctrl-C stops it."
	@echo "In the background the scheduler runs the daily jobs and the officers' digest every 5 minutes."
	$(DEMO_ENV) exec $(PY) manage.py demo_serve $(HOST):$(PORT)

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
