"""Execute the notebooks of one or many municipalities and render their reports.

One **task** is one notebook of one municipality: papermill executes it on a kernel that
runs *this* Python interpreter (a kernelspec written on the fly and put first on
``JUPYTER_PATH``, so a user-level ``python3`` kernelspec pointing elsewhere cannot be
picked up), and the same process renders its HTML (no second command start). Notebooks
are independent, so every (municipality, notebook) task can run in parallel:

* ``workers=1``: in this process, one after the other;
* ``workers=N``: a pool of N worker processes (``spawn``, so it also works on Windows);
* ``scheduler="tcp://host:8786"``: an existing Dask distributed cluster
  (``pip install dxanalysis[dask]``; the package, the notebooks and the data folders
  must be reachable at the same paths on every worker).

Before any notebook of a municipality runs, its inputs are validated (a broken input
stops that municipality, not the batch). A notebook is skipped when the hash of its
inputs, parameters, notebook file and package is the one recorded in ``manifest.json``
for its last successful run and its HTML still exists (``force=True`` re-runs
everything). ``manifest.json`` and ``index.html`` are written once per municipality,
after all its notebooks finished. When two or more municipalities that share an
instrument (the same item ids) were run, notebook ``05_comparison`` compares them in
``reports/_comparison/``. See docs/batch.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import heapq
import html
import itertools
import json
import os
import platform
import re
import signal
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import __version__, fsutil
from .config import NOTEBOOKS, NOTEBOOKS_DIR, PACKAGE_DIR, REPORTS_DIR, load_codebook, load_config, municipality_folders, package_hash  # noqa: F401 (municipality_folders, package_hash: moved to config, re-exported)
from .runlock import ReportLock, ReportsLocked
from .validate import InputError, Problem

KERNEL_NAME = "dxanalysis-python"
#: Set to "1" in the kernels the runner starts (papermill, no front end). Interactive
#: widgets are stripped from the HTML anyway; building them headless has also been where
#: ipykernel 7 kernels hung (see HUNG_KERNEL_IDLE), so widget code may skip on it.
HEADLESS_ENV = "DXANALYSIS_HEADLESS"
#: The cross-municipality notebook and its report folder (``reports/_comparison``).
COMPARISON_NOTEBOOK = "05_comparison"
COMPARISON_ID = "_comparison"
#: Notebook parameters that are paths: left out of the hash (content, not location, counts).
PATH_PARAMETERS = {"data_dir", "report_dir", "data_dirs"}
#: Source files whose content is part of the package hash.

#: Longest one cell may run (seconds) before the notebook counts as hung and is retried
#: once on a fresh kernel; 0 = no limit. The longest cell measured is ≈ 55 s (free-text
#: analysis of 100,000 respondents); ipykernel 7 occasionally leaves a kernel idle without
#: ever answering, and without a limit that would stop a worker for good.
DEFAULT_CELL_TIMEOUT = 900
_KERNEL_DIR: str | None = None
_KERNEL_LOCK = threading.Lock()


# ----------------------------------------------------------------------------- results
@dataclass
class NotebookResult:
    """Outcome of one notebook run (one row of the run summary).

    ``status`` is ``ok``, ``failed``, ``skipped`` (unchanged since the last successful
    run; the previous HTML is kept), ``interrupted`` (the run was stopped by a signal
    before this notebook finished; its previous result is untouched) or ``input_error``
    (the municipality's inputs broke the data contract; no notebook ran; ``notebook`` is
    ``"-"``). ``reason`` says why an unchanged notebook ran again (:data:`REASON_MISSING`,
    :data:`REASON_INTERRUPTED`); ``outputs`` maps every file the notebook published
    (path relative to the report folder) to its SHA-256, and ``stats`` to its
    ``[size, mtime_ns, inode]`` when published (:func:`output_stats`), so an unchanged
    re-run compares file stats and hashes only files whose stats differ.
    """

    municipality: str
    notebook: str
    status: str
    seconds: float = 0.0
    error: str = ""
    html: str = ""
    started: str = ""
    finished: str = ""
    hash: str = ""
    hashes: dict = field(default_factory=dict)
    attempts: int = 1
    reason: str = ""
    outputs: dict = field(default_factory=dict)
    stats: dict = field(default_factory=dict)


@dataclass
class NotebookTask:
    """Everything a worker needs to execute one notebook (picklable, absolute paths)."""

    municipality: str
    notebook: str  # path of the .ipynb
    report_dir: str
    parameters: dict
    language: str = "ja"
    footer: str = ""
    hash: str = ""
    hashes: dict = field(default_factory=dict)
    cell_timeout: int = DEFAULT_CELL_TIMEOUT
    work_dir: str = ""  # scratch folder the notebook writes into (moved into report_dir when done)
    reason: str = ""


@dataclass
class InputErrorRecord:
    """A municipality whose inputs broke the data contract."""

    folder: Path
    municipality: str
    error: InputError


@dataclass
class BatchResult:
    """What :func:`run_batch` did.

    ``results`` holds one row per notebook run or skipped (municipalities in the order
    given, notebooks in programme order), ``input_errors`` one record per municipality
    that could not run, ``comparison`` the ``05_comparison`` row (or None) and
    ``reports`` the ``index.html`` written per municipality id.
    """

    results: list[NotebookResult] = field(default_factory=list)
    input_errors: list[InputErrorRecord] = field(default_factory=list)
    comparison: NotebookResult | None = None
    comparison_note: str = ""
    reports: dict[str, Path] = field(default_factory=dict)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def rows(self) -> list[NotebookResult]:
        """Summary rows: notebooks, then one ``input_error`` row per broken municipality, then the comparison."""
        rows = list(self.results)
        for rec in self.input_errors:
            rows.append(NotebookResult(rec.municipality, "-", "input_error", error=input_error_line(rec.error)))
        if self.comparison is not None:
            rows.append(self.comparison)
        return rows

    @property
    def exit_code(self) -> int:
        """0 all done or skipped · 1 a notebook failed (anywhere) · 2 only input errors."""
        if any(r.status in {"failed", "interrupted"} for r in self.rows()):
            return 1
        return 2 if self.input_errors else 0


class RunInterrupted(KeyboardInterrupt):
    """The run was stopped by SIGINT or SIGTERM.

    Workers and kernels are stopped, finished notebooks are published and recorded,
    ``batch`` lists the rest as ``interrupted``; ``exit_code`` is 128 + the signal
    number (130 for SIGINT, 143 for SIGTERM).
    """

    def __init__(self, signum: int = signal.SIGINT, batch: BatchResult | None = None):
        super().__init__(signum)
        self.signum, self.batch = int(signum), batch

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class ReportWriteError(RuntimeError):
    """The report folder cannot be written (read-only, no permission, disk full).

    The file being published was rolled back, so the previous report is as it was;
    ``batch`` lists what was done before the error.
    """

    def __init__(self, message: str, batch: BatchResult | None = None):
        super().__init__(message)
        self.batch = batch


_CRITICAL = [0]
_PENDING_SIGNALS: list[int] = []


@contextmanager
def _critical():
    """A few file moves that must not be cut in half by SIGINT/SIGTERM (the signal is raised right after)."""
    _CRITICAL[0] += 1
    try:
        yield
    finally:
        _CRITICAL[0] -= 1
    if not _CRITICAL[0] and _PENDING_SIGNALS:
        raise RunInterrupted(_PENDING_SIGNALS.pop())


def _on_signal(signum, frame) -> None:
    if _CRITICAL[0]:
        _PENDING_SIGNALS.append(signum)
        return
    raise RunInterrupted(signum)


@contextmanager
def stop_on_signals():
    """While inside, SIGINT and SIGTERM raise :class:`RunInterrupted` in the main thread (restored after).

    Without it SIGTERM would end the main process at once and leave its workers and
    kernels running. Does nothing outside the main thread (signals can only be handled there).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _PENDING_SIGNALS.clear()
    old = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in old:
        signal.signal(sig, _on_signal)
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def _ignore_signals() -> None:
    """During the clean-up after a stop: a second Ctrl-C must not cut the clean-up short."""
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)


def input_error_line(err: InputError) -> str:
    """Count and first problem of an input error, on one line (for the summary table)."""
    errors = [p for p in err.problems if p.severity == "error"] or err.problems
    first = errors[0].format(err.language) if errors else ""
    head = f"入力データの問題 {len(errors)}件" if err.language != "en" else f"{len(errors)} input problem(s)"
    return f"{head}: {first}"[:300]


# ----------------------------------------------------------------------------- kernel
def _lighten_imports() -> None:
    """Skip a 2-second import that nothing here needs.

    ``jsonschema`` (imported by nbformat) imports ``rfc3987_syntax`` when installed, and
    that module compiles a Lark grammar at import time (~1.8 s on this machine) only to
    check the ``iri`` string format, which the notebook schema never uses. Marking it as
    absent makes jsonschema skip that one format checker.
    """
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


def ensure_kernel() -> str:
    """Register a kernelspec for ``sys.executable`` in a private dir on JUPYTER_PATH.

    The directory is named after the interpreter, so parallel workers share it and
    repeated runs do not leave a new temporary folder behind. Kernel history is off (many
    kernels writing one IPython history database at once report "database is locked")
    and the kernel's own start-up warnings are not printed into the batch's terminal.
    """
    global _KERNEL_DIR
    with _KERNEL_LOCK:
        if _KERNEL_DIR is None:
            tag = hashlib.sha256(sys.executable.encode()).hexdigest()[:10]
            user = re.sub(r"\W", "", os.environ.get("USER", os.environ.get("USERNAME", ""))) or "user"
            kernel_dir = Path(tempfile.gettempdir()) / f"dxanalysis-kernels-{user}-{tag}"
            spec_dir = kernel_dir / "kernels" / KERNEL_NAME
            spec_dir.mkdir(parents=True, exist_ok=True)
            spec = {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}", "--HistoryManager.enabled=False", "--IPKernelApp.log_level=CRITICAL"],
                "display_name": "Python (dxanalysis)",
                "language": "python",
                # DXANALYSIS_HEADLESS: no one will interact with this kernel, so interactive widgets can skip building
                "env": {"MPLBACKEND": "module://matplotlib_inline.backend_inline", "PYDEVD_DISABLE_FILE_VALIDATION": "1", HEADLESS_ENV: "1"},
            }
            text = json.dumps(spec)
            target = spec_dir / "kernel.json"
            if not target.exists() or target.read_text(encoding="utf-8") != text:
                tmp = spec_dir / f"kernel.json.{os.getpid()}.{threading.get_ident()}"
                tmp.write_text(text, encoding="utf-8")
                os.replace(tmp, target)  # atomic: parallel workers never read half a file
            _KERNEL_DIR = str(kernel_dir)
        if _KERNEL_DIR not in os.environ.get("JUPYTER_PATH", "").split(os.pathsep):
            os.environ["JUPYTER_PATH"] = os.pathsep.join(p for p in [_KERNEL_DIR, os.environ.get("JUPYTER_PATH", "")] if p)
    return KERNEL_NAME


# ----------------------------------------------------------------------------- hashes
def file_hash(path: Path) -> str:
    """SHA-256 of a file's bytes, read in blocks (a 100,000-respondent export stays cheap)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def input_hashes(folder: Path) -> dict[str, str]:
    """SHA-256 of every input file in a municipality folder (``truth/`` excluded)."""
    folder = Path(folder)
    return {
        p.relative_to(folder).as_posix(): file_hash(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "truth" not in p.relative_to(folder).parts and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    }


def _digest(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def inputs_digest(hashes: dict[str, str]) -> str:
    """One hash for a folder's input hashes (shown as ``manifest`` in report footers)."""
    return _digest(hashes)


def task_hashes(*, inputs: str, parameters: dict, notebook: Path, package: str) -> dict[str, str]:
    """The four hashes that decide whether a notebook must run again, and their combination.

    Returns ``{"inputs", "parameters", "notebook", "package", "task"}``. Path parameters
    (``data_dir``, ``report_dir``, ``data_dirs``) are left out: the inputs hash already
    covers the content, so moving a folder does not force a re-run.
    """
    params = {k: v for k, v in parameters.items() if k not in PATH_PARAMETERS}
    out = {"inputs": inputs, "parameters": _digest(params), "notebook": file_hash(Path(notebook)), "package": package}
    out["task"] = _digest(out)
    return out


# ----------------------------------------------------------------------------- one notebook
def notebook_paths(names: list[str] | None = None, notebooks_dir: Path = NOTEBOOKS_DIR) -> list[Path]:
    """The analysis notebooks that exist, in programme order.

    A name may be the full stem (``04_training``) or its number (``04``). An unknown name
    raises ValueError listing the notebooks there are.
    """
    available = [n for n in NOTEBOOKS if (Path(notebooks_dir) / f"{n}.ipynb").exists()]
    available += sorted(p.stem for p in Path(notebooks_dir).glob("[0-9][0-9]_*.ipynb") if p.stem not in available and p.stem not in NON_MUNICIPALITY_NOTEBOOKS)
    if not names:
        return [Path(notebooks_dir) / f"{n}.ipynb" for n in available]
    chosen = []
    for name in names:
        match = [n for n in available if n == name or n.split("_", 1)[0] == name]
        if not match:
            raise ValueError(f"ノートブック {name!r} はありません。使えるもの: {', '.join(available)} / no notebook {name!r}; available: {', '.join(available)}")
        chosen += [m for m in match if m not in chosen]
    return [Path(notebooks_dir) / f"{n}.ipynb" for n in available if n in chosen]


#: Notebooks that compare municipalities rather than run per municipality.
NON_MUNICIPALITY_NOTEBOOKS = {"05_comparison"}

#: Optional inputs a notebook needs; without them it is reported as not applicable, not failed.
NOTEBOOK_INPUTS = {"03_roadmap": ("assessment", "measures"), "04_training": ("training_pre", "training_post")}


def not_applicable_reason(cfg, notebook: str) -> str:
    """Why a notebook does not apply to this municipality ("" when it does)."""
    if notebook == "06_waves" and not getattr(cfg, "waves", None):
        return ("no earlier survey wave (waves: in municipality.yaml): this analysis is optional and was not run" if cfg.language == "en"
                else "前回以前の調査(municipality.yaml の waves)がないため実行していません(任意の分析です)")
    missing = [k for k in NOTEBOOK_INPUTS.get(notebook, ()) if cfg.input_path(k) is None]
    if not missing:
        return ""
    if cfg.language == "en":
        return f"no {', '.join(missing)} input: this analysis is optional and was not run"
    return f"入力 {'・'.join(missing)} がないため実行していません(任意の分析です)"


def notebook_title(nb) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return "dxanalysis"


def execute_notebook(nb_path: Path, out_path: Path, parameters: dict, *, cwd: Path, cell_timeout: int = DEFAULT_CELL_TIMEOUT) -> None:
    """Run one notebook with papermill on this interpreter's kernel.

    The kernel's working directory is set through nbclient's ``resources`` instead of
    papermill's ``cwd`` (which calls ``os.chdir`` for the whole process and so races when
    a Dask worker runs several notebooks in threads). ``cell_timeout`` (seconds, 0 = none)
    limits each cell.
    """
    _lighten_imports()
    import papermill as pm

    _start_watchdog()
    pm.execute_notebook(
        str(nb_path),
        str(out_path),
        parameters=parameters,
        kernel_name=ensure_kernel(),
        progress_bar=False,
        log_output=False,
        request_save_on_cell_execute=False,
        resources={"metadata": {"path": str(cwd)}},
        execution_timeout=cell_timeout or None,
    )


#: A kernel that uses no CPU for this long while its notebook is still running is taken
#: as hung and stopped (the notebook is then retried on a fresh kernel). Every cell of
#: the notebooks computes; none waits. Seen with ipykernel 7.4: the
#: kernel sat idle in the middle of notebook 01 while papermill waited for its reply
#: (once in ~400 notebook runs during the benchmarks).
HUNG_KERNEL_IDLE = 300
_WATCHDOG_POLL = 15.0
_WATCHDOG: threading.Thread | None = None


def _watch_kernels() -> None:
    """Stop child kernels that have used (almost) no CPU for :data:`HUNG_KERNEL_IDLE` seconds."""
    try:
        import psutil
    except ImportError:  # without psutil only the per-cell time limit guards against hangs
        return

    me = psutil.Process()
    seen: dict[int, tuple[float, float]] = {}
    while True:
        time.sleep(_WATCHDOG_POLL)
        now, alive = time.monotonic(), set()
        for child in me.children(recursive=False):
            try:
                if "ipykernel_launcher" not in " ".join(child.cmdline()):
                    continue
                cpu = sum(child.cpu_times()[:2])
            except psutil.Error:
                continue
            alive.add(child.pid)
            last = seen.get(child.pid)
            if last is None or cpu - last[0] > 0.5:
                seen[child.pid] = (cpu, now)
            elif now - last[1] > HUNG_KERNEL_IDLE:
                try:
                    child.kill()  # papermill then raises DeadKernelError and the notebook is retried
                except psutil.Error:
                    pass
        for pid in set(seen) - alive:
            seen.pop(pid, None)


def _start_watchdog() -> None:
    global _WATCHDOG
    with _KERNEL_LOCK:
        if _WATCHDOG is None or not _WATCHDOG.is_alive():
            _WATCHDOG = threading.Thread(target=_watch_kernels, name="dxanalysis-kernel-watchdog", daemon=True)
            _WATCHDOG.start()


def _hung(exc: BaseException) -> bool:
    """A failure that says nothing about the notebook: a cell over the time limit, a kernel that died or never answered."""
    return type(exc).__name__ in {"CellTimeoutError", "DeadKernelError"} or "didn't respond" in str(exc)


def first_error_line(exc: BaseException) -> str:
    """The user-facing first line of a notebook failure (papermill wraps the original)."""
    ename = getattr(exc, "ename", type(exc).__name__)
    evalue = getattr(exc, "evalue", str(exc))
    line = (str(evalue).strip().splitlines() or [""])[0]
    return f"{ename}: {line}"[:300]


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def run_notebook(folder: Path | None, nb_path: Path, report_dir: Path, *, municipality_id: str, language: str, footer: str = "", extra_parameters: dict | None = None,
                 cell_timeout: int = DEFAULT_CELL_TIMEOUT, retries: int = 1) -> NotebookResult:
    """Execute one notebook, render its HTML and publish both into ``report_dir``; failures are captured, not raised.

    ``folder`` is passed as ``data_dir`` (None for the comparison notebook, whose
    folders come in ``extra_parameters["data_dirs"]``). A run that hangs (a cell over
    ``cell_timeout`` seconds) or whose kernel dies is retried ``retries`` times on a fresh
    kernel; an error raised by the notebook's own code is not retried. The notebook
    writes into a scratch folder (:func:`staging_dir`); its files replace the previous
    ones only when it succeeded (:func:`publish_outputs`).
    """
    report_dir = Path(report_dir)
    work_dir = staging_dir(report_dir, Path(nb_path).stem)
    res = run_into(folder, nb_path, work_dir, shown_dir=report_dir, municipality_id=municipality_id, language=language, footer=footer, extra_parameters=extra_parameters,
                   cell_timeout=cell_timeout, retries=retries)
    res.outputs = publish_outputs(work_dir, report_dir, res.notebook, ok=res.status == "ok")
    res.stats = output_stats(res.outputs, report_dir)
    res.html = _published_html(res)
    return res


def run_into(folder: Path | None, nb_path: Path, work_dir: Path, *, shown_dir: Path, municipality_id: str, language: str, footer: str = "", extra_parameters: dict | None = None,
             cell_timeout: int = DEFAULT_CELL_TIMEOUT, retries: int = 1) -> NotebookResult:
    """Execute one notebook with ``report_dir = work_dir`` and render its HTML there.

    ``work_dir`` is a scratch folder; ``shown_dir`` is the report folder the files will
    be moved to, and replaces the scratch path wherever the executed notebook shows it
    (parameters cell, papermill metadata, tracebacks), so no scratch path reaches the
    shared ipynb or HTML.
    """
    _lighten_imports()
    import nbformat

    from .report import render_html, share_executed_notebook

    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    name = Path(nb_path).stem
    out_ipynb = work_dir / f"{name}.ipynb"
    started = _now()
    t0 = time.perf_counter()
    params = {"report_dir": str(work_dir.resolve())}
    if folder is not None:
        params = {"data_dir": str(Path(folder).resolve()), **params}
    params.update(extra_parameters or {})
    attempts = 0
    while True:
        attempts += 1
        status, error = "ok", ""
        out_ipynb.unlink(missing_ok=True)  # never render a previous attempt's output as this one's
        try:
            execute_notebook(Path(nb_path), out_ipynb, params, cwd=work_dir, cell_timeout=cell_timeout)
        except Exception as exc:  # noqa: BLE001 - one failing notebook must not stop the batch
            status, error = "failed", first_error_line(exc)
            if _hung(exc):
                if attempts <= retries:
                    continue
                hint = (f"{cell_timeout} 秒で終わらないセルがあり打ち切りました(--cell-timeout で延長できます)" if type(exc).__name__ == "CellTimeoutError"
                        else "カーネルが応答しなくなりました")
                error = f"{hint}(試行 {attempts} 回) / {error}"[:300]
        break
    error = _show_path(error, work_dir, shown_dir)
    _failpoint("before_html")
    html_path = work_dir / f"{name}.html"
    if out_ipynb.exists():
        try:
            _show_path_in_file(out_ipynb, work_dir, shown_dir)
            nb = nbformat.read(str(out_ipynb), as_version=4)
            html_path.write_text(render_html(nb, title=notebook_title(nb), language=language, footer=footer), encoding="utf-8")
            # the shared copy is reduced here, before publishing, so the manifest records its final hash
            share_executed_notebook(out_ipynb, work_dir / "private" / "notebooks")
        except Exception as exc:  # noqa: BLE001
            status, error = "failed", error or f"HTML: {first_error_line(exc)}"
    _failpoint("after_html")
    seconds = time.perf_counter() - t0
    return NotebookResult(municipality_id, name, status, round(seconds, 2), error, html_path.name if html_path.exists() else "", started, _now(), attempts=attempts)


def execute_task(task: NotebookTask) -> NotebookResult:
    """Worker entry point: run one :class:`NotebookTask` into its scratch folder (top level, so it pickles).

    The main process publishes the files (:func:`publish_outputs`) and records them in
    ``manifest.json``; a worker never writes into the report folder itself.
    """
    params = dict(task.parameters)
    folder = params.pop("data_dir", None)
    params.pop("report_dir", None)
    res = run_into(folder, Path(task.notebook), Path(task.work_dir), shown_dir=Path(task.report_dir), municipality_id=task.municipality, language=task.language, footer=task.footer,
                   extra_parameters=params, cell_timeout=task.cell_timeout)
    res.hash, res.hashes, res.reason = task.hash, dict(task.hashes), task.reason
    return res


# ----------------------------------------------------------------------------- scratch folders and publishing
#: Scratch folders of running tasks: ``<report folder>/.staging/<notebook>.<pid>-<n>/``.
STAGING_DIR = ".staging"
_STAGING_SEQ = itertools.count()


def staging_dir(report_dir: Path, notebook: str) -> Path:
    """A new scratch folder for one run of ``notebook`` (same file system as the report, so moves are atomic)."""
    return Path(report_dir) / STAGING_DIR / f"{notebook}.{os.getpid()}-{next(_STAGING_SEQ)}"


def _path_variants(path: Path) -> list[str]:
    text = str(Path(path).resolve())
    return list(dict.fromkeys([text, json.dumps(text)[1:-1]]))


def _show_path(text: str, work_dir: Path, shown_dir: Path) -> str:
    """``text`` with the scratch folder's path replaced by the report folder's."""
    for old, new in zip(_path_variants(work_dir), _path_variants(shown_dir)):
        text = text.replace(old, new)
    return text


def _show_path_in_file(path: Path, work_dir: Path, shown_dir: Path) -> None:
    text = path.read_text(encoding="utf-8")
    new = _show_path(text, work_dir, shown_dir)
    if new != text:
        path.write_text(new, encoding="utf-8")


def _published_html(res: NotebookResult) -> str:
    """The result's HTML, when it was published."""
    rel = f"{res.notebook}.html"
    return rel if rel in res.outputs else ""


def publish_outputs(work_dir: Path, report_dir: Path, notebook: str, *, ok: bool) -> dict[str, str]:
    """Move a finished task's files from its scratch folder into the report folder.

    A successful run publishes everything it wrote (ipynb, html, tables, figures,
    findings, private, meta, roadmap.xlsx). A failed run publishes only its HTML and
    ipynb (they show the error; a previous page left in place would be read as this
    run's result); the tables, figures and findings of the previous good run stay. Each file is moved with ``os.replace`` (atomic); a file it
    replaces is first set aside, and if any move fails (disk full, read-only folder) the
    set-aside files are put back and the error is raised, so the report folder is as
    before. Returns ``{path relative to the report folder: SHA-256}``.
    """
    work_dir, report_dir = Path(work_dir), Path(report_dir)
    if ok:
        pairs = [(p, p.relative_to(work_dir).as_posix()) for p in sorted(work_dir.rglob("*")) if p.is_file()]
    else:
        pairs = [(work_dir / f"{notebook}{ext}", f"{notebook}{ext}") for ext in (".html", ".ipynb") if (work_dir / f"{notebook}{ext}").exists()]
    backup = work_dir.with_name(work_dir.name + ".bak")
    moved: list[tuple[Path, Path | None]] = []
    outputs: dict[str, str] = {}
    try:
        for i, (src, rel) in enumerate(pairs):
            dst = report_dir / rel
            digest = file_hash(src)
            dst.parent.mkdir(parents=True, exist_ok=True)
            saved = None
            if dst.exists():
                saved = backup / rel
                saved.parent.mkdir(parents=True, exist_ok=True)
                fsutil.replace(dst, saved)
            moved.append((dst, saved))
            fsutil.replace(src, dst)
            outputs[rel] = digest
            if i == len(pairs) // 2:
                _failpoint("mid_publish")
    except BaseException:
        _roll_back(moved)
        raise
    _discard(work_dir)
    return outputs


def _roll_back(moved: list[tuple[Path, Path | None]]) -> None:
    """Undo a partial publish: put set-aside files back, remove new files that replaced nothing."""
    for dst, saved in reversed(moved):
        try:
            if saved is not None and saved.exists():
                os.replace(saved, dst)  # a rename within one folder tree needs no free space
            elif saved is None:
                dst.unlink(missing_ok=True)
        except OSError:
            pass


def _discard(work_dir: Path) -> None:
    """Remove a task's scratch folder (and ``.staging/`` when it is the last one)."""
    _remove_tree(work_dir)
    _remove_tree(work_dir.with_name(work_dir.name + ".bak"))
    try:
        work_dir.parent.rmdir()
    except OSError:
        pass


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def stale_staging(report_dir: Path) -> set[str]:
    """Remove the scratch folders an earlier, interrupted run left; return their notebooks.

    Called with the report folder's lock held, so no live run owns them.
    """
    base = Path(report_dir) / STAGING_DIR
    if not base.is_dir():
        return set()
    names = set()
    for p in base.iterdir():
        names.add(p.name.split(".", 1)[0])
        _remove_tree(p) if p.is_dir() else p.unlink(missing_ok=True)
    _remove_tree(base)
    return names


def _stat(path: Path) -> list[int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ino]


def output_stats(outputs: dict, report_dir: Path) -> dict[str, list[int]]:
    """``{path: [size, mtime_ns, inode]}`` of published outputs, recorded next to their hashes."""
    out = {}
    for rel in outputs:
        st = _stat(Path(report_dir) / rel)
        if st is not None:
            out[rel] = st
    return out


def output_problems(outputs: dict, report_dir: Path, stats: dict | None = None) -> list[str]:
    """Recorded outputs that are missing or whose content changed (an empty record counts as missing).

    With ``stats`` (:func:`output_stats` at publishing), a file whose size, modification
    time (nanoseconds) and inode are all as recorded is taken as unchanged without
    reading it; any difference (an edit, a copy, a restore from backup) falls back to
    comparing its SHA-256. Publishing moves files with ``os.replace``, which keeps all three.
    """
    if not outputs:
        return ["(出力の記録がありません)"]
    stats = stats or {}
    bad = []
    for rel, digest in sorted(outputs.items()):
        path = Path(report_dir) / rel
        recorded = stats.get(rel)
        if recorded is not None and list(recorded) == _stat(path):
            continue
        if not path.is_file() or file_hash(path) != digest:
            bad.append(rel)
    return bad


def _failpoint(name: str) -> None:
    """Fault injection for the fault tests: kill this run's process group at a named point.

    Active only when the environment variable ``DXANALYSIS_FAILPOINT`` equals ``name``
    (points: ``before_html``, ``after_html``, ``mid_publish``, ``before_manifest``,
    ``before_index``). It simulates a crash, an out-of-memory kill or a power cut.
    """
    if os.environ.get("DXANALYSIS_FAILPOINT") == name and hasattr(os, "killpg"):
        import signal

        os.killpg(os.getpgid(0), signal.SIGKILL)


def validate_task(folder: str) -> dict:
    """Worker entry point: load and validate one municipality folder.

    Returns ``{"ok", "problems", "language", "n_respondents"}``; problems are returned,
    not raised, because an exception loses its problem list when pickled back.
    """
    from .io import load_municipality

    try:
        m = load_municipality(folder)
    except InputError as err:
        return {"ok": False, "problems": err.problems, "language": err.language, "n_respondents": 0}
    return {"ok": True, "problems": [], "language": m.language, "n_respondents": int(len(m.survey))}


def _worker_init() -> None:
    """Pool worker start: import the notebook machinery once (papermill, nbconvert, pandas).

    Ctrl-C reaches the whole terminal's process group; the main process decides what to
    stop, so workers ignore SIGINT. A worker whose main process is gone (killed with
    SIGKILL, out of memory) exits at once instead of finishing its notebook for no one;
    its kernel follows (ipykernel exits when its parent does).
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), name="dxanalysis-parent-watch", daemon=True).start()
    _lighten_imports()
    os.environ.setdefault("MPLBACKEND", "Agg")
    import nbconvert  # noqa: F401
    import nbformat  # noqa: F401
    import papermill  # noqa: F401

    from . import io, report  # noqa: F401
    ensure_kernel()


def _exit_with_parent(parent: int, poll: float = 0.5) -> None:
    """End this worker (and so its kernel) as soon as its parent process has died."""
    while True:
        time.sleep(poll)
        if os.getppid() != parent:
            _kill_processes(_descendants(os.getpid()))
            os._exit(1)


def _descendants(pid: int) -> list:
    """psutil processes under ``pid`` (recursive); [] without psutil."""
    try:
        import psutil

        return psutil.Process(pid).children(recursive=True)
    except Exception:  # noqa: BLE001 - psutil missing or the process already gone
        return []


def _processes(pids: Iterable[int]) -> list:
    """psutil processes for the pids still alive."""
    import psutil

    out = []
    for pid in pids:
        try:
            out.append(psutil.Process(pid))
        except psutil.Error:
            continue
    return out


def _kill_processes(procs: list, timeout: float = 3.0) -> None:
    """SIGKILL these processes and wait (up to ``timeout`` s) until they are gone."""
    if not procs:
        return
    import psutil

    for proc in procs:
        try:
            proc.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(procs, timeout=timeout)


def package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version(), "dxanalysis": __version__}
    for pkg in ("pandas", "numpy", "scipy", "statsmodels", "scikit-learn", "matplotlib", "seaborn", "papermill", "nbconvert"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


# ----------------------------------------------------------------------------- backends
class _SerialBackend:
    """Runs tasks in this process, one at a time, in submission order."""

    capacity = 1

    def __init__(self):
        self._queue: deque = deque()

    def submit(self, fn: Callable, *args, priority: int = 0):
        handle = object()
        self._queue.append((handle, fn, args))
        return handle

    def __len__(self) -> int:
        return len(self._queue)

    def next_done(self):
        handle, fn, args = self._queue.popleft()
        try:
            return handle, fn(*args), None
        except Exception as exc:  # noqa: BLE001
            return handle, None, exc

    def close(self) -> None:
        self._queue.clear()

    def abort(self) -> None:
        """Stop at once: drop the queue and kill the kernels this process started."""
        self._queue.clear()
        _kill_processes([p for p in _descendants(os.getpid()) if _is_kernel(p)])


class _PoolBackend:
    """A pool of worker processes (``spawn`` start method, as on Windows)."""

    def __init__(self, workers: int):
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"), initializer=_worker_init)
        self._pending: set = set()
        self.capacity = workers  # the pool's queue is FIFO: keep it short so priorities apply

    def submit(self, fn: Callable, *args, priority: int = 0):
        fut = self._pool.submit(fn, *args)
        self._pending.add(fut)
        return fut

    def __len__(self) -> int:
        return len(self._pending)

    def next_done(self):
        from concurrent.futures import FIRST_COMPLETED, wait

        done, _ = wait(self._pending, return_when=FIRST_COMPLETED)
        fut = min(done, key=id)
        self._pending.discard(fut)
        exc = fut.exception()
        return fut, (None if exc else fut.result()), exc

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def abort(self) -> None:
        """Stop at once: kill every worker process and the kernels under it, cancel the rest."""
        workers = [w for w in list((getattr(self._pool, "_processes", None) or {}).values())]
        procs = []
        for w in workers:
            procs += _descendants(w.pid)
            procs += _processes([w.pid])
        _kill_processes(procs)
        for w in workers:
            w.join(timeout=1)
        self._pool.shutdown(wait=False, cancel_futures=True)


class SchedulerUnavailable(RuntimeError):
    """The Dask scheduler cannot be reached, or dask.distributed is not installed."""


class _DaskBackend:
    """Tasks sent to an existing Dask distributed scheduler (``distributed`` imported lazily)."""

    def __init__(self, address: str):
        try:
            from distributed import Client, as_completed
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise SchedulerUnavailable("--scheduler には dask.distributed が必要です: pip install 'dxanalysis[dask]' / --scheduler needs the [dask] extra") from exc
        _probe(address)
        try:
            self.client = Client(address, timeout="20s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise SchedulerUnavailable(f"Dask スケジューラ {address} に接続できません ({type(exc).__name__}: {exc}) / cannot reach the Dask scheduler") from exc
        self._completed = as_completed()
        self._n = 0
        self.capacity = 1 << 30  # the scheduler orders the tasks itself (by priority)

    def submit(self, fn: Callable, *args, priority: int = 0):
        fut = self.client.submit(fn, *args, pure=False, priority=priority)
        self._completed.add(fut)
        self._n += 1
        return fut

    def __len__(self) -> int:
        return self._n

    def next_done(self):
        fut = next(self._completed)
        self._n -= 1
        try:
            return fut, fut.result(), None
        except Exception as exc:  # noqa: BLE001
            return fut, None, exc

    def close(self) -> None:
        self.client.close()

    def abort(self, futures: Iterable = ()) -> None:
        """Cancel the submitted futures (a notebook already running on a worker ends there; nothing of it is published)."""
        try:
            self.client.cancel(list(futures))
        finally:
            self.client.close()


def _probe(address: str, timeout: float = 5.0) -> None:
    """Fail fast (not after the client's retries) when nothing listens at a tcp:// address."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    if parts.scheme not in {"tcp", "tls"} or not parts.hostname:
        return
    try:
        socket.create_connection((parts.hostname, parts.port or 8786), timeout=timeout).close()
    except OSError as exc:
        raise SchedulerUnavailable(f"Dask スケジューラ {address} に接続できません ({exc}) / cannot reach the Dask scheduler") from exc


def _is_kernel(proc) -> bool:
    try:
        return "ipykernel" in " ".join(proc.cmdline())
    except Exception:  # noqa: BLE001
        return False


def _backend(workers: int, scheduler: str | None):
    if scheduler:
        return _DaskBackend(scheduler)
    if workers <= 1:
        return _SerialBackend()
    return _PoolBackend(workers)


# ----------------------------------------------------------------------------- one municipality in a batch
def _safe_id(name: str) -> str:
    return re.sub(r"[^a-z0-9_\-]", "_", name.lower()) or "municipality"


@dataclass
class _Muni:
    folder: Path
    id: str
    cfg: object = None
    hashes: dict = field(default_factory=dict)
    inputs_hash: str = ""
    previous: dict = field(default_factory=dict)  # notebook -> manifest entry of the last run
    planned: list = field(default_factory=list)  # (nb_path, hashes) to execute
    results: dict = field(default_factory=dict)  # notebook -> NotebookResult (this run, incl. skipped)
    carried: dict = field(default_factory=dict)  # notebook -> result kept from an earlier run, not selected now
    item_ids: tuple | None = None
    n_respondents: int | None = None
    footer: str = ""
    error: InputError | None = None
    outstanding: int = 0
    report_dir: Path | None = None
    needs_validation: bool = True
    validated: bool = False
    finished: bool = False
    interrupted: set = field(default_factory=set)  # notebooks an earlier run left unfinished (scratch folders found)
    reasons: dict = field(default_factory=dict)  # notebook -> why it re-runs although nothing changed
    tables_source: str = ""  # digest of the tables tables.xlsx was last built from
    audited: str = ""  # digest of the shared files the last passed privacy audit saw (audit_digest)


def _read_manifest(report_dir: Path) -> dict:
    path = report_dir / "manifest.json"
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


#: Why a notebook whose inputs, parameters, notebook and package are unchanged runs again.
REASON_MISSING = "出力の欠落"
REASON_INTERRUPTED = "前回の実行が中断"
REASONS_EN = {REASON_MISSING: "missing outputs", REASON_INTERRUPTED: "previous run interrupted"}


def reuse_verdict(prev: dict | None, task_hash: str, report_dir: Path) -> tuple[bool, str]:
    """May a previous run's output stand in for this one? Returns ``(reusable, reason)``.

    Reusable only when the recorded hash matches, the recorded status is ``ok`` or
    ``skipped``, and every recorded output exists with its recorded SHA-256 (files
    whose recorded size, mtime and inode are unchanged are not read, :func:`output_problems`). ``reason``
    (:data:`REASON_MISSING` with the first missing file, or :data:`REASON_INTERRUPTED`)
    explains a re-run that no change asked for; it is "" when something changed.
    """
    if not prev:
        return False, ""
    if prev.get("status") == "publishing":  # killed while moving its files into place
        return False, REASON_INTERRUPTED
    if prev.get("hash") != task_hash or prev.get("status") not in {"ok", "skipped"}:
        return False, ""
    bad = output_problems(prev.get("outputs") or {}, report_dir, prev.get("stats") or {})
    if bad:
        more = f" ほか {len(bad) - 1} 件" if len(bad) > 1 else ""
        return False, f"{REASON_MISSING}: {bad[0]}{more}"
    return True, ""


def _reusable(prev: dict | None, task_hash: str, report_dir: Path) -> bool:
    """A previous run's output may stand in for this one (see :func:`reuse_verdict`)."""
    return reuse_verdict(prev, task_hash, report_dir)[0]


def _skipped(prev: dict, municipality: str, report_dir: Path) -> NotebookResult:
    """The result of a reused notebook; its outputs were just verified, so their current stats are recorded."""
    outputs = dict(prev.get("outputs") or {})
    return NotebookResult(municipality, prev["notebook"], "skipped", 0.0, "", prev.get("html", ""), prev.get("started", ""), prev.get("finished", ""), prev.get("hash", ""),
                          dict(prev.get("hashes", {})), int(prev.get("attempts", 1)), "", outputs, output_stats(outputs, report_dir))


def _identify(folder: Path, *, reports_root: Path, taken: dict[str, Path]) -> _Muni:
    """Read the config: the municipality's id and report folder, or its config error (main process, cheap)."""
    try:
        cfg = load_config(folder)
    except InputError as err:
        muni = _Muni(folder=folder, id=_safe_id(folder.name), error=err)
        muni.report_dir = reports_root / muni.id
        return muni
    muni = _Muni(folder=folder, id=cfg.id, cfg=cfg)
    muni.report_dir = reports_root / cfg.id
    if cfg.id in taken or cfg.id == COMPARISON_ID:
        other = taken.get(cfg.id, COMPARISON_ID)
        muni.error = InputError([Problem(file="municipality.yaml", code="config_invalid", column="id", value=cfg.id, params={"detail": f"id {cfg.id!r} は {other} と重複しています。自治体ごとに別の id にしてください"})], cfg.language)
        muni.id = _safe_id(f"{cfg.id}-{folder.name}")
        return muni
    taken[cfg.id] = folder
    return muni


def _plan(folder: Path, *, reports_root: Path, selected: list[Path], all_notebooks: list[Path], pkg_hash: str, force: bool, taken: dict[str, Path]) -> _Muni:
    """Read the config and the previous manifest; decide which notebooks must run (main process, cheap)."""
    return _plan_notebooks(_identify(folder, reports_root=reports_root, taken=taken), selected=selected, all_notebooks=all_notebooks, pkg_hash=pkg_hash, force=force)


def _plan_notebooks(muni: _Muni, *, selected: list[Path], all_notebooks: list[Path], pkg_hash: str, force: bool) -> _Muni:
    """Decide which notebooks of an identified municipality must run (call with its report folder locked)."""
    if muni.error is not None:
        return muni
    cfg, folder = muni.cfg, muni.folder
    try:
        muni.item_ids = tuple(load_codebook(cfg.input_path("codebook"), cfg.language).item_ids)
    except InputError:
        muni.item_ids = None  # validation reports it
    muni.hashes = input_hashes(folder)
    muni.inputs_hash = inputs_digest(muni.hashes)
    muni.interrupted = stale_staging(muni.report_dir)
    manifest = _read_manifest(muni.report_dir)
    muni.tables_source = manifest.get("tables_source", "")
    muni.audited = manifest.get("audited", "")
    muni.previous = {e.get("notebook"): e for e in manifest.get("notebooks", []) if isinstance(e, dict)}
    same_inputs = bool(manifest) and manifest.get("inputs_hash") == muni.inputs_hash
    muni.footer = manifest.get("footer", "") if same_inputs else ""
    selected_names = {p.stem for p in selected}
    for nb_path in all_notebooks:
        hashes = task_hashes(inputs=muni.inputs_hash, parameters={}, notebook=nb_path, package=pkg_hash)
        prev = muni.previous.get(nb_path.stem)
        reason = not_applicable_reason(cfg, nb_path.stem)
        if reason and nb_path.stem in selected_names:
            muni.results[nb_path.stem] = NotebookResult(cfg.id, nb_path.stem, "not_applicable", 0.0, reason)
            continue
        if nb_path.stem not in selected_names:
            if prev:  # not asked for this time: keep listing the last result as it was recorded
                muni.carried[nb_path.stem] = NotebookResult(**{k: prev.get(k, v) for k, v in asdict(NotebookResult(cfg.id, nb_path.stem, "")).items()})
            continue
        reusable, why = reuse_verdict(prev, hashes["task"], muni.report_dir)
        if reusable and not force:
            muni.results[nb_path.stem] = _skipped(prev, cfg.id, muni.report_dir)
            continue
        if nb_path.stem in muni.interrupted and not why.startswith(REASON_MISSING):
            why = why or REASON_INTERRUPTED
        if why and not force:
            muni.reasons[nb_path.stem] = why if cfg.language != "en" else why.replace(REASON_MISSING, REASONS_EN[REASON_MISSING]).replace(REASON_INTERRUPTED, REASONS_EN[REASON_INTERRUPTED])
        muni.planned.append((nb_path, hashes))
    # inputs identical to those of a recorded run passed validation then; skip it (it is the slow part of a no-op run)
    muni.needs_validation = bool(muni.planned) or not same_inputs or not muni.footer
    return muni


def _manifest(muni: _Muni, order: list[str], *, final: bool, publishing: str = "") -> dict:
    """The municipality's ``manifest.json`` as it stands.

    While the run goes on (``final=False``) the entries of notebooks not yet done are
    the previous run's, so a run stopped at any point leaves a manifest that describes
    exactly the files on disk. ``publishing`` marks the notebook whose files are being
    moved into place (a run killed then is re-run next time as interrupted).
    """
    cfg = muni.cfg
    rows = {**muni.carried, **muni.results}
    entries = {n: NotebookResult(**{k: e.get(k, v) for k, v in asdict(NotebookResult(cfg.id, n, "")).items()}) for n, e in muni.previous.items() if n and not final}
    entries.update(rows)
    if publishing:
        entries[publishing] = NotebookResult(**{**asdict(entries.get(publishing) or NotebookResult(cfg.id, publishing, "")), "status": "publishing"})
    results = [entries[n] for n in order if n in entries] + [r for n, r in entries.items() if n not in order]
    return {
        "municipality": cfg.id,
        "name": cfg.name,
        "package_version": __version__,
        "package_hash": package_hash(),
        "versions": package_versions(),
        "inputs": muni.hashes,
        "inputs_hash": muni.inputs_hash,
        "parameters": {"data_dir": str(muni.folder.resolve()), "min_group_size": cfg.min_group_size, "language": cfg.language},
        "footer": muni.footer,
        "tables_source": muni.tables_source,
        "audited": muni.audited,
        "notebooks": [asdict(r) for r in results],
    }


def _save_manifest(report_dir: Path, manifest: dict) -> None:
    fsutil.atomic_write_text(Path(report_dir) / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))


def _commit_task(muni: _Muni, res: NotebookResult, task: NotebookTask, order: list[str]) -> None:
    """Publish a finished task's files, then record them (and their hashes) in the manifest.

    Order matters for a run killed at any moment: (1) mark the notebook as publishing,
    (2) move its files into place, (3) write its manifest entry. Signals wait until the
    three steps are done (they take milliseconds).
    """
    with _critical():
        if res.status in {"ok", "failed"} and task.work_dir:
            path = muni.report_dir / "manifest.json"
            before = path.read_bytes() if path.exists() else None
            try:
                _save_manifest(muni.report_dir, _manifest(muni, order, final=False, publishing=res.notebook))
                res.outputs = publish_outputs(Path(task.work_dir), muni.report_dir, res.notebook, ok=res.status == "ok")
                res.stats = output_stats(res.outputs, muni.report_dir)
            except OSError:  # rolled back: the manifest goes back to what it was, so the folder is exactly as before
                _restore(path, before)
                _discard(Path(task.work_dir))
                raise
            res.html = _published_html(res)
        muni.results[res.notebook] = res
        _failpoint("before_manifest")
        _save_manifest(muni.report_dir, _manifest(muni, order, final=False))


def _restore(path: Path, before: bytes | None) -> None:
    """Put a file back as it was (best effort: if this fails too, the publishing mark makes the next run re-run the task)."""
    try:
        if before is None:
            path.unlink(missing_ok=True)
        else:
            fsutil.atomic_write_bytes(path, before)
    except OSError:
        pass


def tables_digest(results: Iterable[NotebookResult]) -> str:
    """Digest of the shared tables (``tables/``, ``meta/``) the results recorded: what tables.xlsx is built from."""
    return _digest(sorted((k, v) for r in results for k, v in (r.outputs or {}).items() if k.startswith(("tables/", "meta/"))))


def audit_digest(muni: _Muni) -> str:
    """What the privacy audit reads, as one digest: every shared output's hash (not ``private/``), ``tables.xlsx``, the footer, the package.

    ``index.html`` is built from these (results, findings, footer), so it is covered too.
    """
    rows = {**muni.carried, **muni.results}
    shared = sorted((k, v) for r in rows.values() for k, v in (r.outputs or {}).items() if not k.startswith("private/"))
    xlsx = muni.report_dir / "tables.xlsx"
    return _digest([shared, file_hash(xlsx) if xlsx.is_file() else "", muni.footer, package_hash()])


def _audit(muni: _Muni, order: list[str]) -> list:
    """The privacy audit's failed rows, skipped when nothing ran and the audited files are those of the last passed audit."""
    key = audit_digest(muni)
    ran = any(r.status in {"ok", "failed"} for r in muni.results.values())
    if not ran and key == muni.audited:
        return []
    rows = audit_failed_rows(muni.report_dir, municipality=muni.id, language=muni.cfg.language)
    if not rows:
        muni.audited = key
        _save_manifest(muni.report_dir, _manifest(muni, order, final=True))
    return rows


def _write_municipality(muni: _Muni, order: list[str]) -> Path:
    """tables.xlsx, index.html, then manifest.json of one municipality, after all its notebooks finished."""
    from .report import write_index, write_tables_xlsx

    cfg = muni.cfg
    rows = {**muni.carried, **muni.results}
    results = [rows[n] for n in order if n in rows] + [r for n, r in rows.items() if n not in order]
    muni.report_dir.mkdir(parents=True, exist_ok=True)
    source = tables_digest(results)
    ran = any(r.status in {"ok", "failed"} for r in muni.results.values())
    if ran or source != muni.tables_source or not (muni.report_dir / "tables.xlsx").exists():  # unchanged tables: keep the workbook (2-3 s each)
        _failpoint("before_index")
        write_tables_xlsx(muni.report_dir, language=cfg.language)  # every shared table, a sheet each, for slides
    index = write_index(muni.report_dir, cfg=cfg, results=results, footer=muni.footer)
    muni.tables_source = source
    _save_manifest(muni.report_dir, _manifest(muni, order, final=True))  # last: it vouches for everything above
    return index


def write_error_page(report_dir: Path, *, name: str, error: InputError) -> Path:
    """``index.html`` of a municipality whose inputs broke the data contract.

    Lists every problem (file, row, column, what to do). The offending *value* is left
    out on purpose: it can be a respondent's answer or respondent number, and this folder
    is the shared one; the terminal output of ``dxanalysis check`` shows it.
    """

    from .report import page
    from .validate import problems_frame

    lang = error.language
    df = problems_frame([p for p in error.problems if p.severity == "error"] or error.problems, lang)
    h = html.escape
    head = ["ファイル", "行・番号", "列・項目", "どうすればよいか"] if lang != "en" else ["file", "row", "column", "what to do"]
    def cell(v, style="text-align:left") -> str:
        text = "" if v is None or v != v else str(int(v)) if isinstance(v, float) else str(v)
        return f'<td style="{style}">{h(text)}</td>'

    rows = "".join(f"<tr>{cell(r.file)}{cell(r.row, 'text-align:right')}{cell(r.column, 'text-align:left;white-space:nowrap')}{cell(r.message)}</tr>" for r in df.itertuples())
    if lang != "en":
        title = f"{name} DXリテラシー分析レポート"
        intro = f"<p class=\"dx-warning\">入力データに問題が {len(df)} 件あるため、分析を実行していません。下の表に沿ってデータを直し、もう一度実行してください(<code>dxanalysis check</code> で値も確認できます)。</p>"
    else:
        title = f"{name} DX literacy report"
        intro = f"<p class=\"dx-warning\">The input data has {len(df)} problem(s), so no analysis was run. Fix them as listed and run again (<code>dxanalysis check</code> also shows the values).</p>"
    ths = "".join(f'<th scope="col">{c}</th>' for c in head)
    body = f'<h1>{h(title)}</h1>{intro}<table class="dx-table"><thead><tr>{ths}</tr></thead><tbody>{rows}</tbody></table>'
    out = report_dir / "index.html"
    fsutil.atomic_write_text(out, page(title, body, language=lang, footer=f"dxanalysis {__version__}"))
    return out


# ----------------------------------------------------------------------------- the batch
AUDIT_NOTEBOOK = "privacy_audit"


def audit_failed_rows(report_dir: Path | str, *, municipality: str, language: str = "ja") -> list:
    """The run's verdict on one finished municipality: ``[]`` when the audit passes.

    Runs :func:`dxanalysis.audit.audit_report`; moved here from audit.py so that audit does
    not import the runner. Called by :func:`run_batch` after ``index.html`` is written. When
    the shared files give a hidden cell away, returns one ``failed`` row
    (:class:`NotebookResult`, notebook ``privacy_audit``) whose error
    says so in Japanese, so ``dxanalysis run`` lists it and exits with status 1. The
    findings are written to ``private/audit_findings.csv`` for the advisor.
    """
    from .audit import audit_report

    t0 = time.perf_counter()
    result = audit_report(report_dir)
    private = Path(report_dir) / "private"
    private.mkdir(parents=True, exist_ok=True)
    result.findings.to_csv(private / "audit_findings.csv", index=False, encoding="utf-8-sig")
    if result.ok:
        return []
    kinds = "、".join(f"{k} {v}件" for k, v in result.findings["reason"].value_counts().items())
    msg = (f"プライバシー監査で共有ファイルに問題が見つかりました({kinds})。このフォルダを共有しないでください。"
           f"詳細: dxanalysis audit {report_dir}" if language != "en" else
           f"privacy audit found problems in the shared files ({kinds}); do not share this folder. Details: dxanalysis audit {report_dir}")
    return [NotebookResult(municipality, AUDIT_NOTEBOOK, "failed", round(time.perf_counter() - t0, 2), msg)]


def run_batch(
    folders: Iterable[Path | str],
    *,
    reports_root: Path | str = REPORTS_DIR,
    notebooks: list[str] | None = None,
    notebooks_dir: Path | str = NOTEBOOKS_DIR,
    workers: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    progress: bool = True,
    compare: bool = True,
    error_pages: bool = True,
    cell_timeout: int = DEFAULT_CELL_TIMEOUT,
    wait: float = 0.0,
) -> BatchResult:
    """Run every notebook of every municipality, in parallel, skipping what has not changed.

    Parameters
    ----------
    folders
        Municipality folders (each with ``municipality.yaml``).
    reports_root
        Reports go to ``<reports_root>/<id>/`` and ``<reports_root>/_comparison/``.
    notebooks
        Notebook names to run (default: every notebook of :data:`config.NOTEBOOKS` that
        exists, plus ``05_comparison`` when it exists and applies).
    workers
        Parallel worker processes (default ``os.cpu_count()``; 1 runs in this process).
    scheduler
        Address of a Dask distributed scheduler; tasks go there instead of local workers.
    force
        Re-run notebooks even when their inputs, parameters, notebook and package are
        unchanged.
    progress
        Show a progress bar on stderr.
    compare
        Run ``05_comparison`` when at least two municipalities share an instrument.
    error_pages
        Write ``index.html`` listing the problems for a municipality with broken inputs.
    cell_timeout
        Seconds one cell may run before the notebook counts as hung (retried once on a
        fresh kernel, then failed); 0 = no limit.
    wait
        Seconds to wait for another run that holds one of the report folders
        (0: refuse at once with :class:`~dxanalysis.runlock.ReportsLocked`).

    Returns
    -------
    BatchResult

    Raises
    ------
    RunInterrupted
        SIGINT/SIGTERM: workers and kernels were stopped; ``.batch`` has the rows.
    ReportWriteError
        A report folder cannot be written (read-only, disk full); the file being
        published was rolled back.
    ReportsLocked
        Another run holds a report folder (after ``wait`` seconds).
    """
    with stop_on_signals(), ExitStack() as locks:
        return _run_batch(folders, reports_root=Path(reports_root), notebooks=notebooks, notebooks_dir=Path(notebooks_dir), workers=workers, scheduler=scheduler, force=force,
                          progress=progress, compare=compare, error_pages=error_pages, cell_timeout=cell_timeout, wait=wait, locks=locks)


def _lock_report_folders(munis: list[_Muni], reports_root: Path, *, error_pages: bool, comparison: bool, wait: float, locks: ExitStack, batch: BatchResult) -> None:
    """Lock every report folder this run writes (sorted, so two batches cannot deadlock)."""
    dirs = {m.report_dir for m in munis if m.error is None or error_pages}
    if comparison:
        dirs.add(reports_root / COMPARISON_ID)
    for folder in sorted(dirs, key=str):
        try:
            lock = locks.enter_context(ReportLock(folder, wait=wait))
        except ReportsLocked:
            raise
        except OSError as err:
            raise ReportWriteError(fsutil.write_error_text(err, folder), batch) from err
        if lock.note:
            batch.notes.append(lock.note)


def _run_batch(folders, *, reports_root: Path, notebooks, notebooks_dir: Path, workers, scheduler, force, progress, compare, error_pages, cell_timeout, wait, locks: ExitStack) -> BatchResult:
    t_start = time.perf_counter()
    folders = [Path(f) for f in folders]
    all_notebooks = notebook_paths(None, notebooks_dir)
    selected = notebook_paths([n for n in (notebooks or []) if n != COMPARISON_NOTEBOOK], notebooks_dir) if notebooks else all_notebooks
    if notebooks and all(n == COMPARISON_NOTEBOOK for n in notebooks):
        selected = []
    order = [p.stem for p in all_notebooks]
    comparison_nb = notebooks_dir / f"{COMPARISON_NOTEBOOK}.ipynb"
    want_comparison = compare and comparison_nb.exists() and (not notebooks or COMPARISON_NOTEBOOK in notebooks)
    pkg = package_hash()
    batch = BatchResult()

    taken: dict[str, Path] = {}
    munis = [_identify(f, reports_root=reports_root, taken=taken) for f in folders]
    want_comparison = want_comparison and sum(m.error is None for m in munis) >= 2
    _lock_report_folders(munis, reports_root, error_pages=error_pages, comparison=want_comparison, wait=wait, locks=locks, batch=batch)
    munis = [_plan_notebooks(m, selected=selected, all_notebooks=all_notebooks, pkg_hash=pkg, force=force) for m in munis]
    n_tasks = sum(len(m.planned) for m in munis)
    if workers is None:
        workers = os.cpu_count() or 1
    workers = max(1, min(workers, n_tasks + (1 if want_comparison else 0))) if n_tasks or want_comparison else 1
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=sum(len(m.planned) + len(m.results) for m in munis), desc="ノートブック", unit="nb", file=sys.stderr, dynamic_ncols=True)

    def tick(k: int = 1) -> None:
        if bar is not None:
            bar.update(k)
            bar.set_postfix_str(f"自治体 {sum(m.finished for m in munis)}/{len(munis)}")

    backend = None
    handles: dict = {}
    ready: list = []  # heap of (class, -expected seconds, sequence, fn, arg, kind, obj)
    seq = itertools.count()
    comparison_task: list[NotebookTask] = []

    def schedule(klass: int, expected: float, fn, arg, kind: str, obj) -> None:
        """Queue a task: validations first, then the comparison, then the longest notebooks first."""
        heapq.heappush(ready, (klass, -expected, next(seq), fn, arg, kind, obj))

    def pump() -> None:
        while ready and len(handles) < backend.capacity:
            klass, neg, _, fn, arg, kind, obj = heapq.heappop(ready)
            handles[backend.submit(fn, arg, priority=100 - 10 * klass)] = (kind, obj)

    def finish(muni: _Muni) -> None:
        muni.finished = True
        if muni.error is None:
            if muni.results:  # nothing of this municipality was selected (e.g. only 05): leave its folder alone
                batch.reports[muni.id] = _write_municipality(muni, order)
                batch.results.extend(_audit(muni, order))  # a leak fails the run
        elif error_pages:
            write_error_page(muni.report_dir, name=getattr(muni.cfg, "name", muni.folder.name), error=muni.error)
            batch.reports[muni.id] = muni.report_dir / "index.html"
        tick(0)

    def collect() -> None:
        """Fill ``batch`` with the rows as they stand (also after a stop)."""
        batch.results, batch.input_errors = [], []
        for muni in munis:
            if muni.error is not None:
                batch.input_errors.append(InputErrorRecord(muni.folder, muni.id, muni.error))
            else:
                for nb_path, hashes in muni.planned:  # planned but never finished: stopped by a signal or a write error
                    if nb_path.stem not in muni.results:
                        muni.results[nb_path.stem] = NotebookResult(muni.id, nb_path.stem, "interrupted", hash=hashes["task"], hashes=hashes, reason=muni.reasons.get(nb_path.stem, ""))
                batch.results.extend(muni.results[n] for n in order if n in muni.results)
        if comparison_task and batch.comparison is None:
            task = comparison_task[0]
            batch.comparison = NotebookResult(COMPARISON_ID, COMPARISON_NOTEBOOK, "interrupted", hash=task.hash, hashes=task.hashes, reason=task.reason)
        batch.seconds = round(time.perf_counter() - t_start, 2)

    def stop() -> None:
        """Stop workers and kernels at once, drop this run's scratch folders."""
        _ignore_signals()
        if backend is not None:
            if isinstance(backend, _DaskBackend):
                backend.abort(handles)
            else:
                backend.abort()
        for kind, obj in handles.values():
            task = obj[1] if kind == "notebook" else obj
            if isinstance(task, NotebookTask) and task.work_dir:
                _discard(Path(task.work_dir))

    aborted = False
    try:
        for muni in munis:
            if muni.error is not None:
                tick(len(muni.planned))
                finish(muni)
            elif not muni.needs_validation:
                muni.validated = True  # nothing to run, and these inputs passed validation before
                tick(len(muni.results))
                finish(muni)
            else:
                tick(len(muni.results))
        if any(m.needs_validation and m.error is None for m in munis) or want_comparison:
            backend = _backend(workers, scheduler)
        for muni in munis:
            if muni.needs_validation and muni.error is None:
                schedule(0, 0.0, validate_task, str(muni.folder), "validate", muni)
        comparison_decided = False
        while True:
            if not comparison_decided and all(m.validated or m.error is not None for m in munis):
                comparison_decided = True
                if want_comparison:
                    task = _comparison_task(munis, reports_root, comparison_nb, pkg, force, batch)
                    if isinstance(task, NotebookResult):
                        batch.comparison = task
                        if bar is not None:
                            bar.total += 1
                            tick()
                    elif task is not None:
                        if bar is not None:
                            bar.total += 1
                            bar.refresh()
                        task.cell_timeout = cell_timeout
                        comparison_task.append(task)
                        schedule(1, 0.0, execute_task, task, "comparison", task)
            pump()
            if not handles:
                break
            handle, value, exc = backend.next_done()
            kind, obj = handles.pop(handle)
            if kind == "validate":
                muni = obj
                muni.validated = True
                if exc is not None:
                    value = {"ok": False, "problems": [Problem(file="municipality.yaml", code="bad_value", params={"detail": f"検査が異常終了しました: {first_error_line(exc)}"})], "language": getattr(muni.cfg, "language", "ja"), "n_respondents": 0}
                if not value["ok"]:
                    muni.error = InputError(value["problems"], value["language"])
                    tick(len(muni.planned))
                    finish(muni)
                    continue
                from .report import footer_text

                cfg = muni.cfg
                muni.n_respondents = value["n_respondents"]
                muni.footer = footer_text(municipality=cfg.name, data_date=cfg.data_date, n_respondents=muni.n_respondents, min_group_size=cfg.min_group_size, manifest_hash=muni.inputs_hash, language=cfg.language)
                for nb_path, hashes in muni.planned:
                    task = NotebookTask(cfg.id, str(nb_path.resolve()), str(muni.report_dir.resolve()), {"data_dir": str(muni.folder.resolve())}, cfg.language, muni.footer, hashes["task"], hashes, cell_timeout,
                                        str(staging_dir(muni.report_dir.resolve(), nb_path.stem)), muni.reasons.get(nb_path.stem, ""))
                    expected = float((muni.previous.get(nb_path.stem) or {}).get("seconds") or 0.0)
                    schedule(2, expected, execute_task, task, "notebook", (muni, task))
                    muni.outstanding += 1
                if not muni.planned:
                    finish(muni)
            elif kind == "notebook":
                muni, task = obj
                res = value if exc is None else NotebookResult(muni.id, Path(task.notebook).stem, "failed", error=f"worker: {first_error_line(exc)}", hash=task.hash, hashes=task.hashes, reason=task.reason)
                _commit_task(muni, res, task, order)
                muni.outstanding -= 1
                tick()
                if muni.outstanding == 0:
                    finish(muni)
            else:  # comparison
                task = obj
                res = value if exc is None else NotebookResult(COMPARISON_ID, COMPARISON_NOTEBOOK, "failed", error=f"worker: {first_error_line(exc)}", hash=task.hash, hashes=task.hashes, reason=task.reason)
                with _critical():
                    if res.status in {"ok", "failed"}:
                        try:
                            res.outputs = publish_outputs(Path(task.work_dir), reports_root / COMPARISON_ID, COMPARISON_NOTEBOOK, ok=res.status == "ok")
                            res.stats = output_stats(res.outputs, reports_root / COMPARISON_ID)
                        except OSError:
                            _discard(Path(task.work_dir))
                            raise
                        res.html = _published_html(res)
                    batch.comparison = res
                    _write_comparison(reports_root / COMPARISON_ID, res, task, munis)
                batch.reports[COMPARISON_ID] = reports_root / COMPARISON_ID / "index.html"
                tick()
    except KeyboardInterrupt as exc:
        aborted = True
        stop()
        collect()
        raise RunInterrupted(getattr(exc, "signum", signal.SIGINT), batch) from None
    except OSError as err:
        aborted = True
        stop()
        collect()
        raise ReportWriteError(fsutil.write_error_text(err), batch) from err
    finally:
        if backend is not None and not aborted:
            backend.close()
        if bar is not None:
            bar.close()

    collect()
    return batch


# ----------------------------------------------------------------------------- comparison
def _comparison_task(munis: list[_Muni], reports_root: Path, nb_path: Path, pkg: str, force: bool, batch: BatchResult):
    """The ``05_comparison`` task for the largest group sharing an instrument (or None)."""
    from .compare import instrument_groups

    ok = [m for m in munis if m.error is None and m.item_ids]
    groups = instrument_groups({m.id: m.item_ids for m in ok})
    if not groups or len(groups[0]) < 2:
        if len(ok) >= 2:
            batch.comparison_note = "設問(item id)が共通の自治体が2つ未満のため、比較レポートは作りません。"
        return None
    members = [m for m in ok if m.id in set(groups[0])]
    left = sorted({m.id for m in ok} - set(groups[0]))
    if left:
        batch.comparison_note = f"設問が異なるため比較から除外: {', '.join(left)}"
    report_dir = reports_root / COMPARISON_ID
    data_dirs = [str(m.folder.resolve()) for m in members]
    inputs = _digest(sorted((m.id, m.inputs_hash) for m in members))
    hashes = task_hashes(inputs=inputs, parameters={}, notebook=nb_path, package=pkg)
    prev = {e.get("notebook"): e for e in _read_manifest(report_dir).get("notebooks", []) if isinstance(e, dict)}.get(COMPARISON_NOTEBOOK)
    interrupted = stale_staging(report_dir)
    reusable, why = reuse_verdict(prev, hashes["task"], report_dir)
    if COMPARISON_NOTEBOOK in interrupted and not why:
        why = REASON_INTERRUPTED
    if not force and reusable:
        res = _skipped(prev, COMPARISON_ID, report_dir)
        task = NotebookTask(COMPARISON_ID, str(nb_path.resolve()), str(report_dir.resolve()), {"data_dirs": data_dirs}, members[0].cfg.language, "", hashes["task"], hashes)
        _write_comparison(report_dir, res, task, munis)
        batch.reports[COMPARISON_ID] = report_dir / "index.html"
        return res
    from .report import footer_text

    names = "・".join(m.cfg.name for m in members)
    min_size = max(m.cfg.min_group_size for m in members)
    footer = footer_text(municipality=f"比較: {names}" if members[0].cfg.language != "en" else f"comparison: {names}", min_group_size=min_size, manifest_hash=inputs, language=members[0].cfg.language)
    return NotebookTask(COMPARISON_ID, str(nb_path.resolve()), str(report_dir.resolve()), {"data_dirs": data_dirs}, members[0].cfg.language, footer, hashes["task"], hashes,
                        work_dir=str(staging_dir(report_dir.resolve(), COMPARISON_NOTEBOOK)), reason="" if force else why)


def _write_comparison(report_dir: Path, res: NotebookResult, task: NotebookTask, munis: list[_Muni]) -> None:
    from types import SimpleNamespace

    from .report import write_index

    lang = task.language
    members = [m.id for m in munis if str(m.folder.resolve()) in task.parameters["data_dirs"]]
    manifest = {
        "municipality": COMPARISON_ID,
        "name": "自治体比較" if lang != "en" else "Comparison of municipalities",
        "members": members,
        "package_version": __version__,
        "package_hash": package_hash(),
        "versions": package_versions(),
        "parameters": {"data_dirs": task.parameters["data_dirs"]},
        "footer": task.footer,
        "notebooks": [asdict(res)],
    }
    manifest["footer"] = task.footer or _read_manifest(report_dir).get("footer", "")
    report_dir.mkdir(parents=True, exist_ok=True)
    cfg = SimpleNamespace(name=manifest["name"], language=lang)
    links = []
    for m in munis:
        if m.id in members:
            rel = os.path.relpath(m.report_dir / "index.html", report_dir) if m.report_dir is not None else ""
            links.append(f'<li><a href="{html.escape(Path(rel).as_posix())}">{html.escape(m.cfg.name)}</a></li>')
    head = "比較した自治体" if lang != "en" else "Municipalities compared"
    extra = f'<h2 id="members">{head}</h2><ul>{"".join(links)}</ul>' if links else ""
    write_index(report_dir, cfg=cfg, results=[res], footer=manifest["footer"], extra_html=extra)
    _save_manifest(report_dir, manifest)  # last: it vouches for the files above


# ----------------------------------------------------------------------------- one municipality (API kept)
def run_municipality(folder: Path | str, *, reports_root: Path | str = REPORTS_DIR, notebooks: list[str] | None = None, notebooks_dir: Path = NOTEBOOKS_DIR, force: bool = False) -> list[NotebookResult]:
    """Validate one municipality's inputs, run its notebooks in this process, write the report folder.

    Raises :class:`~dxanalysis.validate.InputError` when the inputs break the data
    contract (before any notebook runs). Returns one :class:`NotebookResult` per notebook
    (``skipped`` when unchanged since the last successful run, unless ``force``).
    """
    batch = run_batch([Path(folder)], reports_root=reports_root, notebooks=notebooks, notebooks_dir=notebooks_dir, workers=1, force=force, progress=False, compare=False, error_pages=False)
    if batch.input_errors:
        raise batch.input_errors[0].error
    return batch.results
