# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin

.PHONY: demo test test-fast bench lint warmup clean browser

$(VENV)/.stamp-run: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.stamp-dev: pyproject.toml $(VENV)/.stamp-run
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

# warmup first: on a fresh clone the kernels compile once (~20 s), and the demo's timing line
# then shows the simulation's speed, not the compiler's
demo: $(VENV)/.stamp-run
	$(BIN)/riskengine warmup
	$(BIN)/riskengine demo

warmup: $(VENV)/.stamp-run
	$(BIN)/riskengine warmup

# The report's browser test drives Debian's chromium through chromium-driver (tests/test_report.py):
# installed here when missing (root, or sudo without a password). RISKENGINE_SKIP_BROWSER=1 skips
# the install and the test; anything else that stops the install stops `make test`.
CHROMIUM     ?= chromium
CHROMEDRIVER ?= chromedriver
ARTIFACTS    := test-artifacts/report

browser:
ifeq ($(RISKENGINE_SKIP_BROWSER),1)
	@echo "RISKENGINE_SKIP_BROWSER=1: the report's browser test will be skipped"
else
	@if command -v $(CHROMIUM) >/dev/null && command -v $(CHROMEDRIVER) >/dev/null; then exit 0; fi; \
	echo "The report's browser test needs chromium and chromedriver: installing Debian's" \
	  "chromium and chromium-driver"; \
	if [ "$$(id -u)" = 0 ]; then sudo=; \
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	else echo "error: installing them needs root (or sudo without a password). Install them" \
	  "(apt-get install chromium chromium-driver) or set RISKENGINE_SKIP_BROWSER=1." >&2; exit 1; fi; \
	if ! command -v apt-get >/dev/null; then echo "error: no apt-get on this machine: install" \
	  "chromium and chromedriver yourself, or set RISKENGINE_SKIP_BROWSER=1." >&2; exit 1; fi; \
	$$sudo apt-get update && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y \
	  chromium chromium-driver || { echo "error: could not install chromium and" \
	  "chromium-driver (see above); or set RISKENGINE_SKIP_BROWSER=1." >&2; exit 1; }; \
	command -v $(CHROMIUM) >/dev/null && command -v $(CHROMEDRIVER) >/dev/null || \
	  { echo "error: chromium or chromedriver still missing after the install" >&2; exit 1; }
endif

test: browser $(VENV)/.stamp-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/riskengine warmup
	$(PY) -m pytest -n 2 --dist loadgroup tests
	@if ls $(ARTIFACTS)/*.png >/dev/null 2>&1; then \
	  echo "The report as the browser test saw it (full-page screenshots):"; \
	  ls -1 $(ARTIFACTS)/*.png | sed 's/^/  /'; fi

test-fast: $(VENV)/.stamp-dev
	$(PY) -m pytest -n 2 -m "not slow" tests

# Regenerates benchmarks/RESULTS.md (long: about an hour on 2 cores). BENCH_ARGS passes options
# to benchmarks/run.py, e.g. BENCH_ARGS="--only floor cost_model" or "--scale tiny".
bench: $(VENV)/.stamp-dev
	$(PY) benchmarks/run.py $(BENCH_ARGS)

lint: $(VENV)/.stamp-dev
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts
