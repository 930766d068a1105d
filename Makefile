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

# JupyterLab in Japanese, no news pop-up, widget state saved with the notebook, opening 01.
# The settings (dxanalysis/resources/jupyter/labconfig/) are added to Jupyter's config path
# for this command only; a user's own settings still win.
LAB_CONFIG := $(CURDIR)/dxanalysis/resources/jupyter
lab: $(STAMP)
	JUPYTER_CONFIG_PATH=$(LAB_CONFIG) $(BIN)/jupyter lab --notebook-dir=notebooks 01_current_state.ipynb

clean:
	rm -rf reports/*/ .pytest_cache
