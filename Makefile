# sipas: the two commands are `make run` and `make test`. `make help` lists the rest.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
SIPAS := $(BIN)/sipas
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help install install-test system-deps system-deps-test npm-deps run demo migrate test test-fast lint format lock bench audio clean

help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade 'pip>=24,<27'

$(VENV)/.installed: requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $@

$(VENV)/.installed-test: requirements-test.lock pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -r requirements-test.lock
	touch $@

install: $(VENV)/.installed ## Create .venv and install the pinned dependencies (idempotent)

install-test: $(VENV)/.installed-test

system-deps: ## Debian packages the server needs (LibreOffice, fonts)
	scripts/install-system-deps.sh run

system-deps-test: ## Debian packages the test suite needs (PostgreSQL, Chromium, ...)
	scripts/install-system-deps.sh test

node_modules/.installed: package.json package-lock.json
	SCARF_ANALYTICS=false npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

npm-deps: node_modules/.installed ## Pinned npm tools (the Prism mock of Twilio's API)

migrate: install ## Apply database migrations
	$(SIPAS) db upgrade

demo: migrate ## Create demo data if the database is empty
	$(SIPAS) demo --if-empty

# The links and QR codes of the demo point where it is served (SIPAS_PUBLIC_BASE_URL), unless exported.
RUN_ADDRESS := SIPAS_PUBLIC_BASE_URL=$${SIPAS_PUBLIC_BASE_URL:-http://$(HOST):$(PORT)}

run: system-deps install ## Install, migrate, load demo data on first run, serve on http://127.0.0.1:8000
	$(SIPAS) db upgrade
	$(RUN_ADDRESS) $(SIPAS) demo --if-empty
	$(RUN_ADDRESS) SIPAS_SECURE_COOKIES=$${SIPAS_SECURE_COOKIES:-false} $(SIPAS) serve --host $(HOST) --port $(PORT)

test: system-deps-test install-test npm-deps ## Install everything the suite needs, then lint and run it all
	$(BIN)/ruff check .
	$(BIN)/pytest

test-fast: install-test ## Run the suite on SQLite only, without browser tests
	SIPAS_TEST_BACKENDS=sqlite $(BIN)/pytest -m "not browser and not slow"

lint: install-test ## ruff
	$(BIN)/ruff check .

format: install-test ## ruff format + fixes
	$(BIN)/ruff check --fix .

lock: install-test ## Regenerate the pinned lock files from pyproject.toml
	$(BIN)/pip install -q pip-tools
	$(BIN)/pip-compile -q --strip-extras --no-emit-index-url --no-emit-find-links -o requirements.lock pyproject.toml
	$(BIN)/pip-compile -q --strip-extras --no-emit-index-url --no-emit-find-links --extra test -o requirements-test.lock pyproject.toml

bench: install ## Print performance figures (bench/)
	$(BIN)/python bench/run.py

clean: ## Remove the virtual environment and caches (keeps instance/ data)
	rm -rf $(VENV) node_modules .ruff_cache build *.egg-info
