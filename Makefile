# Ledgerbridge: `make run` starts everything, `make test` runs the tests. `make help` lists all.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Candidates in order; a pyenv shim can exist and still fail, so each is run, not trusted.
PYTHON_CANDIDATES := python3.13 python3.12 python3
ARGS ?=
# Test processes (pytest-xdist): most tests wait on PostgreSQL, Redis, a worker or the
# sandbox, so more processes than cores pays off; `TEST_PROCESSES=0` runs them serially.
TEST_PROCESSES ?= 3

define find_python
for c in $(PYTHON_CANDIDATES); do \
  if "$$c" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; then \
    command -v "$$c"; exit 0; fi; done; exit 1
endef

.PHONY: help venv run test lint bench soak migrate clean

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt
	@if [ -x $(PY) ] && ! $(PY) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then \
	  echo "Removing $(VENV): it was made with a Python older than 3.12"; rm -rf $(VENV); fi
	@if [ ! -x $(PY) ]; then \
	  python=$$($(find_python)) || { echo "error: Ledgerbridge needs Python 3.12 or newer; none of $(PYTHON_CANDIDATES) runs one. Install Python 3.12+ (pyenv install 3.12) and try again." >&2; exit 1; }; \
	  echo "Using $$python ($$($$python --version))"; \
	  "$$python" -m venv $(VENV); fi
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

venv: $(STAMP) ## Make .venv and install the pinned requirements

migrate: venv ## Apply migrations (and the role definitions)
	$(PY) manage.py migrate --noinput

run: export DEBUG ?= true
run: export INTEGRATIONS_ALLOW_LOCAL_URLS ?= true
run: venv ## Start API, admin, worker and beat (embedded default unless DATABASE_URL/REDIS_URL)
	@$(PY) manage.py migrate --noinput
	@$(PY) manage.py collectstatic --noinput -v 0
	@$(PY) manage.py create_demo_admin
	@$(PY) manage.py seed_demo
	@$(PY) manage.py ensure_sandbox_connection
	@echo "Ledgerbridge: http://127.0.0.1:$${PORT:-8000}/  (admin /admin/, API docs /api/v1/docs/, health /healthz). Ctrl-C stops everything."
	@exec $(PY) -m project.devservices run

test: export DEBUG ?= true
test: venv ## Run the tests in parallel (PostgreSQL/Redis when reachable, else embedded)
	@services=$$($(PY) -m project.devservices test-env) || exit $$?; eval "$$services"; \
	  $(PY) -m pytest -n $(TEST_PROCESSES) $(ARGS); status=$$?; \
	  if [ -n "$${LEDGERBRIDGE_STOP_VALKEY:-}" ]; then $(PY) -m project.devservices stop; fi; \
	  exit $$status

lint: export DEBUG ?= true
lint: venv ## ruff check, ruff format --check, manage.py check, makemigrations --check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

bench: venv ## Benchmarks under gunicorn on PostgreSQL and Redis (see bench/README.md)
	$(PY) bench/run.py $(ARGS)

soak: venv ## Soak test: mixed traffic, Redis outage, dropped DB connections (SOAK_SECONDS, default 600)
	$(PY) bench/soak.py

clean: ## Remove .venv and var/ (local data)
	rm -rf $(VENV) var
