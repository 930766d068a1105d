"""In a Jupyter kernel an input error is a short Japanese box, never a traceback (issue 14)."""

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.slow  # end to end (each test starts a kernel and runs a notebook cell): make test, not make test-fast


def _run_cell(source: str, tmp_path) -> list[dict]:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    NotebookClient(nb, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(tmp_path)}}).execute()
    return nb.cells[0].outputs


def test_missing_folder_is_one_short_box_naming_the_folder(tmp_path):
    outputs = _run_cell("from dxanalysis import io\nm = io.load_municipality('../no_such_town')", tmp_path)
    [err] = [o for o in outputs if o["output_type"] == "error"]
    shown = "\n".join(err["traceback"])
    assert err["ename"] == "InputError"  # the cell still fails, so papermill and Run All stop there
    assert "Traceback" not in shown and "File \"" not in shown and "\x1b[" not in shown
    assert len(err["traceback"]) <= 3
    assert str((tmp_path / "../no_such_town").resolve()) in shown  # names the folder it looked for
    assert "data_dir" in shown  # and the fix


def test_other_errors_keep_their_traceback(tmp_path):
    # A bug is not an input error: the developer needs the traceback.
    outputs = _run_cell("import dxanalysis\n1/0", tmp_path)
    [err] = [o for o in outputs if o["output_type"] == "error"]
    assert err["ename"] == "ZeroDivisionError" and len(err["traceback"]) > 1
