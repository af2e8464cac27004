# The CNN Book. `make book` builds the HTML book; `make test` runs every test.
# Both create .venv on first use and install what they need (pinned by constraints.txt).

SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NOTEBOOKS := $(wildcard chapters/*.ipynb solutions/*.ipynb)

.PHONY: help install book book-assets test exercises execute grade lab lock clean

help:
	@echo "make book       build the HTML book into _build/html (warnings are errors; readable offline)"
	@echo "make book-assets fetch the pinned MathJax into .book-assets/ (once; make book does it)"
	@echo "make test       run the unit and notebook tests (quick mode, offline)"
	@echo "make exercises  regenerate exercises/ from solutions/ and refresh set-up cells"
	@echo "make execute    re-run chapters and solutions in full mode, saving their outputs"
	@echo "make grade      grade submissions: make grade SOURCE=solutions/02_x.ipynb SUBMISSIONS='dir/*.ipynb'"
	@echo "make lab        open the notebooks in JupyterLab"

install: $(STAMP)

# The Pythons the pinned stack installs on: torch 2.14.1 and torchvision 0.29.1 have wheels for
# CPython 3.10 to 3.14 (none for 3.15), and the whole of constraints.txt resolves to wheels on 3.11.5
# to 3.14 (nbgrader 0.9.6 needs 3.11, soupsieve 4.1.2 3.11.5). Checked on 2026-11-30 with
# `uv pip compile constraints.txt --only-binary :all: --python-version 3.X`, no download.
PY_OLDEST := 3, 11, 5
PY_NEWEST := 3, 14

$(STAMP): requirements.txt constraints.txt pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info; sys.exit(0 if ($(PY_OLDEST)) <= v[:3] and v[:2] <= ($(PY_NEWEST)) else "The CNN Book needs Python 3.11 (3.11.5 or later) to 3.14, the Pythons its pinned PyTorch 2.14 stack has wheels for, but $(PYTHON) is %d.%d.%d. Run make with PYTHON=python3.13 (or another supported version)." % v[:3])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@# --no-compile, then compileall on both cores: pip byte-compiles one file at a time (the install
	@# took 4 min 27 s instead of 2 min 40 s on the book's 2-core machine, 2026-12-01), compileall
	@# -j 0 the same files in about 30 s. The compiled files are needed: where PYTHONDONTWRITEBYTECODE
	@# is set (it was on the machine of 2026-12-02, and the grader's sandboxes set it) no process
	@# writes them, and each one that imports PyTorch compiles it again: 14 s of CPU instead of 5 s
	@# per kernel there, in a test run that starts over a hundred of them. -qq and `|| true`: a file
	@# written for a newer Python than the venv's fails to compile and is left as it is (on 3.11, torch's
	@# testing/_internal/py312_intrinsics.py, which nothing of ours imports); the rest is compiled,
	@# but for the libraries' own test suites (-x: folders named test or tests, 2,287 of 13,766 files;
	@# nothing imports them): 17.0 s instead of 20.0 s on 2 cores, 2026-12-08.
	$(BIN)/python -m pip install --quiet --no-compile --disable-pip-version-check -r requirements.txt -c constraints.txt \
	  2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }
	$(BIN)/python -m compileall -qq -j 0 -x '/tests?/' "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" || true
	@touch $(STAMP)

book: $(STAMP) book-assets
	rm -rf _build/html
	$(BIN)/jupyter-book build . --builder html -W -n --keep-going
	@echo "Open _build/html/index.html in a browser."

# The book serves MathJax itself (no CDN), so that formulas render offline and from file://.
# Fetched once from the npm registry into the ignored folder .book-assets/ (pinned version and
# checksum); _config.yml copies .book-assets/static/ into the book's _static/ on every build.
MATHJAX_VERSION := 3.2.2
MATHJAX_SHA256  := 1b9c0a1c44df864e915690558e72adb9cc5203360daefd385084ced3b6c64c09
MATHJAX_TGZ     := .book-assets/mathjax-$(MATHJAX_VERSION).tgz
MATHJAX_DIR     := .book-assets/static/mathjax
MATHJAX_STAMP   := $(MATHJAX_DIR)/.installed-$(MATHJAX_VERSION)

book-assets: $(MATHJAX_STAMP)

$(MATHJAX_STAMP):
	@mkdir -p .book-assets
	@if [ ! -f $(MATHJAX_TGZ) ]; then \
	  echo "Fetching MathJax $(MATHJAX_VERSION) from the npm registry into .book-assets/ (once)"; \
	  if command -v npm >/dev/null; then \
	    npm pack --silent --pack-destination .book-assets mathjax@$(MATHJAX_VERSION) >/dev/null; \
	  else \
	    $(PYTHON) -c 'import sys, urllib.request; urllib.request.urlretrieve(sys.argv[1], sys.argv[2])' \
	      https://registry.npmjs.org/mathjax/-/mathjax-$(MATHJAX_VERSION).tgz $(MATHJAX_TGZ); \
	  fi; \
	fi
	@echo "$(MATHJAX_SHA256)  $(MATHJAX_TGZ)" | sha256sum --check --quiet \
	  || { rm -f $(MATHJAX_TGZ); echo "MathJax download is corrupt; run make book again"; exit 1; }
	rm -rf .book-assets/package $(MATHJAX_DIR) && mkdir -p $(MATHJAX_DIR)
	tar -xzf $(MATHJAX_TGZ) -C .book-assets package/LICENSE package/es5
	@# tex-mml-chtml.js, plus what it loads at run time: TeX extensions (autoload), the CHTML
	@# fonts, and the accessibility components the right-click menu can switch on.
	cd .book-assets/package && cp -r LICENSE es5/tex-mml-chtml.js es5/input es5/output es5/a11y es5/sre es5/ui ../static/mathjax/
	rm -rf .book-assets/package $(MATHJAX_DIR)/output/svg $(MATHJAX_DIR)/output/svg.js
	@touch $@

# Tests run on TEST_WORKERS pytest-xdist workers, one per core of the book's machine (four were
# slower there from a fresh clone, and made a grader-killing test flaky; benchmarks/README.md).
# --dist loadfile keeps each file on one worker: a notebook's cells share one kernel, and a file's
# shared fixtures (the built book, a graded batch) are made once; --no-loadscope-reorder hands the
# files out in conftest.py's order, longest first. TEST_WORKERS=0: one process.
TEST_WORKERS ?= 2
test: $(STAMP)
	$(BIN)/python -m pytest --durations=15 $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder)

exercises: $(STAMP)
	$(BIN)/python -m booktools.book sync $(NOTEBOOKS)
	$(BIN)/python -m booktools.grading generate solutions exercises
	$(BIN)/python -m booktools.modules

execute: $(STAMP)
	$(BIN)/python -m booktools.book execute $(or $(NB),$(NOTEBOOKS))

OUT  ?= gradebook.csv
JOBS ?= 2
grade: $(STAMP)
	@test -n "$(SOURCE)" -a -n "$(SUBMISSIONS)" || { echo "usage: make grade SOURCE=solutions/NN_topic.ipynb SUBMISSIONS='folder/*.ipynb' [OUT=gradebook.csv] [JOBS=2]"; exit 2; }
	$(BIN)/python -m booktools.grading grade --source $(SOURCE) --out $(OUT) --jobs $(JOBS) $(SUBMISSIONS)

lab: $(STAMP)
	$(BIN)/jupyter lab

# Refresh constraints.txt from the current .venv (CUDA runtime wheels are left to torch).
lock: $(STAMP)
	@printf '%s\n' '# Exact versions of a known-good set-up (Python 3.11, made by `make lock`). `make` installs' \
	  '# requirements.txt with these as pip constraints; on other Pythons the ranges in requirements.txt' \
	  '# and pyproject.toml apply. CUDA runtime wheels are left for torch to choose.' > constraints.tmp
	$(BIN)/python -m pip freeze --exclude-editable --exclude cnn-book \
	  | grep -v -E '^(nvidia-|triton|cuda-)' \
	  | sed 's/$$/ ; python_version >= "3.11"/' >> constraints.tmp
	mv constraints.tmp constraints.txt

clean:
	rm -rf _build .pytest_cache
