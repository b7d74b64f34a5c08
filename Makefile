# KnowPay: `make run` serves the demo, `make test` runs the whole suite. Both need only Python 3.11.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint check install install-dev migrate demo worker beat bench mutate clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# Stamp files make re-installs happen only when a requirements file changed.
$(VENV)/.runtime: requirements.txt | $(PY)
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(PY)
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py seed_demo
	$(PY) manage.py seed_demo_sales

# The demo logs readable text; production (and `make worker`/`make beat` there) logs JSON lines.
run: demo
	LOG_FORMAT=$${LOG_FORMAT:-text} HOST=$(HOST) PORT=$(PORT) $(PY) manage.py runserver $(HOST):$(PORT)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

check: install-dev
	$(PY) manage.py check --fail-level WARNING
	$(PY) manage.py makemigrations --check --dry-run

test: lint check
	$(VENV)/bin/pytest

# Mutation check of the money rules: every mutant of tests/mutants.py must make its tests fail.
mutate: install-dev
	$(PY) tests/mutants.py

# A Celery worker and the periodic scheduler, for when CELERY_BROKER_URL points at Redis.
worker: install
	$(VENV)/bin/celery -A knowpay worker --loglevel=INFO

beat: install
	$(VENV)/bin/celery -A knowpay beat --loglevel=INFO

bench: install-dev
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
