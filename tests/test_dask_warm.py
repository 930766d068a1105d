"""Notebooks sent to Dask workers run on the worker's warm kernel (imports paid once per worker thread)."""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.slow
distributed = pytest.importorskip("distributed")


def _pid_notebook(path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell('out: str = ""', metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("import os, pathlib\npathlib.Path(out).write_text(str(os.getpid()))\nleak = 1")]
    nbformat.write(nb, str(path))


def _run(nb: str, out: str, pid_file: str, cwd: str) -> int:
    """One notebook through the runner's notebook executor, on whatever kernel the worker gives it."""
    import os
    from pathlib import Path

    from dxanalysis import runner

    runner.execute_notebook(Path(nb), Path(out), {"out": pid_file}, cwd=Path(cwd))
    return os.getpid()


def test_dask_worker_reuses_one_warm_kernel_and_it_ends_with_the_worker(tmp_path):
    import psutil
    from distributed import LocalCluster

    from dxanalysis.backends import _DaskBackend

    nb = tmp_path / "pid.ipynb"
    _pid_notebook(nb)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        backend = _DaskBackend(cluster.scheduler_address)
        try:
            workers, kernels = [], []
            for i in range(2):
                backend.submit(_run, str(nb), str(tmp_path / f"out{i}.ipynb"), str(tmp_path / f"pid{i}"), str(tmp_path))
                _, worker_pid, exc = backend.next_done()
                assert exc is None, exc
                workers.append(worker_pid)
                kernels.append(int((tmp_path / f"pid{i}").read_text()))
        finally:
            backend.close()
        assert workers[0] == workers[1]
        assert kernels[0] == kernels[1] != workers[0], "the second notebook did not run on the first one's (warm) kernel"
        assert psutil.pid_exists(kernels[0])
    deadline = time.monotonic() + 15
    while psutil.pid_exists(kernels[0]) and psutil.Process(kernels[0]).status() != psutil.STATUS_ZOMBIE and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not psutil.pid_exists(kernels[0]) or psutil.Process(kernels[0]).status() == psutil.STATUS_ZOMBIE, "the warm kernel outlived its Dask worker"
