# Alumni Autopilot. Two commands on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export PYTHONPATH := $(CURDIR)
export PYTHONDONTWRITEBYTECODE := 1
export GRPC_VERBOSITY := ERROR
PYSTAMP := $(VENV)/.installed
NODESTAMP := node_modules/.installed

.PHONY: help install demo test lint unit bench emulator clean bundles smoke infra-check chaos

help:
	@echo "make demo      run generate_slots locally on the emulator and print the schedule"
	@echo "make test      the whole suite: ruff, mypy, unit, integration and end-to-end tests"
	@echo "make bench     benchmarks; figures in reports/bench.md and reports/bench.json"
	@echo "make chaos     the month replayed with seeded faults, then the exactly-once invariants"
	@echo "make bundles   one deployable zip per function in build/bundles/ (Terraform uploads them)"
	@echo "make smoke     live smoke test against Zoom/Google (skipped unless credentials are set)"
	@echo "make emulator  a Firestore emulator in the foreground, for the organizer CLI"

$(PYSTAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e . 2>/dev/null || \
	  $(PY) -m pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

$(NODESTAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(PYSTAMP) $(NODESTAMP)

demo: install
	$(PY) -m tools.demo

lint: $(PYSTAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

test: install lint
	$(PY) -m pytest -q -n 2 --dist loadfile

bundles: $(PYSTAMP)
	$(PY) -m tools.bundle

infra-check: $(PYSTAMP)
	$(PY) -m tools.infra_check

smoke: $(PYSTAMP)
	$(PY) -m tools.smoke

bench: install
	$(PY) -m tools.bench

chaos: install
	$(PY) -m tools.chaos --seeds 3 --members 400 --days 28

emulator: install
	$(PY) -m tools.emulator

clean:
	rm -rf $(VENV) node_modules outbox build .mypy_cache .ruff_cache .hypothesis
