"""What an advisor sees in JupyterLab is what the HTML shows: the reference checks that
notebooks used to print in ``# NBVAL_CHECK_OUTPUT`` cells live here, and an executed
notebook carries only Publisher-marked outputs (no repr lines, paths, warnings or tracebacks)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dxanalysis import config, survey, training
from dxanalysis.validate import InputError

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"


@pytest.fixture(scope="module")
def sample(sample_municipality):
    return sample_municipality


def test_sample_hypothesis_verdicts(sample):
    """Was notebook 01's NBVAL_CHECK_OUTPUT cell: the verdicts of the sample's planted hypotheses."""
    h = survey.test_hypotheses(sample, survey.construct_scores(sample.survey, sample.codebook))
    got = [tuple(r) for r in h[["hypothesis_id", "verdict", "n_group", "n_versus"]].itertuples(index=False)]
    assert got == [("H1", "refuted", 297, 85), ("H2", "supported", 297, 85), ("H3", "equivalent", 76, 419), ("H4", "supported", 38, 462), ("H5", "inconclusive", 108, 392)]


def test_sample_training_headline_counts(sample):
    """Was notebook 04's NBVAL_CHECK_OUTPUT cell: the sample's headline counts."""
    roles = training.item_roles(sample.codebook, defaults={"satisfaction": "satisfaction", "attitude": "attitude", "planned_action": "concrete_idea", "comment": "training_comment"})
    heads = training.headlines(sample.training, sample.codebook, roles=roles, language=sample.language)
    got = [(r.metric, int(r.numerator), int(r.n)) for r in heads[["metric", "numerator", "n"]].itertuples(index=False)]
    assert got == [("satisfied", 41, 44), ("positive_after", 35, 44), ("improved", 22, 42), ("idea_after", 14, 44)]


class _M:  # the two fields resolve_report_dir reads
    def __init__(self, mid):
        self.config = type("C", (), {"id": mid})()
        self.language = "ja"


def test_report_dir_follows_the_municipality_and_refuses_another(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    # the notebooks' default (empty) follows the municipality: changing data_dir only never overwrites another town
    assert config.resolve_report_dir(_M("sample"), "") == Path("../reports/sample")
    assert config.resolve_report_dir(_M("town2"), "") == Path("../reports/town2")
    assert (tmp_path / "reports" / "town2" / "private" / "municipality_id.txt").read_text().strip() == "town2"
    # an explicit folder of another municipality is refused, with a message naming both
    with pytest.raises(InputError) as err:
        config.resolve_report_dir(_M("town2"), "../reports/sample")
    assert "sample" in str(err.value) and "town2" in str(err.value) and "report_dir" in str(err.value)
    # a folder known only from its manifest (reports made before the owner file existed)
    old = tmp_path / "old"
    old.mkdir()
    (old / "manifest.json").write_text(json.dumps({"municipality": "sample"}))
    with pytest.raises(InputError):
        config.resolve_report_dir(_M("town2"), old)
    assert config.resolve_report_dir(_M("sample"), old) == old
    assert config.resolve_report_dir(_M("town2"), tmp_path / "new") == tmp_path / "new"  # a new folder is claimed


def _bad_outputs(nb: dict) -> list[str]:
    bad = []
    for i, cell in enumerate(nb["cells"]):
        for out in cell.get("outputs", []) if cell["cell_type"] == "code" else []:
            kind = out.get("output_type")
            data = out.get("data", {})
            text = json.dumps(out, ensure_ascii=False)
            if kind == "display_data" and (out.get("metadata", {}).get("dxanalysis_shared") or "application/vnd.jupyter.widget-view+json" in data):
                pass
            else:
                bad.append(f"cell {i}: {kind} {text[:160]}")
            for word in ("PosixPath", "findfont", "Traceback"):
                if word in text:
                    bad.append(f"cell {i}: {word}")
    return bad


@pytest.mark.slow
def test_executed_notebooks_show_only_published_outputs(sample_report):
    """Every executed notebook of the sample run (the full copies in private/notebooks/) holds only
    Publisher-marked display_data (and the explorer widget): no repr line, stream, warning or error.
    Uses the session's sample run (conftest ``sample_report``), so it adds no notebook run."""
    full = sorted((sample_report / "private" / "notebooks").glob("*.ipynb"))
    assert {p.stem for p in full} >= {"01_current_state", "02_segments", "04_training"}
    for path in full:
        assert _bad_outputs(json.loads(path.read_text(encoding="utf-8"))) == [], path.name
    for path in sample_report.glob("0*.ipynb"):  # the lead's pre-stop check, on the shared copies
        text = path.read_text(encoding="utf-8")
        assert "PosixPath(" not in text and "findfont:" not in text and '"output_type": "error"' not in text
