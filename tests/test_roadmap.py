"""Gap scoring, sensitivity, fiscal years, dependency check, input checks and roadmap.xlsx.

Reference values are computed by hand (the arithmetic is in the comments); the module's
own earlier output is never used as a reference.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dxanalysis import io
from dxanalysis import roadmap as rm
from dxanalysis.views import roadmap as vrm  # the words of notebook 03
from dxanalysis.validate import InputError

from conftest import write_csv


# --------------------------------------------------------------------------- fiscal years
@pytest.mark.parametrize(
    "fy, label",
    [(2019, "令和元年度"), (2025, "令和7年度"), (2020, "令和2年度"), (2018, "平成30年度"), (1989, "平成元年度"), (1990, "平成2年度"), (2030, "令和12年度")],
)
def test_fiscal_year_label(fy, label):
    # 令和 began on 1 May 2019; FY2019 (April 2019–March 2020) is called 令和元年度 by
    # convention (Cabinet Office guidance on the era change), FY2018 the last 平成 year (30).
    assert rm.fiscal_year_label(fy) == label


def test_fiscal_year_label_english_and_out_of_range():
    assert rm.fiscal_year_label(2025, language="en") == "FY2025"
    with pytest.raises(ValueError):
        rm.fiscal_year_label(1988)


@pytest.mark.parametrize(
    "value, fy",
    [(2026, 2026), ("2026", 2026), (2026.0, 2026), ("FY2026", 2026), ("2026年度", 2026), ("令和8年度", 2026),
     ("令和元年度", 2019), ("R8", 2026), ("H30", 2018), ("平成30年度", 2018)],
)
def test_parse_fiscal_year(value, fy):
    assert rm.parse_fiscal_year(value) == fy


@pytest.mark.parametrize("value", ["来年度", "26", "2026.5", 2026.5, "令和0年度", "3000"])
def test_parse_fiscal_year_rejects(value):
    with pytest.raises(ValueError):
        rm.parse_fiscal_year(value)


# --------------------------------------------------------------------------- scoring
def test_likert_to_level():
    # (mean − 1) / 4 × 5: 1 → 0, 3 → 2.5, 5 → 5, 2.2 → 1.2/4×5 = 1.5
    assert rm.likert_to_level(1.0) == 0.0
    assert rm.likert_to_level(3.0) == 2.5
    assert rm.likert_to_level(5.0) == 5.0
    assert rm.likert_to_level(2.2) == pytest.approx(1.5)
    # a 0–10 scale: (7 − 0)/10 × 5 = 3.5
    assert rm.likert_to_level(7.0, scale_min=0, scale_max=10) == pytest.approx(3.5)


def test_priority_score_hand_computed():
    # weights 1,1,1: 100 × (2/5) × (4/5) × (3/5) = 100 × 0.4 × 0.8 × 0.6 = 19.2
    assert rm.priority_score(2, 4, 3) == pytest.approx(19.2)
    # maximum: 100 × 1 × 1 × 1
    assert rm.priority_score(5, 5, 5) == pytest.approx(100.0)
    # weights gap 2, importance 1, feasibility 0.5:
    # 100 × 0.4² × 0.8 × 0.6^0.5 = 100 × 0.16 × 0.8 × 0.7745967 = 9.914837
    assert rm.priority_score(2, 4, 3, weights={"gap": 2, "importance": 1, "feasibility": 0.5}) == pytest.approx(9.914837, abs=1e-6)
    # weight 0 drops a criterion: 100 × 0.4 × 0.8 × 1 = 32
    assert rm.priority_score(2, 4, 3, weights={"feasibility": 0}) == pytest.approx(32.0)
    # no gap (or a target already exceeded) → 0 whatever the importance
    assert rm.priority_score(0, 5, 5) == 0.0
    assert rm.priority_score(-0.4, 5, 5) == 0.0


def test_priority_score_rejects_bad_weights():
    with pytest.raises(ValueError):
        rm.priority_score(2, 4, 3, weights={"gap": -1})
    with pytest.raises(ValueError):
        rm.priority_score(2, 4, 3, weights={"urgency": 1})


def _assessment(rows):
    df = pd.DataFrame(rows, columns=["item_id", "domain", "item", "current", "target", "importance", "feasibility"])
    df["survey_construct"] = None
    return df


# Three items whose order depends on the weights (see test_rank_sensitivity_hand_computed).
XYZ = _assessment([
    ("X", "D1", "項目X", 1.0, 5.0, 2.0, 3.0),  # gap 4
    ("Y", "D1", "項目Y", 2.0, 4.0, 5.0, 3.0),  # gap 2
    ("Z", "D2", "項目Z", 0.0, 3.0, 3.0, 2.0),  # gap 3
])


def test_gap_scores_hand_computed():
    g = rm.gap_scores(XYZ).set_index("item_id")
    # gap = target − current
    assert g.loc["X", "gap"] == 4 and g.loc["Y", "gap"] == 2 and g.loc["Z", "gap"] == 3
    # X: 100 × 0.8 × 0.4 × 0.6 = 19.2; Y: 100 × 0.4 × 1.0 × 0.6 = 24.0; Z: 100 × 0.6 × 0.6 × 0.4 = 14.4
    assert g.loc["X", "priority_score"] == pytest.approx(19.2)
    assert g.loc["Y", "priority_score"] == pytest.approx(24.0)
    assert g.loc["Z", "priority_score"] == pytest.approx(14.4)
    assert g["rank"].to_dict() == {"Y": 1, "X": 2, "Z": 3}
    assert not g["tied"].any()
    assert list(rm.gap_scores(XYZ).columns) == ["item_id", "item", "domain", "current", "current_source", "target", "gap", "importance", "feasibility", "priority_score", "rank", "tied"]


def test_gap_scores_ties_share_the_best_rank():
    df = _assessment([
        # P: 100 × 0.4 × 0.8 × 0.6 = 19.2 ; Q: 100 × 0.6 × 0.8 × 0.4 = 19.2 (same score, larger gap)
        ("P", "D", "p", 1, 3, 4, 3),
        ("Q", "D", "q", 1, 4, 4, 2),
        # R and S identical: 100 × 0.2 × 0.2 × 0.2 = 0.8
        ("S", "D", "s", 0, 1, 1, 1),
        ("R", "D", "r", 0, 1, 1, 1),
        # T: 100 × 0.2 × 0.2 × 0.4 = 1.6
        ("T", "D", "t", 0, 1, 1, 2),
    ])
    g = rm.gap_scores(df)
    # competition ranks ("1224"), as scipy.stats.rankdata(-score, method="min") = [1, 1, 4, 4, 3]
    # for scores [19.2, 19.2, 0.8, 0.8, 1.6]
    assert g.set_index("item_id")["rank"].to_dict() == {"Q": 1, "P": 1, "T": 3, "R": 4, "S": 4}
    assert g.set_index("item_id")["tied"].to_dict() == {"Q": True, "P": True, "T": False, "R": True, "S": True}
    # display order within a tie: larger gap, then importance, then id (the rank stays shared)
    assert g["item_id"].tolist() == ["Q", "P", "T", "R", "S"]
    assert vrm.describe_priorities(g, k=1) == "優先度が高い項目は 1位(同点) Q q(19.2点)、1位(同点) P p(19.2点)。"
    assert rm.rank_text(2, True) == "2位(同点)" and rm.rank_text(3) == "3位"
    # 0.1-level inputs give products exact far below the tie tolerance: 2.3 vs 2.2999999999 is one tie
    near = _assessment([("U", "D", "u", 0.7, 3.0, 4, 3), ("V", "D", "v", 1.0, 3.3, 4, 3)])
    assert rm.gap_scores(near)["rank"].tolist() == [1, 1]


def test_domain_gaps_hand_computed():
    d = rm.domain_gaps(rm.gap_scores(XYZ)).set_index("domain")
    # D1 = X and Y: current (1+2)/2 = 1.5, target (5+4)/2 = 4.5, gap (4+2)/2 = 3, max 4
    assert d.loc["D1", ["n_items", "current_mean", "target_mean", "gap_mean", "gap_max"]].tolist() == [2, 1.5, 4.5, 3.0, 4.0]
    assert d.loc["D1", "top_item"] == "Y 項目Y"
    assert d.index.tolist() == ["D1", "D2"]  # file order


def test_gap_quadrants():
    q = rm.gap_quadrants(rm.gap_scores(XYZ), gap_split=3, importance_split=4).set_index("item_id")
    # X gap 4 ≥ 3, importance 2 < 4; Y gap 2 < 3, importance 5; Z gap 3 ≥ 3 (on the line counts as large), importance 3
    assert q.loc["X", "quadrant"] == "計画的に取り組む"
    assert q.loc["Y", "quadrant"] == "維持・強化する"
    assert q.loc["Z", "quadrant"] == "計画的に取り組む"
    q2 = rm.gap_quadrants(rm.gap_scores(XYZ), gap_split=2, importance_split=5).set_index("item_id")
    assert q2.loc["Y", "quadrant"] == "重点課題(最優先で取り組む)"


def test_rank_sensitivity_hand_computed():
    # Scores (× 1/100) under each scenario, one weight moved at a time:
    #   gap ×1.5:  X .8^1.5·.4·.6 = .1717  Y .4^1.5·1·.6 = .1518  Z .6^1.5·.6·.4 = .1115 → X1 Y2 Z3
    #   gap ×0.5:  X .8^.5·.24 = .2147   Y .4^.5·.6 = .3795     Z .6^.5·.24 = .1859   → Y1 X2 Z3
    #   imp ×0.5:  X .8·.4^.5·.6 = .3036 Y .4·1·.6 = .24        Z .6·.6^.5·.4 = .1859 → X1 Y2 Z3
    #   imp ×1.5:  X .8·.4^1.5·.6 = .1214 Y .24                 Z .6·.6^1.5·.4 = .1115 → Y1 X2 Z3
    #   feas ×0.5: X .32·.6^.5 = .2479   Y .4·.6^.5 = .3098     Z .36·.4^.5 = .2277   → Y1 X2 Z3
    #   feas ×1.5: X .32·.6^1.5 = .1487  Y .4·.6^1.5 = .1859    Z .36·.4^1.5 = .0911  → Y1 X2 Z3
    sens = rm.rank_sensitivity(XYZ, top=2, rating_shift=0)
    assert len(sens) == 2 * 6  # top 2 items × 6 scenarios
    assert sens.attrs["n_scenarios"] == {"weight": 6, "rating": 0, "survey": 0}
    r = sens.set_index(["item_id", "criterion", "change"])["rank"]
    assert r[("X", "gap", 1.5)] == 1 and r[("Y", "gap", 1.5)] == 2
    assert r[("X", "gap", 0.5)] == 2 and r[("Y", "gap", 0.5)] == 1
    assert r[("X", "importance", 0.5)] == 1 and r[("Y", "importance", 0.5)] == 2
    assert r[("X", "importance", 1.5)] == 2
    assert r[("X", "feasibility", 0.5)] == 2 and r[("X", "feasibility", 1.5)] == 2
    assert set(sens["scenario"]) == {"ギャップ −50%", "ギャップ +50%", "重要度 −50%", "重要度 +50%", "実現容易性 −50%", "実現容易性 +50%"}
    stab = rm.rank_stability(sens, top=2).set_index("item_id")
    assert stab.loc["X", ["base_rank", "rank_min", "rank_max", "rank_range"]].tolist() == [2, 1, 2, 1]
    assert stab.loc["Y", ["base_rank", "rank_min", "rank_max", "rank_range"]].tolist() == [1, 1, 2, 1]
    assert stab["stays_top"].all() and stab["moved_by"].tolist() == ["重みの変更", "重みの変更"]
    wide = rm.sensitivity_table(sens, top=2)
    assert wide.columns.tolist() == ["item_id", "item", "base_rank", "rank_gap_minus50", "rank_gap_plus50", "rank_importance_minus50", "rank_importance_plus50",
                                     "rank_feasibility_minus50", "rank_feasibility_plus50", "rank_min", "rank_max", "rank_range", "stays_top", "moved_by"]
    assert wide.set_index("item_id").loc["X", "rank_gap_plus50"] == 1
    assert rm.sensitivity_labels(wide)["rank_gap_minus50"] == "ギャップ −50%"
    # an item can leave the top: with top=1 Y (rank 2 under gap ×1.5) does not stay
    assert not rm.rank_stability(rm.rank_sensitivity(XYZ, top=1, rating_shift=0), top=1).set_index("item_id").loc["Y", "stays_top"]
    text = vrm.describe_stability(rm.rank_stability(sens, top=2), top=2, sens=sens)
    assert text.startswith("試した6通りの条件(重み(指数)を1つずつ±50%に: 6通り)では、上位2項目のうち2項目が常に2位以内。")
    assert "重みの決め方によらず" not in text and "試していない重みや評価では、順位が変わることがあります" in text


def test_rank_sensitivity_ratings_and_survey_bounds_hand_computed():
    # X gap 4, imp 2, feas 3; Y gap 2, imp 5, feas 3; Z (survey-based current 1.0, target 3) gap 2, imp 4, feas 4
    a = _assessment([
        ("X", "D1", "項目X", 1.0, 5.0, 2.0, 3.0),
        ("Y", "D1", "項目Y", 2.0, 4.0, 5.0, 3.0),
        ("Z", "D2", "項目Z", 1.0, 3.0, 4.0, 4.0),
    ])
    a.loc[2, "survey_construct"] = "data"
    levels = pd.DataFrame({"construct": ["data"], "level": [1.0], "level_low": [0.5], "level_high": [1.5]})
    # base (× 1/100): X .8·.4·.6 = .192, Y .4·1·.6 = .24, Z .4·.8·.8 = .256 → Z1 Y2 X3
    sens = rm.rank_sensitivity(a, top=3, levels=levels)
    assert sens.attrs["n_scenarios"] == {"weight": 6, "rating": 4, "survey": 2}
    r = sens[sens["family"] != "weight"].set_index(["item_id", "scenario_id"])["rank"]
    # ratings, one item at a time (others as rated):
    #   X imp 2→1: .8·.2·.6 = .096 → 3; imp 2→3: .8·.6·.6 = .288 → 1; feas 3→2: .8·.4·.4 = .128 → 3; feas 3→4: .8·.4·.8 = .256 = Z → 1 (tied)
    assert [r[("X", s)] for s in ("rating_importance_minus1", "rating_importance_plus1", "rating_feasibility_minus1", "rating_feasibility_plus1")] == [3, 1, 3, 1]
    #   Y imp 5→4: .4·.8·.6 = .192 = X → 2 (tied, Z above); imp 5→6 clipped to 5: .24 → 2; feas 3→2: .4·.4 = .16 → 3; feas 3→4: .4·.8 = .32 → 1
    assert [r[("Y", s)] for s in ("rating_importance_minus1", "rating_importance_plus1", "rating_feasibility_minus1", "rating_feasibility_plus1")] == [2, 2, 3, 1]
    # survey bounds (Z's current level only): lower 0.5 → gap 2.5: .5·.64 = .32 → Z1 Y2 X3;
    # upper 1.5 → gap 1.5: .3·.64 = .192 = X → Y1, Z and X tied at 2
    assert [r[(i, "survey_low")] for i in "ZYX"] == [1, 2, 3]
    assert [r[(i, "survey_high")] for i in "ZYX"] == [2, 1, 2]
    stab = rm.rank_stability(sens, top=3).set_index("item_id")
    assert stab.loc["Z", "moved_by"].endswith("アンケートの区間")
    summary = vrm.sensitivity_summary(sens, top=3).set_index("item_id")
    assert summary.loc["Z", "survey_ranks"] == "1〜2位" and summary.loc["X", "survey_ranks"] == "2〜3位" and summary.loc["Y", "rating_ranks"] == "1〜3位"
    labels = rm.sensitivity_labels(rm.sensitivity_table(sens, top=3))
    assert labels["rank_rating_importance_plus1"] == "重要度の評価 +1" and labels["rank_survey_low"] == "アンケートの現状レベル 区間の下限"
    text = vrm.describe_stability(rm.rank_stability(sens, top=3), top=3, sens=sens)
    assert text.startswith("試した12通りの条件(重み(指数)を1つずつ±50%に: 6通り、その項目の重要度・実現容易性の評価を±1段階(1〜5の範囲内): 4通り、"
                           "アンケートから求めた現状レベルを95%信頼区間の下限・上限に: 2通り)では")


# --------------------------------------------------------------------------- survey levels
def test_survey_levels_weighted_hand_computed(tiny):
    m = io.load_municipality(tiny)
    # mind = mean(mind_01, 6 − mind_02) per respondent (mind_02 reverse-coded):
    #   r1 (4, 6−2=4) → 4; r2 (5, 6−1) → 5; r3 (3, 3) → 3; r4 (2, 6−4) → 2; r5 (5, 6−1) → 5
    # unweighted (4+5+3+2+5)/5 = 3.8
    # weights 1,2,1,1,0.5: (4 + 10 + 3 + 2 + 2.5) / 5.5 = 3.909091 → level (3.909091−1)/4×5 = 3.636 → 3.6
    w = pd.Series([1.0, 2.0, 1.0, 1.0, 0.5], index=m.survey.index)
    lv = rm.survey_levels(m.survey, m.codebook, constructs=["mind"], weights=w).iloc[0]
    assert lv["n"] == 5
    assert lv["unweighted_mean"] == pytest.approx(3.8)
    assert lv["weighted_mean"] == pytest.approx(3.909091, abs=1e-6)
    assert lv["level"] == 3.6
    # a NaN weight (respondent without a margin value) drops that respondent from the weighted mean:
    # (4 + 10 + 3 + 2) / 5 = 3.8
    w2 = w.copy()
    w2.iloc[4] = np.nan
    assert rm.survey_levels(m.survey, m.codebook, constructs=["mind"], weights=w2).iloc[0]["weighted_mean"] == pytest.approx(3.8)
    # interval with Kish's n_eff. R: w <- c(1,2,1,1,.5); y <- c(4,5,3,2,5); m <- weighted.mean(y,w);
    # v <- sum(w*(y-m)^2)/sum(w)*5/4 → 1.694215; deff <- 5*sum(w^2)/sum(w)^2 → 1.198347 (n_eff 4.172414);
    # m + c(-1,1)*qnorm(.975)*sqrt(v/(5/deff)) → 2.660159 5.158022; the upper end is clipped to the scale maximum 5
    assert lv["mean_ci_low"] == pytest.approx(2.660159, abs=1e-6) and lv["mean_ci_high"] == 5.0
    # levels: (2.660159 − 1)/4×5 = 2.0752 → 2.1; (5 − 1)/4×5 = 5.0
    assert lv["level_low"] == 2.1 and lv["level_high"] == 5.0
    # unweighted: statsmodels DescrStatsW([4,5,3,2,5]).zconfint_mean() → (2.657154, 4.942846)
    un = rm.survey_levels(m.survey, m.codebook, constructs=["mind"]).iloc[0]
    assert [un["mean_ci_low"], un["mean_ci_high"]] == pytest.approx([2.657154, 4.942846], abs=1e-6)
    assert [un["level_low"], un["level_high"]] == [2.1, 4.9]  # 2.0714 → 2.1, 4.9286 → 4.9


def test_fill_current():
    a = _assessment([("A", "D", "a", 1, 3, 3, 3), ("B", "D", "b", np.nan, 4, 3, 3)])
    a.loc[1, "survey_construct"] = "data"
    out = rm.fill_current(a, pd.DataFrame({"construct": ["data"], "level": [2.3]}))
    assert out["current"].tolist() == [1.0, 2.3]
    assert out["current_source"].tolist() == ["自己評価", "アンケート"]
    with pytest.raises(ValueError):
        rm.fill_current(a, None)


# --------------------------------------------------------------------------- input checks
ASSESSMENT_HEADER = ["item_id", "domain", "item", "current", "target", "importance", "feasibility", "owner", "evidence", "survey_construct"]
MEASURES_HEADER = ["measure_id", "measure", "items", "segments", "start_fy", "end_fy", "depends_on", "kpi", "target_2026", "target_2027"]


def _write_inputs(folder, assessment_rows, measure_rows):
    write_csv(folder / "assessment.csv", ASSESSMENT_HEADER, assessment_rows)
    write_csv(folder / "measures.csv", MEASURES_HEADER, measure_rows)


GOOD_ASSESSMENT = [
    ("A01", "方針", "方針発信", "2", "4", "4", "4", "企画課", "", ""),
    ("A02", "人材", "データ活用スキル", "", "3", "4", "3", "人事課", "", "data"),
]
GOOD_MEASURES = [
    ("M01", "研修", "A01;A02", "1;2", "2026", "2027", "", "受講率", "50", "80"),
    ("M02", "基盤", "A01", "", "2027", "2027", "M01", "件数", "", "10"),
]


def test_load_inputs_valid(tiny):
    _write_inputs(tiny, GOOD_ASSESSMENT, GOOD_MEASURES)
    m = io.load_municipality(tiny)
    inp = rm.load_inputs(m, segment_names={1: "推進層", 2: "慎重層"})
    a = inp.assessment.set_index("item_id")
    assert a.loc["A01", "current"] == 2.0 and np.isnan(a.loc["A02", "current"])
    assert a.loc["A02", "survey_construct"] == "data"
    ms = inp.measures.set_index("measure_id")
    assert ms.loc["M01", "items"] == ["A01", "A02"] and ms.loc["M01", "segments"] == [1, 2]
    assert ms.loc["M02", "depends_on"] == ["M01"] and ms.loc["M02", "start_fy"] == 2027
    assert ms.loc["M01", "target_2027"] == 80.0 and pd.isna(ms.loc["M02", "target_2026"])
    # the summary names the survey construct by its label, not its id
    summary = vrm.input_summary(inp, fiscal_year=2025, codebook=m.codebook).set_index("description")["value"]
    assert summary["アンケートから現状レベルを求める項目"] == f"A02 データ活用スキル(アンケートの「{m.codebook.label_of('data')}」)"
    assert m.codebook.label_of("data") != "data"


def test_broken_assessment_reports_every_problem(tiny):
    bad = [
        ("A01", "方針", "方針発信", "7", "4", "4", "4", "", "", ""),          # row 2: current 7 > 5
        ("A02", "方針", "計画", "3", "2", "4", "4", "", "", ""),              # row 3: target 2 < current 3
        ("A03", "人材", "研修", "1", "3", "6", "0", "", "", ""),              # row 4: importance 6, feasibility 0
        ("A01", "人材", "重複", "1", "3", "3", "3", "", "", ""),              # row 5: duplicate id
        ("A05", "人材", "スキル", "", "3", "3", "3", "", "", "unknown"),      # row 6: unknown construct
        ("A06", "人材", "空欄", "", "3", "3", "3", "", "", ""),               # row 7: no current, no construct
        ("A07", "人材", "文字", "高い", "3", "3", "3", "", "", ""),           # row 8: not a number
    ]
    measures = [
        ("M01", "研修", "A03;A99", "2;9", "2027", "2026", "M09", "KPI", "1", "2"),  # row 2: unknown item, segment, FY order, dependency
        ("M01", "重複", "A03", "", "2026", "2026", "", "", "", ""),                   # row 3: duplicate id
        ("M03", "年度", "A03", "x", "来年", "2027", "M03", "", "", ""),               # row 4: segment text, FY unreadable, self-dependency
    ]
    _write_inputs(tiny, bad, measures)
    with pytest.raises(InputError) as exc:  # validated up front, before any notebook runs
        io.load_municipality(tiny)
    found = {(p.file, p.row, p.column, None if p.value is None else str(p.value)) for p in exc.value.problems}
    expected = {
        ("assessment.csv", 2, "current", "7"),
        ("assessment.csv", 3, "target", "2"),
        ("assessment.csv", 4, "importance", "6"),
        ("assessment.csv", 4, "feasibility", "0"),
        ("assessment.csv", 5, "item_id", "A01"),
        ("assessment.csv", 6, "survey_construct", "unknown"),
        ("assessment.csv", 7, "current", None),
        ("assessment.csv", 8, "current", "高い"),
        ("measures.csv", 2, "items", "A99"),
        ("measures.csv", 2, "segments", "9"),
        ("measures.csv", 2, "end_fy", "2026"),
        ("measures.csv", 2, "depends_on", "M09"),
        ("measures.csv", 3, "measure_id", "M01"),
        ("measures.csv", 4, "segments", "x"),
        ("measures.csv", 4, "start_fy", "来年"),
        ("measures.csv", 4, "depends_on", "M03"),
    }
    assert found == expected
    text = exc.value.format()
    # every message names file, row, column and value, and says what to do
    assert "ファイル: assessment.csv 行: 2 列: 「current」 値: 7 — " in text
    assert "0〜5 で入力してください" in text
    assert "目標を現状以上にしてください" in text
    assert "最初の出現: 2 行目" in text
    assert "ノートブック02のセグメント番号(1〜8)にしてください" in text
    assert "start_fy ≤ end_fy にしてください" in text
    assert f"入力データに問題があります({len(expected)} 件)" in text


def test_segments_default_one_to_eight_and_missing_columns():
    items = ["A01"]
    raw = pd.DataFrame({"measure_id": ["M01", "M02"], "measure": ["a", "b"], "items": ["A01", "A01"], "segments": ["8", "9"], "start_fy": ["2026", "2026"], "end_fy": ["2026", "2026"]})
    _, problems = rm.parse_measures(raw, item_ids=items)
    assert [(p.row, p.column, p.value) for p in problems] == [(3, "segments", "9")]
    _, problems = rm.parse_measures(raw.drop(columns=["start_fy"]), item_ids=items)
    assert [(p.row, p.column) for p in problems] == [(1, "start_fy")]
    _, problems = rm.parse_assessment(pd.DataFrame({"item_id": ["A"]}))
    assert {p.column for p in problems} == {"domain", "item", "target", "importance", "feasibility"}


def test_dependency_cycle_is_an_error():
    raw = pd.DataFrame({"measure_id": ["M1", "M2", "M3"], "measure": list("abc"), "items": ["A"] * 3, "start_fy": ["2026"] * 3, "end_fy": ["2027"] * 3, "depends_on": ["M3", "M1", "M2"]})
    _, problems = rm.parse_measures(raw, item_ids=["A"])
    assert len(problems) == 1
    assert problems[0].row == 2 and "M1 → M3 → M2 → M1" in problems[0].message()


def test_yaml_assessment_rows_are_entry_numbers(tiny):
    (tiny / "assessment.yaml").write_text(
        "- {item_id: A01, domain: 方針, item: 発信, current: 2, target: 4, importance: 4, feasibility: 4}\n"
        "- {item_id: A02, domain: 方針, item: 計画, current: 9, target: 4, importance: 4, feasibility: 4}\n",
        encoding="utf-8",
    )
    write_csv(tiny / "measures.csv", MEASURES_HEADER, [("M01", "研修", "A01", "", "2026", "2026", "", "", "", "")])
    with pytest.raises(InputError) as exc:
        io.load_municipality(tiny)
    assert [(p.file, p.row, p.column, p.value) for p in exc.value.problems] == [("assessment.yaml", 2, "current", 9)]


def test_missing_files(tiny):
    m = io.load_municipality(tiny)
    with pytest.raises(InputError) as exc:
        rm.load_inputs(m)
    assert {p.file for p in exc.value.problems} == {"assessment.csv", "measures.csv"}


# --------------------------------------------------------------------------- roadmap
def _measures(rows):
    raw = pd.DataFrame(rows, columns=["measure_id", "measure", "items", "start_fy", "end_fy", "depends_on", "kpi", "target_2026", "target_2027"])
    out, problems = rm.parse_measures(raw, item_ids=["A", "B"])
    assert problems == []
    return out


MEASURES = [
    ("M1", "研修", "A", "2026", "2027", "", "受講率", "50", "80"),
    ("M2", "基盤", "B", "2027", "2028", "", "件数", "", "10"),
    ("M3", "活用", "A;B", "2026", "2028", "M2", "課数", "5", "策定"),  # M2 starts later → flagged
    ("M4", "展開", "A", "2027", "2028", "M1;M2", "件数", "", ""),     # M1 earlier, M2 same year → fine
]


def test_dependency_check():
    deps = rm.dependency_check(_measures(MEASURES))
    assert len(deps) == 3
    flagged = deps[deps["starts_later"]]
    assert flagged[["measure_id", "dependency", "start_fy", "dependency_start_fy"]].values.tolist() == [["M3", "M2", 2026, 2027]]
    # both measures are named, with their start years in the era the report uses
    assert flagged["note"].iloc[0] == "M3 活用(令和8年度開始)は、前提の M2 基盤(令和9年度開始)より先に始まります。開始年度を見直してください。"
    assert flagged["dependency_measure"].iloc[0] == "基盤"
    assert "M3 活用(令和8年度開始。前提の M2 基盤は令和9年度開始)" in vrm.describe_roadmap(rm.roadmap_table(_measures(MEASURES)), deps)
    assert not deps.set_index(["measure_id", "dependency"]).loc[("M4", "M2"), "starts_later"]  # same year is not "later"
    view = rm.dependency_view(deps)
    assert view.columns.tolist() == ["measure", "start_fy", "dependency", "dependency_start_fy", "starts_later", "note"]
    assert view[view["starts_later"]].iloc[0, :4].tolist() == ["M3 活用", "令和8年度", "M2 基盤", "令和9年度"]


def test_sample_plants_exactly_one_dependency_violation(sample_municipality, sample_truth):
    truth, m = sample_truth, sample_municipality
    deps = rm.dependency_check(rm.load_inputs(m).measures)
    assert deps.loc[deps["starts_later"], "measure_id"].tolist() == [truth["measures"]["dependency_violation"]]


def test_roadmap_and_kpi_tables():
    ms = _measures(MEASURES)
    deps = rm.dependency_check(ms)
    a = _assessment([("A", "D", "研修体系", 1, 3, 3, 3), ("B", "D", "基盤", 1, 3, 3, 3)])
    table = rm.roadmap_table(ms, assessment=a, segment_names=None, dependencies=deps)
    assert table["measure_id"].tolist() == ["M1", "M3", "M2", "M4"]  # start year, then id
    row = table.set_index("measure_id").loc["M3"]
    assert row["period"] == "令和8年度〜令和10年度"
    assert row["item_names"] == "研修体系、基盤"
    assert row["dependency_flag"] == "M2が令和9年度開始"
    assert row["target_2027"] == "策定"  # text targets are kept as entered
    assert table.set_index("measure_id").loc["M2", "period"] == "令和9年度〜令和10年度"
    k = rm.kpi_targets(ms)
    assert len(k) == 5  # M1 ×2, M2 ×1 (2027), M3 ×2, M4 none
    assert k.loc[(k["measure_id"] == "M1") & (k["fiscal_year"] == 2027), "target"].item() == 80.0
    assert k.loc[k["measure_id"] == "M2", "fy_label"].tolist() == ["令和9年度"]
    w = rm.kpi_wide(k)
    assert w.columns.tolist() == ["measure_id", "measure", "kpi", "fy_2026", "fy_2027"]
    assert rm.fy_labels(w.columns)["fy_2026"] == "令和8年度"


def test_roadmap_xlsx_round_trip(tmp_path):
    from openpyxl import load_workbook

    ms = _measures(MEASURES)
    deps = rm.dependency_check(ms)
    gaps = rm.gap_scores(XYZ)
    table = rm.roadmap_table(ms, dependencies=deps)
    path = rm.write_roadmap_workbook(tmp_path / "out" / "roadmap.xlsx", gaps=gaps, roadmap=table, kpis=rm.kpi_targets(ms), title="テスト町 ロードマップ")
    wb = load_workbook(path)
    assert wb.sheetnames == ["優先順位", "ロードマップ", "KPI"]
    ws = wb["優先順位"]
    assert [c.value for c in ws[1]] == ["順位", "同点", "項目ID", "評価項目", "領域", "現状レベル", "現状の根拠", "目標レベル(3年後)", "ギャップ", "重要度", "実現容易性", "優先度スコア"]
    assert ws.freeze_panes == "A2"
    assert ws["A1"].fill.fgColor.rgb.endswith(rm.HEADER_FILL) and ws["A1"].font.bold
    assert [ws.cell(row=r, column=3).value for r in (2, 3, 4)] == ["Y", "X", "Z"]
    assert ws["L2"].value == pytest.approx(24.0) and ws["L2"].number_format == "0.0"  # Y: 100 × 0.4 × 1 × 0.6
    assert ws["F2"].number_format == "0.0" and ws["A2"].number_format == "0"
    assert ws.column_dimensions["D"].width > 8  # 評価項目
    ws = wb["ロードマップ"]
    header = [c.value for c in ws[1]]
    assert header[:2] == ["打ち手ID", "打ち手"] and header[-3:] == ["令和8年度", "令和9年度", "令和10年度"]
    m3 = [c.value for c in ws[3]]  # M3 is the second row (start 2026, id order)
    assert m3[0] == "M3" and m3[-3:] == ["■", "■", "■"]
    assert ws.cell(row=3, column=len(header)).fill.fgColor.rgb.endswith(rm.FLAG_FILL)
    m2 = [c.value for c in ws[4]]
    assert m2[0] == "M2" and m2[-3:] == [None, "■", "■"]
    assert ws.freeze_panes == "A2"
    ws = wb["KPI"]
    assert [c.value for c in ws[1]] == ["打ち手ID", "打ち手", "KPI", "令和8年度", "令和9年度"]
    rows = {r[0].value: [c.value for c in r] for r in ws.iter_rows(min_row=2)}
    assert rows["M1"][3:] == [50, 80]
    assert rows["M3"][3:] == [5, "策定"]
    assert wb.properties.title == "テスト町 ロードマップ"


# --------------------------------------------------------------------------- plots
def test_plots_draw_what_they_get():
    import matplotlib.pyplot as plt

    from dxanalysis.plots import roadmap as prm

    ms = _measures(MEASURES)
    deps = rm.dependency_check(ms)
    table = rm.roadmap_table(ms, dependencies=deps)
    fig, ax = plt.subplots()
    prm.gantt(table, dependencies=deps, ax=ax)
    bars = [p for p in ax.patches if p.get_height() == pytest.approx(0.6)]
    assert len(bars) == 4
    assert [b.get_hatch() for b in bars] == [None, "//", None, None]  # only M3 (2nd row) flagged
    assert bars[1].get_x() == pytest.approx(2025.5) and bars[1].get_width() == pytest.approx(3)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["令和8年度\n(2026)", "令和9年度\n(2027)", "令和10年度\n(2028)"]

    gaps = rm.gap_scores(XYZ)
    fig, ax = plt.subplots()
    prm.gap_matrix(rm.gap_quadrants(gaps), ax=ax)
    texts = {t.get_text() for t in ax.texts}
    assert {"X", "Y", "Z", "重点課題(最優先で取り組む)", "計画的に取り組む", "維持・強化する", "経過を見守る"} <= texts

    sens = rm.rank_sensitivity(XYZ, top=2)
    fig, ax = plt.subplots()
    prm.rank_stability(sens, rm.rank_stability(sens, top=2), top=2, ax=ax)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Y 項目Y", "X 項目X"]
    # one marker per (item, scenario) plus the rings; the legend names every kind drawn (6 weight + 4 rating + ring)
    assert sum(len(c.get_offsets()) for c in ax.collections[1:]) == len(sens) + 2
    assert len(ax.get_legend().get_texts()) == 11 and "重要度の評価 +1(その項目のみ)" in [t.get_text() for t in ax.get_legend().get_texts()]

    fig, ax = plt.subplots()
    prm.current_vs_target(rm.domain_gaps(gaps), ax=ax)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["D2(1項目)", "D1(2項目)"]


def test_display_helpers():
    s = rm.compact_numbers(pd.Series([30.0, 2.5, np.nan, "策定"]))
    assert isinstance(rm.compact_numbers(pd.Series([30.0, np.nan]))[0], int)  # ints survive next to NaN
    assert s.tolist()[:2] == [30, 2.5] and isinstance(s[0], int) and pd.isna(s[2]) and s[3] == "策定"
    d = rm.fy_as_text(pd.DataFrame({"start_fy": [2026], "dependency_start_fy": [2027], "n": [2026]}))
    assert d.iloc[0].tolist() == ["令和8年度", "令和9年度", 2026]  # FY2026 = 令和8年度 (令和元年度 = FY2019); other columns untouched
    assert rm.fy_as_text(pd.DataFrame({"end_fy": [2028]}), language="en").iloc[0, 0] == "FY2028"


def test_survey_levels_names_the_items_using_them(tiny):
    m = io.load_municipality(tiny)
    a = _assessment([("A", "D", "a", np.nan, 4, 3, 3), ("B", "D", "b", np.nan, 4, 3, 3), ("C", "D", "c", 1, 4, 3, 3)])
    a["survey_construct"] = ["data", "data", None]
    lv = rm.survey_levels(m.survey, m.codebook, assessment=a).set_index("construct")
    assert lv.loc["data", "items"] == "A;B" and lv.loc["mind", "items"] == ""


def test_check_inputs_for_upfront_validation(tiny):
    # measures alone: checked on their own, items cannot be checked without an assessment
    write_csv(tiny / "measures.csv", MEASURES_HEADER, [("M01", "研修", "A99", "", "2027", "2026", "", "", "", "")])
    with pytest.raises(InputError) as exc:
        io.load_municipality(tiny)
    assert [(p.row, p.column) for p in exc.value.problems] == [(2, "end_fy")]
    # an assessment without its required columns: reported once, no cascade of "unknown item"
    write_csv(tiny / "assessment.csv", ["item_id", "memo"], [("A01", "x")])
    with pytest.raises(InputError) as exc:
        io.load_municipality(tiny)
    assert sorted((p.file, p.column) for p in exc.value.problems) == sorted(
        [("assessment.csv", c) for c in ("domain", "item", "target", "importance", "feasibility")] + [("measures.csv", "end_fy")]
    )


def test_sample_tied_items_share_rank_2(sample_municipality):
    m = sample_municipality
    inputs = rm.load_inputs(m)
    w, _, notes = rm.staff_weights(m)
    assert notes == []
    levels = rm.survey_levels(m.survey, m.codebook, weights=w, assessment=inputs.assessment)
    g = rm.gap_scores(rm.fill_current(inputs.assessment, levels)).set_index("item_id")
    # A08: 100 × (2/5) × (5/5) × (4/5) = 32.0; A01 and A04: 100 × 0.4 × 0.8 × 0.8 = 25.6 each;
    # A02, A03, A06: 100 × 0.4 × 1.0 × 0.6 = 24.0 each → ranks 1, 2, 2, 4, 4, 4
    assert g.loc["A08", "rank"] == 1 and not g.loc["A08", "tied"]
    assert g.loc[["A01", "A04"], "rank"].tolist() == [2, 2] and g.loc[["A01", "A04"], "tied"].all()
    assert g.loc[["A02", "A03", "A06"], "rank"].tolist() == [4, 4, 4]
    assert vrm.describe_priorities(g.reset_index()).startswith("優先度が高い項目は 1位 A08 階層別・目的別のDX研修の実施(32.0点)、2位(同点) A01")


def test_staff_weights_pass_raking_problems_on_as_notes(tiny):
    import warnings

    m = io.load_municipality(tiny)
    # 企画部 has staff in the roster but nobody answered (added in memory: the codebook does not list it)
    extra = pd.DataFrame({"department": ["企画部"], "age_band": ["30代以下"], "staff": [6]})
    m.roster = pd.concat([m.roster.astype({"department": object, "age_band": object}), extra], ignore_index=True)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        w, desc, notes = rm.staff_weights(m)
    assert w.notna().sum() == 5 and "レイキング" in desc
    assert len(notes) == 1 and "「企画部」には職員がいますが回答者がいません" in notes[0]


def test_weights_table_names_the_criteria_in_japanese():
    t = rm.weights_table({"gap": 2.0, "importance": 1.0, "feasibility": 0.0}, change=0.5)
    assert t["label"].tolist() == ["ギャップ", "重要度", "実現容易性"]
    assert t["low"].tolist() == [1.0, 0.5, 0.0] and t["high"].tolist() == [3.0, 1.5, 0.0]  # value × (1 ∓ 0.5)


def test_sample_sensitivity_ranks_equal_gap_scores_of_each_changed_assessment(sample_municipality):
    """Every scenario's rank is gap_scores' rank on a copy of the assessment with that one change
    made (the definition, one full table per scenario; rank_sensitivity computes only the ranks)."""
    m = sample_municipality
    inputs = rm.load_inputs(m, segment_names=None)
    levels = rm.survey_levels(m.survey, m.codebook, weights=None, assessment=inputs.assessment)
    a = rm.fill_current(inputs.assessment, levels)
    weights = {"gap": 1.5, "importance": 1.0, "feasibility": 0.5}
    sens = rm.rank_sensitivity(a, weights=weights, factors=(0.5, 1.25), top=6, rating_shift=1.0, levels=levels)
    assert set(sens["family"]) == {"weight", "rating", "survey"}
    lv = levels.set_index("construct")
    from_survey = a["survey_construct"].notna()
    for row in sens.itertuples():
        b, w = a.copy(), dict(weights)
        if row.family == "weight":
            w[row.criterion] = weights[row.criterion] * row.change
        elif row.family == "rating":
            hit = b["item_id"] == row.item_id
            b.loc[hit, row.criterion] = np.clip(b.loc[hit, row.criterion].astype(float) + row.change, 1, 5)
        else:
            b.loc[from_survey, "current"] = b.loc[from_survey, "survey_construct"].map(lv["level_low" if row.change < 0 else "level_high"]).astype(float)
        expected = rm.gap_scores(b, weights=w).set_index("item_id").loc[row.item_id, "rank"]
        assert row.rank == expected, row
