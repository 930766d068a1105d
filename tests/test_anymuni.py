"""Issue #12 unit tests: training roles, headlines by kind and scale, multi-select questions,
and the defects found with an independently made town (each failed before its fix).

Towns come from tests/townmaker.py (no dxanalysis code); expected values are computed here.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from dxanalysis import io, segments, training
from dxanalysis.validate import InputError
from dxanalysis.views import training as vtraining
from townmaker import Town, make_town
from conftest import write_csv


def _load(tmp_path: Path, **kw):
    return io.load_municipality(make_town(tmp_path, Town(kw.pop("id", "t"), n=kw.pop("n", 60), **kw)))


def _codes(err: InputError) -> list[str]:
    return [p.code for p in err.problems]


# --------------------------------------------------------------------------- defect 1 and roles
def test_roles_from_codebook(tmp_path):
    m = _load(tmp_path, roles=True, training_comment=False)
    roles = training.item_roles(m.codebook)
    assert roles == {"satisfaction": "manzoku", "attitude": "positive", "planned_action": "idea", "comment": None}
    assert vtraining.role_note("comment") == "研修の感想の設問がないため省略"


def test_roles_fall_back_to_parameter_ids_and_skip_missing(tmp_path):
    """Defect 1: a town without a training comment made notebook 04 fail with
    KeyError 'training_comment'; now the comment role is None and the section is skipped."""
    m = _load(tmp_path, roles=False, training_comment=False, training_satisfaction=False)
    roles = training.item_roles(m.codebook, defaults={"satisfaction": "satisfaction", "attitude": "attitude"})
    assert roles == {"satisfaction": None, "attitude": "attitude", "planned_action": "concrete_idea", "comment": None}
    heads = training.headlines(m.training, m.codebook, roles=roles)
    assert "satisfied" not in set(heads["metric"]) and "positive_after" in set(heads["metric"])


def test_role_errors_in_the_codebook(tmp_path):
    folder = make_town(tmp_path, Town("t", n=30))
    cb = (folder / "codebook.yaml").read_text(encoding="utf-8")
    cb = cb.replace("role: comment", "role: coment").replace("kind: yesno, waves: [post], role: planned_action", "kind: yesno, waves: [post], role: satisfaction")
    (folder / "codebook.yaml").write_text(cb, encoding="utf-8")
    with pytest.raises(InputError) as e:
        io.load_municipality(folder)
    codes = _codes(e.value)
    assert "codebook_unknown_role" in codes and "codebook_duplicate_role" in codes
    assert "「comment」の書き間違い" in e.value.format()


# --------------------------------------------------------------------------- defect 2: headline by kind and scale
def test_yes_no_attitude_headline_counts_yes(tmp_path):
    """Defect 2: every participant answered はい after training and the headline read 0%."""
    m = _load(tmp_path, attitude="yesno", roles=False)  # the item ids notebook 04 has always looked for
    heads = training.headlines(m.training, m.codebook).set_index("metric")
    r = heads.loc["positive_after"]
    assert r["share"] == 1.0 and r["numerator"] == r["n"] > 0
    assert r["rule"] == "yes" and "「はい」と回答" in r["label"]
    lo, hi = proportion_confint(int(r["n"]), int(r["n"]), method="wilson")
    assert (round(r["ci_low"], 6), round(r["ci_high"], 6)) == (round(lo, 6), round(hi, 6))


@pytest.mark.parametrize("attitude, threshold", [("likert5", 4), ("likert4", 3)])
def test_likert_attitude_headline_uses_the_scales_upper_half(tmp_path, attitude, threshold):
    m = _load(tmp_path, attitude=attitude)
    heads = training.headlines(m.training, m.codebook, roles=training.item_roles(m.codebook)).set_index("metric")
    r = heads.loc["positive_after"]
    post = pd.read_csv(tmp_path / "t" / "training_post.csv", encoding="cp932", dtype=str).drop_duplicates("回答キー")
    post = post[post["区分"] == "受講者"]
    from townmaker import AGREE4, AGREE5

    num = post["デジタル化に前向きである"].map({v: k for k, v in (AGREE4 if attitude == "likert4" else AGREE5).items()})
    assert (r["numerator"], r["n"]) == ((num >= threshold).sum(), num.notna().sum())
    assert r["threshold"] == threshold and f"{threshold}〜" in r["label"]


def test_positive_threshold():
    from dxanalysis.config import Scale

    assert [training.positive_threshold(Scale(min=1, max=k, labels={})) for k in (4, 5, 7)] == [3, 4, 5]
    assert training.positive_threshold(Scale(min=0, max=10, labels={})) == 6


# --------------------------------------------------------------------------- multi-select
def test_multi_select_forms_trailing_separator_and_other(tmp_path):
    m = _load(tmp_path, tools="multi", fmt="forms_cp932")
    raw = pd.read_csv(tmp_path / "t" / "survey.csv", encoding="cp932", dtype=str, keep_default_na=False)
    cells = raw.set_index("ID").loc[m.survey["respondent_id"].astype(str), "業務で利用しているツールをすべて選択してください"].to_numpy()
    teams = m.survey["tools_used__teams"].to_numpy()
    other = m.survey["tools_used__other"].to_numpy()
    for cell, t, o in zip(cells, teams, other):
        if cell == "":
            assert np.isnan(t) and np.isnan(o)  # question left blank
        else:
            assert t == float("Teams;" in cell) and o == float("その他" in cell)
    assert np.nansum(other) > 0
    assert "tools_used__kintone" in m.codebook.tool_ids
    assert m.codebook.label_of("tools_used__kintone") == "業務で利用しているツール: kintone"


def test_multi_select_google_separator(tmp_path):
    m = _load(tmp_path, tools="multi", fmt="google_utf8")
    raw = pd.read_csv(tmp_path / "t" / "survey.csv", encoding="utf-8", dtype=str, keep_default_na=False).set_index("ID")
    cells = raw.loc[m.survey["respondent_id"].astype(str), "業務で利用しているツールをすべて選択してください"]
    answered = cells != ""
    assert m.survey.loc[answered.to_numpy(), "tools_used__excel"].sum() == cells[answered].str.split(", ").map(lambda x: "Excel" in x).sum()
    assert m.survey.loc[answered.to_numpy(), "tools_used__other"].sum() == cells[answered].str.contains("その他").sum()


def test_multi_select_unknown_option_is_an_error_with_a_hint(tmp_path):
    folder = make_town(tmp_path, Town("t", n=30, tools="multi", fmt="google_utf8"))
    df = pd.read_csv(folder / "survey.csv", encoding="utf-8", dtype=str, keep_default_na=False)
    col = "業務で利用しているツールをすべて選択してください"
    df.loc[0, col] = "Teams, Exel"
    df.loc[1, col] = "Zoom"
    df.to_csv(folder / "survey.csv", index=False, encoding="utf-8")
    with pytest.raises(InputError) as e:
        io.load_municipality(folder)
    # With an 「その他」 option, a typed-in answer unlike any option (Zoom) counts as その他, as
    # Forms writes the "Other" text on its own; one close to an option (Exel) is still an error.
    bad = [p for p in e.value.problems if p.code == "unknown_multi_option"]
    assert [(p.row, p.value) for p in bad] == [(2, "Exel")]
    assert "「Excel」の書き間違い" in bad[0].format() and "「Exel」は選択肢にありません" in bad[0].format()
    df.loc[0, col] = "Teams, Excel"
    df.to_csv(folder / "survey.csv", index=False, encoding="utf-8")
    m = io.load_municipality(folder)
    assert m.survey.loc[1, "tools_used__other"] == 1.0 and m.survey.loc[1, "tools_used__teams"] == 0.0
    # Without an 「その他」 option every unknown answer is an error.
    cb = folder / "codebook.yaml"
    cb.write_text("\n".join(l for l in cb.read_text(encoding="utf-8").splitlines() if "other: true" not in l) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        io.load_municipality(folder)
    bad = [p for p in e.value.problems if p.code == "unknown_multi_option"]
    assert (bad[0].row, bad[0].value) == (3, "Zoom")
    assert all(p.value.startswith("その他") for p in bad[1:])  # the town's 「その他(…)」 answers too


def test_multi_select_measure_in_hypotheses_and_explorer(tmp_path):
    from dxanalysis import explore, survey

    m = _load(tmp_path, tools="multi")
    assert any(h["measure"] == "tools_used__kintone" for h in m.hypotheses)
    assert ("ツール: 業務で利用しているツール: kintone", "tools_used__kintone") in explore.measure_options(m.codebook)
    view = explore.explorer_view(m, measure="tools_used__kintone", attribute="department", min_group_size=5)
    assert view.kind == "tool"
    use = survey.tool_use(m.survey, m.codebook, by="department")
    over = use[(use["attribute"] == "overall") & (use["tool_id"] == "tools_used__excel")].iloc[0]
    x = m.survey["tools_used__excel"].dropna()
    assert (over["n"], over["n_using"]) == (len(x), int(x.sum()))


# --------------------------------------------------------------------------- defect 4: no English warning for the default catalogue
def test_default_catalogue_with_other_constructs_warns_nothing(tmp_path):
    m = _load(tmp_path, opportunities=False, constructs={"mind": 3, "data": 3}, training=False)
    assert any(w.code == "opportunity_default_mismatch" for w in m.warnings)  # recorded for the advisor, in Japanese
    z = pd.DataFrame({"mind": [-1.0, 0.8], "data": [-0.6, 0.5]}, index=pd.Index([1, 2], name="segment"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = segments.match_opportunities(z, m.opportunities, m.codebook)
    cells = {str(v).strip() for col in out.columns if out[col].dtype == object for v in out[col].dropna() for v in str(v).replace("、", ",").split(",")}
    assert not cells & {"use", "caution", "why", "tech"}, cells


# --------------------------------------------------------------------------- defect 5: every roster problem in one run
def test_roster_negative_count_and_missing_department_reported_together(tiny):
    write_csv(tiny / "roster.csv", ["所属部署", "年代", "職員数"], [("総務部", "30代以下", -3), ("総務部", "40代以上", 12)])
    with pytest.raises(InputError) as e:
        io.load_municipality(tiny)
    codes = _codes(e.value)
    assert "roster_bad_count" in codes and "department_not_in_roster" in codes
    assert not [p for p in e.value.problems if p.code == "more_respondents_than_staff"]  # the unreadable count is not compared


# --------------------------------------------------------------------------- defect 6: say what the file is
def test_xlsx_saved_as_csv_says_it_is_an_excel_workbook(tiny):
    pd.read_csv(tiny / "survey.csv", encoding="utf-8-sig", dtype=str).to_excel(tiny / "book.xlsx", index=False)
    (tiny / "survey.csv").write_bytes((tiny / "book.xlsx").read_bytes())
    with pytest.raises(InputError) as e:
        io.read_table(tiny / "survey.csv")
    assert _codes(e.value) == ["file_is_excel"]
    assert "Excel ブック" in e.value.format() and "文字コードを判別できません" not in e.value.format()


def test_cp932_cut_in_a_character_names_the_line(tiny):
    text = "回答者番号,所属部署\r\n1,総務部\r\n2,福祉部\r\n3,総務部\r\n"
    raw = text.encode("cp932")
    (tiny / "survey.csv").write_bytes(raw[:-3])  # cut after the first byte of 部 on line 4
    with pytest.raises(InputError) as e:
        io.read_table(tiny / "survey.csv")
    p = e.value.problems[0]
    assert p.code == "file_decode_line" and p.row == 4
    assert "4 行目" in e.value.format()


# --------------------------------------------------------------------------- defect 7: the reason line in index.html
def test_index_reason_is_a_block_below_the_link(tmp_path):
    from dxanalysis.config import MunicipalityConfig
    from dxanalysis.report import write_index
    from dxanalysis.runner import NotebookResult

    cfg = MunicipalityConfig(id="t", name="町", fiscal_year=2025)
    results = [NotebookResult("t", "03_roadmap", "not_applicable", error="入力 assessment・measures がないため実行していません"),
               NotebookResult("t", "04_training", "failed", error="KeyError: x", html="04_training.html")]
    html = write_index(tmp_path, cfg=cfg, results=results).read_text(encoding="utf-8")
    assert html.count('class="dx-warning dx-reason"') == 2 and "<br><span" not in html
    assert ".dx-reason{display:block" in html
