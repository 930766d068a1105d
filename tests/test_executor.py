"""A warm kernel runs notebook after notebook without letting one see another's state."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_batch import MINI_01, _notebook

from dxanalysis import executor, runner

pytestmark = pytest.mark.slow  # every test starts kernels and runs notebooks: make test, not make test-fast

LEAKER = """
import os, warnings, matplotlib, matplotlib.pyplot as plt
import dxanalysis.config, dxanalysis.report
secret = 42
matplotlib.rcParams["axes.titlesize"] = 31
matplotlib.rcParams["font.size"] = 17
fig = plt.figure()
os.makedirs("elsewhere", exist_ok=True)
os.chdir("elsewhere")
warnings.filterwarnings("error", message="leaked filter")
os.environ["DX_LEAK"] = "1"
dxanalysis.config.LEAKED_GLOBAL = 1
dxanalysis.config.NOTEBOOKS = ["leaked"]
import numpy as np
np.seterr(all="raise")
import pandas as pd
pd.set_option("display.max_rows", 3)
import sys
sys.path.insert(0, "/leaked/path")
"leaked-output-" + "value"
"""

CHECKER = """
import os, sys, warnings, matplotlib, matplotlib.pyplot as plt
import numpy as np, pandas as pd
import dxanalysis.config
seen = {
    "secret": "secret" in globals(),
    "titlesize": matplotlib.rcParams["axes.titlesize"],
    "font.size": matplotlib.rcParams["font.size"],
    "figures": plt.get_fignums(),
    "cwd": os.getcwd(),
    "filter": any(f[0] == "error" and getattr(f[1], "pattern", "") == "leaked filter" for f in warnings.filters),
    "env": os.environ.get("DX_LEAK"),
    "leaked_global": hasattr(dxanalysis.config, "LEAKED_GLOBAL"),
    "notebooks": list(dxanalysis.config.NOTEBOOKS),
    "np_err": np.geterr()["divide"],
    "max_rows": pd.get_option("display.max_rows"),
    "sys_path": "/leaked/path" in sys.path,
    "pid": os.getpid(),
    # the output cache: _, __, ___, Out/_oh (the last notebook's results must not reach the next)
    "out_cache": "leaked-output-value" in repr([globals().get(k) for k in ("_", "__", "___")] + list(globals().get("Out", {}).values()) + list(globals().get("_oh", {}).values())
                                               + [getattr(get_ipython().displayhook, k) for k in ("_", "__", "___")]),
}
import json
with open(os.path.join(report_dir, "seen.json"), "w") as f:
    json.dump(seen, f)
"""


@pytest.fixture
def warm(monkeypatch):
    monkeypatch.delenv(executor.WARM_ENV, raising=False)
    executor.enable()
    yield
    executor.shutdown_all()
    executor.enable(False)


def _run(nb: Path, out: Path, tiny: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    runner.execute_notebook(nb, out / nb.name, {"data_dir": str(tiny), "report_dir": str(out)}, cwd=out)
    return json.loads((out / "seen.json").read_text()) if (out / "seen.json").exists() else {}


def _cold_view(tiny: Path, tmp_path: Path, checker: Path) -> dict:
    executor.enable(False)
    try:
        return _run(checker, tmp_path / "cold", tiny)
    finally:
        executor.enable()


def test_no_state_leaks_between_two_notebooks_on_one_kernel(warm, tiny, tmp_path):
    leaker = _notebook(tmp_path / "nbs" / "a.ipynb", LEAKER, "A")
    checker = _notebook(tmp_path / "nbs" / "b.ipynb", CHECKER, "B")
    first = _run(checker, tmp_path / "b0", tiny)  # a clean warm kernel
    _run(leaker, tmp_path / "a", tiny)
    after = _run(checker, tmp_path / "b1", tiny)
    kernel = executor.current(runner.ensure_kernel())
    assert kernel.started == 1 and first["pid"] == after["pid"]  # the same kernel ran all three
    cold = _cold_view(tiny, tmp_path, checker)  # what a notebook sees on a kernel of its own
    for seen, where in ((first, tmp_path / "b0"), (after, tmp_path / "b1")):
        assert seen["cwd"] == str(where.resolve())
        assert not seen["secret"] and seen["figures"] == [] and not seen["filter"] and seen["env"] is None
        assert not seen["leaked_global"] and seen["notebooks"] != ["leaked"] and not seen["sys_path"] and not seen["out_cache"]
        for key in ("titlesize", "font.size", "np_err", "max_rows", "notebooks"):
            assert seen[key] == cold[key], key
    assert cold["pid"] != after["pid"]


def test_warm_results_equal_a_cold_kernel_run(warm, tiny, tmp_path):
    nb = _notebook(tmp_path / "nbs" / "01_current_state.ipynb", MINI_01, "01 テスト")
    rows = {}
    for mode in ("warm", "warm-again", "cold"):
        executor.enable(mode != "cold")
        res = runner.run_notebook(tiny, nb, tmp_path / mode, municipality_id="tiny", language="ja")
        assert res.status == "ok", res.error
        rows[mode] = {rel: digest for rel, digest in res.outputs.items() if rel.startswith(("tables/", "findings/", "meta/"))}
    assert rows["warm"] and rows["warm"] == rows["warm-again"] == rows["cold"]
    executor.enable()
    assert executor.current(runner.ensure_kernel()).started == 1


def test_failed_or_hung_notebook_gets_a_fresh_kernel(warm, tiny, tmp_path):
    ok = _notebook(tmp_path / "nbs" / "ok.ipynb", "x = 1", "ok")
    bad = _notebook(tmp_path / "nbs" / "bad.ipynb", "raise ValueError('boom')", "bad")
    slow = _notebook(tmp_path / "nbs" / "slow.ipynb", "import time\ntime.sleep(60)", "slow")
    kernel = executor.current(runner.ensure_kernel())
    runner.execute_notebook(ok, tmp_path / "o1.ipynb", {}, cwd=tmp_path)
    pid = kernel.pid
    with pytest.raises(Exception, match="boom"):
        runner.execute_notebook(bad, tmp_path / "b.ipynb", {}, cwd=tmp_path)
    assert kernel.km is None  # shut down after the failure
    res = runner.run_notebook(None, slow, tmp_path / "slow", municipality_id="t", language="ja", cell_timeout=2, retries=1)
    assert res.status == "failed" and res.attempts == 2 and "CellTimeoutError" in res.error
    runner.execute_notebook(ok, tmp_path / "o2.ipynb", {}, cwd=tmp_path)
    assert kernel.pid != pid and kernel.started >= 3
    import psutil

    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_batch_runs_its_notebooks_on_one_kernel_and_leaves_none(tiny, tmp_path):
    import psutil

    nbs = tmp_path / "nbs"
    _notebook(nbs / "01_current_state.ipynb", MINI_01 + "import os\nopen(os.path.join(report_dir, 'private_pid.txt'), 'w').write(str(os.getpid()))\n", "01")
    _notebook(nbs / "02_segments.ipynb", "import os\nopen(os.path.join(report_dir, 'pid2.txt'), 'w').write(str(os.getpid()))\n", "02")
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    batch = runner.run_batch([tiny], reports_root=tmp_path / "reports", notebooks_dir=nbs, workers=1, progress=False)
    assert [r.status for r in batch.results] == ["ok", "ok"], batch.rows()
    rep = tmp_path / "reports" / "tiny"
    assert (rep / "private_pid.txt").read_text() == (rep / "pid2.txt").read_text()  # one kernel for both
    assert {p.pid for p in psutil.Process().children(recursive=True)} - before == set()  # and it is gone after the run
