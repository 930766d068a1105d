"""Every notebook: one parameters cell of typed literals with help, the standard first two
parameters, a title, and thin code (logic lives in the package). Execution itself is checked
by nbval over notebooks/ (see pyproject.toml addopts)."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import papermill as pm
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_cell_is_literals_with_help(path):
    params = pm.inspect_notebook(str(path))
    names = list(params)
    nb = nbformat.read(str(path), as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", []))
    lines = [l for l in cell.source.splitlines() if l.strip() and not l.lstrip().startswith("#")]
    assert len(names) == len(lines), f"papermill could not parse every parameter line of {path.name}"
    assert names[:1] in (["data_dir"], ["data_dirs"]), names
    assert "report_dir" in names
    for name, p in params.items():
        assert p["help"].strip(), f"{path.name}: parameter {name} needs a trailing # comment"
        ast.literal_eval(p["default"])  # literals only: derived values would go stale under papermill


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_thin_and_titled(path):
    nb = nbformat.read(str(path), as_version=4)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# "), "first cell: # title"
    tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        defs = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
        assert not defs, f"{path.name}: define functions in dxanalysis/, not in the notebook"
        assert len(cell.source.splitlines()) <= 25, f"{path.name}: a code cell over 25 lines belongs in the package"
