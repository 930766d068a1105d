"""Execute the notebooks for one municipality with papermill and render their reports.

``run_municipality`` validates the inputs first (a broken input stops before any kernel
starts), then executes each notebook on a kernel that runs *this* Python interpreter
(a kernelspec written on the fly and put first on ``JUPYTER_PATH``, so a user-level
``python3`` kernelspec pointing elsewhere cannot be picked up), renders the HTML in the
same process, and writes ``manifest.json`` and ``index.html``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from . import __version__
from .config import NOTEBOOKS, NOTEBOOKS_DIR, REPORTS_DIR, load_config

KERNEL_NAME = "dxanalysis-python"
_KERNEL_DIR: str | None = None


@dataclass
class NotebookResult:
    """Outcome of one notebook run (one row of the run summary)."""

    municipality: str
    notebook: str
    status: str  # ok | failed | skipped
    seconds: float = 0.0
    error: str = ""
    html: str = ""
    started: str = ""
    finished: str = ""


def ensure_kernel() -> str:
    """Register a kernelspec for ``sys.executable`` in a private dir on JUPYTER_PATH."""
    global _KERNEL_DIR
    if _KERNEL_DIR is None:
        _KERNEL_DIR = tempfile.mkdtemp(prefix="dxanalysis-kernels-")
        spec_dir = Path(_KERNEL_DIR) / "kernels" / KERNEL_NAME
        spec_dir.mkdir(parents=True)
        spec = {
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python (dxanalysis)",
            "language": "python",
            "env": {"MPLBACKEND": "module://matplotlib_inline.backend_inline", "PYDEVD_DISABLE_FILE_VALIDATION": "1"},
        }
        (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
        os.environ["JUPYTER_PATH"] = os.pathsep.join(p for p in [_KERNEL_DIR, os.environ.get("JUPYTER_PATH", "")] if p)
    return KERNEL_NAME


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def input_hashes(folder: Path) -> dict[str, str]:
    """SHA-256 of every input file in a municipality folder (``truth/`` excluded)."""
    return {
        str(p.relative_to(folder)): file_hash(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "truth" not in p.relative_to(folder).parts and not p.name.startswith(".")
    }


def notebook_paths(names: list[str] | None = None, notebooks_dir: Path = NOTEBOOKS_DIR) -> list[Path]:
    """The analysis notebooks that exist, in programme order."""
    names = names or NOTEBOOKS
    return [notebooks_dir / f"{n}.ipynb" for n in names if (notebooks_dir / f"{n}.ipynb").exists()]


def notebook_title(nb) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return "dxanalysis"


def execute_notebook(nb_path: Path, out_path: Path, parameters: dict, *, cwd: Path) -> None:
    """Run one notebook with papermill on this interpreter's kernel."""
    import papermill as pm

    pm.execute_notebook(
        str(nb_path),
        str(out_path),
        parameters=parameters,
        kernel_name=ensure_kernel(),
        cwd=str(cwd),
        progress_bar=False,
        log_output=False,
        request_save_on_cell_execute=False,
    )


def first_error_line(exc: BaseException) -> str:
    """The user-facing first line of a notebook failure (papermill wraps the original)."""
    ename = getattr(exc, "ename", type(exc).__name__)
    evalue = getattr(exc, "evalue", str(exc))
    line = (str(evalue).strip().splitlines() or [""])[0]
    return f"{ename}: {line}"[:300]


def run_notebook(folder: Path, nb_path: Path, report_dir: Path, *, municipality_id: str, language: str, footer: str = "", extra_parameters: dict | None = None) -> NotebookResult:
    """Execute one notebook and render its HTML; failures are captured, not raised."""
    import nbformat

    from .report import render_html

    name = nb_path.stem
    out_ipynb = report_dir / f"{name}.ipynb"
    started = dt.datetime.now().astimezone()
    t0 = time.perf_counter()
    params = {"data_dir": str(folder.resolve()), "report_dir": str(report_dir.resolve())}
    params.update(extra_parameters or {})
    status, error = "ok", ""
    try:
        execute_notebook(nb_path, out_ipynb, params, cwd=report_dir)
    except Exception as exc:  # noqa: BLE001 - one failing notebook must not stop the batch
        status, error = "failed", first_error_line(exc)
    html_path = report_dir / f"{name}.html"
    if out_ipynb.exists():
        nb = nbformat.read(str(out_ipynb), as_version=4)
        html_path.write_text(render_html(nb, title=notebook_title(nb), language=language, footer=footer), encoding="utf-8")
    seconds = time.perf_counter() - t0
    return NotebookResult(municipality_id, name, status, round(seconds, 2), error, html_path.name if html_path.exists() else "", started.isoformat(timespec="seconds"), dt.datetime.now().astimezone().isoformat(timespec="seconds"))


def package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version(), "dxanalysis": __version__}
    for pkg in ("pandas", "numpy", "scipy", "statsmodels", "scikit-learn", "matplotlib", "seaborn", "papermill", "nbconvert"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


def run_municipality(folder: Path | str, *, reports_root: Path | str = REPORTS_DIR, notebooks: list[str] | None = None, notebooks_dir: Path = NOTEBOOKS_DIR) -> list[NotebookResult]:
    """Validate one municipality's inputs, run every notebook, write the report folder.

    Raises :class:`~dxanalysis.validate.InputError` when the inputs break the data
    contract (before any notebook runs). Returns one :class:`NotebookResult` per notebook.
    """
    from .io import load_municipality
    from .report import footer_text, write_index

    folder = Path(folder)
    cfg = load_config(folder)
    m = load_municipality(folder)  # validate everything up front
    report_dir = Path(reports_root) / cfg.id
    report_dir.mkdir(parents=True, exist_ok=True)
    hashes = input_hashes(folder)
    manifest_hash = hashlib.sha256(json.dumps(hashes, sort_keys=True).encode()).hexdigest()
    footer = footer_text(municipality=cfg.name, data_date=cfg.data_date, n_respondents=len(m.survey), min_group_size=cfg.min_group_size, manifest_hash=manifest_hash, language=cfg.language)
    results = []
    for nb_path in notebook_paths(notebooks, notebooks_dir):
        results.append(run_notebook(folder, nb_path, report_dir, municipality_id=cfg.id, language=cfg.language, footer=footer))
    manifest = {
        "municipality": cfg.id,
        "name": cfg.name,
        "package_version": __version__,
        "versions": package_versions(),
        "inputs": hashes,
        "inputs_hash": manifest_hash,
        "parameters": {"data_dir": str(folder.resolve()), "min_group_size": cfg.min_group_size, "language": cfg.language},
        "notebooks": [asdict(r) for r in results],
    }
    (report_dir / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    write_index(report_dir, cfg=cfg, results=results, footer=footer)
    return results
