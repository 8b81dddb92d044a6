# lrlab: `make book` builds the book, `make test` runs every check. Both set up everything they need on a fresh
# machine: the virtual environment from pinned requirements, Debian's Fashion-MNIST and Chromium, MathJax from npm.

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

.PHONY: all venv data chromium vendor book test lint unit notebooks build-check pages bench bench-kernels clean help

help:
	@echo "make book   build the book into _build/html (sets everything up first)"
	@echo "make test   lint, unit tests, every chapter under nbval, the book build, pages in Chromium"
	@echo "make bench  the benchmarks (benchmarks/; results in benchmarks/results, shown in the book)"

venv: $(VENV)/.installed
$(VENV)/.installed: requirements.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; the book needs Python 3.11"; exit 1; }
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt 2>&1 | grep -v "^WARNING: Location" || true
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e . 2>&1 | grep -v "^WARNING: Location" || true
	$(BIN)/python -c "import torch, lrlab, papermill, nbval, jupyter_book"
	touch $@

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
	$(BIN)/ruff check lib tests benchmarks

unit: venv data
	$(BIN)/pytest -q -n $(JOBS) -m "not browser" tests

notebooks: venv data
	$(BIN)/pytest -q -n $(JOBS) --dist loadfile --nbval-lax --nbval-current-env chapters

build-check: book

pages: venv chromium build-check
	$(BIN)/pytest -q -m browser tests

test: lint unit notebooks pages
	@echo "make test: all checks passed"

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
