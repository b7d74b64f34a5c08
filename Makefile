# KnowPay: `make run` serves the demo, `make test` runs the whole suite. Both need only Python 3.11.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
HOST ?= 127.0.0.1
PORT ?= 8000
# The settings fail closed (DEBUG off, no sandbox); these targets are for development against the
# local gateway simulators, so they ask for both unless the environment says otherwise.
export DEBUG ?= true
export PAYMENTS_SANDBOX ?= true

.PHONY: run test lint check install install-dev migrate demo worker beat bench mutate clean lock audit

$(PY):
	$(PYTHON) -m venv $(VENV)

# Installs come from the lock files only, every file checked against its hash. requirements.txt
# and requirements-dev.txt are what people edit; `make lock` turns them into the lock files.
# Stamp files make re-installs happen only when a lock file changed.
$(VENV)/.runtime: requirements.lock | $(PY)
	$(PIP) install --quiet --require-hashes --no-deps -r requirements.lock
	touch $@

$(VENV)/.dev: requirements.lock requirements-dev.lock | $(PY)
	$(PIP) install --quiet --require-hashes --no-deps -r requirements-dev.lock
	touch $@ $(VENV)/.runtime

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

# pip-tools resolves with pip, so it uses this machine's pip configuration (indexes, wheel folders);
# the lock files name no index, so each machine installs from its own. The dev lock is constrained
# by the runtime lock: tests run the versions production installs.
PIP_COMPILE := $(VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links
lock: install-dev
	$(PIP_COMPILE) --output-file requirements.lock requirements.txt
	$(PIP_COMPILE) --constraint requirements.lock --output-file requirements-dev.lock requirements-dev.txt

# Known vulnerabilities of every locked version (runtime and dev); any one found fails. One that has
# no fixed release yet can be acknowledged here with `--ignore-vuln ID` and a comment saying why.
AUDIT_IGNORE :=
audit: install-dev
	$(VENV)/bin/pip-audit --disable-pip --require-hashes --requirement requirements-dev.lock $(AUDIT_IGNORE)

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
