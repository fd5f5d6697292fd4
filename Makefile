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
BROWSERSTAMP := $(VENV)/.chromium
BROWSER_PACKAGES := chromium fonts-noto-cjk

.PHONY: help install demo test lint unit bench emulator clean bundles smoke infra-check chaos browser screenshots

help:
	@echo "make demo      run generate_slots locally on the emulator and print the schedule"
	@echo "make test      the whole suite: ruff, mypy, unit, integration and end-to-end tests"
	@echo "make bench     benchmarks; figures in reports/bench.md and reports/bench.json"
	@echo "make chaos     the month replayed with seeded faults, then the exactly-once invariants"
	@echo "make bundles   one deployable zip per function in build/bundles/ (Terraform uploads them)"
	@echo "make smoke     live smoke test against Zoom/Google (skipped unless credentials are set)"
	@echo "make emulator  a Firestore emulator in the foreground, for the organizer CLI"
	@echo "make screenshots  the browser tests, writing their screenshots to docs/screenshots/"

$(PYSTAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e . 2>/dev/null || \
	  $(PY) -m pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

$(NODESTAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The browser tests drive Debian's Chromium (Playwright's own browser download is unreachable from
# our machines). Installed with apt when missing and we may (root); otherwise the browser tests are
# skipped with a loud line at the end of the run.
$(BROWSERSTAMP): | $(PYSTAMP)
	@if ! command -v chromium >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing $(BROWSER_PACKAGES) with apt-get (browser tests)"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(BROWSER_PACKAGES) >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(BROWSER_PACKAGES) >/dev/null 2>&1; } || true; \
	  fi; \
	fi
	@if command -v chromium >/dev/null; then touch $@; else echo "!!! Chromium could not be installed: the browser tests will be SKIPPED"; fi

browser: $(BROWSERSTAMP)

install: $(PYSTAMP) $(NODESTAMP) browser

demo: install
	$(PY) -m tools.demo

lint: $(PYSTAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

test: install lint
	$(PY) -m pytest -q -n 2 --dist loadfile

bundles: $(PYSTAMP)
	$(PY) -m tools.bundle

infra-check: install
	$(PY) -m tools.infra_check

smoke: $(PYSTAMP)
	$(PY) -m tools.smoke

bench: install
	$(PY) -m tools.bench

screenshots: install
	SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots $(PY) -m pytest -q -p no:randomly tests/browser

chaos: install
	$(PY) -m tools.chaos --seeds 3 --members 400 --days 28

emulator: install
	$(PY) -m tools.emulator $(PORT)

clean:
	rm -rf $(VENV) node_modules outbox build .mypy_cache .ruff_cache .hypothesis
