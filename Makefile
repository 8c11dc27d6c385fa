# Constancia: the single entry point. `make run` to try it, `make test` to check it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format migrate demo worker beat messages bench check-runtime clean help

help:
	@echo "make run       install, migrate the SQLite database in var/, load the demo, serve http://$(HOST):$(PORT)"
	@echo "make test      install test dependencies and run the whole suite"
	@echo "make lint      ruff check, ruff format --check, makemigrations --check"
	@echo "make check-runtime  pip install . alone in a throwaway venv, then check, migrate, export and verify a certificate"
	@echo "make format    ruff format and fix what ruff can"
	@echo "make worker    a Celery worker (needs REDIS_URL)"
	@echo "make beat      the Celery beat scheduler (needs REDIS_URL)"
	@echo "make messages  refresh and compile the translation catalogues (needs gettext)"
	@echo "make bench     run the benchmarks in bench/"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	@touch $(VENV)/.installed $@

var:
	mkdir -p var/media var/staticfiles

migrate: $(VENV)/.installed | var
	$(BIN)/python manage.py migrate --no-input

demo: migrate
	$(BIN)/python manage.py load_demo

run: demo
	@echo "Serving Constancia on http://$(HOST):$(PORT)/ (Ctrl+C to stop)"
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: $(VENV)/.installed-test | var
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run

format: $(VENV)/.installed-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Runtime dependencies only, as the Dockerfile and `pip install .` have them: a module that only
# the [test] extra brings would pass `make test` and fail here. Throwaway venv, SQLite and media
# under $(RUNTIME_DIR); DATABASE_URL and REDIS_URL of the caller are ignored on purpose.
RUNTIME_DIR ?= var/check-runtime
RUNTIME_ENV := env -u DATABASE_URL -u REDIS_URL -u MEDIA_ROOT -u STATIC_ROOT -u DEBUG_PAGES \
	VAR_DIR=$(abspath $(RUNTIME_DIR))/var
check-runtime:
	rm -rf $(RUNTIME_DIR)
	$(PYTHON) -m venv $(RUNTIME_DIR)/venv
	$(RUNTIME_DIR)/venv/bin/pip install --quiet --upgrade pip
	$(RUNTIME_DIR)/venv/bin/pip install --quiet .
	rm -rf build
	$(RUNTIME_ENV) $(RUNTIME_DIR)/venv/bin/python manage.py check
	$(RUNTIME_ENV) $(RUNTIME_DIR)/venv/bin/python manage.py migrate --no-input -v 0
	$(RUNTIME_ENV) $(RUNTIME_DIR)/venv/bin/python manage.py load_demo
	$(RUNTIME_ENV) $(RUNTIME_DIR)/venv/bin/python manage.py export_certificate \
		--org clinica-sonrisa --subject 1 -o $(RUNTIME_DIR)/certificate.pdf
	$(RUNTIME_ENV) $(RUNTIME_DIR)/venv/bin/python .ci/check_runtime.py $(RUNTIME_DIR)/certificate.pdf

worker: $(VENV)/.installed
	$(BIN)/celery -A config worker --loglevel=INFO --concurrency=2

beat: $(VENV)/.installed | var
	$(BIN)/celery -A config beat --loglevel=INFO --schedule=var/celerybeat-schedule

messages: $(VENV)/.installed
	$(BIN)/python manage.py makemessages --locale=es --locale=ar --ignore=.venv --ignore=var --ignore=tests --ignore=bench
	$(BIN)/python manage.py compilemessages --ignore=.venv --ignore=var

bench: $(VENV)/.installed-test
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var/staticfiles
