"""A real Dask cluster: ``dask scheduler`` and two ``dask worker`` processes on localhost.

What docs/batch.md ("既存の Dask クラスタで実行する") tells an advisor to do, end to end: the
scheduler and the workers are separate programs started from the command line (not a
``LocalCluster`` inside the test process), the workers find the package through
PYTHONPATH, and ``dxanalysis run --scheduler`` sends the tasks. The reports and the
manifest must equal a local run's; nothing may be left running afterwards.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from dxanalysis import runner
from dxanalysis.cli import main
from dxanalysis.sample import write_sample

pytestmark = pytest.mark.slow
distributed = pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parents[1]
DASK = Path(sys.executable).parent / "dask"

MINI_01 = (
    "from dxanalysis import io, survey\nfrom dxanalysis.report import Publisher\n"
    "m = io.load_municipality(data_dir)\npub = Publisher(report_dir, min_group_size=m.min_group_size, notebook='01_current_state')\n"
    "pub.table(survey.response_rates(m.survey, m.roster, by='department'), 'response_rates', by='attribute')\n"
)
MINI_05 = (
    "from dxanalysis import compare\nfrom dxanalysis.report import Publisher\n"
    "c = compare.plan_comparison(compare.load_municipalities(data_dirs))\npub = Publisher(report_dir, min_group_size=c.min_group_size, notebook='05_comparison')\n"
    "pub.table(compare.response_rates(c.municipalities), 'response_rates', by='municipality')\n"
)


def _notebook(path: Path, body: str, title: str, *, many: bool = False) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = ('data_dirs: list = []' if many else 'data_dir: str = "."') + '\nreport_dir: str = "."'
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {title}\n\n## 結果"), nbformat.v4.new_code_cell(params, metadata={"tags": ["parameters"]}), nbformat.v4.new_code_cell(body)]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tree(procs) -> set[int]:
    import psutil

    pids = set()
    for p in procs:
        try:
            ps = psutil.Process(p.pid)
            pids |= {ps.pid, *(c.pid for c in ps.children(recursive=True))}
        except psutil.NoSuchProcess:
            pass
    return pids


def _alive(pids: set[int]) -> list[str]:
    import psutil

    out = []
    for pid in pids:
        try:
            p = psutil.Process(pid)
            if p.status() != psutil.STATUS_ZOMBIE:
                out.append(f"{pid} {' '.join(p.cmdline())[:120]}")
        except psutil.NoSuchProcess:
            pass
    return out


@pytest.fixture
def cluster(tmp_path):
    """``dask scheduler`` + 2 × ``dask worker --nthreads 1`` (separate processes, random ports); yields the address."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in [str(ROOT), os.environ.get("PYTHONPATH", "")] if p)}
    log = open(tmp_path / "dask.log", "wb")
    procs = [subprocess.Popen([str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], env=env, stdout=log, stderr=log, cwd=tmp_path)]
    seen: set[int] = set()
    try:
        deadline = time.monotonic() + 30
        while True:  # the scheduler listens
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert procs[0].poll() is None and time.monotonic() < deadline, (tmp_path / "dask.log").read_text(errors="replace")
                time.sleep(0.2)
        for _ in range(2):
            procs.append(subprocess.Popen([str(DASK), "worker", address, "--nthreads", "1", "--nworkers", "1", "--no-dashboard", "--host", "127.0.0.1",
                                           "--local-directory", str(tmp_path / "dask-worker-space")], env=env, stdout=log, stderr=log, cwd=tmp_path))
        with distributed.Client(address, timeout="20s") as client:
            client.wait_for_workers(2, timeout=60)
            seen = _tree(procs)
        yield address, procs
    finally:
        seen |= _tree(procs)
        for p in reversed(procs):  # workers first, then the scheduler
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        log.close()
        deadline = time.monotonic() + 10
        while _alive(seen) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(seen), f"left running: {_alive(seen)}"


def _tables(reports: Path) -> dict[str, str]:
    return {str(p.relative_to(reports)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(reports.rglob("tables/*.csv"))}


def _manifest(reports: Path, mid: str) -> dict:
    """The parts of manifest.json that do not depend on timing: status, hashes, published tables."""
    man = json.loads((reports / mid / "manifest.json").read_text(encoding="utf-8"))
    return {"inputs_hash": man.get("inputs_hash"), "package_hash": man.get("package_hash"),
            "notebooks": {e["notebook"]: (e["status"], e["hashes"], {k: v for k, v in e["outputs"].items() if k.startswith("tables/")}) for e in man["notebooks"]}}


def test_batch_on_a_real_cluster_equals_a_local_run(tmp_path, cluster):
    address, procs = cluster
    data = tmp_path / "data"
    for i in (1, 2):
        write_sample(data / f"town{i}", n_respondents=60, seed=300 + i, municipality_id=f"town{i}", name=f"試験町{i}")
    nbs = tmp_path / "nbs"
    _notebook(nbs / "01_current_state.ipynb", MINI_01, "01 テスト")
    _notebook(nbs / "05_comparison.ipynb", MINI_05, "05 テスト", many=True)

    t0 = time.monotonic()
    rc = main(["run", str(data), "--reports", str(tmp_path / "dask"), "--notebooks-dir", str(nbs), "--scheduler", address, "--no-progress"])
    dask_s = time.monotonic() - t0
    assert rc == 0, (tmp_path / "dask").glob("*/manifest.json")
    assert all(p.poll() is None for p in procs)  # the cluster outlives the run (it is the user's)
    local = runner.run_batch(runner.municipality_folders([data]), reports_root=tmp_path / "local", notebooks_dir=nbs, workers=1, progress=False)
    assert local.exit_code == 0, local.rows()

    dask_tables, local_tables = _tables(tmp_path / "dask"), _tables(tmp_path / "local")
    assert set(dask_tables) >= {"town1/tables/response_rates.csv", "town2/tables/response_rates.csv", "_comparison/tables/response_rates.csv"}
    assert dask_tables == local_tables
    for mid in ("town1", "town2", "_comparison"):
        assert _manifest(tmp_path / "dask", mid) == _manifest(tmp_path / "local", mid)
        assert (tmp_path / "dask" / mid / "index.html").exists()
    assert not list((tmp_path / "dask").rglob(".staging"))
    print(f"dask run {dask_s:.1f} s")


def test_unreachable_scheduler_says_so_in_japanese(tmp_path, capsys):
    data = write_sample(tmp_path / "data" / "town1", n_respondents=60, seed=1, municipality_id="town1", name="試験町")
    address = f"tcp://127.0.0.1:{_free_port()}"  # nothing listens there
    t0 = time.monotonic()
    assert main(["run", str(data), "--reports", str(tmp_path / "r"), "--scheduler", address, "--no-progress"]) == 2
    assert time.monotonic() - t0 < 20  # at once (a 5 s probe), not after the client's 20 s of retries
    err = capsys.readouterr().err
    assert f"エラー: Dask スケジューラ {address} に接続できません" in err and "cannot reach the Dask scheduler" in err
    assert not (tmp_path / "r" / "town1" / "manifest.json").exists()
