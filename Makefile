# Every target creates .venv on first use and installs what it needs from the package registry.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
ARGS   ?=

.PHONY: install demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-%: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[$*]"
	@touch $@

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

install: $(VENV)/.installed

demo: $(VENV)/.installed-demo
	$(BIN)/aws-audit demo $(ARGS)

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q $(ARGS)

# Benchmarks (not tests): audit simulated accounts of 100, 1,000 and 10,000 resources behind 50 ms of latency.
bench: $(VENV)/.installed-test
	$(BIN)/python -m bench.run $(ARGS)
	$(BIN)/python -m bench.html_bench

lint: $(VENV)/.installed-lint
	$(BIN)/ruff check auditor checks reports tests bench

clean:
	rm -rf $(VENV) out build *.egg-info .pytest_cache
