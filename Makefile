# lrlab: `make book` builds the book, `make test` runs every check. Both set up everything they need on a fresh
# machine: the virtual environment from the hash-locked requirements, Debian's Fashion-MNIST and Chromium, MathJax from
# npm. `make lock` regenerates the lock files (requirements.txt, requirements-dev.txt) from requirements*.in.

SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
FASHION := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
# one thread per process: processes run side by side (parallel tests, kernels, sweep workers)
export OMP_NUM_THREADS := 1
export MKL_NUM_THREADS := 1
export LRLAB_PROGRESS := 0
export PYDEVD_DISABLE_FILE_VALIDATION := 1
JOBS ?= 2
# The locks pin torch's CPU build (torch==2.13.0+cpu), which PyPI does not serve: it comes from a folder that holds
# its wheel, pip's own find-links setting where there is one (as on the machines CI runs on), or else the PyTorch
# CPU index. Override with `make TORCH_WHEELS=DIR` or `make TORCH_WHEELS= TORCH_INDEX=URL`.
ifeq ($(origin TORCH_WHEELS),undefined)
TORCH_WHEELS := $(or $(PIP_FIND_LINKS),$(shell $(PYTHON) -m pip config get global.find-links 2>/dev/null))
endif
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
TORCH_FROM := $(if $(strip $(TORCH_WHEELS)),$(foreach d,$(TORCH_WHEELS),--find-links $(d)),\
              --extra-index-url $(TORCH_INDEX) --index-strategy unsafe-best-match)
UV := $(BIN)/uv
# nbval runs copies of the chapters at scale quick, in a stand-in book root, so their results stay out of _build/results
NBVAL := _build/nbval

.PHONY: all venv lock data chromium vendor book test lint unit notebooks build-check pages audit bench bench-kernels clean help

help:
	@echo "make book   build the book into _build/html (sets everything up first)"
	@echo "make test   lint, unit tests, every chapter under nbval, the book build, pages in Chromium"
	@echo "make bench  the benchmarks (benchmarks/; results in benchmarks/results, shown in the book)"
	@echo "make lock   regenerate requirements.txt and requirements-dev.txt (with hashes) from requirements*.in"

# The environment is exactly the development lock (uv pip sync, every wheel checked against its hash), plus lrlab
# itself, editable. uv comes first, at its locked version, through pip with --require-hashes. A failed install stops.
# The packages are compiled to bytecode at install time, as pip does: where PYTHONDONTWRITEBYTECODE is set (as on the
# machines CI runs on) nothing else would write it, and every kernel and test process would compile torch's Python
# sources again on import (1.6x slower unit tests).
venv: $(VENV)/.installed
$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; the book needs Python 3.11"; exit 1; }
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	awk '/^uv==/ {f = 1} f {print} f && !/\\$$/ {exit}' requirements-dev.txt > $(VENV)/uv-lock.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes -r $(VENV)/uv-lock.txt \
	  2>&1 | { grep -v "^WARNING: Location" || true; }
	$(UV) pip sync --quiet --compile-bytecode --python $(BIN)/python --require-hashes $(TORCH_FROM) requirements-dev.txt
	$(UV) pip install --quiet --python $(BIN)/python --no-deps --no-build-isolation -e .
	$(BIN)/python -c "import torch, lrlab, papermill, nbval, jupyter_book"
	touch $@

# The locks, from the .in files: versions already locked are kept unless an .in file asks otherwise (add --upgrade
# to move them), and environment.yml mirrors the development lock for conda users.
LOCK := $(UV) pip compile --quiet --generate-hashes --python-version 3.11 --custom-compile-command "make lock" $(TORCH_FROM)
lock: venv
	$(LOCK) requirements.in -o requirements.txt
	$(LOCK) requirements-dev.in -o requirements-dev.txt
	{ echo "# Conda environment for readers who use conda: the development lock (requirements-dev.txt) without its"; \
	  echo "# hashes, written by 'make lock'; tests/test_repo.py keeps the two in step. Only the pip path is tested."; \
	  echo "name: lrlab"; echo "channels: [conda-forge]"; echo "dependencies:"; \
	  echo "  - python=3.11"; echo "  - pip"; echo "  - nodejs"; echo "  - pip:"; \
	  echo "      - --extra-index-url $(TORCH_INDEX)"; \
	  grep -oE '^[A-Za-z0-9_.-]+==[^ ]+' requirements-dev.txt | sed 's/^/      - /'; \
	  echo "      - -e ."; } > environment.yml

data: $(FASHION)
$(FASHION):
	$(SUDO) apt-get update -qq
	$(SUDO) apt-get install -y -qq dataset-fashion-mnist

chromium:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }

vendor: _build/vendor/mathjax/tex-chtml.js _build/vendor/lrlab.css
node_modules/mathjax/es5/tex-chtml.js: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@
_build/vendor/mathjax/tex-chtml.js: node_modules/mathjax/es5/tex-chtml.js
	mkdir -p _build/vendor/mathjax
	cp -r node_modules/mathjax/es5/tex-chtml.js node_modules/mathjax/es5/output node_modules/mathjax/es5/input \
	      node_modules/mathjax/es5/a11y node_modules/mathjax/es5/ui node_modules/mathjax/es5/adaptors \
	      node_modules/mathjax/es5/sre _build/vendor/mathjax/
_build/vendor/lrlab.css: book/assets/lrlab.css
	mkdir -p _build/vendor && cp $< $@

book: venv data vendor
	$(BIN)/python -m lrlab.book
	$(BIN)/jupyter-book build -W -n --keep-going .
	@echo "The book is in _build/html/index.html"

lint: venv
	$(BIN)/ruff check lib tests benchmarks chapters book

unit: venv data
	$(BIN)/pytest -q -n $(JOBS) --durations=10 -m "not browser" tests

# Every chapter once under nbval at scale quick (the scale teachers run; the book build executes scale book): copies
# with `scale = "quick"` injected by papermill, in a stand-in book root so their results land in $(NBVAL)/_build/results.
notebooks: venv data
	rm -rf $(NBVAL) && mkdir -p $(NBVAL)/chapters
	echo "# a stand-in book root for the chapters nbval runs at scale quick (make notebooks)" > $(NBVAL)/_config.yml
	$(BIN)/python -c 'import logging, sys, papermill as pm; logging.disable(logging.WARNING); \
	  [pm.execute_notebook(nb, sys.argv[1] + "/" + nb, parameters={"scale": "quick"}, prepare_only=True, \
	  log_output=False, progress_bar=False) for nb in sys.argv[2:]]' $(NBVAL) chapters/*.ipynb
	$(BIN)/pytest -q -n $(JOBS) --dist loadfile --nbval-lax --nbval-current-env $(NBVAL)/chapters/*.ipynb

build-check: book

pages: venv chromium build-check
	$(BIN)/pytest -q -n $(JOBS) -m browser tests

test: lint unit notebooks pages
	@echo "make test: all checks passed"

# The audit (lrlab audit): every chapter at scale book on five held-out seed sets and under each of its mutants, plus
# 20 random parameter sets at scale quick; writes audit/results/<chapter>.json, which book/trust.ipynb renders.
# Runs share the sweep cache (runs/cache), so an interrupted `make audit` resumes where it stopped.
CHAPTERS := fluctuations sphere_regimes eos_ntk boosting_paths periodic_bn_wd
audit: venv data
	status=0; for ch in $(CHAPTERS); do $(BIN)/lrlab audit $$ch --draws 20 --workers $(JOBS) || status=1; done; \
	exit $$status

# The benchmark suite (benchmarks/README.md): each script writes benchmarks/results/<name>.json, which the book's
# performance page renders. Run it on an otherwise idle machine. `bench-kernels` is the fast part (about 11 min:
# each kernel benchmark three times, the median run kept per comparison); `bench` adds the chapters' wall times,
# their profiles and `make test` from a fresh clone (about 45 min; every chapter runs three times).
bench-kernels: venv data
	$(BIN)/python benchmarks/repeat.py --runs 3 bench_training bench_sharpness bench_ntk bench_boosting

bench: bench-kernels
	$(BIN)/python benchmarks/bench_chapters.py
	$(BIN)/python benchmarks/profile_chapters.py
	$(BIN)/python benchmarks/bench_make_test.py

clean:
	rm -rf _build runs lrlab-results
