"""Where a run's tasks execute: this process, a pool of worker processes, or a Dask cluster.

Moved out of ``runner.py`` (issue #18, item 5); ``runner`` re-exports the names. A
backend has ``capacity`` (how many tasks to hand it at once), ``submit(fn, *args,
priority=)`` → handle, ``next_done()`` → ``(handle, value, exception)``, ``close()`` and
``abort()`` (stop at once: kill the worker processes and the kernels under them). The
backends know nothing of notebooks; the runner passes the functions and the pool's
worker initializer.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Iterable


# ----------------------------------------------------------------------------- processes
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

    def __init__(self, workers: int, initializer: Callable | None = None):
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"), initializer=initializer)
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
        fut = self.client.submit(_on_warm_kernel, fn, *args, pure=False, priority=priority)
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


def _on_warm_kernel(fn: Callable, *args):
    """Run a task on a Dask worker with warm kernels (:mod:`dxanalysis.executor`) switched on.

    Each worker thread keeps one kernel that has imported the libraries and the package,
    reset before every notebook, as pool workers do: a nationwide batch then pays the
    imports once per worker thread instead of once per notebook (measured in
    docs/performance.md). ``DXANALYSIS_WARM_KERNEL=0`` in the workers' environment turns
    it off. When the worker process exits its kernels are shut down (``atexit``; were the
    worker killed, a kernel still exits by itself: ipykernel watches its parent process).
    """
    from . import executor

    executor.enable_until_exit()
    return fn(*args)


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


def make_backend(workers: int, scheduler: str | None, *, initializer: Callable | None = None):
    """The backend for a run: a Dask cluster at ``scheduler``, this process (``workers <= 1``) or a pool (``initializer`` runs once in each worker)."""
    if scheduler:
        return _DaskBackend(scheduler)
    if workers <= 1:
        return _SerialBackend()
    return _PoolBackend(workers, initializer=initializer)
