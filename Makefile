# One command per task. Each installs what is missing first (scripts/install), so every target
# works on a fresh Debian 12 machine and is safe to run twice.

VENV := .venv
PY := $(VENV)/bin/python

.PHONY: install demo test test-fast check bench screenshots clean

install:
	@./scripts/install

demo: install
	$(PY) -m cabina demo

test: install
	$(PY) -m pytest

test-fast: install
	$(PY) -m pytest -m "not slow"

check: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

bench: install
	$(PY) bench/run.py

screenshots: install
	$(PY) -m cabina screenshots --out docs/screenshots --languages es,ca,eu
	CABINA_CONSOLE_SCREENSHOTS=docs/screenshots $(PY) -m pytest -q -m browser tests/console

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
