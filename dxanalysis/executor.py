"""Execute notebooks on a warm kernel: one kernel per worker, reused notebook after notebook.

A fresh kernel per notebook pays the kernel start and the imports of pandas, matplotlib,
scikit-learn, statsmodels and ``dxanalysis`` every time (≈ 4–6 CPU-s per notebook,
docs/performance.md). :class:`WarmKernel` starts one kernel, imports all of that once
(:data:`WARMUP`), records the state a notebook may change
(:func:`dxanalysis.kernel.snapshot_state`) and, before every notebook, gives it a clean
slate (:func:`dxanalysis.kernel.reset_state`: user namespace, figures, rcParams, warnings
filters, environment, ``sys.path``, numpy/pandas settings, ``dxanalysis`` module globals,
working directory). The notebook itself is run the way papermill runs it (the
parameters cell from ``papermill.parameterize.parameterize_notebook``, papermill's
metadata and cell timings, ``PapermillNotebookClient`` from nbclient with the
pre-started kernel manager), so the executed notebook is the same document.

A kernel whose notebook failed, timed out, or died is shut down; the next notebook (or
the runner's retry) gets a fresh one. After :data:`MAX_NOTEBOOKS` notebooks a kernel is
replaced too (memory that libraries keep grows slowly). Used by pool workers and by a
``workers=1`` run (see ``runner.execute_task``); Dask workers, which may run several
notebooks in threads of one process, keep a kernel per notebook.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

#: Imported once per warm kernel: every library the notebooks use, and the package. Not
#: seaborn (no notebook uses it) nor ``statsmodels.api`` (0.64 CPU-s; the functions that need
#: statsmodels import the module they use — BH q-values, McNemar, the formula interface): a
#: kernel does not pay for what its notebooks never ask for (docs/performance.md, session 6).
WARMUP = """
import warnings as _w
with _w.catch_warnings():
    _w.simplefilter("ignore")
    import numpy, pandas, scipy.stats, matplotlib, matplotlib.pyplot
    import sklearn.cluster, sklearn.mixture, sklearn.preprocessing, sklearn.metrics
    import dxanalysis
    from dxanalysis import audit, cache, compare, config, explore, io, privacy, report, roadmap, segments, survey, text, training, waves
    import dxanalysis.plots
    for _m in ("segments", "survey", "text", "training", "waves", "roadmap", "explore", "style"):
        try:
            __import__("dxanalysis.plots." + _m)
        except ImportError:
            pass
from dxanalysis.kernel import snapshot_state as _s
_s()
"""

#: A warm kernel is replaced after this many notebooks.
MAX_NOTEBOOKS = 25
#: Seconds the warm-up or a reset may take before the kernel counts as broken.
SETUP_TIMEOUT = 300
#: Set to "0" to run every notebook on a kernel of its own (for comparisons).
WARM_ENV = "DXANALYSIS_WARM_KERNEL"

_LOCAL = threading.local()
_ENABLED = [False]
_IDLE: set[int] = set()  # pids of warm kernels between notebooks (the hang watchdog leaves them alone)
_ALL: list[WarmKernel] = []


class KernelSetupError(RuntimeError):
    """The warm kernel could not be started, warmed up or reset (the notebook is then run on a kernel of its own)."""


def enable(on: bool = True) -> None:
    """Use warm kernels in this process (pool workers; the main process of a ``workers=1`` run)."""
    _ENABLED[0] = bool(on)


def enable_until_exit() -> None:
    """:func:`enable`, and shut this process's warm kernels down when it exits (once; a pool or Dask worker)."""
    if not _ENABLED[0]:
        import atexit

        atexit.register(shutdown_all)
        enable()


def enabled() -> bool:
    return _ENABLED[0] and os.environ.get(WARM_ENV, "1") != "0"


def idle_kernel_pids() -> set[int]:
    return set(_IDLE)


def current(kernel_name: str) -> WarmKernel:
    """This thread's warm kernel of the kernelspec ``kernel_name`` (started on first use)."""
    kernel = getattr(_LOCAL, "kernel", None)
    if kernel is None or kernel.kernel_name != kernel_name:
        kernel = _LOCAL.kernel = WarmKernel(kernel_name)
        _ALL.append(kernel)
    return kernel


def shutdown_all() -> None:
    """Stop every warm kernel of this process (end of a run, worker exit)."""
    for kernel in list(_ALL):
        kernel.shutdown()
    _ALL.clear()
    _LOCAL.__dict__.pop("kernel", None)


def _run_sync(fn):
    from jupyter_core.utils import run_sync

    return run_sync(fn)


class WarmKernel:
    """One kernel, warmed up once, reset before every notebook."""

    def __init__(self, kernel_name: str):
        self.kernel_name = kernel_name
        self.km = None
        self.pid: int | None = None
        self.notebooks = 0  # notebooks run on the current kernel
        self.started = 0  # kernels started (tests: two notebooks on one kernel)

    # ------------------------------------------------------------------ life cycle
    def alive(self) -> bool:
        if self.km is None:
            return False
        try:
            return bool(_run_sync(self.km.is_alive)())
        except Exception:  # noqa: BLE001
            return False

    def _start(self) -> None:
        from jupyter_client.manager import AsyncKernelManager

        self.shutdown()
        km = AsyncKernelManager(kernel_name=self.kernel_name)
        _run_sync(km.start_kernel)(cwd=os.getcwd())
        self.km, self.notebooks = km, 0
        self.started += 1
        self.pid = getattr(km.provisioner, "pid", None)
        try:
            self._execute(WARMUP)
        except BaseException:
            self.shutdown()
            raise

    def shutdown(self) -> None:
        """Stop the kernel now (kill if it does not stop); nothing happens without one."""
        km, self.km = self.km, None
        if self.pid is not None:
            _IDLE.discard(self.pid)
        pid, self.pid = self.pid, None
        if km is None:
            return
        try:
            _run_sync(km.shutdown_kernel)(now=True)
        except Exception:  # noqa: BLE001 - already dead, or the loop is gone: kill by pid below
            pass
        if pid is not None:
            try:
                import psutil

                psutil.Process(pid).kill()
            except Exception:  # noqa: BLE001 - gone, as it should be
                pass

    def _execute(self, code: str) -> None:
        """Run ``code`` silently on the kernel; raise :class:`KernelSetupError` if it fails."""
        kc = self.km.client()  # an asynchronous client, as nbclient uses
        kc.start_channels()
        try:
            _run_sync(kc.wait_for_ready)(timeout=SETUP_TIMEOUT)
            reply = _run_sync(kc.execute_interactive)(code, silent=False, store_history=False, allow_stdin=False, timeout=SETUP_TIMEOUT, output_hook=lambda msg: None)
        except Exception as exc:  # noqa: BLE001 - timeout or a dead kernel
            raise KernelSetupError(f"kernel setup: {type(exc).__name__}: {exc}") from exc
        finally:
            kc.stop_channels()
        content = reply.get("content", {})
        if content.get("status") != "ok":
            raise KernelSetupError(f"kernel setup: {content.get('ename')}: {content.get('evalue')}")

    def prepare(self, cwd: Path) -> None:
        """A live, warmed-up kernel with a clean slate in ``cwd``."""
        if self.km is None or self.notebooks >= MAX_NOTEBOOKS or not self.alive():
            self._start()
        # into the new folder first: the last notebook's scratch folder is gone, and an import looks at '' (the cwd)
        code = f"import os\nos.chdir({str(cwd)!r})\nimport dxanalysis.kernel\ndxanalysis.kernel.reset_state({str(cwd)!r})\n"
        try:
            self._execute(code)
        except KernelSetupError:
            self._start()  # one fresh kernel, then give up
            self._execute(code)

    # ------------------------------------------------------------------ one notebook
    def execute_notebook(self, nb_path: Path, out_path: Path, parameters: dict, *, cwd: Path, cell_timeout: int | None) -> None:
        """Run one notebook as papermill would, on this kernel; raise what papermill raises.

        The kernel is shut down after a failure of any kind (a cell error, a time-out, a
        dead kernel), so nothing of a broken notebook can reach the next one.
        """
        from papermill.clientwrap import PapermillNotebookClient
        from papermill.engines import NotebookExecutionManager
        from papermill.execute import prepare_notebook_metadata, raise_for_execution_errors, remove_error_markers
        from papermill.iorw import load_notebook_node, write_ipynb
        from papermill.log import logger
        from papermill.parameterize import parameterize_notebook

        nb = load_notebook_node(str(nb_path))
        if parameters:
            nb = parameterize_notebook(nb, parameters, False, kernel_name=self.kernel_name)
        nb = prepare_notebook_metadata(nb, str(nb_path), str(out_path), False)
        nb = remove_error_markers(nb)
        ok = False
        try:
            self.prepare(Path(cwd))
        except KernelSetupError:
            self.shutdown()
            raise
        if self.pid is not None:
            _IDLE.discard(self.pid)
        try:
            nb_man = NotebookExecutionManager(nb, output_path=None, progress_bar=False, log_output=False)
            nb_man.notebook_start()
            client = PapermillNotebookClient(nb_man, km=self.km, timeout=cell_timeout or None, startup_timeout=60, kernel_name=self.kernel_name, log=logger, log_output=False,
                                             resources={"metadata": {"path": str(cwd)}})
            try:
                client.execute()
            finally:
                if client.kc is not None:
                    client.kc.stop_channels()
                nb_man.cleanup_pbar()
                nb_man.notebook_complete()
            self.notebooks += 1
            raise_for_execution_errors(nb_man.nb, str(out_path))  # writes the notebook with the error, then raises
            write_ipynb(nb_man.nb, str(out_path))
            ok = True
        finally:
            if ok:
                if self.pid is not None:
                    _IDLE.add(self.pid)
            else:
                self.shutdown()
