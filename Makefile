# photosynth — one command each: `make test`, `make book` (both install first when needed).
SHELL := /bin/bash
VENV := $(CURDIR)/.venv
PY := $(VENV)/bin/python
PROFILE ?= demo
STAMP := $(VENV)/.installed
# Every package's exact version and hashes (pip-compile from pyproject.toml); `make lock` refreshes it on purpose.
LOCK := requirements.lock
PIP_VERSION := 26.3
PIP_TOOLS := pip-tools==7.7.0
LOCKENV := $(CURDIR)/build/lockenv
LOCKTOOLS := $(LOCKENV)/.$(subst ==,-,$(PIP_TOOLS))-pip-$(PIP_VERSION)
# `make lock UPGRADE=all` takes the newest release of everything; `make lock UPGRADE="ultralytics numpy"` of those.
UPGRADE ?=
MATHJAX := book/_static/mathjax/tex-mml-chtml.js
CHROMIUM := /usr/bin/chromium

.PHONY: install lock test test-all test-slurm book lab clean browser mathjax pin

install: $(STAMP) mathjax

mathjax: $(MATHJAX)

# The lock first (exact versions, hashes checked), then the project itself without resolving anything more; a lock
# compiled from another pyproject.toml dependency set stops here (run `make lock`).
$(STAMP): pyproject.toml $(LOCK)
	python3 -m photosynth.lockfile verify
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q pip==$(PIP_VERSION)
	$(PY) -m pip install -q --require-hashes -r $(LOCK)
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	$(PY) -m ipykernel install --sys-prefix --name photosynth --display-name "Python (photosynth)"
	touch $(STAMP)

# Re-resolve pyproject.toml (every extra; `all` only names the others) into the lock. Pins still allowed are kept:
# only what a pyproject change needs moves, unless UPGRADE says otherwise. pip-compile runs in its own small venv,
# so .venv stays as locked. Hashes cover every file of a pinned release on PyPI and on the local indexes (torch).
$(LOCKTOOLS):
	rm -rf $(LOCKENV) && python3 -m venv $(LOCKENV)
	$(LOCKENV)/bin/pip install -q pip==$(PIP_VERSION) $(PIP_TOOLS)
	touch $@

lock: $(LOCKTOOLS)
	CUSTOM_COMPILE_COMMAND="make lock" $(LOCKENV)/bin/pip-compile -q pyproject.toml \
	  $(addprefix --extra ,$(shell python3 -m photosynth.lockfile extras)) \
	  --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links \
	  $(if $(filter all,$(UPGRADE)),--upgrade,$(addprefix --upgrade-package ,$(UPGRADE))) -o $(LOCK)
	python3 -m photosynth.lockfile stamp
	# pip-compile leaves photosynth.egg-info here: from the project root it would shadow the installed metadata
	# (its entry points: the registered translators) for every `python` started in this folder
	rm -rf photosynth.egg-info

# MathJax 3 served from the book itself, so formulas render offline (ENVIRONMENT.md P16).
$(MATHJAX):
	rm -rf build/mathjax && mkdir -p build/mathjax book/_static/mathjax/output/chtml/fonts
	cd build/mathjax && npm pack mathjax@3 --silent >/dev/null && tar xzf mathjax-*.tgz
	cp -r build/mathjax/package/es5/output/chtml/fonts/woff-v2 book/_static/mathjax/output/chtml/fonts/
	cp build/mathjax/package/es5/tex-mml-chtml.js $(MATHJAX)
	rm -rf build/mathjax

# Headless Chromium for the book check (Debian's package).
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is missing: sudo apt-get install chromium" >&2; exit 1; fi; }

test: install browser
	$(PY) -m pytest -q

test-all: install browser
	$(PY) -m pytest -q -m ""

# Pin the smoke chain's numbers (tests/pinned/smoke/) after a deliberate change: runs the smoke notebooks on a copy
# of the report sources in build/pin, then copies its results' pinned CSVs; review them with `git diff tests/pinned`.
pin: install
	rm -rf build/pin && mkdir -p build/pin && cp -r _config.yml _toc.yml book notebooks profiles build/pin/
	rm -rf build/pin/book/executed
	$(VENV)/bin/photosynth book --profile smoke --no-build --root build/pin --runs build/pin/runs
	$(PY) tests/pinned.py build/pin/runs/smoke/results

# The Slurm executor against a real one-node Slurm on localhost (root; installs Debian's slurm-wlm + munge if missing).
test-slurm: install
	@command -v slurmctld >/dev/null && command -v munged >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    -o DPkg::Lock::Timeout=600 slurm-wlm munge >/dev/null; \
	  else echo "slurm-wlm and munge are missing: sudo apt-get install slurm-wlm munge" >&2; exit 1; fi; }
	PHOTOSYNTH_REQUIRE_SLURM=1 $(PY) -m pytest -q -m slurm -rs

book: install
	$(VENV)/bin/photosynth book --profile $(PROFILE) $$(command -v chromium >/dev/null && echo --pdf)
	@echo "open $(CURDIR)/_build/html/index.html"

# lab/labconfig/page_config.json disables JupyterLab's announcements plugin (the "Jupyter news" prompt and its
# update check); JUPYTER_CONFIG_PATH adds that folder to Jupyter's config search path.
lab: install
	JUPYTER_CONFIG_PATH=$(CURDIR)/lab$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH} \
	  $(VENV)/bin/jupyter lab --notebook-dir=$(CURDIR) --no-browser \
	  --LabApp.extension_manager=readonly --LabApp.news_url=None $$( [ "$$(id -u)" = 0 ] && echo --allow-root )

clean:
	rm -rf _build book/executed build .pytest_cache
	@echo "workspaces under runs/ are kept; remove them with: rm -rf runs"
