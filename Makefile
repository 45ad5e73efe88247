# LMS developer entry points. On a fresh Debian machine with make, git and Python 3.11,
# `make demo` or `make test` sets up everything else: the virtualenv (from the pinned
# requirements/lock.txt), Node's npm and Debian's chromium (with apt-get), and PostgreSQL,
# Redis and S3 (reused when they already answer, otherwise started project-locally under
# .data/ by scripts/services.py).
# Every target can be run again; the second run skips what is already done.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

VENV := .venv
PY := $(VENV)/bin/python
# The exact Python dependency set (runtime + dev), compiled from pyproject.toml by `make lock`.
LOCK := requirements/lock.txt
# pip runs again only when the lock or pyproject.toml is newer than this stamp.
PIP_STAMP := $(VENV)/.installed-lock
# npm runs again only when package.json or package-lock.json is newer than this stamp.
NPM_STAMP := node_modules/.installed-package
NPM_INPUTS := $(wildcard package.json package-lock.json)
# A Python for targets that must work before `install` (stop, clean).
ANY_PY = $(if $(wildcard $(PY)),$(PY),python3)
CHROMIUM ?= /usr/bin/chromium

ARGS ?=
ONLY ?=

.PHONY: help install lock node system-packages services migrate demo test lint bench stop clean

help: ## List the targets
	@echo "Usage: make <target>   (make test ARGS='-k foo', make bench ONLY=<name>)"
	@echo
	@grep -E '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{ printf "  %-10s %s\n", $$1, $$2 }'

install: $(PIP_STAMP) $(if $(wildcard package.json),$(NPM_STAMP)) system-packages ## Create .venv, install the locked Python and the npm dependencies and chromium (only what changed)

$(PY):
	@py=""; \
	for candidate in python3.11 python3; do \
	  if command -v "$$candidate" >/dev/null 2>&1 \
	     && "$$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then \
	    py="$$candidate"; break; \
	  fi; \
	done; \
	if [ -z "$$py" ]; then \
	  echo "error: Python 3.11 or newer is needed: install python3.11 (Debian 12: apt-get install python3 python3-venv)." >&2; \
	  exit 1; \
	fi; \
	echo "Creating $(VENV) with $$(command -v $$py) ($$($$py -c 'import platform; print(platform.python_version())'))"; \
	if ! "$$py" -m venv $(VENV); then \
	  rm -rf $(VENV); \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing python3-venv with apt-get"; \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv; \
	    "$$py" -m venv $(VENV); \
	  else \
	    echo "error: '$$py -m venv' failed: install the python3-venv package." >&2; exit 1; \
	  fi; \
	fi

$(PIP_STAMP): $(LOCK) pyproject.toml | $(PY)
	@echo "Installing Python dependencies: pip install -r $(LOCK), then the project itself (--no-deps)"
	@$(PY) -m pip install --quiet --disable-pip-version-check -r $(LOCK)
	@$(PY) scripts/check_lock.py pyproject.toml $(LOCK)
	@$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

# Regenerate the lock from pyproject.toml (runtime + dev). Versions already pinned stay as
# they are unless pyproject.toml rules them out; `make lock UPGRADE=1` moves every pin to
# the newest release allowed. Commit requirements/lock.txt with the pyproject.toml change.
UPGRADE ?=
lock: | $(PY) ## Re-pin requirements/lock.txt from pyproject.toml (UPGRADE=1: newest allowed versions)
	@$(PY) -c 'import piptools' 2>/dev/null \
	  || $(PY) -m pip install --quiet --disable-pip-version-check 'pip-tools>=7.4,<8'
	@mkdir -p $(dir $(LOCK))
	CUSTOM_COMPILE_COMMAND="make lock" $(PY) -m piptools compile --quiet \
	  --extra dev --strip-extras --no-emit-index-url --no-emit-trusted-host --no-emit-find-links \
	  $(if $(UPGRADE),--upgrade) --output-file $(LOCK) pyproject.toml

$(NPM_STAMP): $(NPM_INPUTS)
	@$(MAKE) node
	@if [ -f package-lock.json ]; then \
	  echo "Installing npm dependencies: npm ci"; npm ci --no-audit --no-fund; \
	else \
	  echo "Installing npm dependencies: npm install"; npm install --no-audit --no-fund; \
	fi
	@mkdir -p node_modules && touch $@

# npm installs the front-end libraries (package.json); Debian's nodejs/npm when it is missing.
node:
	@if ! command -v npm >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing nodejs and npm with apt-get (for the front-end libraries)"; \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm; \
	  else \
	    echo "error: npm is missing and I am not root: install it (Debian: apt-get install nodejs npm)." >&2; \
	    exit 1; \
	  fi; \
	fi

# Debian's chromium drives the browser tests (never `playwright install`: it downloads
# a browser build from outside the package registries).
system-packages:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing chromium with apt-get (for the browser tests)"; \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	  else \
	    echo "note: $(CHROMIUM) is missing and I am not root: the browser tests need 'apt-get install chromium'."; \
	  fi; \
	fi

services: install ## Reuse or start PostgreSQL, Redis and S3 (SeaweedFS); writes .data/services.env
	@$(PY) scripts/services.py up

migrate: services ## Migrate the public schema, the template schema and every tenant; check the bucket
	$(PY) manage.py migrate_schemas --noinput
	$(PY) manage.py setup_storage

demo: migrate ## Seed the demo tenants and run web + worker + beat in the foreground (Ctrl-C stops)
	$(PY) manage.py seed_demo
	@$(PY) scripts/run_demo.py

lint: install ## ruff, import-linter and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

test: lint services ## Lint, then the test suite (pytest makes its own test database): make test ARGS="-k foo"
	$(PY) -m pytest $(ARGS)

bench: migrate ## Run the benchmarks: make bench [ONLY=<name>]
	@if ! command -v wrk >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing wrk with apt-get (HTTP load generator for the page benchmarks)"; \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk; \
	  else \
	    echo "error: the page benchmarks need wrk: apt-get install wrk" >&2; exit 1; \
	  fi; \
	fi
	$(PY) -m bench $(if $(ONLY),--only $(ONLY))

stop: ## Stop the demo processes and the services that `make services` started
	@$(ANY_PY) scripts/run_demo.py --stop
	@$(ANY_PY) scripts/services.py down

clean: stop ## stop, then delete .data (project-local databases, objects and keys)
	rm -rf .data
