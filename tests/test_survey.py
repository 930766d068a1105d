"""Survey statistics (dxanalysis.survey) against independent implementations.

Reference numbers come from R 4 (survey 4.x, psych, pROC) and base R, with the exact call
in a comment; the R script that printed them is reproduced in the comments, so nothing
here needs R at run time. Data shared by R and Python are written out literally.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml

from dxanalysis import io
from dxanalysis import survey as sv
from dxanalysis.config import Codebook
from dxanalysis.plots import setup_style
from dxanalysis.plots import survey as psv

from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"

# --------------------------------------------------------------------------- shared data
# R:
# dept <- c("A","A","A","A","A","A","A","A","B","B","B","B","B","B","C","C","C","C","C","C")
# age  <- c("y","y","y","y","y","o","o","o","y","y","o","o","o","o","y","o","o","o","o","o")
# emp  <- c("r","r","f","r","r","r","f","r","r","r","r","f","r","r","r","r","f","r","r","r")
# y    <- c(4,5,3,4,2,3,3,4,5,4,2,3,3,1,4,2,3,2,5,3)
# d <- data.frame(dept, age, emp, y, w0=1); des <- svydesign(ids=~1, weights=~w0, data=d)
# pd <- data.frame(dept=c("A","B","C"), Freq=c(50, 30, 40))
# pa <- data.frame(age=c("o","y"), Freq=c(70, 50))
# pe <- data.frame(emp=c("f","r"), Freq=c(25, 95))
DEPT = list("AAAAAAAABBBBBBCCCCCC")
AGE = "y y y y y o o o y y o o o o y o o o o o".split()
EMP = "r r f r r r f r r r r f r r r r f r r r".split()
Y = [4, 5, 3, 4, 2, 3, 3, 4, 5, 4, 2, 3, 3, 1, 4, 2, 3, 2, 5, 3]
# staff: dept A 50 B 30 C 40; age y 50 o 70; emp f 25 r 95 (cells chosen to give these margins)
ROSTER = pd.DataFrame(
    {
        "dept": ["A", "A", "B", "B", "B", "C", "C"],
        "age": ["y", "o", "y", "o", "o", "y", "o"],
        "emp": ["r", "f", "r", "f", "r", "r", "r"],
        "staff": [30, 20, 10, 5, 15, 10, 30],
    }
)


@pytest.fixture(autouse=True, scope="module")
def _japanese_font():
    setup_style()


@pytest.fixture
def resp():
    return pd.DataFrame({"dept": DEPT, "age": AGE, "emp": EMP, "y": Y})


# --------------------------------------------------------------------------- weighting
# r2 <- rake(des, list(~dept, ~age), list(pd, pa), control=list(maxit=1000, epsilon=1e-12))
# sprintf("%.10f", weights(r2))
RAKE2 = [6.4506206552] * 5 + [5.9156322413] * 3 + [5.2926330682] * 2 + [4.8536834659] * 4 + [7.1616305875] + [6.5676738825] * 5
# r3 <- rake(des, list(~dept, ~age, ~emp), list(pd, pa, pe), control=list(maxit=1000, epsilon=1e-12))
RAKE3 = [6.3714466550, 6.3714466550, 6.8060198239, 6.3714466550, 6.3714466550, 5.7715132205, 6.1651671150, 5.7715132205,
         5.2769099732, 5.2769099732, 4.7800377720, 5.1060667376, 4.7800377720, 4.7800377720, 7.1543736097, 6.4807200167,
         6.9227463235, 6.4807200167, 6.4807200167, 6.4807200167]


def test_rake_two_margins_matches_r_survey(resp):
    w = sv.rake_weights(resp, ROSTER, margins=["dept", "age"], tol=1e-12, max_iter=1000)
    assert w.name == "weight" and w.index.equals(resp.index)
    np.testing.assert_allclose(w.to_numpy(), RAKE2, rtol=1e-8)
    assert w.sum() == pytest.approx(ROSTER["staff"].sum())


def test_rake_three_margins_matches_r_survey(resp):
    w = sv.rake_weights(resp, ROSTER, margins=["dept", "age", "emp"], tol=1e-12, max_iter=1000)
    np.testing.assert_allclose(w.to_numpy(), RAKE3, rtol=1e-8)
    for margin in ("dept", "age", "emp"):
        got = w.groupby(resp[margin]).sum()
        want = ROSTER.groupby(margin)["staff"].sum()
        np.testing.assert_allclose(got.sort_index(), want.sort_index(), rtol=1e-9)


def test_weighted_mean_matches_r_svymean(resp):
    w = sv.rake_weights(resp, ROSTER, margins=["dept", "age"], tol=1e-12, max_iter=1000)
    # coef(svymean(~y, r2)) -> 3.2812164467
    assert np.average(resp["y"], weights=w) == pytest.approx(3.2812164467, abs=1e-8)


def test_poststratify_matches_r_and_one_margin_rake(resp):
    # weights(postStratify(des, ~dept, pd)) -> A 6.25, B 5, C 6.6666666667
    w = sv.poststratify_weights(resp, ROSTER, by="dept")
    np.testing.assert_allclose(w.to_numpy(), [6.25] * 8 + [5.0] * 6 + [40 / 6] * 6)
    np.testing.assert_allclose(sv.rake_weights(resp, ROSTER, margins=["dept"]).to_numpy(), w.to_numpy())
    with pytest.raises(TypeError):
        sv.poststratify_weights(resp, ROSTER, by=["dept", "age"])


def test_missing_margin_value_gets_no_weight(resp):
    r = resp.copy()
    r.loc[0, "age"] = None
    w = sv.rake_weights(r, ROSTER, margins=["dept", "age"])
    assert np.isnan(w.iloc[0]) and w.notna().sum() == len(r) - 1
    assert w.attrs["n_unweighted"] == 1
    assert w.sum() == pytest.approx(120.0)


def test_category_without_respondents_is_spread_with_warning(resp):
    roster = pd.concat([ROSTER, pd.DataFrame({"dept": ["D"], "age": ["o"], "emp": ["r"], "staff": [10]})], ignore_index=True)
    with pytest.warns(UserWarning, match="no respondents"):
        w = sv.rake_weights(resp, roster, margins=["dept"])
    assert w.sum() == pytest.approx(130.0)
    bad = resp.assign(dept=["Z"] + DEPT[1:])
    with pytest.raises(ValueError, match="no staff"):
        sv.rake_weights(bad, ROSTER, margins=["dept"])


def test_kish_design_effect_textbook():
    # Kish (1965): deff = n Σw² / (Σw)²; w = 1, 1, 2, 4 -> 4 · 22 / 64 = 1.375
    assert sv.kish_design_effect([1, 1, 2, 4]) == pytest.approx(1.375)
    assert sv.kish_design_effect([3, 3, 3]) == pytest.approx(1.0)


# --------------------------------------------------------------------------- reliability
# x <- data.frame(
#  i1=c(4,5,3,4,2,3,NA,4,5,4,2,3,3,1,4,2), i2=c(4,4,3,5,2,2,3,4,4,NA,2,3,4,2,5,1),
#  i3=c(3,5,2,4,3,3,3,NA,5,4,1,2,3,2,4,2), i4=c(5,4,3,4,1,3,2,4,4,5,2,NA,3,1,3,3))
# a <- psych::alpha(x)
ITEMS = pd.DataFrame(
    {
        "i1": [4, 5, 3, 4, 2, 3, np.nan, 4, 5, 4, 2, 3, 3, 1, 4, 2],
        "i2": [4, 4, 3, 5, 2, 2, 3, 4, 4, np.nan, 2, 3, 4, 2, 5, 1],
        "i3": [3, 5, 2, 4, 3, 3, 3, np.nan, 5, 4, 1, 2, 3, 2, 4, 2],
        "i4": [5, 4, 3, 4, 1, 3, 2, 4, 4, 5, 2, np.nan, 3, 1, 3, 3],
    }
)


def test_cronbach_alpha_matches_psych_with_missing_answers():
    res = sv.cronbach_alpha(ITEMS)
    assert round(res["alpha"], 4) == 0.9216  # a$total$raw_alpha = 0.9216152019
    assert res["alpha"] == pytest.approx(0.9216152019, abs=1e-9)
    assert res["ci_low"] == pytest.approx(0.8321619912, abs=1e-8)  # a$feldt$lower.ci
    assert res["ci_high"] == pytest.approx(0.9694404532, abs=1e-8)  # a$feldt$upper.ci
    assert res["n"] == 16 and res["n_items"] == 4
    drop = res["if_dropped"]
    # a$alpha.drop$raw_alpha
    np.testing.assert_allclose(drop["alpha_if_dropped"], [0.8376594482, 0.9108880779, 0.9081118696, 0.9300381245], atol=1e-8)
    # a$item.stats$r.drop
    np.testing.assert_allclose(drop["r_drop"], [0.9951625690, 0.7811243177, 0.7886933316, 0.7275340216], atol=1e-8)


def test_cronbach_alpha_edge_cases():
    two = sv.cronbach_alpha(ITEMS[["i1", "i2"]])
    assert not np.isnan(two["alpha"]) and two["if_dropped"]["alpha_if_dropped"].isna().all()
    assert np.isnan(sv.cronbach_alpha(ITEMS[["i1"]])["alpha"])
    with pytest.raises(TypeError):
        sv.cronbach_alpha(ITEMS.to_numpy())


def _codebook(items: dict[str, list[str]], reverse: set[str] = frozenset()) -> Codebook:
    raw = {
        "respondent_id": "ID",
        "attributes": {"age_band": {"header": "年代", "label": "年代", "values": ["若手", "中堅", "ベテラン"]},
                       "department": {"header": "所属", "label": "所属部署", "values": ["総務部", "福祉部"]}},
        "scales": {"agree5": {"min": 1, "max": 5, "labels": {1: "まったくそう思わない", 2: "あまりそう思わない", 3: "どちらともいえない", 4: "ややそう思う", 5: "とてもそう思う"}}},
        "constructs": {c: {"label": f"{c}の構成概念", "area": "What" if c != "mind" else "マインド・スタンス"} for c in items},
        "items": [{"id": i, "header": i, "construct": c, "scale": "agree5", "reverse": i in reverse, "short": f"{i}の短縮名"} for c, ids in items.items() for i in ids],
        "tools": {"items": [{"id": "tool_chat", "header": "chat", "label": "ビジネスチャット"}]},
    }
    return Codebook(**raw)


def test_reliability_reverse_codes_and_flags_low():
    cb = _codebook({"mind": ["i1", "i2", "i3", "i4"], "data": ["d1", "d2"]}, reverse={"i4"})
    survey = ITEMS.copy()
    survey["i4"] = 6 - survey["i4"]  # stored as answered: the reverse item is flipped back by reliability()
    rng = np.random.default_rng(1)
    survey["d1"] = rng.integers(1, 6, len(survey)).astype(float)
    survey["d2"] = rng.integers(1, 6, len(survey)).astype(float)
    rel = sv.reliability(survey, cb)
    assert list(rel.columns[:8]) == ["construct", "label", "area", "n_items", "n", "alpha", "ci_low", "ci_high"]
    mind = rel.set_index("construct").loc["mind"]
    assert mind["alpha"] == pytest.approx(0.9216152019, abs=1e-9)  # same as psych on the reversed data
    assert not mind["flag_low"]
    assert rel.set_index("construct").loc["data", "flag_low"] == (rel.set_index("construct").loc["data", "alpha"] < 0.6)
    drop = sv.alpha_if_dropped(survey, cb)
    assert drop.loc[drop["item_id"] == "i4", "alpha_if_dropped"].iloc[0] == pytest.approx(0.9300381245, abs=1e-8)


# --------------------------------------------------------------------------- group comparisons
G = [4.5, 3.25, 4, 5, 3.5, 4, 2.75, 4, 3.5, 4.25, 3]
H = [3, 2.5, 3.5, 4, 2, 3, 3.25, 2.5, 3, 4, 1.75, 3, 3.5, 2]


def test_mann_whitney_and_rank_biserial_match_r():
    # w <- wilcox.test(g, h, exact=FALSE, correct=TRUE): W = 124.5, p = 0.0093320892
    assert sv._mann_whitney(np.array(G), np.array(H)) == pytest.approx(0.0093320892, abs=1e-9)
    assert sv.rank_biserial(G, H) == pytest.approx(2 * 124.5 / (11 * 14) - 1)
    assert sv.rank_biserial(H, G) == pytest.approx(-sv.rank_biserial(G, H))


def test_rank_biserial_interval_matches_proc_delong():
    # ci.auc(roc(controls=h, cases=g, direction="<"), method="delong") -> 0.6394581555 0.8084415584 0.9774249614
    lo, hi = sv.rank_biserial_ci(G, H)
    assert lo == pytest.approx(2 * 0.6394581555 - 1, abs=1e-8)
    assert hi == pytest.approx(2 * 0.9774249614 - 1, abs=1e-8)
    # yes/no: t1 <- c(1,1,0,1,1,1,0,1,1,0,1,1); t0 <- c(0,1,0,0,1,0,1,0,0,1,0,0,1,0)
    t1, t0 = [1, 1, 0, 1, 1, 1, 0, 1, 1, 0, 1, 1], [0, 1, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 1, 0]
    # wilcox.test(t1, t0, exact=FALSE, correct=TRUE)$p.value -> 0.0530487576; AUC CI 0.5138614110 .. 0.8789957318
    assert sv._mann_whitney(np.array(t1, float), np.array(t0, float)) == pytest.approx(0.0530487576, abs=1e-9)
    assert sv.rank_biserial(t1, t0) == pytest.approx(np.mean(t1) - np.mean(t0))  # r = difference in shares
    lo, hi = sv.rank_biserial_ci(t1, t0)
    assert (lo, hi) == pytest.approx((2 * 0.5138614110 - 1, 2 * 0.8789957318 - 1), abs=1e-8)


def test_bh_matches_r_p_adjust():
    # p.adjust(c(0.01, 0.04, 0.03, 0.2, 0.005), "BH")
    np.testing.assert_allclose(sv._bh([0.01, 0.04, 0.03, 0.2, 0.005]), [0.025, 0.05, 0.05, 0.2, 0.025])
    assert np.isnan(sv._bh([0.01, np.nan])[1])


def test_group_differences_columns_and_values():
    survey = pd.DataFrame({"age_band": pd.Categorical(["若手"] * 11 + ["ベテラン"] * 14, categories=["若手", "中堅", "ベテラン"], ordered=True)})
    scores = pd.DataFrame({"mind": G + H})
    d = sv.group_differences(scores, survey, attributes=["age_band"])
    assert list(d.columns) == ["construct", "attribute", "group", "n", "mean", "diff", "effect_size", "p_value", "q_value"]
    assert d["group"].tolist() == ["若手", "ベテラン"]  # 中堅 has no respondent: no row
    young = d.iloc[0]
    assert young["n"] == 11 and young["mean"] == pytest.approx(np.mean(G))
    assert young["diff"] == pytest.approx(np.mean(G) - np.mean(G + H))
    assert young["p_value"] == pytest.approx(0.0093320892, abs=1e-9)  # group vs the rest = g vs h
    assert young["effect_size"] == pytest.approx(2 * 124.5 / 154 - 1)
    np.testing.assert_allclose(d["q_value"], [0.0093320892] * 2, atol=1e-9)  # BH of two equal p-values


# --------------------------------------------------------------------------- distributions, tools
def test_item_distribution_and_tool_use_on_tiny(tiny):
    m = io.load_municipality(tiny)
    d = sv.item_distribution(m.survey, m.codebook, by="department")
    assert {"item_id", "construct", "area", "attribute", "group", "value", "label", "n", "n_group", "share"} <= set(d.columns)
    overall = d[(d["attribute"] == "overall") & (d["item_id"] == "mind_01")].set_index("value")
    # mind_01 answers of the 5 kept rows: 4, 5, 3, 2, 5
    assert overall["n"].tolist() == [0, 1, 1, 1, 2] and (overall["n_group"] == 5).all()
    assert overall.loc[4, "label"] == "ややそう思う"
    sums = d.groupby(["item_id", "attribute", "group"])["share"].sum()
    np.testing.assert_allclose(sums.dropna(), 1.0)
    welfare = d[(d["group"] == "福祉部") & (d["item_id"] == "data_02")]
    assert welfare["n_group"].iloc[0] == 1  # わからない is missing, the empty row is excluded
    pos = sv.positive_shares(d, m.codebook)
    row = pos[(pos["attribute"] == "overall") & (pos["item_id"] == "mind_01")].iloc[0]
    assert (row["share_negative"], row["share_neutral"], row["share_positive"]) == pytest.approx((0.2, 0.2, 0.6))

    use = sv.tool_use(m.survey, m.codebook, by="department")
    o = use[use["attribute"] == "overall"].iloc[0]
    assert (o["n"], o["n_using"]) == (5, 3)
    # prop.test(3, 5, correct=FALSE)$conf.int -> 0.2307242813 0.8823792258
    assert (o["ci_low"], o["ci_high"]) == pytest.approx((0.2307242813, 0.8823792258), abs=1e-9)


def test_wilson_matches_r_prop_test():
    # prop.test(7, 12, correct=FALSE)$conf.int -> 0.3195113125 0.8067396863
    lo, hi = sv.wilson_interval(7, 12)
    assert (float(lo), float(hi)) == pytest.approx((0.3195113125, 0.8067396863), abs=1e-9)


def test_weighted_estimates_columns_and_deff(tiny):
    m = io.load_municipality(tiny)
    w = sv.rake_weights(m.survey, m.roster, margins=["department", "age_band"])
    est = sv.weighted_estimates(m.survey, m.codebook, weights=w)
    assert set(est["kind"]) == {"construct", "item", "tool"}
    chat = est.set_index("measure_id").loc["tool_chat"]
    assert chat["unweighted"] == pytest.approx(3 / 5)
    assert chat["weighted"] == pytest.approx(np.average(m.survey["tool_chat"], weights=w))
    assert chat["deff"] == pytest.approx(sv.kish_design_effect(w))
    assert chat["n_eff"] == pytest.approx(5 / chat["deff"])
    assert chat["ci_low"] < chat["weighted"] < chat["ci_high"]
    with pytest.raises(ValueError):
        sv.weighted_estimates(m.survey, m.codebook, weights=w.reset_index(drop=True).iloc[:3])


# --------------------------------------------------------------------------- hypotheses
def _fake_municipality(n=60, seed=3):
    """Clear positive, clear negative and null effects, planted by construction."""
    rng = np.random.default_rng(seed)
    cb = _codebook({"mind": ["m1", "m2"], "data": ["d1", "d2"]})
    age = np.array(["若手", "中堅", "ベテラン"] * n)
    dept = np.array(["総務部", "福祉部"] * (len(age) // 2))
    young = age == "若手"
    survey = pd.DataFrame({
        "respondent_id": [str(i) for i in range(len(age))],
        "age_band": pd.Categorical(age, categories=["若手", "中堅", "ベテラン"], ordered=True),
        "department": pd.Categorical(dept, categories=["総務部", "福祉部"], ordered=True),
    })
    base = rng.normal(3, 0.6, len(age))
    for i in ("m1", "m2"):
        survey[i] = np.clip(np.round(base + 1.2 * young + rng.normal(0, 0.4, len(age))), 1, 5)
    for i in ("d1", "d2"):
        survey[i] = np.clip(np.round(rng.normal(3, 0.8, len(age))), 1, 5)
    survey["tool_chat"] = (rng.random(len(age)) < np.where(dept == "福祉部", 0.2, 0.8)).astype(float)
    hyps = [
        {"id": "A", "statement": "若手は前向き", "measure": "mind", "attribute": "age_band", "group": ["若手"], "versus": ["ベテラン"], "expected": "higher"},
        {"id": "B", "statement": "若手は前向きでない", "measure": "mind", "attribute": "age_band", "group": ["若手"], "expected": "lower"},
        {"id": "C", "statement": "部署でデータは違う", "measure": "data", "attribute": "department", "group": ["福祉部"], "expected": "higher"},
        {"id": "D", "statement": "福祉部はチャットが少ない", "measure": "tool_chat", "attribute": "department", "group": ["福祉部"], "expected": "lower"},
        {"id": "E", "statement": "項目 m1", "measure": "m1", "attribute": "age_band", "group": ["若手"], "expected": "higher"},
    ]
    return SimpleNamespace(survey=survey, codebook=cb, hypotheses=hyps, min_group_size=5, language="ja")


def test_hypothesis_verdicts_on_planted_effects():
    m = _fake_municipality()
    h = sv.test_hypotheses(m)
    assert list(h.columns[:8]) == ["hypothesis_id", "statement", "verdict", "effect_size", "ci_low", "ci_high", "p_value", "q_value"]
    verdict = dict(zip(h["hypothesis_id"], h["verdict"]))
    assert verdict == {"A": "支持", "B": "反証", "C": "判定不能", "D": "支持", "E": "支持"}
    d = h.set_index("hypothesis_id").loc["D"]
    assert d["kind"] == "tool" and d["versus"] == "福祉部以外"
    assert d["effect_size"] == pytest.approx(d["value_group"] - d["value_versus"])  # r = share difference
    assert (h["ci_low"] <= h["effect_size"]).all() and (h["effect_size"] <= h["ci_high"]).all()
    np.testing.assert_allclose(h["q_value"], sv._bh(h["p_value"]))
    texts = sv.hypothesis_findings(h)
    assert texts[0].startswith("事前仮説5件") and any("B" in t and "反証" in t for t in texts[1:])


def test_hypothesis_small_group_is_inconclusive_and_bad_input_is_refused():
    m = _fake_municipality()
    m.hypotheses = [{"id": "S", "statement": "x", "measure": "mind", "attribute": "age_band", "group": ["若手"], "expected": "higher"}]
    m.survey = m.survey.iloc[:10]
    h = sv.test_hypotheses(m, min_n=5)
    assert h["verdict"].iloc[0] == "判定不能" and h["note"].iloc[0] and np.isnan(h["effect_size"].iloc[0])
    m.hypotheses = [{"id": "X", "measure": "mind", "attribute": "age_band", "group": ["存在しない"], "expected": "higher"}]
    with pytest.raises(ValueError, match="存在しない"):
        sv.test_hypotheses(m)
    m.hypotheses = [{"id": "X", "measure": "mind", "attribute": "age_band", "group": ["若手"], "expected": "up"}]
    with pytest.raises(ValueError, match="higher"):
        sv.test_hypotheses(m)


# --------------------------------------------------------------------------- plots
def test_likert_bars_draws_one_segment_per_answer_and_marks_hidden(tiny):
    import matplotlib.pyplot as plt

    m = io.load_municipality(tiny)
    d = sv.item_distribution(m.survey, m.codebook)
    fig, ax = plt.subplots()
    psv.likert_bars(d, ax=ax)
    assert len(ax.patches) == 4 * 5  # 4 items × 5 answers
    assert [t.get_text() for t in ax.get_yticklabels()][1] == "新しいやり方を試すのは面倒だ(逆転項目)"
    from dxanalysis.privacy import suppress_small_groups

    filtered = suppress_small_groups(sv.item_distribution(m.survey, m.codebook, by="department"), n_col="n_group", min_size=3, by=["item_id", "attribute", "value"])
    pos = sv.positive_shares(filtered, m.codebook)  # hidden rows (value and reverse blanked) stay as NaN rows
    assert len(pos) == 4 * 3 and pos.loc[pos["group"] == "福祉部", "share_positive"].isna().all()
    widths = [p.get_width() for p in ax.patches[:5]]
    assert sum(widths) == pytest.approx(1.0)
    left_edge = ax.patches[0].get_x()
    assert left_edge == pytest.approx(-(0.0 + 0.2 + 0.2 / 2))  # mind_01: 0 + 20% negative + half of 20% neutral
    hidden = d.copy()
    hidden.loc[hidden["item_id"] == "data_02", "share"] = np.nan
    fig, ax = plt.subplots()
    psv.likert_bars(hidden, ax=ax)
    assert "非表示(少人数)" in [t.get_text() for t in ax.texts]


def test_heatmap_and_forest_plot():
    import matplotlib.pyplot as plt

    diffs = pd.DataFrame({"construct": ["mind"] * 3, "attribute": ["age_band"] * 3, "group": ["若手", "中堅", "ベテラン"],
                          "n": [20, 3, 30], "mean": [3.5, np.nan, 3.0], "diff": [0.3, np.nan, -0.2], "effect_size": [0.2, np.nan, -0.1],
                          "p_value": [0.01, np.nan, 0.2], "q_value": [0.02, np.nan, 0.2]})
    fig, ax = plt.subplots()
    psv.difference_heatmap(diffs, labels={"mind": "マインド"}, attribute_labels={"age_band": "年代"}, ax=ax)
    texts = [t.get_text() for t in ax.texts]
    assert "+0.30*" in texts and "—" in texts and "-0.20" in texts and "年代" in texts
    hyp = pd.DataFrame({"hypothesis_id": ["H1", "H2"], "statement": ["a", "b"], "expected": ["higher", "lower"], "verdict": ["反証", "支持"],
                        "effect_size": [-0.4, -0.3], "ci_low": [-0.5, -0.4], "ci_high": [-0.3, -0.2]})
    fig, ax = plt.subplots()
    psv.hypotheses(hyp, ax=ax)
    xs = [c.get_offsets()[0][0] for c in ax.collections]
    assert xs == pytest.approx([-0.4, 0.3])  # "lower" flipped: right = as expected


# --------------------------------------------------------------------------- sample, end to end
@pytest.fixture(scope="module")
def sample():
    if not (SAMPLE / "municipality.yaml").exists():
        pytest.skip("data/sample not generated")
    m = io.load_municipality(SAMPLE)
    truth = yaml.safe_load((SAMPLE / "truth" / "truth.yaml").read_text(encoding="utf-8"))
    return m, truth


def test_sample_hypotheses_come_out_as_planted(sample):
    m, truth = sample
    h = sv.test_hypotheses(m).set_index("hypothesis_id")
    for t in truth["hypotheses"]:
        row = h.loc[t["id"]]
        assert row["verdict"] == t["verdict"], (t["id"], row["verdict"], t["verdict"])
        # the generator's own scipy computation on its latent arrays (truth.yaml, 3 significant digits)
        assert row["n_group"] == t["n_group"] and row["n_versus"] == t["n_versus"]
        assert row["p_value"] == pytest.approx(t["p_mann_whitney"], rel=2e-3)
        assert row["q_value"] == pytest.approx(t["q_bh"], rel=2e-3)


def test_sample_post_stratification_matches_generator(sample):
    m, truth = sample
    survey = m.survey.assign(cell=m.survey["department"].astype(str) + "×" + m.survey["age_band"].astype(str))
    roster = m.roster.assign(cell=m.roster["department"].astype(str) + "×" + m.roster["age_band"].astype(str))
    with pytest.warns(UserWarning, match="会計課×30代"):  # two 会計課 cells have staff but no respondents
        w = sv.poststratify_weights(survey, roster, by="cell")
    scores = sv.construct_scores(m.survey, m.codebook)
    for cid, want in truth["weighting"]["weighted_department_x_age"].items():
        ok = scores[cid].notna()
        assert np.average(scores.loc[ok, cid], weights=w[ok]) == pytest.approx(want, abs=6e-4)


def test_sample_privacy_hides_the_small_department(sample, tmp_path):
    from dxanalysis.report import Publisher

    m, _ = sample
    pub = Publisher(tmp_path, min_group_size=m.min_group_size, display=False)
    diffs = sv.group_differences(sv.construct_scores(m.survey, m.codebook), m.survey, attributes=["department"])
    shown = pub.table(diffs, "group_differences", by=["construct", "attribute"], show=False)
    small = shown[shown["group"] == "会計課"]
    assert small["suppressed"].all() and small[["n", "mean", "diff", "p_value"]].isna().all().all()
    assert shown.groupby("construct")["suppressed"].sum().eq(2).all()  # plus one complementary cell each
    needs = sv.support_needs(shown, m.codebook, m.opportunities)
    assert "会計課" not in set(needs["group"])
