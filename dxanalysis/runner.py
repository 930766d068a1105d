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
after all its notebooks finished; then the privacy audit reads the finished folder (in a
worker when there is a pool or a cluster: :func:`audit_task`; its verdict is kept by this
process). When two or more municipalities that share an
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
import re
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import __version__, executor, fsutil
from .config import NOTEBOOKS, NOTEBOOKS_DIR, PACKAGE_DIR, REPORTS_DIR, load_codebook, load_config, municipality_folders, package_hash  # noqa: F401 (municipality_folders, package_hash: moved to config, re-exported)
from .backends import SchedulerUnavailable, _DaskBackend, _descendants, _exit_with_parent, _is_kernel, _kill_processes, _PoolBackend, _probe, _processes, _SerialBackend, make_backend  # noqa: F401 (moved to backends.py, re-exported)
from .manifest import (  # noqa: F401 (moved to manifest.py, re-exported)
    PATH_PARAMETERS,
    REASON_INTERRUPTED,
    REASON_MISSING,
    REASONS_EN,
    NotebookResult,
    _digest,
    _reusable,
    _stat,
    audit_digest,
    build_manifest,
    file_hash,
    input_hashes,
    inputs_digest,
    output_problems,
    output_stats,
    package_versions,
    read_manifest,
    reuse_verdict,
    save_manifest,
    skipped_result,
    tables_digest,
    task_hashes,
)
from .runlock import ReportLock, ReportsLocked
from .validate import InputError, Problem

_skipped = skipped_result  # old names, still importable
_read_manifest = read_manifest
_save_manifest = save_manifest
_manifest = build_manifest
_backend = make_backend

KERNEL_NAME = "dxanalysis-python"
#: Set to "1" in the kernels the runner starts (papermill, no front end). Interactive
#: widgets are stripped from the HTML anyway; building them headless has also been where
#: ipykernel 7 kernels hung (see HUNG_KERNEL_IDLE), so widget code may skip on it.
HEADLESS_ENV = "DXANALYSIS_HEADLESS"
#: The cross-municipality notebook and its report folder (``reports/_comparison``).
COMPARISON_NOTEBOOK = "05_comparison"
COMPARISON_ID = "_comparison"
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

    In a pool worker or a ``workers=1`` run (:func:`executor.enabled`) the notebook runs on
    the process's warm kernel (:class:`executor.WarmKernel`: imports done once, state reset
    before each notebook); otherwise, and when the warm kernel cannot be set up, on a
    kernel of its own started by papermill.

    The kernel's working directory is set through nbclient's ``resources`` instead of
    papermill's ``cwd`` (which calls ``os.chdir`` for the whole process and so races when
    a Dask worker runs several notebooks in threads). ``cell_timeout`` (seconds, 0 = none)
    limits each cell.
    """
    _lighten_imports()
    _start_watchdog()
    if executor.enabled():
        try:
            executor.current(ensure_kernel()).execute_notebook(nb_path, out_path, parameters, cwd=cwd, cell_timeout=cell_timeout)
            return
        except executor.KernelSetupError:
            pass  # the warm kernel could not be set up: this notebook gets a kernel of its own
    import papermill as pm

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
        idle = executor.idle_kernel_pids()  # warm kernels waiting for their next notebook are idle by design
        for child in me.children(recursive=False):
            if child.pid in idle:
                seen.pop(child.pid, None)
                continue
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



def _failpoint(name: str) -> None:
    """Fault injection for the fault tests: kill this run's process group at a named point.

    Active only when the environment variable ``DXANALYSIS_FAILPOINT`` equals ``name``
    (points: ``before_html``, ``after_html``, ``mid_publish``, ``before_manifest``,
    ``before_index``). It simulates a crash, an out-of-memory kill or a power cut.
    """
    if os.environ.get("DXANALYSIS_FAILPOINT") == name and hasattr(os, "killpg"):
        import signal

        os.killpg(os.getpgid(0), signal.SIGKILL)


def validate_task(arg: tuple[str, str]) -> dict:
    """Worker entry point: load and validate one municipality folder.

    ``arg`` is ``(folder, report folder)``: the validated municipality is kept in the report
    folder's cache (:func:`dxanalysis.io.load_municipality`), and the run's notebooks, which
    load it with ``cache=report_dir``, unpickle it instead of reading the inputs again.

    Returns ``{"ok", "problems", "language", "n_respondents"}``; problems are returned,
    not raised, because an exception loses its problem list when pickled back.
    """
    from .io import load_municipality

    folder, report_dir = arg
    try:
        m = load_municipality(folder, cache=report_dir)
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
    executor.enable_until_exit()  # warm kernels, shut down when the worker exits





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
    index_source: str = ""  # digest of what index.html was last built from (index_digest)
    index_stat: list | None = None  # [size, mtime_ns, inode] of that index.html
    audited: str = ""  # digest of the shared files the last passed privacy audit saw (audit_digest)
    audit_rows: list = field(default_factory=list)  # the privacy audit's failed row of this run (or none)


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
    muni.hashes = input_hashes(folder)
    muni.inputs_hash = inputs_digest(muni.hashes)
    muni.interrupted = stale_staging(muni.report_dir)
    manifest = read_manifest(muni.report_dir)
    recorded = manifest.get("item_ids")
    if manifest.get("inputs_hash") == muni.inputs_hash and isinstance(recorded, list):
        muni.item_ids = tuple(recorded)  # same inputs, same codebook: parsing the YAML again was most of an unchanged run
    else:
        try:
            muni.item_ids = tuple(load_codebook(cfg.input_path("codebook"), cfg.language).item_ids)
        except InputError:
            muni.item_ids = None  # validation reports it
    muni.tables_source = manifest.get("tables_source", "")
    muni.index_source, muni.index_stat = manifest.get("index_source", ""), manifest.get("index_stat")
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
            muni.results[nb_path.stem] = skipped_result(prev, cfg.id, muni.report_dir)
            continue
        if nb_path.stem in muni.interrupted and not why.startswith(REASON_MISSING):
            why = why or REASON_INTERRUPTED
        if why and not force:
            muni.reasons[nb_path.stem] = why if cfg.language != "en" else why.replace(REASON_MISSING, REASONS_EN[REASON_MISSING]).replace(REASON_INTERRUPTED, REASONS_EN[REASON_INTERRUPTED])
        muni.planned.append((nb_path, hashes))
    # inputs identical to those of a recorded run passed validation then; skip it (it is the slow part of a no-op run)
    muni.needs_validation = bool(muni.planned) or not same_inputs or not muni.footer
    return muni


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
                save_manifest(muni.report_dir, build_manifest(muni, order, final=False, publishing=res.notebook))
                res.outputs = publish_outputs(Path(task.work_dir), muni.report_dir, res.notebook, ok=res.status == "ok")
                res.stats = output_stats(res.outputs, muni.report_dir)
            except OSError:  # rolled back: the manifest goes back to what it was, so the folder is exactly as before
                _restore(path, before)
                _discard(Path(task.work_dir))
                raise
            res.html = _published_html(res)
        muni.results[res.notebook] = res
        _failpoint("before_manifest")
        save_manifest(muni.report_dir, build_manifest(muni, order, final=False))


def _restore(path: Path, before: bytes | None) -> None:
    """Put a file back as it was (best effort: if this fails too, the publishing mark makes the next run re-run the task)."""
    try:
        if before is None:
            path.unlink(missing_ok=True)
        else:
            fsutil.atomic_write_bytes(path, before)
    except OSError:
        pass


def _audit_key(muni: _Muni) -> str | None:
    """The digest the privacy audit would vouch for, or None when the audit can be skipped (nothing ran and the files are those of the last passed audit)."""
    key = audit_digest(muni)
    ran = any(r.status in {"ok", "failed"} for r in muni.results.values())
    return None if not ran and key == muni.audited else key


def _record_audit(muni: _Muni, order: list[str], key: str, rows: list, findings_csv: str | None) -> None:
    """Keep the audit's verdict: its findings in ``private/``, a failed row, or (passed) the digest in the manifest."""
    with _critical():
        if findings_csv is not None:
            write_audit_findings(muni.report_dir, findings_csv)
        muni.audit_rows = list(rows)
        if not rows:
            muni.audited = key
            save_manifest(muni.report_dir, build_manifest(muni, order, final=True))


def _audit(muni: _Muni, order: list[str]) -> list:
    """The privacy audit in this process: its failed rows (none when it passes or is skipped)."""
    key = _audit_key(muni)
    if key is None:
        return []
    rows = audit_failed_rows(muni.report_dir, municipality=muni.id, language=muni.cfg.language)
    _record_audit(muni, order, key, rows, None)
    return rows


def _shown_by_index(results: list[NotebookResult]) -> list:
    """What an index shows of its notebooks: the rows (status, link, error) and the findings files' hashes."""
    findings = sorted((k, v) for r in results for k, v in (r.outputs or {}).items() if k.startswith("findings/"))
    return [[(r.notebook, r.status, r.html, r.error) for r in results], findings]


def _index_outdated(index: Path, results: list[NotebookResult], key: str, recorded_key: str | None, recorded_stat) -> bool:
    """Rewrite ``index.html``? When a notebook ran, what it shows changed, or the file is not the one written then."""
    ran = any(r.status in {"ok", "failed"} for r in results)
    return ran or key != recorded_key or _stat(index) is None or _stat(index) != recorded_stat


def index_digest(muni: _Muni, results: list[NotebookResult]) -> str:
    """Everything ``index.html`` is built from: the rows (status, link, error), the findings files' hashes, the footer, tables.xlsx, the package."""
    cfg = muni.cfg
    return _digest([*_shown_by_index(results), muni.footer, (muni.report_dir / "tables.xlsx").exists(), cfg.name, cfg.language, package_hash()])


def _write_municipality(muni: _Muni, order: list[str]) -> Path:
    """tables.xlsx, index.html, then manifest.json of one municipality, after all its notebooks finished.

    ``index.html`` is rewritten only when what it shows changed (:func:`index_digest`) or the
    file is not the one written then (size, mtime, inode): a second unchanged run imports
    neither the report module nor pandas.
    """
    cfg = muni.cfg
    rows = {**muni.carried, **muni.results}
    results = [rows[n] for n in order if n in rows] + [r for n, r in rows.items() if n not in order]
    muni.report_dir.mkdir(parents=True, exist_ok=True)
    source = tables_digest(results)
    ran = any(r.status in {"ok", "failed"} for r in muni.results.values())
    if ran or source != muni.tables_source or not (muni.report_dir / "tables.xlsx").exists():  # unchanged tables: keep the workbook (2-3 s each)
        _failpoint("before_index")
        from .report import write_tables_xlsx

        write_tables_xlsx(muni.report_dir, language=cfg.language)  # every shared table, a sheet each, for slides
    index = muni.report_dir / "index.html"
    key = index_digest(muni, results)
    if _index_outdated(index, list(muni.results.values()), key, muni.index_source, muni.index_stat):
        from .report import write_index

        index = write_index(muni.report_dir, cfg=cfg, results=results, footer=muni.footer)
        muni.index_source, muni.index_stat = key, _stat(index)
    muni.tables_source = source
    save_manifest(muni.report_dir, build_manifest(muni, order, final=True))  # last: it vouches for everything above
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
    rows, findings_csv = audit_verdict(report_dir, municipality=municipality, language=language)
    write_audit_findings(report_dir, findings_csv)
    return rows


def write_audit_findings(report_dir: Path | str, findings_csv: str) -> None:
    """``private/audit_findings.csv`` (UTF-8 with BOM, for Excel)."""
    fsutil.atomic_write_bytes(Path(report_dir) / "private" / "audit_findings.csv", ("\ufeff" + findings_csv).encode("utf-8"))


def audit_task(args: tuple[str, str, str]) -> tuple[list, str]:
    """Worker entry point: :func:`audit_verdict` of ``(report_dir, municipality, language)``.

    Reads the published folder and writes nothing: the main process keeps the verdict
    (:func:`_record_audit`), so the one process that writes a report folder stays the
    one holding its lock, and a large cluster audits many municipalities at once.
    """
    report_dir, municipality, language = args
    return audit_verdict(report_dir, municipality=municipality, language=language)


def audit_verdict(report_dir: Path | str, *, municipality: str, language: str = "ja") -> tuple[list, str]:
    """:func:`audit_failed_rows` without writing: (failed rows, the findings as CSV text)."""
    from .audit import audit_report

    t0 = time.perf_counter()
    result = audit_report(report_dir)
    findings_csv = result.findings.to_csv(index=False, lineterminator="\n")
    if result.ok:
        return [], findings_csv
    kinds = "、".join(f"{k} {v}件" for k, v in result.findings["reason"].value_counts().items())
    msg = (f"プライバシー監査で共有ファイルに問題が見つかりました({kinds})。このフォルダを共有しないでください。"
           f"詳細: dxanalysis audit {report_dir}" if language != "en" else
           f"privacy audit found problems in the shared files ({kinds}); do not share this folder. Details: dxanalysis audit {report_dir}")
    return [NotebookResult(municipality, AUDIT_NOTEBOOK, "failed", round(time.perf_counter() - t0, 2), msg)], findings_csv


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
    _lighten_imports()  # the index and the shared notebooks import nbformat in this process too
    with stop_on_signals(), ExitStack() as locks:
        return _BatchRun(folders, reports_root=Path(reports_root), notebooks=notebooks, notebooks_dir=Path(notebooks_dir), workers=workers, scheduler=scheduler, force=force,
                         progress=progress, compare=compare, error_pages=error_pages, cell_timeout=cell_timeout, wait=wait, locks=locks).run()


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


class _BatchRun:
    """One call of :func:`run_batch`: plan every municipality, hand tasks to a backend, publish as they finish.

    ``run()`` is the loop; the steps it uses are methods: ``schedule``/``pump`` (a
    priority queue in front of the backend: validations first, then the comparison,
    then the longest notebooks first), ``on_validated``/``on_notebook``/``on_comparison``
    (what a finished task leads to), ``finish`` (a municipality's tables.xlsx,
    index.html, manifest and audit), ``collect`` (the rows as they stand, also after a
    stop) and ``stop`` (workers and kernels killed, scratch folders dropped).
    """

    def __init__(self, folders, *, reports_root: Path, notebooks, notebooks_dir: Path, workers, scheduler, force, progress, compare, error_pages, cell_timeout, wait, locks: ExitStack):
        self.t_start = time.perf_counter()
        self.reports_root, self.scheduler, self.force, self.cell_timeout = reports_root, scheduler, force, cell_timeout
        folders = [Path(f) for f in folders]
        all_notebooks = notebook_paths(None, notebooks_dir)
        selected = notebook_paths([n for n in (notebooks or []) if n != COMPARISON_NOTEBOOK], notebooks_dir) if notebooks else all_notebooks
        if notebooks and all(n == COMPARISON_NOTEBOOK for n in notebooks):
            selected = []
        self.order = [p.stem for p in all_notebooks]
        self.comparison_nb = notebooks_dir / f"{COMPARISON_NOTEBOOK}.ipynb"
        want_comparison = compare and self.comparison_nb.exists() and (not notebooks or COMPARISON_NOTEBOOK in notebooks)
        self.pkg = package_hash()
        self.batch = BatchResult()
        self.error_pages = error_pages

        taken: dict[str, Path] = {}
        munis = [_identify(f, reports_root=reports_root, taken=taken) for f in folders]
        self.want_comparison = want_comparison and sum(m.error is None for m in munis) >= 2
        _lock_report_folders(munis, reports_root, error_pages=error_pages, comparison=self.want_comparison, wait=wait, locks=locks, batch=self.batch)
        self.munis = [_plan_notebooks(m, selected=selected, all_notebooks=all_notebooks, pkg_hash=self.pkg, force=force) for m in munis]
        n_tasks = sum(len(m.planned) for m in self.munis)
        if workers is None:
            workers = os.cpu_count() or 1
        self.workers = max(1, min(workers, n_tasks + (1 if self.want_comparison else 0))) if n_tasks or self.want_comparison else 1
        self.bar = None
        if progress:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=sum(len(m.planned) + len(m.results) for m in self.munis), desc="ノートブック", unit="nb", file=sys.stderr, dynamic_ncols=True)
        self.backend = None
        self.handles: dict = {}
        self.ready: list = []  # heap of (class, -expected seconds, sequence, fn, arg, kind, obj)
        self.seq = itertools.count()
        self.comparison_task: list[NotebookTask] = []

    # ------------------------------------------------------------------ bookkeeping
    def tick(self, k: int = 1) -> None:
        if self.bar is not None:
            self.bar.update(k)
            self.bar.set_postfix_str(f"自治体 {sum(m.finished for m in self.munis)}/{len(self.munis)}")

    def schedule(self, klass: int, expected: float, fn, arg, kind: str, obj) -> None:
        """Queue a task: validations first, then the comparison, then the longest notebooks first."""
        heapq.heappush(self.ready, (klass, -expected, next(self.seq), fn, arg, kind, obj))

    def pump(self) -> None:
        while self.ready and len(self.handles) < self.backend.capacity:
            klass, neg, _, fn, arg, kind, obj = heapq.heappop(self.ready)
            self.handles[self.backend.submit(fn, arg, priority=100 - 10 * klass)] = (kind, obj)

    def finish(self, muni: _Muni) -> None:
        muni.finished = True
        if muni.error is None:
            if muni.results:  # nothing of this municipality was selected (e.g. only 05): leave its folder alone
                self.batch.reports[muni.id] = _write_municipality(muni, self.order)
                self.audit(muni)  # a leak fails the run
        elif self.error_pages:
            write_error_page(muni.report_dir, name=getattr(muni.cfg, "name", muni.folder.name), error=muni.error)
            self.batch.reports[muni.id] = muni.report_dir / "index.html"
        self.tick(0)

    def audit(self, muni: _Muni) -> None:
        """The privacy audit of a finished municipality: in a worker when there is a pool or a cluster (the main process only keeps the verdict), else here."""
        key = _audit_key(muni)
        if key is None:
            return
        if self.backend is None or isinstance(self.backend, _SerialBackend):
            _audit(muni, self.order)
            return
        self.schedule(1, 0.0, audit_task, (str(muni.report_dir.resolve()), muni.id, muni.cfg.language), "audit", (muni, key))

    def on_audit(self, muni: _Muni, key: str, value, exc) -> None:
        if exc is not None:  # the audit itself broke: no verdict, so the run fails
            value = ([NotebookResult(muni.id, AUDIT_NOTEBOOK, "failed", error=f"worker: {first_error_line(exc)}")], None)
        _record_audit(muni, self.order, key, *value)

    def collect(self) -> None:
        """Fill ``batch`` with the rows as they stand (also after a stop)."""
        batch = self.batch
        batch.results, batch.input_errors = [], []
        for muni in self.munis:
            if muni.error is not None:
                batch.input_errors.append(InputErrorRecord(muni.folder, muni.id, muni.error))
            else:
                for nb_path, hashes in muni.planned:  # planned but never finished: stopped by a signal or a write error
                    if nb_path.stem not in muni.results:
                        muni.results[nb_path.stem] = NotebookResult(muni.id, nb_path.stem, "interrupted", hash=hashes["task"], hashes=hashes, reason=muni.reasons.get(nb_path.stem, ""))
                batch.results.extend(muni.results[n] for n in self.order if n in muni.results)
                batch.results.extend(muni.audit_rows)
        if self.comparison_task and batch.comparison is None:
            task = self.comparison_task[0]
            batch.comparison = NotebookResult(COMPARISON_ID, COMPARISON_NOTEBOOK, "interrupted", hash=task.hash, hashes=task.hashes, reason=task.reason)
        batch.seconds = round(time.perf_counter() - self.t_start, 2)

    def stop(self) -> None:
        """Stop workers and kernels at once, drop this run's scratch folders."""
        _ignore_signals()
        if self.backend is not None:
            if isinstance(self.backend, _DaskBackend):
                self.backend.abort(self.handles)
            else:
                self.backend.abort()
        for kind, obj in self.handles.values():
            task = obj[1] if kind == "notebook" else obj
            if isinstance(task, NotebookTask) and task.work_dir:
                _discard(Path(task.work_dir))

    # ------------------------------------------------------------------ what a finished task leads to
    def decide_comparison(self) -> None:
        """Once every municipality is validated (or broken): skip, reuse or queue ``05_comparison``."""
        if not self.want_comparison:
            return
        task = _comparison_task(self.munis, self.reports_root, self.comparison_nb, self.pkg, self.force, self.batch)
        if isinstance(task, NotebookResult):
            self.batch.comparison = task
            if self.bar is not None:
                self.bar.total += 1
                self.tick()
        elif task is not None:
            if self.bar is not None:
                self.bar.total += 1
                self.bar.refresh()
            task.cell_timeout = self.cell_timeout
            self.comparison_task.append(task)
            self.schedule(1, 0.0, execute_task, task, "comparison", task)

    def on_validated(self, muni: _Muni, value, exc) -> None:
        muni.validated = True
        if exc is not None:
            value = {"ok": False, "problems": [Problem(file="municipality.yaml", code="bad_value", params={"detail": f"検査が異常終了しました: {first_error_line(exc)}"})], "language": getattr(muni.cfg, "language", "ja"), "n_respondents": 0}
        if not value["ok"]:
            muni.error = InputError(value["problems"], value["language"])
            self.tick(len(muni.planned))
            self.finish(muni)
            return
        from .report import footer_text

        cfg = muni.cfg
        muni.n_respondents = value["n_respondents"]
        muni.footer = footer_text(municipality=cfg.name, data_date=cfg.data_date, n_respondents=muni.n_respondents, min_group_size=cfg.min_group_size, manifest_hash=muni.inputs_hash, language=cfg.language)
        for nb_path, hashes in muni.planned:
            task = NotebookTask(cfg.id, str(nb_path.resolve()), str(muni.report_dir.resolve()), {"data_dir": str(muni.folder.resolve())}, cfg.language, muni.footer, hashes["task"], hashes, self.cell_timeout,
                                str(staging_dir(muni.report_dir.resolve(), nb_path.stem)), muni.reasons.get(nb_path.stem, ""))
            expected = float((muni.previous.get(nb_path.stem) or {}).get("seconds") or 0.0)
            self.schedule(2, expected, execute_task, task, "notebook", (muni, task))
            muni.outstanding += 1
        if not muni.planned:
            self.finish(muni)

    def on_notebook(self, muni: _Muni, task: NotebookTask, value, exc) -> None:
        res = value if exc is None else NotebookResult(muni.id, Path(task.notebook).stem, "failed", error=f"worker: {first_error_line(exc)}", hash=task.hash, hashes=task.hashes, reason=task.reason)
        _commit_task(muni, res, task, self.order)
        muni.outstanding -= 1
        self.tick()
        if muni.outstanding == 0:
            self.finish(muni)

    def on_comparison(self, task: NotebookTask, value, exc) -> None:
        reports_root = self.reports_root
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
            self.batch.comparison = res
            _write_comparison(reports_root / COMPARISON_ID, res, task, self.munis)
        self.batch.reports[COMPARISON_ID] = reports_root / COMPARISON_ID / "index.html"
        self.tick()

    # ------------------------------------------------------------------ the loop
    def run(self) -> BatchResult:
        munis = self.munis
        aborted = False
        warm = executor._ENABLED[0]
        try:
            for muni in munis:
                if muni.error is not None:
                    self.tick(len(muni.planned))
                    self.finish(muni)
                elif not muni.needs_validation:
                    muni.validated = True  # nothing to run, and these inputs passed validation before
                    self.tick(len(muni.results))
                    self.finish(muni)
                else:
                    self.tick(len(muni.results))
            if any(m.needs_validation and m.error is None for m in munis) or self.want_comparison:
                self.backend = make_backend(self.workers, self.scheduler, initializer=_worker_init)
                if isinstance(self.backend, _SerialBackend):
                    executor.enable()  # one warm kernel in this process for this run's notebooks
            for muni in munis:
                if muni.needs_validation and muni.error is None:
                    self.schedule(0, 0.0, validate_task, (str(muni.folder), str(muni.report_dir)), "validate", muni)
            comparison_decided = False
            while True:
                if not comparison_decided and all(m.validated or m.error is not None for m in munis):
                    comparison_decided = True
                    self.decide_comparison()
                self.pump()
                if not self.handles:
                    break
                handle, value, exc = self.backend.next_done()
                kind, obj = self.handles.pop(handle)
                if kind == "validate":
                    self.on_validated(obj, value, exc)
                elif kind == "notebook":
                    self.on_notebook(*obj, value, exc)
                elif kind == "audit":
                    self.on_audit(*obj, value, exc)
                else:
                    self.on_comparison(obj, value, exc)
        except KeyboardInterrupt as exc:
            aborted = True
            self.stop()
            self.collect()
            raise RunInterrupted(getattr(exc, "signum", signal.SIGINT), self.batch) from None
        except OSError as err:
            aborted = True
            self.stop()
            self.collect()
            raise ReportWriteError(fsutil.write_error_text(err), self.batch) from err
        finally:
            if self.backend is not None and not aborted:
                self.backend.close()
            if isinstance(self.backend, _SerialBackend):
                executor.shutdown_all()
                executor.enable(warm)
            if self.bar is not None:
                self.bar.close()
        self.collect()
        return self.batch


# ----------------------------------------------------------------------------- comparison
def _comparison_task(munis: list[_Muni], reports_root: Path, nb_path: Path, pkg: str, force: bool, batch: BatchResult):
    """The ``05_comparison`` task for the largest group sharing an instrument (or None)."""
    from .config import instrument_groups

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
    prev = {e.get("notebook"): e for e in read_manifest(report_dir).get("notebooks", []) if isinstance(e, dict)}.get(COMPARISON_NOTEBOOK)
    interrupted = stale_staging(report_dir)
    reusable, why = reuse_verdict(prev, hashes["task"], report_dir)
    if COMPARISON_NOTEBOOK in interrupted and not why:
        why = REASON_INTERRUPTED
    if not force and reusable:
        res = skipped_result(prev, COMPARISON_ID, report_dir)
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
    """``index.html`` and ``manifest.json`` of the comparison; the index is rewritten only when
    what it shows changed or the file is not the one written then (as :func:`_write_municipality`),
    so an unchanged re-run imports neither the report module nor pandas."""
    from types import SimpleNamespace

    lang = task.language
    previous = read_manifest(report_dir)
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
    manifest["footer"] = task.footer or previous.get("footer", "")
    report_dir.mkdir(parents=True, exist_ok=True)
    cfg = SimpleNamespace(name=manifest["name"], language=lang)
    links = []
    for m in munis:
        if m.id in members:
            rel = os.path.relpath(m.report_dir / "index.html", report_dir) if m.report_dir is not None else ""
            links.append(f'<li><a href="{html.escape(Path(rel).as_posix())}">{html.escape(m.cfg.name)}</a></li>')
    head = "比較した自治体" if lang != "en" else "Municipalities compared"
    extra = f'<h2 id="members">{head}</h2><ul>{"".join(links)}</ul>' if links else ""
    index = report_dir / "index.html"
    key = _digest([*_shown_by_index([res]), extra, manifest["footer"], cfg.name, lang, package_hash()])
    if _index_outdated(index, [res], key, previous.get("index_source"), previous.get("index_stat")):
        from .report import write_index

        index = write_index(report_dir, cfg=cfg, results=[res], footer=manifest["footer"], extra_html=extra)
    manifest["index_source"], manifest["index_stat"] = key, _stat(index)
    save_manifest(report_dir, manifest)  # last: it vouches for the files above


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
