# The two commands: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
SPHINX := $(VENV)/bin/sphinx-build

.PHONY: demo test venv venv-dev lint typecheck pytest docs bench clean

$(VENV)/.stamp-base: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -U "pip>=25.1"
	$(PY) -m pip install -q -e ".[sim]"
	touch $@

$(VENV)/.stamp-dev: $(VENV)/.stamp-base
	$(PY) -m pip install -q -e . --group dev
	touch $@

venv: $(VENV)/.stamp-base
venv-dev: $(VENV)/.stamp-dev

demo: venv
	$(PY) -m zhiyuan demo

pytest: venv-dev
	$(PY) -m pytest -q -n auto

lint: venv-dev
	$(VENV)/bin/ruff check src tests benchmarks tools examples docs
	$(VENV)/bin/ruff format --check src tests benchmarks tools examples docs

typecheck: venv-dev
	$(VENV)/bin/mypy

docs: venv-dev
	OFFLINE=1 $(SPHINX) -W -n -q -b html docs docs/_build/html
	OFFLINE=1 $(SPHINX) -W -n -q -b doctest docs docs/_build/doctest

test: pytest lint typecheck docs

bench: venv-dev
	$(PY) benchmarks/summary.py

clean:
	rm -rf $(VENV) docs/_build .pytest_cache .mypy_cache .ruff_cache .hypothesis
