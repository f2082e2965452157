# ktokit: the two commands of the README are `make demo` (the kit's main job, local target)
# and `make test` (ruff + pytest). Both install what they need first (`make setup`).
# `make demo VERBOSE=1` shows the libraries' own warnings, logs and progress bars too (KTOKIT_VERBOSE).
# `make docs` retakes the screenshots in docs/ with the browser tests that check those pages.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# CPU torch by default (the wheel pip finds on disk here). Bring your own, e.g. for CUDA:
#   make setup TORCH="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128"
TORCH ?= torch==2.13.0
EXTRAS ?= dev,ja,ray
STAMP := $(VENV)/.ktokit-installed
# Debian packages only the tests need: a browser for the annotation-UI test (driven by Playwright,
# never `playwright install`, which downloads a browser) and fonts so its screenshots show CJK and emoji.
TEST_DEB_PACKAGES := chromium fonts-ipafont-gothic fonts-noto-color-emoji
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup test-deps test lint demo docs clean-venv

setup: $(STAMP)

# Re-runs only when the dependency files change; otherwise `make setup` is a no-op.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet $(TORCH)
	@$(PY) -c "import torch; print('torch==' + torch.__version__.split('+')[0])" 2>/dev/null > $(VENV)/torch-pin.txt
	$(PY) -m pip install --quiet -c constraints.txt -c $(VENV)/torch-pin.txt -e ".[$(EXTRAS)]"
	@touch $@

lint: setup
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

test-deps:
	@missing=""; for p in $(TEST_DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; fi

test: lint test-deps
	$(PY) -m pytest -q

demo: setup
	$(if $(VERBOSE),KTOKIT_VERBOSE=1 )$(PY) -m ktokit demo

docs: setup test-deps
	$(PY) docs/screenshots.py

clean-venv:
	rm -rf $(VENV)
