"""Shared fixtures: Agg backend, closed figures, a tiny hand-written municipality."""

from __future__ import annotations

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


@pytest.fixture(scope="session")
def sample_report(tmp_path_factory) -> Path:
    """Run the whole pipeline once on data/sample into a temp reports root; returns reports/sample."""
    if not (SAMPLE / "municipality.yaml").exists():
        pytest.skip("data/sample not generated")
    from dxanalysis.cli import main

    root = tmp_path_factory.mktemp("reports")
    code = main(["run", str(SAMPLE), "--reports", str(root)])
    assert code == 0, f"dxanalysis run data/sample exited {code}"
    return root / "sample"
