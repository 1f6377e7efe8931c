# One command per task. Each installs what is missing first (scripts/install), so every target
# works on a fresh Debian 12 machine and is safe to run twice.

VENV := .venv
PY := $(VENV)/bin/python
TSC := node_modules/.bin/tsc

.PHONY: install demo test test-fast fuzz check contract-js bench screenshots clean

install:
	@./scripts/install

demo: install
	$(PY) -m cabina demo

test: install
	$(PY) -m pytest

test-fast: install
	$(PY) -m pytest -m "not slow"

# The hub's HTTP API and its WebSockets fuzzed at length, on SQLite and PostgreSQL (make test
# runs a quick profile of each).
FUZZ_EXAMPLES ?= 100
fuzz: install
	CABINA_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest -m fuzz --timeout=3600 \
		tests/hub/test_fuzz_api.py tests/hub/test_fuzz_ws.py

# Lint, format, types, the floors between packages, then the console's JavaScript (JSDoc
# types checked by TypeScript, settings in tsconfig.json).
check: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(TSC) --project tsconfig.json

# The console's agent_console/static/js/contract.js, rendered from contract/signalling.py.
contract-js: install
	$(PY) -m agent_console.contract_js

bench: install
	$(PY) bench/run.py

screenshots: install
	$(PY) -m cabina screenshots --out docs/screenshots --languages es,ca,eu
	CABINA_CONSOLE_SCREENSHOTS=docs/screenshots $(PY) -m pytest -q -m browser tests/console

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
