# bandster: `make demo` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CKSUM := $(shell cat setup.py pyproject.toml | cksum | cut -d' ' -f1)
# `make test` (and docs, bench, lint) install bandster with its test extra; `make demo` needs only bandster itself
STAMP := $(VENV)/.installed-test-$(CKSUM)
CORE_STAMP := $(VENV)/.installed-core-$(CKSUM)

.PHONY: demo test docs browser bench lint clean venv

venv: $(STAMP)

$(STAMP): setup.py pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-test-*
	touch $(STAMP)

# the demo's own stamp: bandster and its dependencies only (no Sphinx, Jupyter or scikit-learn); nothing to
# install when the test extra is already there
$(CORE_STAMP): setup.py pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test -e $(STAMP) || $(BIN)/python -m pip install --quiet --upgrade pip
	test -e $(STAMP) || $(BIN)/python -m pip install --quiet -e .
	rm -f $(VENV)/.installed-core-*
	touch $(CORE_STAMP)

demo: $(CORE_STAMP)
	$(BIN)/python examples/demo.py

# the docs are built (warnings are errors) before the tests, and chromium installed for the report's browser test
test: $(STAMP) docs browser
	$(BIN)/python -m pytest

DOCS_OUT := build/docs
docs: $(STAMP)
	$(BIN)/python -m sphinx -E -W --keep-going -q -b html -d $(DOCS_OUT)/doctrees docs $(DOCS_OUT)/html
	@echo "docs built: $(DOCS_OUT)/html/index.html"

# Debian's chromium for tests/test_status_report_plan.py (the report in a headless browser); the test is skipped,
# saying why, only where it cannot be installed (no apt-get, or neither root nor passwordless sudo)
browser:
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
	else echo "chromium is missing and cannot be installed (not root, no passwordless sudo): the browser test will be skipped"; exit 0; fi; \
	if ! command -v apt-get >/dev/null 2>&1; then echo "chromium is missing and there is no apt-get: the browser test will be skipped"; exit 0; fi; \
	echo "installing chromium (apt-get) for the report's browser test"; \
	$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null \
	  || echo "apt-get could not install chromium: the browser test will be skipped"

# timings live here, never in the tests; docs/benchmarks.md records each figure with its command and date
bench: $(STAMP)
	$(BIN)/python benchmarks/throughput.py
	$(BIN)/python benchmarks/parallel.py
	$(BIN)/python benchmarks/discovery.py
	$(BIN)/python benchmarks/bohb_overhead.py
	$(BIN)/python benchmarks/load.py
	$(BIN)/python benchmarks/scale.py
	$(BIN)/python benchmarks/async_utilisation.py
	$(BIN)/python benchmarks/async_regret.py --seeds 8 --iterations 20 --async_iterations 30 --optimizers ASHA,AsyncBOHB,HyperBand
	$(BIN)/python benchmarks/async_simulation.py --seeds 32
	$(BIN)/python benchmarks/quality.py

lint: $(STAMP)
	$(BIN)/ruff check bandster tests examples benchmarks

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
