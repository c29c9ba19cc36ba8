# Recordroom: `make demo` runs the demo; `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test setup setup-dev lint system-packages bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --disable-pip-version-check -e .
	touch $@

$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --disable-pip-version-check -e ".[dev]"
	touch $(VENV)/.runtime $@

setup: $(VENV)/.runtime
setup-dev: $(VENV)/.dev

# make demo PORT=8100 HOST=0.0.0.0 PATIENTS=500: passed to `recordroom demo`
demo: setup
	$(BIN)/recordroom demo $(if $(PORT),--port $(PORT)) $(if $(HOST),--host $(HOST)) $(if $(PATIENTS),--patients $(PATIENTS))

system-packages:
	@scripts/system-packages

lint: setup-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports
	RECORDROOM_DATA_DIR=.test-data/lint $(BIN)/mypy src/recordroom

test: setup-dev system-packages lint
	@scripts/run-tests

bench: setup-dev
	@echo "see bench/README.md; each benchmark prints its figures and how to rerun it"

clean:
	rm -rf .test-data .artifacts
