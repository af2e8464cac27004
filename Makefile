# The CNN Book. `make book` builds the HTML book; `make test` runs every test.
# Both create .venv on first use and install what they need (pinned by constraints.txt).

SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NOTEBOOKS := $(wildcard chapters/*.ipynb solutions/*.ipynb)

.PHONY: help install book test exercises execute grade lab lock clean

help:
	@echo "make book       build the HTML book into _build/html (warnings are errors)"
	@echo "make test       run the unit and notebook tests (quick mode, offline)"
	@echo "make exercises  regenerate exercises/ from solutions/ and refresh set-up cells"
	@echo "make execute    re-run chapters and solutions in full mode, saving their outputs"
	@echo "make grade      grade submissions: make grade SOURCE=solutions/02_x.ipynb SUBMISSIONS='dir/*.ipynb'"
	@echo "make lab        open the notebooks in JupyterLab"

install: $(STAMP)

$(STAMP): requirements.txt constraints.txt pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; sys.exit(0 if (3, 10) <= v <= (3, 12) else "The CNN Book needs Python 3.10 to 3.12, but $(PYTHON) is %d.%d. Run make with PYTHON=python3.11 (or another supported version)." % v)'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt \
	  2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }
	@touch $(STAMP)

book: $(STAMP)
	rm -rf _build/html
	$(BIN)/jupyter-book build . --builder html -W -n --keep-going
	@echo "Open _build/html/index.html in a browser."

test: $(STAMP)
	$(BIN)/python -m pytest

exercises: $(STAMP)
	$(BIN)/python -m helpers.book sync $(NOTEBOOKS)
	$(BIN)/python -m helpers.grading generate solutions exercises

execute: $(STAMP)
	$(BIN)/python -m helpers.book execute $(or $(NB),$(NOTEBOOKS))

OUT  ?= gradebook.csv
JOBS ?= 2
grade: $(STAMP)
	@test -n "$(SOURCE)" -a -n "$(SUBMISSIONS)" || { echo "usage: make grade SOURCE=solutions/NN_topic.ipynb SUBMISSIONS='folder/*.ipynb' [OUT=gradebook.csv] [JOBS=2]"; exit 2; }
	$(BIN)/python -m helpers.grading grade --source $(SOURCE) --out $(OUT) --jobs $(JOBS) $(SUBMISSIONS)

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
