# The README's two commands: `make app` and `make test`. Everything else is set-up they call.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The sandbox uid must be able to read the interpreter, so prefer Debian's python3.11 over
# one under /root (see ../shared/notes/sandbox.md).
PYTHON ?= $(shell test -x /usr/bin/python3.11 && echo /usr/bin/python3.11 || command -v python3)
VENV := .venv
export UV_PYTHON := $(PYTHON)
export UV_PYTHON_DOWNLOADS := never
# uv from PATH, else the copy `pip install --user uv` puts in ~/.local/bin
UV = $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)

help:
	@echo "make app    install, then start the Streamlit app on the default scenario"
	@echo "make test   install, then run the whole test suite"
	@echo "make bench  install, then print the benchmark figures"
	@echo "make demo   install, then solve scenarios/nurse_ward.yaml from the CLI"

uv:
	@command -v uv >/dev/null 2>&1 || test -x $(HOME)/.local/bin/uv || python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv

# Debian packages: installed only when absent.
system-deps:
	@command -v bwrap >/dev/null 2>&1 || (apt-get install -y -q bubblewrap >/dev/null 2>&1 || (apt-get update -q >/dev/null && apt-get install -y -q bubblewrap >/dev/null))
	@command -v chromium >/dev/null 2>&1 || (apt-get install -y -q chromium >/dev/null 2>&1 || (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null))

$(VENV)/.installed: pyproject.toml uv.lock
	$(MAKE) --no-print-directory uv
	$(UV) sync --frozen
	@touch $@

setup: system-deps $(VENV)/.installed

# Until the Streamlit UI lands (ui/app.py), `make app` runs the CLI demo on the default scenario.
app: setup
	@if [ -f ui/app.py ]; then $(VENV)/bin/streamlit run ui/app.py --server.headless true; \
	else $(VENV)/bin/alchemist demo; fi

demo: setup
	$(VENV)/bin/alchemist demo

# uv's folder on PATH: the wheel test builds with it, and ~/.local/bin may not be there
test: setup
	$(VENV)/bin/ruff check .
	PATH="$(dir $(UV)):$$PATH" $(VENV)/bin/python -m pytest -q

bench: setup
	$(VENV)/bin/python bench/curtois.py
	$(VENV)/bin/python bench/colgen_curtois.py
	$(VENV)/bin/python bench/checker.py
	$(VENV)/bin/python bench/sandbox.py
	$(VENV)/bin/python bench/simulation.py
	$(VENV)/bin/python bench/aca.py

lint:
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

.PHONY: help uv system-deps setup app demo test bench lint
