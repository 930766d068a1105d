"""Runs that are interrupted lose nothing (issue 19): one test per fault.

Faults are made the way machines and people make them: SIGKILL of the run's process
group at named points (``DXANALYSIS_FAILPOINT``), SIGTERM/SIGINT, a second run on the
same folder, and writes that fail. Tests run as root here, and root ignores file
permissions, so an unwritable folder and a full disk are simulated by making the write
and move functions fail (``fsutil.replace``, ``fsutil.atomic_write_bytes``) with the
errno the OS would give, or by a file standing where the reports folder should be.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from conftest import TINY_CODEBOOK, TINY_HEADERS, TINY_SURVEY_ROWS, write_csv
from test_batch import MINI_01, _notebook

from dxanalysis import fsutil, runner
from dxanalysis.cli import _note
from dxanalysis.runlock import ReportLock, ReportsLocked, lock_path

ROOT = Path(__file__).resolve().parents[1]
MINI_02 = MINI_01.replace("01_current_state", "02_segments").replace("'response_rates', by='attribute')", "'rates_02', by='attribute')\npub.finding('二つ目の要点')")
SLEEPY = "import time\ntime.sleep({seconds})\n"
COMPARED = ("tables/", "meta/", "findings/", "private/")
TIMED = (".ipynb", ".html", ".xlsx")  # executed notebooks (private/notebooks/ too) and pages carry timings: compared by name


def _tiny(folder: Path, mid: str = "tiny") -> Path:
    folder.mkdir(parents=True)
    (folder / "municipality.yaml").write_text(f"id: {mid}\nname: テスト町\nfiscal_year: 2025\nmin_group_size: 3\n", encoding="utf-8")
    (folder / "codebook.yaml").write_text(TINY_CODEBOOK, encoding="utf-8")
    write_csv(folder / "survey.csv", TINY_HEADERS, TINY_SURVEY_ROWS)
    write_csv(folder / "roster.csv", ["所属部署", "年代", "職員数"], [("総務部", "30代以下", 10), ("総務部", "40代以上", 12), ("福祉部", "30代以下", 8), ("福祉部", "40代以上", 9)])
    return folder


def _notebooks(folder: Path, sleep: float = 0.0, sleep_02: bool = True) -> Path:
    head = SLEEPY.format(seconds=sleep) if sleep else ""
    _notebook(folder / "01_current_state.ipynb", head + MINI_01, "01 テスト")
    _notebook(folder / "02_segments.ipynb", (head if sleep_02 else "") + MINI_02, "02 テスト")
    return folder


def _cli(*args, env_extra: dict | None = None, **kw):
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "dxanalysis.cli", "run", *map(str, args), "--no-progress"], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300, check=False, **kw)


def _popen(*args, env_extra: dict | None = None) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env_extra or {})}
    return subprocess.Popen([sys.executable, "-m", "dxanalysis.cli", "run", *map(str, args), "--no-progress"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT, env=env, start_new_session=True)


def _snapshot(reports: Path) -> dict[str, bytes | None]:
    """File list of a reports folder; bytes of the deterministic files (HTML/ipynb/xlsx hold timings: by name)."""
    def compared(rel: str) -> bool:
        inner = rel.split("/", 1)[-1]
        # private/cache/ holds pickles (a validated municipality, the segment model): a cache, compared by name
        return inner.startswith(COMPARED) and not rel.endswith(TIMED) and not inner.startswith("private/cache/")

    return {p.relative_to(reports).as_posix(): (p.read_bytes() if compared(p.relative_to(reports).as_posix()) else None)
            for p in sorted(reports.rglob("*")) if p.is_file() and not p.name.endswith(".lock")}


def _all_bytes(reports: Path) -> dict[str, bytes]:
    return {p.relative_to(reports).as_posix(): p.read_bytes() for p in sorted(reports.rglob("*")) if p.is_file() and not p.name.endswith(".lock")}


def _wait_for(pred, timeout: float = 120.0, poll: float = 0.2):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        value = pred()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError("timed out")


def _kernels_under(pid: int) -> list:
    try:
        return [p for p in psutil.Process(pid).children(recursive=True) if "ipykernel" in " ".join(p.cmdline())]
    except psutil.Error:
        return []


# ----------------------------------------------------------------------------- atomic writes, publishing
def test_atomic_write_keeps_the_old_file_when_the_disk_is_full(tmp_path, monkeypatch):
    target = tmp_path / "index.html"
    target.write_text("前のレポート", encoding="utf-8")

    def full(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device", str(dst))

    monkeypatch.setattr(fsutil, "replace", full)
    with pytest.raises(OSError) as info:
        fsutil.atomic_write_text(target, "新しいレポート")
    assert target.read_text(encoding="utf-8") == "前のレポート"
    assert [p.name for p in tmp_path.iterdir()] == ["index.html"]  # no temporary file left
    assert "ディスクの空き容量が足りません" in fsutil.write_error_text(info.value)


def test_publish_rolls_back_when_a_move_fails(tmp_path, monkeypatch):
    report, work = tmp_path / "r", tmp_path / "r" / ".staging" / "01_x.1-0"
    for rel, text in {"01_x.html": "old page", "tables/a.csv": "old a", "tables/keep.csv": "keep"}.items():
        (report / rel).parent.mkdir(parents=True, exist_ok=True)
        (report / rel).write_text(text, encoding="utf-8")
    for rel, text in {"01_x.html": "new page", "tables/a.csv": "new a", "tables/b.csv": "new b"}.items():
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        (work / rel).write_text(text, encoding="utf-8")
    before = _all_bytes(report)
    calls = []

    def fail_third(src, dst):
        calls.append(dst)
        if len(calls) == 4:  # after the page and a.csv were swapped: a read-only folder
            raise OSError(errno.EROFS, "Read-only file system", str(dst))
        os.replace(src, dst)

    monkeypatch.setattr(fsutil, "replace", fail_third)
    with pytest.raises(OSError):
        runner.publish_outputs(work, report, "01_x", ok=True)
    after = {k: v for k, v in _all_bytes(report).items() if not k.startswith(".staging/")}
    assert after == {k: v for k, v in before.items() if not k.startswith(".staging/")}
    # the same files published without a fault: all in place, nothing else touched, no scratch folder left
    shutil.rmtree(report / ".staging")
    for rel, text in {"01_x.html": "new page", "tables/a.csv": "new a", "tables/b.csv": "new b"}.items():
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        (work / rel).write_text(text, encoding="utf-8")
    monkeypatch.setattr(fsutil, "replace", os.replace)
    outputs = runner.publish_outputs(work, report, "01_x", ok=True)
    assert sorted(outputs) == ["01_x.html", "tables/a.csv", "tables/b.csv"] and outputs["tables/b.csv"] == runner.file_hash(report / "tables" / "b.csv")
    assert (report / "tables" / "keep.csv").read_text(encoding="utf-8") == "keep" and not (report / ".staging").exists()


def test_reuse_needs_every_recorded_output(tmp_path):
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "a.csv").write_text("x", encoding="utf-8")
    prev = {"notebook": "01", "status": "ok", "hash": "h", "outputs": {"tables/a.csv": runner.file_hash(tmp_path / "tables" / "a.csv")}}
    assert runner.reuse_verdict(prev, "h", tmp_path) == (True, "")
    assert runner.reuse_verdict(prev, "other", tmp_path) == (False, "")  # a change, not a repair
    (tmp_path / "tables" / "a.csv").write_text("y", encoding="utf-8")
    assert runner.reuse_verdict(prev, "h", tmp_path) == (False, "出力の欠落: tables/a.csv")
    (tmp_path / "tables" / "a.csv").unlink()
    assert runner.reuse_verdict(prev, "h", tmp_path)[1] == "出力の欠落: tables/a.csv"
    assert runner.reuse_verdict({**prev, "status": "publishing"}, "h", tmp_path) == (False, "前回の実行が中断")
    assert runner.reuse_verdict({k: v for k, v in prev.items() if k != "outputs"}, "h", tmp_path)[0] is False  # manifests from before outputs were recorded


# ----------------------------------------------------------------------------- the lock
def test_second_run_on_a_folder_is_refused_naming_the_first(tmp_path):
    folder = tmp_path / "reports" / "tiny"
    with ReportLock(folder):
        holder = json.loads(lock_path(folder).read_text(encoding="utf-8"))
        with pytest.raises(ReportsLocked) as info:
            ReportLock(folder).acquire()
        assert f"PID {os.getpid()}" in str(info.value) and holder["started"] in str(info.value) and "使用中" in str(info.value)
        t0 = time.monotonic()
        with pytest.raises(ReportsLocked, match="待ちましたが"):
            ReportLock(folder, wait=0.6, poll=0.1).acquire()
        assert time.monotonic() - t0 >= 0.6
    with ReportLock(folder) as again:  # released: the next run gets it, with nothing to report
        assert again.note == ""
    assert not folder.exists()  # the lock sits beside the folder; locking alone creates no report folder


def test_stale_lock_is_taken_over_with_a_note(tmp_path):
    folder = tmp_path / "reports" / "tiny"
    folder.parent.mkdir(parents=True)
    lock_path(folder).write_text(json.dumps({"pid": 4194000, "started": "2026-01-01T00:00:00+09:00"}), encoding="utf-8")  # a run killed with -9
    with ReportLock(folder) as lock:
        assert "4194000" in lock.note and "引き継ぎ" in lock.note
        assert json.loads(lock_path(folder).read_text(encoding="utf-8"))["pid"] == os.getpid()


# ----------------------------------------------------------------------------- repairs
@pytest.mark.slow
def test_missing_output_is_rerun_and_the_summary_says_why(tmp_path):
    data, nbs, reports = _tiny(tmp_path / "tiny"), _notebooks(tmp_path / "nbs"), tmp_path / "reports"
    kw = {"reports_root": reports, "notebooks_dir": nbs, "workers": 1, "progress": False}
    assert [r.status for r in runner.run_batch([data], **kw).results] == ["ok", "ok"]
    clean = _snapshot(reports)
    xlsx = reports / "tiny" / "tables.xlsx"
    stamp = xlsx.stat().st_mtime_ns
    (reports / "tiny" / "tables" / "rates_02.csv").unlink()
    again = runner.run_batch([data], **kw)
    rows = {r.notebook: r for r in again.results}
    assert rows["01_current_state"].status == "skipped"
    assert rows["02_segments"].status == "ok" and rows["02_segments"].reason == "出力の欠落: tables/rates_02.csv"
    assert "再実行の理由: 出力の欠落" in _note(rows["02_segments"])
    assert _snapshot(reports) == clean and xlsx.stat().st_mtime_ns != stamp  # tables.xlsx rebuilt


@pytest.mark.slow
def test_unwritable_reports_leave_the_previous_report_intact(tmp_path, monkeypatch):
    """Disk full, then a read-only folder, while a run publishes: a clear message, and the folder exactly as before."""
    code = errno.ENOSPC
    data, nbs, reports = _tiny(tmp_path / "tiny"), _notebooks(tmp_path / "nbs"), tmp_path / "reports"
    kw = {"reports_root": reports, "notebooks_dir": nbs, "workers": 1, "progress": False, "notebooks": ["01_current_state"]}
    runner.run_batch([data], **kw)
    before = _all_bytes(reports)

    def fail(src, dst):
        if str(dst).endswith(".csv"):  # the page moved, then the first table fails
            raise OSError(code, os.strerror(code), str(dst))
        os.replace(src, dst)

    monkeypatch.setattr(fsutil, "replace", fail)
    with pytest.raises(runner.ReportWriteError) as info:
        runner.run_batch([data], force=True, **kw)
    assert "ディスクの空き容量が足りません" in str(info.value)
    assert _all_bytes(reports) == before
    assert [r.status for r in info.value.batch.rows()] == ["interrupted"]

    # a read-only folder: every write and move fails (the first is the manifest's "publishing" mark)
    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(args[-1]))

    monkeypatch.setattr(fsutil, "replace", read_only)
    monkeypatch.setattr(fsutil, "atomic_write_bytes", read_only)
    with pytest.raises(runner.ReportWriteError, match="読み取り専用"):
        runner.run_batch([data], force=True, **kw)
    assert _all_bytes(reports) == before


@pytest.mark.slow  # end to end (CLI run): make test, not make test-fast
def test_a_file_where_the_reports_folder_should_be_is_a_clear_error(tmp_path):
    data, nbs = _tiny(tmp_path / "tiny"), _notebooks(tmp_path / "nbs")
    (tmp_path / "reports").write_text("not a folder", encoding="utf-8")
    r = _cli(data, "--reports", tmp_path / "reports" / "out", "--notebooks-dir", nbs, "--workers", "1")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "書き込めません" in r.stderr and "前回のレポートはそのまま" in r.stderr
    assert (tmp_path / "reports").read_text(encoding="utf-8") == "not a folder"


# ----------------------------------------------------------------------------- processes killed
@pytest.fixture(scope="module")
def clean_reference(tmp_path_factory):
    """A municipality, two mini notebooks, and the report of a clean run of them."""
    base = tmp_path_factory.mktemp("faults")
    data, nbs = _tiny(base / "tiny"), _notebooks(base / "nbs")
    r = _cli(data, "--reports", base / "clean", "--notebooks-dir", nbs, "--workers", "1")
    assert r.returncode == 0, r.stdout + r.stderr
    return data, nbs, base / "clean"


@pytest.mark.slow
@pytest.mark.parametrize("point,workers", [("before_html", 2), ("after_html", 1), ("mid_publish", 1), ("before_index", 1)])
def test_killed_run_is_repaired_by_the_next_plain_run(clean_reference, tmp_path, point, workers):
    """SIGKILL of the process group (crash, OOM, power cut) at a point of a ``--force`` run; a plain run repairs it."""
    data, nbs, clean = clean_reference
    reports = tmp_path / "reports"
    shutil.copytree(clean, reports)
    killed = _cli(data, "--reports", reports, "--notebooks-dir", nbs, "--workers", workers, "--force", env_extra={"DXANALYSIS_FAILPOINT": point}, start_new_session=True)
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    repair = runner.run_batch([data], reports_root=reports, notebooks_dir=nbs, workers=1, progress=False)  # the next plain run (in-process: faster)
    assert repair.exit_code == 0, repair.rows()
    assert _snapshot(reports) == _snapshot(clean), repair.rows()
    manifest = json.loads((reports / "tiny" / "manifest.json").read_text(encoding="utf-8"))
    assert all(runner.output_problems(e["outputs"], reports / "tiny") == [] for e in manifest["notebooks"])
    if point == "mid_publish":
        assert "前回の実行が中断" in [r.reason for r in repair.results]


@pytest.mark.slow
def test_killed_first_run_is_completed_by_the_next(clean_reference, tmp_path):
    data, nbs, clean = clean_reference
    reports = tmp_path / "reports"
    killed = _cli(data, "--reports", reports, "--notebooks-dir", nbs, "--workers", "1", env_extra={"DXANALYSIS_FAILPOINT": "before_manifest"}, start_new_session=True)
    assert killed.returncode == -signal.SIGKILL
    repair = runner.run_batch([data], reports_root=reports, notebooks_dir=nbs, workers=1, progress=False)
    # 01 was published but killed before its manifest entry: re-run, and said why; 02 never ran
    assert [(r.status, r.reason) for r in repair.results] == [("ok", "前回の実行が中断"), ("ok", "")], repair.rows()
    assert _snapshot(reports) == _snapshot(clean)


# ----------------------------------------------------------------------------- clean stops
@pytest.mark.slow
@pytest.mark.parametrize("sig,workers", [(signal.SIGTERM, 2), (signal.SIGINT, 1)])
def test_signal_stops_every_process_of_the_run(tmp_path, sig, workers):
    """SIGTERM (scheduler, ``timeout``) or SIGINT to the main process alone: exit 143/130, nothing left after 5 s."""
    data, nbs, reports = _tiny(tmp_path / "tiny"), _notebooks(tmp_path / "nbs", sleep=120), tmp_path / "reports"
    proc = _popen(data, "--reports", reports, "--notebooks-dir", nbs, "--workers", workers)
    _wait_for(lambda: len(_kernels_under(proc.pid)) >= workers)
    members = psutil.Process(proc.pid).children(recursive=True)
    t0 = time.monotonic()
    os.kill(proc.pid, sig)  # the main process only, not its group
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + sig, out + err
    time.sleep(max(0.0, 5.0 - (time.monotonic() - t0)))
    alive = [p for p in members if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert alive == []
    assert "interrupted" in out and "中断" in err and "Traceback" not in err
    assert not (reports / "tiny" / ".staging").exists()
    assert not (reports / "tiny" / "01_current_state.html").exists()  # nothing half-done was published


@pytest.mark.slow
def test_concurrent_runs_on_one_folder(tmp_path):
    """The second run refuses (naming the first) or, with --wait, waits; the outputs are one run's."""
    data, nbs, reports = _tiny(tmp_path / "tiny"), _notebooks(tmp_path / "nbs", sleep=5, sleep_02=False), tmp_path / "reports"
    first = _popen(data, "--reports", reports, "--notebooks-dir", nbs, "--workers", "1")
    _wait_for(lambda: _kernels_under(first.pid))
    refused = _cli(data, "--reports", reports, "--notebooks-dir", nbs, "--workers", "1")
    assert refused.returncode == 2 and f"PID {first.pid}" in refused.stderr and "開始" in refused.stderr and "Traceback" not in refused.stderr
    waited = _cli(data, "--reports", reports, "--notebooks-dir", nbs, "--workers", "1", "--wait", "120")
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, out + err
    assert waited.returncode == 0 and waited.stdout.count("skipped") == 2, waited.stdout + waited.stderr  # it ran after the first, which left it nothing to do
    manifest = json.loads((reports / "tiny" / "manifest.json").read_text(encoding="utf-8"))
    assert all(runner.output_problems(e["outputs"], reports / "tiny") == [] for e in manifest["notebooks"])
    assert not (reports / "tiny" / ".staging").exists()


@pytest.mark.slow
def test_sigint_cancels_dask_futures(tmp_path):
    """Dask backend: a stop cancels the submitted futures and returns at once with the rows marked interrupted."""
    distributed = pytest.importorskip("distributed")
    import threading

    data, nbs, reports = _tiny(tmp_path / "tiny"), _notebooks(tmp_path / "nbs", sleep=120), tmp_path / "reports"
    with distributed.LocalCluster(n_workers=1, processes=True, host="127.0.0.1", dashboard_address=None) as cluster:
        timer = threading.Timer(8.0, os.kill, (os.getpid(), signal.SIGINT))
        timer.start()
        t0 = time.monotonic()
        with pytest.raises(runner.RunInterrupted) as info:
            runner.run_batch([data], reports_root=reports, notebooks_dir=nbs, scheduler=cluster.scheduler_address, progress=False)
        timer.cancel()
        assert time.monotonic() - t0 < 30
        with distributed.Client(cluster.scheduler_address) as client:
            assert _wait_for(lambda: not client.processing() or not any(client.processing().values()), timeout=10)
    assert info.value.exit_code == 130
    statuses = [r.status for r in info.value.batch.rows()]  # one or both notebooks, by how far the run got
    assert statuses and set(statuses) == {"interrupted"}, statuses
    assert not (reports / "tiny" / "01_current_state.html").exists() and not (reports / "tiny" / ".staging").exists()
