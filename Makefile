# Two commands do all the set-up on a fresh machine: `make demo` and `make test`. `make bench` measures.
# Every target installs what it needs first (idempotent, fast when nothing changed).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: demo test test-unit test-browser bench vendor dist serve-dist lint chromium clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

# Debian's Chromium: Playwright's own browser download does not work on these machines.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium (needs root)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

vendor: $(STAMP) node_modules/.package-lock.json
	$(PY) -m codeact_host.build

## make demo: build what is missing and serve the page on http://127.0.0.1:$(PORT)/
demo: vendor
	$(PY) -m codeact_host.server --port $(PORT)

## make test: every test (CPython unit tests, then the browser tests in headless Chromium)
test: vendor chromium
	$(PY) -m pytest -q

test-unit: $(STAMP)
	$(PY) -m pytest -q tests/unit

test-browser: vendor chromium
	$(PY) -m pytest -q tests/browser

## make bench: the benchmark harness, writes bench/results.json
bench: vendor chromium
	$(PY) -m bench.run

## make dist: a static site in dist/ for any static host (see README, "Hosting modes")
dist: vendor
	$(PY) -m codeact_host.dist

serve-dist: dist
	$(PY) -m codeact_host.server --root dist --no-isolation --port $(PORT)

lint: $(STAMP)
	$(VENV)/bin/ruff check agent_py codeact_host tests bench

clean:
	rm -rf static/vendor dist build .pytest_cache
