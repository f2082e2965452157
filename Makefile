# ktokit: the two commands of the README are `make demo` (the kit's main job, local target)
# and `make test` (ruff + pytest). Both install what they need first (`make setup`).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# CPU torch by default (the wheel pip finds on disk here). Bring your own, e.g. for CUDA:
#   make setup TORCH="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128"
TORCH ?= torch==2.13.0
EXTRAS ?= dev,ja
STAMP := $(VENV)/.ktokit-installed

.PHONY: setup test lint demo clean-venv

setup: $(STAMP)

# Re-runs only when the dependency files change; otherwise `make setup` is a no-op.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet $(TORCH)
	@$(PY) -c "import torch; print('torch==' + torch.__version__.split('+')[0])" 2>/dev/null > $(VENV)/torch-pin.txt
	$(PY) -m pip install --quiet -c constraints.txt -c $(VENV)/torch-pin.txt -e ".[$(EXTRAS)]"
	@touch $@

lint: setup
	$(VENV)/bin/ruff check .

test: setup
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q

demo: setup
	$(PY) -m ktokit demo

clean-venv:
	rm -rf $(VENV)
