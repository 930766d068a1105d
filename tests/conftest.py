"""Shared fixtures: Agg backend, closed figures, a tiny hand-written municipality."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"

TINY_CODEBOOK = """\
respondent_id: 回答者番号
ignore: [開始時刻, メール]
attributes:
  department: {header: 所属部署, label: 所属部署, values: [総務部, 福祉部]}
  age_band: {header: 年代, label: 年代, values: [30代以下, 40代以上]}
scales:
  agree5:
    min: 1
    max: 5
    labels: {1: まったくそう思わない, 2: あまりそう思わない, 3: どちらともいえない, 4: ややそう思う, 5: とてもそう思う}
    missing: [わからない]
constructs:
  mind: {label: マインド・スタンス, area: マインド・スタンス}
  data: {label: データ活用, area: What}
items:
  - {id: mind_01, header: 変化を前向きに受け止めている, construct: mind, scale: agree5}
  - {id: mind_02, header: 新しいやり方を試すのは面倒だ, construct: mind, scale: agree5, reverse: true}
  - {id: data_01, header: データを根拠に判断している, construct: data, scale: agree5}
  - {id: data_02, header: 表計算で集計できる, construct: data, scale: agree5}
tools:
  items:
    - {id: tool_chat, header: ビジネスチャットを使っていますか, label: ビジネスチャット}
free_text:
  - {id: comment, header: ご意見, label: 自由意見}
"""

TINY_SURVEY_ROWS = [
    # id, start, mail, dept, age, m1, m2, d1, d2, chat, comment
    ("1", "2025/10/01 9:00", "", "総務部", "30代以下", "ややそう思う", "あまりそう思わない", "4", "5", "使っている", "紙が多い"),
    ("2", "2025/10/01 9:05", "", "総務部", "40代以上", "とてもそう思う", "まったくそう思わない", "3", "4", "使っている", ""),
    ("3", "2025/10/01 9:10", "", "福祉部", "30代以下", "どちらともいえない", "どちらともいえない", "2", "わからない", "使っていない", ""),
    ("4", "2025/10/01 9:15", "", "福祉部", "40代以上", "あまりそう思わない", "ややそう思う", "2", "2", "使っていない", "研修がほしい"),
    ("5", "2025/10/01 9:20", "", "総務部", "30代以下", "５", "１", "５", "４", "使っている", ""),  # full-width digits
    ("6", "2025/10/01 9:25", "", "福祉部", "40代以上", "", "", "", "", "", ""),  # no answers → excluded
]
TINY_HEADERS = ["回答者番号", "開始時刻", "メール", "所属部署", "年代", "変化を前向きに受け止めている", "新しいやり方を試すのは面倒だ", "データを根拠に判断している", "表計算で集計できる", "ビジネスチャットを使っていますか", "ご意見"]


def write_csv(path: Path, headers, rows, encoding="utf-8-sig") -> Path:
    import csv

    with open(path, "w", encoding=encoding, newline="") as f:
        w = csv.writer(f)
        w.writerow(headers)
        w.writerows(rows)
    return path


@pytest.fixture
def tiny(tmp_path) -> Path:
    """A minimal valid municipality folder (6 survey rows, 2 departments)."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    (folder / "municipality.yaml").write_text("id: tiny\nname: テスト町\nfiscal_year: 2025\nmin_group_size: 3\n", encoding="utf-8")
    (folder / "codebook.yaml").write_text(TINY_CODEBOOK, encoding="utf-8")
    write_csv(folder / "survey.csv", TINY_HEADERS, TINY_SURVEY_ROWS)
    write_csv(folder / "roster.csv", ["所属部署", "年代", "職員数"], [("総務部", "30代以下", 10), ("総務部", "40代以上", 12), ("福祉部", "30代以下", 8), ("福祉部", "40代以上", 9)])
    return folder


@pytest.fixture(scope="session")
def sample_municipality():
    """data/sample loaded once for the whole session (read-only: copy a frame before changing it)."""
    if not (SAMPLE / "municipality.yaml").exists():
        pytest.skip("data/sample not generated")
    from dxanalysis.io import load_municipality
    from dxanalysis.plots import setup_style

    setup_style()  # the bundled Japanese font, for tests that draw
    return load_municipality(SAMPLE)


@pytest.fixture(scope="session")
def sample_truth() -> dict:
    """The sample's planted truths (data/sample/truth/truth.yaml, see docs/sample.md)."""
    import yaml

    return yaml.safe_load((SAMPLE / "truth" / "truth.yaml").read_text(encoding="utf-8"))


@pytest.fixture
def sample_copy(tmp_path) -> Path:
    """A writable copy of the bundled sample municipality."""
    if not (SAMPLE / "municipality.yaml").exists():
        pytest.skip("data/sample not generated")
    dest = tmp_path / "sample"
    shutil.copytree(SAMPLE, dest)
    return dest


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@contextlib.contextmanager
def _exclusive(lock: Path):
    """An exclusive lock on ``lock`` between the xdist worker processes of one run (fcntl)."""
    import fcntl

    with open(lock, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def shared_once(tmp_path_factory, name: str, build) -> Path:
    """``build(folder)`` run once per test run, shared by every xdist worker; returns ``folder``.

    Each xdist worker is a session of its own, so a session fixture alone would repeat an
    expensive step per worker. The standard xdist recipe: the first worker to get here builds
    under a file lock in the run's common temp folder, the others wait and reuse it (read-only;
    copy it to change it). ``build`` returns a short text recorded beside the folder, and every
    worker gets the same text back through ``(folder / ".built").read_text()``: a failed build
    fails every test that needs it, without a second attempt. Without xdist: the session's
    own temp folder.
    """
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # pytest-of-<user>/pytest-<n>/: one per run, common to its workers
    folder = base / f"shared-{name}"
    with _exclusive(base / f"shared-{name}.lock"):
        done = folder / ".built"
        if not done.exists():
            if folder.exists():
                shutil.rmtree(folder)  # a build interrupted by an exception: start again
            folder.mkdir()
            done.write_text(str(build(folder)), encoding="utf-8")
    return folder


def _run_sample(folder: Path) -> int:
    from dxanalysis.cli import main

    return main(["run", str(SAMPLE), "--reports", str(folder), "--no-progress"])


@pytest.fixture(scope="session")
def sample_report(tmp_path_factory) -> Path:
    """The whole pipeline run ONCE per test run on data/sample (all xdist workers share it); returns reports/sample.

    Read-only: a test that changes a report works on ``shutil.copytree(sample_report, tmp_path / "sample")``.
    """
    if not (SAMPLE / "municipality.yaml").exists():
        pytest.skip("data/sample not generated")
    root = shared_once(tmp_path_factory, "sample-report", _run_sample)
    code = (root / ".built").read_text(encoding="utf-8")
    assert code == "0", f"dxanalysis run data/sample exited {code}"
    return root / "sample"


# Files that run notebooks, kernels or whole pipelines, most expensive first: seconds per file
# (pytest --durations, 2 xdist workers on 2 busy cores, main at 17f4120). `make test` runs one
# file per worker at a time (`--dist loadfile`) in collection order (`--no-loadscope-reorder`
# in pyproject.toml): starting the longest files first keeps the two workers busy to the end
# instead of leaving one alone with a long file while the other has finished (xdist's own order,
# by number of tests, started these last). Every file not listed keeps its place after them.
# Only the order changes: every test still runs.
HEAVY_FILES = {
    "tests/test_faults.py": 170,
    "tests/test_audit.py": 110,  # the first worker here builds the shared sample report (conftest sample_report)
    "tests/test_variation.py": 100,
    "tests/test_batch.py": 80,
    "tests/test_executor.py": 70,
    "tests/test_explore.py": 55,
    "tests/test_segments.py": 50,
    "tests/test_i18n.py": 45,
    "tests/test_reports_e2e.py": 45,
    "tests/test_dask_cluster.py": 40,
    "tests/test_dask_warm.py": 20,
    "tests/test_waves.py": 30,
    "tests/test_skip.py": 25,
    "tests/test_cli.py": 25,
    "tests/test_sample.py": 12,
}


def _file_weight(nodeid: str) -> float:
    path = nodeid.split("::", 1)[0]  # xdist's loadfile scope
    return HEAVY_FILES.get(path, 10 if path.endswith(".ipynb") else 0)


def pytest_collection_modifyitems(config, items):
    """Heavy files first (see HEAVY_FILES); a stable sort, so each file's tests keep their order and stay together."""
    first = {}
    for i, item in enumerate(items):
        first.setdefault(item.nodeid.split("::", 1)[0], i)
    items.sort(key=lambda item: (-_file_weight(item.nodeid), first[item.nodeid.split("::", 1)[0]]))
