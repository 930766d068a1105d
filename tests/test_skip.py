"""The unchanged-run check reads file stats first and hashes only files whose stats changed."""

from __future__ import annotations

import os
import time

import pytest

from dxanalysis import manifest, runner


def _publish(tmp_path):
    work, report = tmp_path / "work", tmp_path / "report"
    for rel, text in {"01_x.html": "page", "tables/a.csv": "a,b\n1,2\n"}.items():
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        (work / rel).write_text(text, encoding="utf-8")
    outputs = runner.publish_outputs(work, report, "01_x", ok=True)
    return report, outputs, runner.output_stats(outputs, report)


def test_unchanged_stats_need_no_hashing(tmp_path, monkeypatch):
    report, outputs, stats = _publish(tmp_path)
    assert sorted(stats) == sorted(outputs)

    def no_hash(path):
        raise AssertionError(f"hashed {path}")

    monkeypatch.setattr(manifest, "file_hash", no_hash)  # output_problems lives in manifest.py
    assert runner.output_problems(outputs, report, stats) == []


def test_changed_file_is_found_even_with_the_same_size(tmp_path):
    report, outputs, stats = _publish(tmp_path)
    time.sleep(0.01)
    (report / "tables" / "a.csv").write_text("a,b\n1,3\n", encoding="utf-8")  # same size, other content
    assert runner.output_problems(outputs, report, stats) == ["tables/a.csv"]


def test_other_stats_with_the_same_content_fall_back_to_the_hash(tmp_path):
    report, outputs, stats = _publish(tmp_path)
    path = report / "tables" / "a.csv"
    text = path.read_bytes()
    path.unlink()
    path.write_bytes(text)  # new inode and mtime, same content: still unchanged
    os.utime(path, ns=(0, 0))
    assert runner.output_problems(outputs, report, stats) == []
    assert runner.output_problems(outputs, report, {}) == []  # manifests written before stats were recorded
    path.unlink()
    assert runner.output_problems(outputs, report, stats) == ["tables/a.csv"]


def test_skipped_result_records_current_stats(tmp_path):
    report, outputs, stats = _publish(tmp_path)
    prev = {"notebook": "01_x", "status": "ok", "hash": "h", "outputs": outputs, "stats": {k: [0, 0, 0] for k in stats}}
    assert runner.reuse_verdict(prev, "h", report) == (True, "")  # stale stats: verified by hash
    assert runner._skipped(prev, "town", report).stats == stats  # and refreshed for the next run


@pytest.mark.slow  # end to end (batch runs): make test, not make test-fast
def test_unchanged_run_skips_the_audit_and_a_changed_shared_file_does_not(tiny, tmp_path, monkeypatch):
    from test_batch import MINI_01, _notebook  # the batch tests' one-cell notebook

    nbs = tmp_path / "nbs"
    nbs.mkdir()
    _notebook(nbs / "01_current_state.ipynb", MINI_01, "01 テスト")
    kw = dict(reports_root=tmp_path / "reports", notebooks_dir=nbs, workers=1, progress=False)
    assert [r.status for r in runner.run_batch([tiny], **kw).results] == ["ok"]
    audits = []
    real = runner.audit_failed_rows
    monkeypatch.setattr(runner, "audit_failed_rows", lambda *a, **k: audits.append(1) or real(*a, **k))
    assert [r.status for r in runner.run_batch([tiny], **kw).results] == ["skipped"]
    assert audits == []  # same shared files as the last passed audit
    xlsx = tmp_path / "reports" / "tiny" / "tables.xlsx"
    xlsx.write_bytes(xlsx.read_bytes() + b"\0")  # a shared file changed outside the run
    runner.run_batch([tiny], **kw)
    assert audits == [1]


def _cli_run_reporting_heavy_imports(data, reports, notebooks_dir) -> str:
    """``dxanalysis run`` in a fresh interpreter; its output ends with ``HEAVY=`` and the heavy libraries it imported."""
    import subprocess
    import sys

    from test_batch import ROOT

    code = ("import sys\nfrom dxanalysis.cli import main\nrc = main(['run', sys.argv[1], '--reports', sys.argv[2], '--notebooks-dir', sys.argv[3], '--no-progress'])\n"
            "heavy = sorted(m for m in ('pandas', 'scipy', 'matplotlib', 'papermill', 'nbformat', 'nbconvert', 'numpy') if m in sys.modules)\n"
            "print('HEAVY=' + ','.join(heavy)); sys.exit(rc)")
    r = subprocess.run([sys.executable, "-c", code, str(data), str(reports), str(notebooks_dir)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


@pytest.mark.slow  # end to end (CLI runs): make test, not make test-fast
def test_second_unchanged_run_keeps_index_and_imports_no_heavy_library(tiny, tmp_path):
    """An unchanged run needs neither pandas nor matplotlib, papermill or nbformat once the index is up to date."""
    import json

    from test_batch import MINI_01, _notebook

    nbs = tmp_path / "nbs"
    _notebook(nbs / "01_current_state.ipynb", MINI_01, "01 テスト")
    kw = dict(reports_root=tmp_path / "reports", notebooks_dir=nbs, workers=1, progress=False)
    runner.run_batch([tiny], **kw)
    assert [r.status for r in runner.run_batch([tiny], **kw).results] == ["skipped"]  # writes the index with 変更なし
    index = tmp_path / "reports" / "tiny" / "index.html"
    stamp = index.stat().st_mtime_ns
    out = _cli_run_reporting_heavy_imports(tiny, tmp_path / "reports", nbs)
    assert "HEAVY=\n" in out and "変更なし" in out
    assert index.stat().st_mtime_ns == stamp  # nothing it shows changed
    assert json.loads((tmp_path / "reports" / "tiny" / "manifest.json").read_text(encoding="utf-8"))["index_source"]
    index.write_text("edited", encoding="utf-8")  # an index that is not the one written: rewritten
    runner.run_batch([tiny], **kw)
    assert "変更なし" in index.read_text(encoding="utf-8")


@pytest.mark.slow  # end to end (CLI runs): make test, not make test-fast
def test_unchanged_batch_with_a_comparison_imports_no_heavy_library(tiny, tmp_path):
    """Several municipalities and their comparison (05): an unchanged re-run stays light too.

    Session 5 measured 3.7 s for 20 unchanged municipalities (target < 2 s): deciding on the
    comparison imported dxanalysis.compare (pandas, scipy) and rewrote its index every time.
    """

    from test_batch import MINI_01, MINI_05, _municipality, _notebook

    nbs = tmp_path / "nbs"
    _notebook(nbs / "01_current_state.ipynb", MINI_01, "01 テスト")
    _notebook(nbs / "05_comparison.ipynb", MINI_05, "05 比較")
    data = tmp_path / "data"
    towns = [_municipality(tiny, data, mid) for mid in ("east", "west")]
    kw = dict(reports_root=tmp_path / "reports", notebooks_dir=nbs, workers=1, progress=False)
    first = runner.run_batch(towns, **kw)
    assert first.comparison is not None and first.comparison.status == "ok"
    runner.run_batch(towns, **kw)  # writes the indexes with 変更なし
    index = tmp_path / "reports" / "_comparison" / "index.html"
    stamp = index.stat().st_mtime_ns
    out = _cli_run_reporting_heavy_imports(data, tmp_path / "reports", nbs)
    assert "HEAVY=\n" in out, out
    assert index.stat().st_mtime_ns == stamp  # the comparison's index: nothing it shows changed
    index.write_text("edited", encoding="utf-8")  # not the one written: rewritten
    runner.run_batch(towns, **kw)
    assert "edited" not in index.read_text(encoding="utf-8")
    # an edited comparison notebook re-runs with a new finding: the index shows it
    _notebook(nbs / "05_comparison.ipynb", MINI_05 + "pub.finding('比較の新しい要点です。')\n", "05 比較")
    again = runner.run_batch(towns, **kw)
    assert again.comparison.status == "ok" and "比較の新しい要点です。" in index.read_text(encoding="utf-8")
    _notebook(nbs / "05_comparison.ipynb", MINI_05 + "pub.finding('もう一度書き直した要点です。')\n", "05 比較")  # ok after ok
    assert runner.run_batch(towns, **kw).comparison.status == "ok"
    assert "もう一度書き直した要点です。" in index.read_text(encoding="utf-8") and "比較の新しい要点です。" not in index.read_text(encoding="utf-8")


def test_package_hash_follows_a_changed_source_file(tmp_path):
    import shutil

    from dxanalysis import config

    pkg = tmp_path / "dxanalysis"
    shutil.copytree(config.PACKAGE_DIR, pkg, ignore=shutil.ignore_patterns("__pycache__"))
    first = config.package_hash(pkg)
    assert config.package_hash(pkg) == first
    target = pkg / "survey.py"
    text = target.read_text(encoding="utf-8")
    target.write_text(text.replace("def ", "def  ", 1), encoding="utf-8")
    assert config.package_hash(pkg) != first
    target.write_text(text, encoding="utf-8")
    assert config.package_hash(pkg) == first


@pytest.mark.slow  # end to end (CLI runs): make test, not make test-fast
def test_unchanged_run_reuses_the_recorded_instrument(tiny, tmp_path, monkeypatch):
    import json

    from test_batch import MINI_01, _notebook

    from dxanalysis.config import load_codebook

    nbs = tmp_path / "nbs"
    _notebook(nbs / "01_current_state.ipynb", MINI_01, "01 テスト")
    kw = dict(reports_root=tmp_path / "reports", notebooks_dir=nbs, workers=1, progress=False)
    runner.run_batch([tiny], **kw)
    manifest = json.loads((tmp_path / "reports" / "tiny" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["item_ids"] == list(load_codebook(tiny / "codebook.yaml").item_ids)
    parsed = []
    monkeypatch.setattr(runner, "load_codebook", lambda *a, **k: parsed.append(1) or load_codebook(*a, **k))
    assert [r.status for r in runner.run_batch([tiny], **kw).results] == ["skipped"] and parsed == []  # same inputs: not parsed again
    with open(tiny / "roster.csv", "a", encoding="utf-8-sig") as f:
        f.write("総務部,30代以下,0\n")
    runner.run_batch([tiny], **kw)
    assert parsed == [1]  # other inputs: parsed
