# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin

.PHONY: demo test test-fast bench lint warmup clean

$(VENV)/.stamp-run: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.stamp-dev: pyproject.toml $(VENV)/.stamp-run
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

demo: $(VENV)/.stamp-run
	$(BIN)/riskengine demo

warmup: $(VENV)/.stamp-run
	$(BIN)/riskengine warmup

test: $(VENV)/.stamp-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/riskengine warmup
	$(PY) -m pytest -n 2 --dist loadgroup tests

test-fast: $(VENV)/.stamp-dev
	$(PY) -m pytest -n 2 -m "not slow" tests

bench: $(VENV)/.stamp-dev
	$(PY) benchmarks/run.py

lint: $(VENV)/.stamp-dev
	$(BIN)/ruff check src tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
