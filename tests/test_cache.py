"""The segment cache: fitted once per municipality, never used when inputs, parameters or code changed."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dxanalysis import cache, io, segments
from dxanalysis.report import Publisher

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
FAST = {"k_range": (2, 4), "n_resamples": 2}


@pytest.fixture(scope="module")
def municipality(sample_municipality):
    return sample_municipality  # conftest: data/sample loaded once per session (read-only here)


@pytest.fixture
def fits(monkeypatch):
    """Counts real fits of the segment model."""
    calls = []
    real = segments.SegmentModel.fit

    def counting(self, X, y=None):
        calls.append(len(X))
        return real(self, X, y)

    monkeypatch.setattr(segments.SegmentModel, "fit", counting)
    return calls


def test_second_notebook_loads_the_same_model(municipality, fits, tmp_path):
    one = segments.fit_segments(municipality, cache=tmp_path, **FAST)
    two = segments.fit_segments(municipality, cache=tmp_path, **FAST)
    three = segments.assign_segments(municipality, cache=tmp_path, **FAST)  # as notebooks 03 and 04 call it
    assert len(fits) == 1
    pd.testing.assert_frame_equal(one.assignment, two.assignment)
    pd.testing.assert_frame_equal(one.table, two.table)
    pd.testing.assert_frame_equal(one.assignment, three)
    plain = segments.fit_segments(municipality, **FAST)  # without a cache: same result
    pd.testing.assert_frame_equal(one.assignment, plain.assignment)
    assert len(list(tmp_path.glob("segment_model-*.pkl"))) == 1


def test_stale_cache_is_never_used(municipality, fits, tmp_path, monkeypatch):
    segments.fit_segments(municipality, cache=tmp_path, **FAST)
    assert len(fits) == 1
    # other parameters
    segments.fit_segments(municipality, cache=tmp_path, **{**FAST, "random_state": 7})
    assert len(fits) == 2
    # other survey data: one answer changed
    m2 = io.load_municipality(SAMPLE)
    item = m2.codebook.item_ids[0]
    first = m2.survey[item].first_valid_index()
    sc = m2.codebook.scales[m2.codebook.item(item).scale]
    m2.survey.loc[first, item] = sc.min if m2.survey.loc[first, item] != sc.min else sc.max
    changed = segments.fit_segments(m2, cache=tmp_path, **FAST)
    assert len(fits) == 3
    assert len(changed.features) == len(m2.survey)
    # other package code (any edited source file changes the package hash)
    monkeypatch.setattr(cache, "package_key", lambda: "a different package")
    segments.fit_segments(municipality, cache=tmp_path, **FAST)
    assert len(fits) == 4


def test_unreadable_or_foreign_file_is_computed_again(tmp_path):
    key = cache.digest("x", 1)
    (tmp_path / f"thing-{key}.pkl").write_bytes(b"half a file")
    assert cache.cached(tmp_path, "thing", key, lambda: 42) == 42
    assert cache.cached(tmp_path, "thing", key, lambda: 0) == 42  # now stored
    # a file renamed to another key is not trusted: the key inside must match
    other = cache.digest("x", 2)
    (tmp_path / f"thing-{key}.pkl").rename(tmp_path / f"thing-{other}.pkl")
    assert cache.cached(tmp_path, "thing", other, lambda: 7) == 7


def test_digest_sees_values_index_and_columns():
    df = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]}, index=["r1", "r2"])
    base = cache.digest(df)
    assert cache.digest(df.copy()) == base
    assert cache.digest(df.assign(a=[1.0, 2.5])) != base
    assert cache.digest(df.set_axis(["r1", "r3"])) != base
    assert cache.digest(df.rename(columns={"b": "c"})) != base
    assert cache.digest(np.array([1, 2])) != cache.digest(np.array([1.0, 2.0]))


def test_concurrent_callers_compute_once(tmp_path):
    calls, results = [], []

    def compute():
        calls.append(1)
        time.sleep(0.5)
        return {"model": 1}

    threads = [threading.Thread(target=lambda: results.append(cache.cached(tmp_path, "m", "k", compute))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [{"model": 1}] * 3
    assert len(calls) == 1  # the others waited on the key's lock, then read the file
    assert not list(tmp_path.glob(".*.tmp"))  # atomic write left no temporary file


def test_cache_dir_is_the_final_report_folder(tmp_path):
    final = tmp_path / "reports" / "town"
    scratch = final / ".staging" / "02_segments.123-0"
    assert cache.cache_dir(scratch) == final.resolve() / "private" / "cache"
    assert cache.cache_dir(final) == final.resolve() / "private" / "cache"
    assert Publisher(scratch, display=False).cache_dir == final.resolve() / "private" / "cache"


def test_runner_staging_name_matches():
    from dxanalysis import runner

    assert runner.STAGING_DIR == cache.STAGING_DIR


def test_read_only_cache_folder_still_computes(tmp_path, monkeypatch):
    def refuse(*a, **k):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(cache.fsutil, "atomic_write_bytes", refuse)
    assert cache.cached(tmp_path, "m", "k", lambda: 5) == 5


# ----------------------------------------------------------------------------- the loaded municipality
@pytest.fixture
def reads(monkeypatch):
    """Counts real reads of a municipality folder (not answered from the cache)."""
    calls = []
    real = io._read_municipality

    def counting(folder):
        calls.append(str(folder))
        return real(folder)

    monkeypatch.setattr(io, "_read_municipality", counting)
    return calls


def test_municipality_is_read_once_per_report_folder(tmp_path, reads):
    import shutil

    data = tmp_path / "town"
    shutil.copytree(SAMPLE, data)
    report = tmp_path / "reports" / "sample"
    first = io.load_municipality(data, cache=report)
    staging = report / cache.STAGING_DIR / "02_segments.123-1"  # the runner's scratch folder of a notebook
    again = io.load_municipality(data, cache=staging)
    assert len(reads) == 1 and list((report / "private" / "cache").glob("municipality-*.pkl"))
    pd.testing.assert_frame_equal(first.survey, again.survey)
    pd.testing.assert_frame_equal(first.roster, again.roster)
    assert again.codebook == first.codebook and again.config == first.config and again.hypotheses == first.hypotheses
    # a changed answer in the survey file: read again, and the change is there
    survey = data / "survey.csv"
    text = survey.read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    header, row = lines[0].split(","), lines[1].split(",")
    col = next(i for i, h in enumerate(header) if row[i] in {"まったくそう思わない", "とてもそう思う"})  # a Likert answer
    row[col] = "とてもそう思う" if row[col] == "まったくそう思わない" else "まったくそう思わない"
    survey.write_text("\n".join([lines[0], ",".join(row), *lines[2:]]) + "\n", encoding="utf-8-sig")
    changed = io.load_municipality(data, cache=report)
    assert len(reads) == 2 and not changed.survey.equals(first.survey)
    # a file that any input names, added to the folder (an optional input appears): read again
    (data / "notes.txt").write_text("x", encoding="utf-8")
    io.load_municipality(data, cache=report)
    assert len(reads) == 3
    # another package (any edit to a .py or .yaml of dxanalysis): read again
    from dxanalysis import config

    monkeypatch_hash = config._PACKAGE_HASH
    try:
        config._PACKAGE_HASH = "edited"
        io.load_municipality(data, cache=report)
    finally:
        config._PACKAGE_HASH = monkeypatch_hash
    assert len(reads) == 4
    io.load_municipality(data, cache=report)  # and back: the cached copy of the current code
    assert len(reads) == 4


def test_bad_inputs_are_not_cached_and_a_foreign_report_folder_is_not_written(tmp_path, reads):
    import shutil

    from dxanalysis.validate import InputError

    data = tmp_path / "town"
    shutil.copytree(SAMPLE, data)
    roster = data / "roster.csv"
    roster.write_text(roster.read_text(encoding="utf-8-sig").replace("総務部", "総務課", 1), encoding="utf-8-sig")
    report = tmp_path / "reports" / "sample"
    for _ in range(2):
        with pytest.raises(InputError):
            io.load_municipality(data, cache=report)
    assert len(reads) == 2 and not report.exists()  # nothing is created for inputs that break the contract
    shutil.copy2(SAMPLE / "roster.csv", roster)
    other = tmp_path / "reports" / "other"
    (other / "private").mkdir(parents=True)
    (other / "private" / "municipality_id.txt").write_text("another_town\n", encoding="utf-8")
    io.load_municipality(data, cache=other)
    assert not (other / "private" / "cache").exists()


def test_cached_municipality_works_from_another_working_directory(tmp_path, monkeypatch, reads):
    # the runner validates `data/x` (relative, from the project folder); its notebooks load the
    # absolute path from their scratch folder: the cached copy must find its inputs from there
    import shutil

    shutil.copytree(SAMPLE, tmp_path / "data" / "x")
    report = tmp_path / "reports" / "x"
    monkeypatch.chdir(tmp_path)
    io.load_municipality(Path("data") / "x", cache=report)
    elsewhere = tmp_path / "reports" / "x" / ".staging" / "01_current_state.1-1"
    elsewhere.mkdir(parents=True)
    monkeypatch.chdir(elsewhere)
    m = io.load_municipality(tmp_path / "data" / "x", cache=elsewhere)
    assert len(reads) == 1  # from the cache
    assert m.config.folder.is_absolute() and m.config.input_path("roster").exists()


def test_a_file_that_cannot_be_hashed_means_no_cache_not_an_error(tmp_path, monkeypatch, reads):
    import shutil

    data = tmp_path / "town"
    shutil.copytree(SAMPLE, data)

    def vanished(*a, **k):
        raise FileNotFoundError("an editor's lock file went away")

    monkeypatch.setattr(io, "municipality_key", vanished)
    m = io.load_municipality(data, cache=tmp_path / "reports" / "sample")
    assert len(reads) == 1 and len(m.survey) and not (tmp_path / "reports" / "sample" / "private" / "cache").exists()
