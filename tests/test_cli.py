"""The command line and the runner: clear errors, no tracebacks, reports written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import TINY_HEADERS, TINY_SURVEY_ROWS, write_csv

from dxanalysis.report import external_references
from dxanalysis.runner import run_municipality

ROOT = Path(__file__).resolve().parents[1]


def cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "dxanalysis.cli", *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=600)


@pytest.mark.slow  # end to end (CLI run): make test, not make test-fast
def test_check_ok(tiny):
    r = cli("check", tiny)
    assert r.returncode == 0, r.stderr
    assert "回答者 5人" in r.stdout and "除外 1行" in r.stdout


@pytest.mark.slow  # end to end (CLI run): make test, not make test-fast
def test_broken_input_clear_message_no_traceback(tiny, tmp_path):
    rows = [list(r) for r in TINY_SURVEY_ROWS]
    rows[0][5] = "8"
    write_csv(tiny / "survey.csv", TINY_HEADERS + ["不明な設問"], [r + ["x"] for r in rows], encoding="cp932")
    r = cli("run", tiny, "--reports", tmp_path / "reports")
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert "survey.csv" in r.stderr and "不明な設問" in r.stderr and "行: 2" in r.stderr and "値: 8" in r.stderr
    assert not (tmp_path / "reports" / "tiny").exists()  # nothing runs on broken input


@pytest.mark.slow  # end to end (CLI runs): make test, not make test-fast
def test_no_municipality_folder(tmp_path):
    r = cli("run", tmp_path)
    assert r.returncode == 2 and "municipality.yaml" in r.stderr and "Traceback" not in r.stderr


def _mini_notebook(folder: Path, fail: bool = False) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# 01 テスト\n\n## 回答状況"),
        nbformat.v4.new_code_cell('data_dir: str = "."  # フォルダ\nreport_dir: str = "."  # 出力', metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(
            "from dxanalysis import io, survey\nfrom dxanalysis.report import Publisher\n"
            "m = io.load_municipality(data_dir)\npub = Publisher(report_dir, min_group_size=m.min_group_size)\n"
            "pub.table(survey.response_rates(m.survey, m.roster, by='department'), 'response_rates', by='attribute')\n"
            + ("raise ValueError('わざと失敗')\n" if fail else "")
        ),
    ]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "01_current_state.ipynb"
    nbformat.write(nb, str(path))
    return folder


@pytest.mark.slow  # end to end (notebook runs): make test, not make test-fast
def test_runner_writes_report_folder(tiny, tmp_path):
    nbdir = _mini_notebook(tmp_path / "nbs")
    results = run_municipality(tiny, reports_root=tmp_path / "reports", notebooks_dir=nbdir)
    assert [r.status for r in results] == ["ok"]
    out = tmp_path / "reports" / "tiny"
    html = (out / "01_current_state.html").read_text(encoding="utf-8")
    assert external_references(html) == [] and "load_municipality" not in html
    assert (out / "tables" / "response_rates.csv").exists()
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["notebooks"][0]["status"] == "ok" and "survey.csv" in manifest["inputs"]
    assert "01_current_state.html" in (out / "index.html").read_text(encoding="utf-8")


@pytest.mark.slow  # end to end (notebook runs): make test, not make test-fast
def test_runner_reports_failing_notebook(tiny, tmp_path):
    nbdir = _mini_notebook(tmp_path / "nbs", fail=True)
    results = run_municipality(tiny, reports_root=tmp_path / "reports", notebooks_dir=nbdir)
    assert results[0].status == "failed" and "わざと失敗" in results[0].error
    index = (tmp_path / "reports" / "tiny" / "index.html").read_text(encoding="utf-8")
    assert "失敗" in index and "わざと失敗" in index
    page = (tmp_path / "reports" / "tiny" / "01_current_state.html").read_text(encoding="utf-8")
    assert "途中で止まりました" in page and "わざと失敗" in page
    assert "An Exception was encountered" not in page and "papermill" not in page  # no English error banners for staff


def test_optional_notebook_without_its_inputs_is_not_applicable(tiny, tmp_path):
    nbdir = _mini_notebook(tmp_path / "nbs")
    (nbdir / "01_current_state.ipynb").rename(nbdir / "04_training.ipynb")
    results = run_municipality(tiny, reports_root=tmp_path / "reports", notebooks_dir=nbdir)
    assert [(r.notebook, r.status) for r in results] == [("04_training", "not_applicable")]
    assert "training_pre" in results[0].error
    assert "対象外" in (tmp_path / "reports" / "tiny" / "index.html").read_text(encoding="utf-8")


@pytest.mark.slow  # end to end (CLI run): make test, not make test-fast
def test_unknown_notebook_name_is_a_user_error(tiny, tmp_path):
    r = cli("run", tiny, "--notebook", "07", "--reports", tmp_path / "r")
    assert r.returncode == 2 and "07" in r.stderr and "01_current_state" in r.stderr and "Traceback" not in r.stderr


# ---- the bundled sample, as exported and deliberately broken ---------------------------
def _survey(folder):
    import pandas as pd

    return pd.read_csv(folder / "survey.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")


@pytest.mark.slow  # end to end (CLI runs): make test, not make test-fast
def test_sample_as_cp932_and_xlsx_is_accepted(sample_copy):
    df = _survey(sample_copy)
    df.to_csv(sample_copy / "survey.csv", index=False, encoding="cp932")
    assert cli("check", sample_copy).returncode == 0
    (sample_copy / "survey.csv").unlink()
    df.to_excel(sample_copy / "survey.xlsx", index=False)
    text = (sample_copy / "municipality.yaml").read_text(encoding="utf-8").replace("survey: survey.csv", "survey: survey.xlsx")
    (sample_copy / "municipality.yaml").write_text(text, encoding="utf-8")
    r = cli("check", sample_copy)
    assert r.returncode == 0, r.stderr
    assert "回答者 500人" in r.stdout


@pytest.mark.slow  # end to end (CLI run): make test, not make test-fast
def test_sample_broken_values_all_reported(sample_copy, tmp_path):
    df = _survey(sample_copy)
    likert = df.columns[9]
    df.loc[11, likert] = "7"  # spreadsheet row 13
    df.loc[20, "所属部署"] = "未来創造部"  # not in the codebook values
    df["備考"] = ""  # a header the codebook does not know
    df.to_csv(sample_copy / "survey.csv", index=False, encoding="cp932")
    r = cli("run", sample_copy, "--reports", tmp_path / "reports")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert f"行: 13 列: 「{likert}」 値: 7" in r.stderr
    assert "行: 22" in r.stderr and "未来創造部" in r.stderr and "attributes.department.values" in r.stderr
    assert "「備考」" in r.stderr and "ignore" in r.stderr


@pytest.mark.slow  # end to end (CLI run): make test, not make test-fast
def test_sample_department_missing_from_roster(sample_copy):
    import pandas as pd

    roster = pd.read_csv(sample_copy / "roster.csv", encoding="utf-8-sig")
    roster[roster["所属部署"] != "会計課"].to_csv(sample_copy / "roster.csv", index=False, encoding="utf-8-sig")
    r = cli("check", sample_copy)
    assert r.returncode == 2 and "会計課" in r.stderr and "roster" in r.stderr and "行: " in r.stderr
