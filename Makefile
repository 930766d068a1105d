# Two commands do everything: `make report` and `make test`.
# Both create .venv on first use and install the pinned dependencies (constraints.txt).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.dxanalysis-installed
DATA   ?= data/sample
PYTEST_ARGS ?=

.PHONY: report test test-fast lint setup sample clean lab

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[test,dask]"
	touch $(STAMP)

report: $(STAMP)
	$(BIN)/dxanalysis run $(DATA)

# The full suite (what CI runs): lint, unit and reference tests, notebooks under nbval,
# end-to-end runs, fault injection and the browser checks. Two pytest-xdist workers, one test
# file each at a time (nbval needs a notebook's cells on one kernel): 8 min 52 s on this
# 2-core machine, 11 min serially.
test: $(STAMP) lint
	$(BIN)/python -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

# The fast loop while editing: unit and reference tests only (everything marked slow is left
# out: notebook executions, CLI and batch runs, kernels, browser checks; they stay in `make test`).
# Serial. 477 tests; 1 min 37 s of CPU (user) for the whole loop, so an estimated 1 min 40 s on an idle
# core; 6 min 50 s wall when measured on this 2-core machine at load 15-25 (issue #18; before:
# 491 tests, 3 min 7 s CPU). Most of what is left is reference tests on data/sample: segment
# fits (test_segments, test_sample, test_cache), the offline explorer, the free-text section.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" tests $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check dxanalysis tests benchmarks

sample: $(STAMP)
	$(BIN)/dxanalysis sample data/sample

# JupyterLab in Japanese, no news pop-up, widget state saved with the notebook, opening 01.
# The settings (dxanalysis/resources/jupyter/labconfig/) are added to Jupyter's config path
# for this command only; a user's own settings still win.
LAB_CONFIG := $(CURDIR)/dxanalysis/resources/jupyter
lab: $(STAMP)
	JUPYTER_CONFIG_PATH=$(LAB_CONFIG) $(BIN)/jupyter lab --notebook-dir=notebooks 01_current_state.ipynb

clean:
	rm -rf reports/*/ .pytest_cache
