# Two commands do everything: `make report` and `make test`.
# Both create .venv on first use and install the pinned dependencies (constraints.txt).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.dxanalysis-installed
DATA   ?= data/sample
PYTEST_ARGS ?=

.PHONY: report test setup sample clean lab

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[test,dask]"
	touch $(STAMP)

report: $(STAMP)
	$(BIN)/dxanalysis run $(DATA)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

sample: $(STAMP)
	$(BIN)/dxanalysis sample data/sample

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

clean:
	rm -rf reports/*/ .pytest_cache
