"""Batch runs: parallel municipalities, incremental skips, Dask, cross-municipality comparison."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from conftest import TINY_HEADERS, TINY_SURVEY_ROWS, write_csv

from dxanalysis import compare, runner
from dxanalysis.io import load_municipality
from dxanalysis.report import Publisher

ROOT = Path(__file__).resolve().parents[1]


def _notebook(path: Path, body: str, title: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = 'data_dir: str = "."  # フォルダ\nreport_dir: str = "."  # 出力' if "data_dirs" not in body else 'data_dirs: list = []  # フォルダ\nreport_dir: str = "."  # 出力'
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {title}\n\n## 結果"), nbformat.v4.new_code_cell(params, metadata={"tags": ["parameters"]}), nbformat.v4.new_code_cell(body)]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


MINI_01 = (
    "from dxanalysis import io, survey\nfrom dxanalysis.report import Publisher\n"
    "m = io.load_municipality(data_dir)\npub = Publisher(report_dir, min_group_size=m.min_group_size, notebook='01_current_state')\n"
    "pub.table(survey.response_rates(m.survey, m.roster, by='department'), 'response_rates', by='attribute')\n"
    "import os\nprint('headless=' + os.environ.get('DXANALYSIS_HEADLESS', '0'))\n"
    "if m.config.id == 'failing':\n    raise ValueError('わざと失敗')\n"
)
MINI_05 = (
    "import pandas as pd\nfrom dxanalysis import compare\nfrom dxanalysis.report import Publisher\n"
    "c = compare.plan_comparison(compare.load_municipalities(data_dirs))\npub = Publisher(report_dir, min_group_size=c.min_group_size, notebook='05_comparison')\n"
    "pub.table(compare.response_rates(c.municipalities), 'response_rates', by='municipality')\n"
)


@pytest.fixture
def mini_notebooks(tmp_path) -> Path:
    nbdir = tmp_path / "nbs"
    _notebook(nbdir / "01_current_state.ipynb", MINI_01, "01 テスト")
    return nbdir


def _municipality(tiny: Path, parent: Path, mid: str, *, staff_factor: int = 1) -> Path:
    dest = parent / mid
    shutil.copytree(tiny, dest)
    (dest / "municipality.yaml").write_text(f"id: {mid}\nname: {mid}町\nfiscal_year: 2025\nmin_group_size: 3\n", encoding="utf-8")
    if staff_factor != 1:
        write_csv(dest / "roster.csv", ["所属部署", "年代", "職員数"], [("総務部", "30代以下", 10 * staff_factor), ("総務部", "40代以上", 12 * staff_factor), ("福祉部", "30代以下", 8 * staff_factor), ("福祉部", "40代以上", 9 * staff_factor)])
    return dest


def _break_survey(folder: Path) -> None:
    rows = [list(r) for r in TINY_SURVEY_ROWS]
    rows[0][5] = "8"  # out of range on spreadsheet row 2
    write_csv(folder / "survey.csv", TINY_HEADERS, rows)


# ----------------------------------------------------------------------------- batch command
@pytest.mark.slow  # end to end (CLI batch run of notebooks): make test, not make test-fast
def test_parallel_batch_survives_broken_municipalities(tiny, tmp_path, mini_notebooks):
    data = tmp_path / "data"
    _municipality(tiny, data, "good")
    _break_survey(_municipality(tiny, data, "broken"))
    _municipality(tiny, data, "failing")
    _notebook(mini_notebooks / "05_comparison.ipynb", MINI_05, "05 比較")
    reports = tmp_path / "reports"
    r = subprocess.run([sys.executable, "-m", "dxanalysis.cli", "run", str(data), "--reports", str(reports), "--workers", "2", "--notebooks-dir", str(mini_notebooks)],
                       capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 1, r.stdout + r.stderr  # a failed notebook outranks an input error
    assert "Traceback" not in r.stderr
    rows = {line.split()[0]: line for line in r.stdout.splitlines() if line.split() and line.split()[0] in {"good", "broken", "failing", "_comparison"}}
    assert "ok" in rows["good"] and "input_error" in rows["broken"] and "行: 2" in rows["broken"]
    assert "failed" in rows["failing"] and "ValueError: わざと失敗" in rows["failing"]
    assert "ok" in rows["_comparison"]
    # the good municipality is complete; the broken one's index lists its problems without the value
    assert (reports / "good" / "01_current_state.html").exists()
    assert "headless=1" in (reports / "good" / "private" / "notebooks" / "01_current_state.ipynb").read_text(encoding="utf-8")  # kernels know no one is watching (full run in private/)
    broken = (reports / "broken" / "index.html").read_text(encoding="utf-8")
    assert "survey.csv" in broken and "範囲外" in broken and "値: 8" not in broken
    failing = (reports / "failing" / "index.html").read_text(encoding="utf-8")
    assert "失敗" in failing and "わざと失敗" in failing
    # the comparison covers the two municipalities whose inputs are valid
    comp = json.loads((reports / "_comparison" / "manifest.json").read_text(encoding="utf-8"))
    assert comp["members"] == ["failing", "good"]
    table = pd.read_csv(reports / "_comparison" / "tables" / "response_rates.csv", encoding="utf-8-sig")
    assert sorted(table["municipality"]) == ["failing", "good"]


def test_exit_code_rule():
    ok = runner.NotebookResult("a", "01", "ok")
    err = runner.InputErrorRecord(Path("b"), "b", runner.InputError([runner.Problem(file="x", code="empty_file")]))
    assert runner.BatchResult(results=[ok]).exit_code == 0
    assert runner.BatchResult(results=[ok, runner.NotebookResult("a", "02", "skipped")]).exit_code == 0
    assert runner.BatchResult(results=[ok], input_errors=[err]).exit_code == 2
    assert runner.BatchResult(results=[runner.NotebookResult("a", "01", "failed")], input_errors=[err]).exit_code == 1
    assert runner.BatchResult(results=[ok], comparison=runner.NotebookResult("_comparison", "05", "failed")).exit_code == 1


@pytest.mark.slow  # end to end (batch runs): make test, not make test-fast
def test_incremental_skip_and_force(tiny, tmp_path, mini_notebooks):
    reports = tmp_path / "reports"
    kw = dict(reports_root=reports, notebooks_dir=mini_notebooks, workers=1, progress=False)
    first = runner.run_batch([tiny], **kw)
    assert [r.status for r in first.results] == ["ok"]
    html = reports / "tiny" / "01_current_state.html"
    stamp = html.stat().st_mtime_ns
    manifest = json.loads((reports / "tiny" / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["notebooks"][0]["hashes"]) == {"inputs", "parameters", "notebook", "package", "task"}

    second = runner.run_batch([tiny], **kw)
    assert [r.status for r in second.results] == ["skipped"] and second.exit_code == 0
    assert html.stat().st_mtime_ns == stamp  # not re-rendered
    assert "変更なし" in (reports / "tiny" / "index.html").read_text(encoding="utf-8")

    forced = runner.run_batch([tiny], force=True, **kw)
    assert [r.status for r in forced.results] == ["ok"] and html.stat().st_mtime_ns != stamp

    # a changed input re-runs; a file under truth/ does not count
    (tiny / "truth").mkdir()
    (tiny / "truth" / "truth.yaml").write_text("planted: 1\n", encoding="utf-8")
    assert [r.status for r in runner.run_batch([tiny], **kw).results] == ["skipped"]
    with open(tiny / "roster.csv", "a", encoding="utf-8-sig") as f:
        f.write("総務部,30代以下,0\n")
    assert [r.status for r in runner.run_batch([tiny], **kw).results] == ["ok"]
    # so does an edited notebook
    _notebook(mini_notebooks / "01_current_state.ipynb", MINI_01 + "print('v2')\n", "01 テスト")
    assert [r.status for r in runner.run_batch([tiny], **kw).results] == ["ok"]


@pytest.mark.slow  # end to end (notebook runs): make test, not make test-fast
def test_hung_notebook_is_retried_then_failed(tiny, tmp_path):
    nb = _notebook(tmp_path / "nbs" / "01_current_state.ipynb", "import time\ntime.sleep(120)", "01 テスト")
    res = runner.run_notebook(tiny, nb, tmp_path / "out", municipality_id="tiny", language="ja", cell_timeout=2, retries=1)
    assert res.status == "failed" and res.attempts == 2
    assert "2 秒で終わらない" in res.error and "CellTimeoutError" in res.error


@pytest.mark.slow  # end to end (kernel run): make test, not make test-fast
def test_idle_kernel_is_stopped(tiny, tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "HUNG_KERNEL_IDLE", 2)
    monkeypatch.setattr(runner, "_WATCHDOG_POLL", 0.5)
    monkeypatch.setattr(runner, "_WATCHDOG", None)  # a fresh watchdog with the short limits
    nb = _notebook(tmp_path / "nbs" / "01_current_state.ipynb", "import time\ntime.sleep(120)", "01 テスト")  # sleeping = no CPU, like the hang
    res = runner.run_notebook(tiny, nb, tmp_path / "out", municipality_id="tiny", language="ja", cell_timeout=0, retries=0)
    assert res.status == "failed" and "カーネルが応答しなくなりました" in res.error and res.seconds < 60


def test_task_hash_ignores_paths_not_content(tmp_path):
    nb = _notebook(tmp_path / "n.ipynb", "x = 1", "01 t")
    a = runner.task_hashes(inputs="abc", parameters={"data_dir": "/a", "report_dir": "/r"}, notebook=nb, package="p")
    b = runner.task_hashes(inputs="abc", parameters={"data_dir": "/b", "report_dir": "/s"}, notebook=nb, package="p")
    c = runner.task_hashes(inputs="abc", parameters={"n_segments": 3}, notebook=nb, package="p")
    d = runner.task_hashes(inputs="abc", parameters={}, notebook=nb, package="q")
    assert a["task"] == b["task"] and len({a["task"], c["task"], d["task"]}) == 3


@pytest.mark.slow  # end to end (batch run on a Dask cluster): make test, not make test-fast
def test_dask_local_cluster(tiny, tmp_path, mini_notebooks):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, processes=True, host="127.0.0.1", dashboard_address=None) as cluster:
        batch = runner.run_batch([tiny], reports_root=tmp_path / "reports", notebooks_dir=mini_notebooks, scheduler=cluster.scheduler_address, progress=False)
    assert [(r.notebook, r.status) for r in batch.results] == [("01_current_state", "ok")], batch.rows()
    assert (tmp_path / "reports" / "tiny" / "01_current_state.html").exists()
    assert (tmp_path / "reports" / "tiny" / "tables" / "response_rates.csv").exists()


def test_unreachable_scheduler_is_a_user_error(tiny, tmp_path):
    from dxanalysis.cli import main

    assert main(["run", str(tiny), "--reports", str(tmp_path / "r"), "--scheduler", "tcp://127.0.0.1:9", "--no-progress"]) == 2


# ----------------------------------------------------------------------------- comparison
@pytest.fixture
def two(tiny, tmp_path):
    """Two valid municipalities with the tiny survey; the second has twice the staff."""
    a = _municipality(tiny, tmp_path / "cmp", "town_a")
    b = _municipality(tiny, tmp_path / "cmp", "town_b", staff_factor=2)
    return [load_municipality(a), load_municipality(b)]


def test_instrument_groups():
    groups = compare.instrument_groups({"a": ["q1", "q2"], "b": ["q2", "q1"], "c": ["q1"], "d": ["q1", "q2"]})
    assert groups == [["a", "b", "d"], ["c"]]


def test_plan_excludes_other_instrument(two, tmp_path, tiny):
    other = _municipality(tiny, tmp_path / "cmp", "town_c")
    cb = (other / "codebook.yaml").read_text(encoding="utf-8").replace("id: data_02", "id: data_02b")
    (other / "codebook.yaml").write_text(cb, encoding="utf-8")
    plan = compare.plan_comparison([*two, load_municipality(other)])
    assert [m.config.id for m in plan.municipalities] == ["town_a", "town_b"] and plan.ok
    ov = plan.overview.set_index("municipality")
    assert not ov.loc["town_c", "compared"] and "設問" in ov.loc["town_c", "reason"]
    assert plan.min_group_size == 3
    with pytest.raises(ValueError):
        compare.plan_comparison([two[0], two[0]])


def test_response_rates_wilson(two):
    rates = compare.response_rates(two).set_index("municipality")
    assert rates.loc["town_a", "staff"] == 39 and rates.loc["town_b", "staff"] == 78 and (rates["n"] == 5).all()
    # statsmodels.stats.proportion.proportion_confint(5, 39, method="wilson") → (0.0560282, 0.2670574)
    assert rates.loc["town_a", ["ci_low", "ci_high"]].to_numpy() == pytest.approx([0.0560282, 0.2670574], abs=1e-6)
    # proportion_confint(5, 78, method="wilson") → (0.0276893, 0.1414360)
    assert rates.loc["town_b", ["ci_low", "ci_high"]].to_numpy() == pytest.approx([0.0276893, 0.1414360], abs=1e-6)


def test_weighted_construct_scores_match_r_survey(two):
    scores = compare.construct_scores(two).set_index(["municipality", "construct"])
    row = scores.loc[("town_a", "mind")]
    # R: d <- data.frame(dept=c("A","A","B","B","A"), age=c("y","o","y","o","y"), mind=c(4,5,3,2,5), data=c(4.5,3.5,2,2,4.5))
    #    r <- survey::rake(svydesign(ids=~1, data=d, weights=~rep(39/5,5)), list(~dept,~age),
    #                      list(data.frame(dept=c("A","B"),Freq=c(22,17)), data.frame(age=c("y","o"),Freq=c(18,21))))
    #    s <- svymean(~mind, r); coef(s) → 3.700666; confint(s) → 3.236760, 4.164573
    #    Kish: w <- weights(r); length(w) * sum(w^2) / sum(w)^2 → 1.080640
    assert row["unweighted"] == pytest.approx(3.8)  # mean(c(4,5,3,2,5))
    assert row["weighted"] == pytest.approx(3.700666, abs=1e-6)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((3.236760, 4.164573), abs=1e-5)
    assert row["deff"] == pytest.approx(1.080640, abs=1e-6)
    data = scores.loc[("town_a", "data")]
    assert data["weighted"] == pytest.approx(3.148274, abs=1e-6)  # same R call, svymean(~data, r)
    assert (data["ci_low"], data["ci_high"]) == pytest.approx((2.881255, 3.415292), abs=1e-5)  # confint(svymean(~data, r))
    # doubling every staff count leaves the weighted means unchanged, so both differences are 0
    assert scores.loc[("town_b", "mind"), "weighted"] == pytest.approx(3.700666, abs=1e-6)
    assert np.allclose(scores["difference"], 0.0)


def test_small_municipality_hidden_and_not_in_difference(two):
    scores = compare.construct_scores(two, min_size=6)  # both towns have 5 respondents
    assert scores["difference"].isna().all()
    pub = Publisher(Path(two[0].config.folder).parent / "out", min_group_size=6, display=False, notebook="05_comparison")
    shown = pub.table(compare.response_rates(two), "response_rates", by="municipality")
    assert shown["response_rate"].isna().all() and shown["suppressed"].all()
    assert shown["name"].tolist() == ["town_a町", "town_b町"]  # the row stays, the figures go
    hidden = pub.table(compare.construct_scores(two), "construct_scores", by=["municipality", "construct"], show=False)
    matrix = pub.table(compare.score_matrix(hidden), "construct_scores_matrix", by="municipality", show=False)
    assert matrix["suppressed"].all()  # still marked hidden in the one-row-per-municipality view


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_segment_shares_pooled(two):
    shares = compare.segment_shares(two, n_segments=2, n_resamples=0)
    assert set(shares.columns) >= {"municipality", "segment", "segment_name", "n", "n_segmented", "share", "ci_low", "ci_high", "weighted_share"}
    for _, g in shares.groupby("municipality"):
        assert g["share"].sum() == pytest.approx(1.0) and g["weighted_share"].sum() == pytest.approx(1.0)
        assert g["n"].sum() == g["n_segmented"].iloc[0] == 5
    # identical answers → identical segment counts in both towns
    a, b = (shares[shares["municipality"] == t].set_index("segment")["n"] for t in ("town_a", "town_b"))
    assert a.equals(b)
    row = shares[(shares["n"] == 3)].iloc[0]
    # statsmodels proportion_confint(3, 5, method="wilson") → (0.2307243, 0.8823792)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((0.2307243, 0.8823792), abs=1e-6)
    pub = Publisher(Path(two[0].config.folder).parent / "out", min_group_size=3, display=False, notebook="05_comparison")
    shown = pub.table(shares, "segment_shares", by="municipality")
    # the 2-person cell is hidden, and its complement too (else 5 − 3 gives it back)
    assert shown["share"].isna().all() and shown["segment"].notna().all()
    matrix = compare.share_matrix(shown)
    assert list(matrix["municipality"]) == ["town_a", "town_b"] and len(matrix.attrs["segment_columns"]) == 2


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_comparison_plots_return_axes(two):
    import matplotlib.pyplot as plt

    from dxanalysis.plots import compare as pcmp

    ax = pcmp.response_rates(compare.response_rates(two), ax=plt.figure().gca())
    assert len(ax.patches) == 2 and [t.get_text() for t in ax.get_yticklabels()] == ["town_b町", "town_a町"]
    scores = compare.construct_scores(two)
    axes = pcmp.construct_scores(scores)
    assert len(axes) == 2 and axes[0].get_title() == "マインド・スタンス"
    shares = compare.segment_shares(two, n_segments=2, n_resamples=0)
    shares.loc[0, "share"] = np.nan  # a hidden cell is drawn grey
    ax = pcmp.segment_shares(shares, ax=plt.figure().gca())
    assert len(ax.patches) >= 4 and any(t.get_text() == "非表示(少人数)" for t in ax.get_legend().get_texts())
