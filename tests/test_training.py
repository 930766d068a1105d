"""Training evaluation (dxanalysis.training): every statistic against an independent reference.

Reference numbers come from R 4.x (base stats, coin, sandwich, lmtest) or statsmodels, run
once and hard-coded here with the exact call next to them; R is not needed to run the tests.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from dxanalysis import training as tr
from dxanalysis.io import TrainingData
from dxanalysis.survey import wilson_interval

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"

# R: x <- c(1.83,0.50,1.62,2.48,1.68,1.88,1.55,3.06,1.30)
#    y <- c(0.878,0.647,0.598,2.05,1.06,1.29,1.06,3.14,1.29)   (?wilcox.test, depression data)
DEP_X = np.array([1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30])
DEP_Y = np.array([0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29])
# Likert pairs with 3 zero differences and tied |differences| (Pratt case)
PRATT_PRE = np.array([2, 3, 3, 4, 2, 3, 1, 4, 3, 2, 3, 3], dtype=float)
PRATT_POST = np.array([4, 3, 4, 4, 3, 5, 2, 3, 4, 4, 3, 4], dtype=float)


def wave(keys, wave_name, items: dict, group="participant", rows=None):
    """A tidy training wave as io.parse_training_wave returns it."""
    n = len(keys)
    df = pd.DataFrame({"key": pd.array([str(k) for k in keys], dtype="string"), "group": group if isinstance(group, str) else list(group), "wave": wave_name, "row": rows or list(range(2, n + 2))})
    for k, v in items.items():
        df[k] = np.asarray(v, dtype=float)
    return df


def kinds_codebook(kinds: dict):
    """A minimal stand-in for Codebook with a training section."""

    class It:
        def __init__(self, i, k):
            self.id, self.kind, self.label, self.header, self.scale = i, k, None, f"Q {i}", "agree5" if k == "likert" else None

    class TC:
        items = [It(i, k) for i, k in kinds.items()]

    class CB:
        training = TC()
        scales = {}

    return CB()


# --------------------------------------------------------------------------- Wilson
def test_wilson_30_of_30_matches_r():
    lo, hi = wilson_interval(30, 30)
    # R: prop.test(30, 30, correct = FALSE)$conf.int -> 0.8864866 1.0000000 (Wilson score)
    # statsmodels: proportion_confint(30, 30, method="wilson") gives the same
    assert round(float(lo), 4) == 0.8865
    assert round(float(hi), 4) == 1.0


def test_share_sentence_never_bare_percentage():
    row = tr.share_row(30, 30, metric="positive", label="研修後、デジタル化に前向き")
    s = tr.share_sentence(row["label"], row["numerator"], row["n"], row["ci_low"], row["ci_high"])
    assert s == "研修後、デジタル化に前向き: 100%(30/30人、95%信頼区間 88.6–100%)"
    row = tr.share_row(8, 31, metric="idea", label="具体的な改善をイメージできる")
    # R: prop.test(8, 31, correct = FALSE)$conf.int -> 0.1370171 0.4324614
    assert (round(row["ci_low"], 4), round(row["ci_high"], 4)) == (0.1370, 0.4325)
    assert tr.share_sentence(row["label"], 8, 31, row["ci_low"], row["ci_high"]) == "具体的な改善をイメージできる: 26%(8/31人、95%信頼区間 13.7–43.2%)"


# --------------------------------------------------------------------------- McNemar
def test_mcnemar_agresti_presidential_approval():
    # R: mcnemar.test(matrix(c(794, 86, 150, 570), nrow = 2))  (?mcnemar.test, Agresti 1990 p. 350)
    #    -> McNemar's chi-squared = 16.818, df = 1, p-value = 4.115e-05
    # (1st survey approve→2nd approve 794, approve→disapprove 150, disapprove→approve 86, 570)
    before = np.repeat([1, 1, 0, 0], [794, 150, 86, 570])
    after = np.repeat([1, 0, 1, 0], [794, 150, 86, 570])
    res = tr.mcnemar_test(before, after)
    assert not res["exact"]
    assert round(res["statistic"], 3) == 16.818
    assert round(res["p_value"] * 1e5, 3) == 4.115
    assert (res["n_yes_to_no"], res["n_no_to_yes"]) == (150, 86)


def test_mcnemar_exact_when_few_discordant():
    # 1 yes→no, 9 no→yes (10 discordant < 25) → exact binomial
    # R: binom.test(1, 10, 0.5)$p.value -> 0.02148 ; statsmodels mcnemar(exact=True) agrees
    before = np.array([1] * 5 + [1] + [0] * 9 + [0] * 5, dtype=float)
    after = np.array([1] * 5 + [0] + [1] * 9 + [0] * 5, dtype=float)
    res = tr.mcnemar_test(before, after)
    assert res["exact"]
    assert round(res["p_value"], 5) == 0.02148
    assert res["statistic"] == 1.0


# --------------------------------------------------------------------------- Wilcoxon
def test_wilcoxon_r_depression_example_exact():
    # R: wilcox.test(x, y, paired = TRUE) -> V = 40, p-value = 0.03906 (exact)
    res = tr.wilcoxon_pratt(before=DEP_Y, after=DEP_X)
    assert res["exact"]
    assert res["statistic"] == 40.0
    assert round(res["p_value"], 5) == 0.03906


def test_wilcoxon_pratt_matches_coin():
    # R: coin::wilcoxsign_test(post ~ pre, zero.method = "Pratt")
    #    -> Z = 2.3762, p-value = 0.01749; statistic(type = "linear") = 65.5 (W+),
    #       expectation 36, variance 154.125
    res = tr.wilcoxon_pratt(before=PRATT_PRE, after=PRATT_POST)
    assert not res["exact"]
    assert res["statistic"] == 65.5
    assert round(res["z"], 4) == 2.3762
    assert round(res["p_value"], 5) == 0.01749


def test_rank_biserial_values_and_sign():
    # No zeros, no ties: r = 4V / (n(n+1)) - 1 with R's V from wilcox.test(x, y, paired = TRUE)
    # -> 4 * 40 / 90 - 1 = 0.7777778 (Kerby 2014 simple difference formula)
    assert round(float(tr.rank_biserial(DEP_X - DEP_Y)), 4) == 0.7778
    # sign is post minus pre: post < pre gives a negative correlation
    assert round(float(tr.rank_biserial(DEP_Y - DEP_X)), 4) == -0.7778
    # Pratt: (W+ - W-) / (n(n+1)/2) from coin's linear statistic 65.5 and non-zero rank sum
    # 2 * expectation = 72: (65.5 - 6.5) / 78 = 0.7564103
    assert round(float(tr.rank_biserial(PRATT_POST - PRATT_PRE)), 4) == 0.7564
    assert tr.rank_biserial(np.array([1.0, 2.0, 1.0])) == 1.0  # all rose → +1


def test_bh_matches_r_and_keeps_nan():
    # R: p.adjust(c(0.01, 0.04, 0.03, 0.005, 0.2), "BH") -> 0.025 0.050 0.050 0.025 0.200
    q = tr.bh_adjust([0.01, 0.04, np.nan, 0.03, 0.005, 0.2])
    np.testing.assert_allclose(q[[0, 1, 3, 4, 5]], [0.025, 0.05, 0.05, 0.025, 0.2])
    assert np.isnan(q[2])


# --------------------------------------------------------------------------- matching
def small_training():
    pre = wave([1, 2, 3, 4, 5, 6], "pre", {"att": [2, 3, 3, 4, 2, 3], "idea": [0, 0, 1, 0, 0, 0]})
    # key 2 answered post twice (rows 3 and 8), key 6 only pre, key 7 only post
    post = wave([1, 2, 3, 4, 5, 7, 2], "post", {"att": [4, 3, 4, 4, 3, 5, 1], "idea": [1, 0, 1, 1, 0, 1, 0]}, rows=[2, 3, 4, 5, 6, 7, 8])
    return TrainingData(pre=pre, post=post)


def test_match_waves_counts_duplicates_and_unmatched():
    pairs, summary = tr.match_waves(small_training(), kinds_codebook({"att": "likert", "idea": "yesno"}))
    s = summary.set_index("step")["participant"]
    assert s["records_before"] == 6 and s["records_after"] == 7
    assert s["duplicates_after"] == 1 and s["duplicates_before"] == 0
    assert s["matched"] == 5 and s["before_only"] == 1 and s["after_only"] == 1
    # duplicate rule: the first sheet (row 3, att = 3) is used, the later one (row 8) is not
    att = pairs[pairs["item"] == "att"].set_index("key")
    assert att.loc["2", "after"] == 3.0 and att.loc["2", "row_after"] == 3
    assert sorted(pairs["item"].unique()) == ["att", "idea"]
    issues = tr.matching_issues(small_training())
    assert set(issues["issue"]) == {"duplicate", "only_in_pre", "only_in_post"}
    assert issues.loc[issues["issue"] == "duplicate", "row"].tolist() == [8]


def test_post_file_with_no_matching_pre_says_so():
    t = TrainingData(pre=wave([1, 2, 3], "pre", {"att": [2, 3, 3]}), post=wave([7, 8, 9], "post", {"att": [4, 4, 5]}))
    pairs, summary = tr.match_waves(t, kinds_codebook({"att": "likert"}))
    s = summary.set_index("step")["participant"]
    assert s["matched"] == 0 and s["after_only"] == 3 and s["before_only"] == 3
    tests = tr.paired_tests(pairs)
    assert tests["n_pairs"].tolist() == [0]
    assert not tests["testable"].iloc[0]
    assert "照合できた回答の組がない" in tests["method"].iloc[0]


# --------------------------------------------------------------------------- paired tests, edge cases
def pairs_frame(before, after, kind="likert", item="att", group="participant"):
    n = len(before)
    return pd.DataFrame({"key": [str(i) for i in range(n)], "group": group, "item": item, "kind": kind, "before": np.asarray(before, float), "after": np.asarray(after, float), "row_before": 2, "row_after": 2})


def test_paired_tests_reference_row():
    out = tr.paired_tests(pairs_frame(PRATT_PRE, PRATT_POST)).iloc[0]
    assert out["n_pairs"] == 12 and out["statistic"] == 65.5
    assert round(out["p_value"], 5) == 0.01749  # coin, see test_wilcoxon_pratt_matches_coin
    assert round(out["effect_size"], 4) == 0.7564
    assert out["ci_low"] < out["effect_size"] < out["ci_high"] <= 1
    assert (out["n_improved"], out["n_same"], out["n_worse"]) == (8, 3, 1)
    assert "Pratt" in out["method"]


def test_all_answers_identical_no_test():
    out = tr.paired_tests(pairs_frame([5] * 10, [5] * 10)).iloc[0]
    assert not out["testable"] and np.isnan(out["p_value"]) and np.isnan(out["q_value"])
    assert "検定できません" in out["method"]
    assert out["share_same"] == 1.0


def test_one_pair_no_test():
    out = tr.paired_tests(pairs_frame([2], [4])).iloc[0]
    assert out["n_pairs"] == 1 and not out["testable"] and np.isnan(out["p_value"])
    assert "1組" in out["method"]


def test_yesno_item_uses_mcnemar_and_share_difference():
    before = [1] * 5 + [1] + [0] * 9 + [0] * 5
    after = [1] * 5 + [0] + [1] * 9 + [0] * 5
    out = tr.paired_tests(pairs_frame(before, after, kind="yesno")).iloc[0]
    assert round(out["p_value"], 5) == 0.02148  # R: binom.test(1, 10)
    assert out["effect_size"] == pytest.approx((9 - 1) / 20)
    assert "McNemar" in out["method"]


def test_missing_answers_drop_the_pair_only():
    out = tr.paired_tests(pairs_frame([2, 3, np.nan, 4], [3, 4, 5, np.nan])).iloc[0]
    assert out["n_pairs"] == 2


# --------------------------------------------------------------------------- segments
def test_join_segments_and_target_vs_others():
    rng = np.random.default_rng(1)
    n = 30
    before = rng.integers(1, 4, n).astype(float)
    after = before + np.r_[np.ones(20), np.zeros(10)]
    pairs = pairs_frame(before, after)
    labels = pd.DataFrame({"respondent_id": [str(i) for i in range(25)], "segment": [2] * 18 + [1] * 7, "segment_name": ["意欲"] * 18 + ["推進"] * 7})
    joined = tr.join_segments(pairs, labels)
    assert joined["segment_name"].iloc[-1].startswith("区分なし")
    assert tr.target_segment(joined) == 2
    by = tr.effects_by_segment(joined, n_boot=200)
    t = by[by["grouping"] == "target"].set_index("segment", drop=False)
    assert t["n_pairs"].tolist() == [18, 12]
    assert t.iloc[0]["share_improved"] == 1.0
    seg = by[by["grouping"] == "segment"]
    assert seg["n_pairs"].sum() == n


# --------------------------------------------------------------------------- difference-in-differences
def test_did_matches_r_sandwich():
    # R: lm(y ~ post * part, long); sandwich::vcovCL(fit, cluster = ~id, type = "HC1")
    #    lmtest::coeftest(fit, vcov = V, df = 11 - 1)["post:part", ]
    #    -> estimate 1.16666667, SE 0.45129785, p 0.02717576; coefci -> 0.1611124 2.1722209
    before = [2, 3, 2, 4, 3, 1, 3, 2, 4, 3, 2]
    after = [4, 4, 3, 5, 3, 3, 3, 3, 4, 2, 2]
    pairs = pairs_frame(before, after)
    pairs["group"] = ["participant"] * 6 + ["non_participant"] * 5
    did = tr.did_estimates(pairs).iloc[0]
    assert round(did["estimate"], 6) == 1.166667
    assert round(did["std_error"], 6) == 0.451298
    assert round(did["p_value"], 6) == 0.027176
    assert (round(did["ci_low"], 5), round(did["ci_high"], 5)) == (0.16111, 2.17222)
    assert did["n_smaller_group"] == 5


def test_did_without_non_participants_is_empty_and_says_why():
    did = tr.did_estimates(pairs_frame([1, 2, 3], [2, 3, 4]))
    assert did.empty
    assert "判断できません" in tr.did_caveat(did)


# --------------------------------------------------------------------------- the bundled sample
@pytest.fixture(scope="module")
def sample():
    if not (SAMPLE / "municipality.yaml").exists():
        pytest.skip("data/sample not generated")
    from dxanalysis.io import load_municipality

    m = load_municipality(SAMPLE)
    truth = yaml.safe_load((SAMPLE / "truth" / "truth.yaml").read_text(encoding="utf-8"))["training"]
    return m, truth


def test_sample_matching_reports_planted_problems(sample):
    m, truth = sample
    _, summary = tr.match_waves(m.training, m.codebook)
    s = summary.set_index("step")
    assert s.loc["duplicates_after", "total"] == 1
    assert s.loc["after_only", "total"] == len(truth["matching_problems"]["post_keys_without_pre"])
    assert s.loc["before_only", "total"] == len(truth["matching_problems"]["pre_keys_without_post"])
    assert s.loc["matched", "participant"] == truth["realised"]["participants"]["n_matched"]
    assert s.loc["matched", "non_participant"] == truth["realised"]["non_participants"]["n_matched"]


def test_sample_planted_effect_recovered(sample):
    m, truth = sample
    pairs, _ = tr.match_waves(m.training, m.codebook)
    tests = tr.paired_tests(pairs, n_boot=500).set_index("item")
    did = tr.did_estimates(pairs).set_index("item")
    for item, gain in truth["design"]["latent_gain"].items():
        assert tests.loc[item, "q_value"] < 0.05 and tests.loc[item, "effect_size"] > 0  # detected
        assert did.loc[item, "ci_low"] <= gain <= did.loc[item, "ci_high"]  # interval covers the planted size
    planted = truth["design"]["concrete_idea_post"] - truth["design"]["concrete_idea_pre"]
    assert did.loc["concrete_idea", "ci_low"] <= planted <= did.loc["concrete_idea", "ci_high"]
    heads = tr.headlines(m.training, m.codebook).set_index("metric")
    assert heads.loc["idea_after", "ci_low"] <= truth["design"]["concrete_idea_post"] <= heads.loc["idea_after", "ci_high"]
    planted_sat = truth["design"]["satisfaction_shares"][4] + truth["design"]["satisfaction_shares"][5]
    assert heads.loc["satisfied", "ci_low"] <= planted_sat <= heads.loc["satisfied", "ci_high"]
    assert round(heads.loc["satisfied", "share"], 3) == truth["satisfied_share"]


def test_sample_followup_held_above_pre(sample):
    m, truth = sample
    fu = tr.followup_change(m.training, m.codebook, n_boot=200)
    verdicts = tr.followup_verdicts(fu).set_index("item")
    for item in truth["design"]["latent_gain"]:
        assert verdicts.loc[item, "verdict"] in {"held", "partly"}
        assert verdicts.loc[item, "n_pairs"] == truth["followup"]["n"]


# --------------------------------------------------------------------------- plots
def test_plots_return_axes_with_expected_artists():
    import matplotlib.pyplot as plt

    from dxanalysis.plots import training as ptr

    tests = tr.paired_tests(pd.concat([pairs_frame(PRATT_PRE, PRATT_POST), pairs_frame([0, 1, 0, 0], [1, 1, 1, 0], kind="yesno", item="idea")]), n_boot=100)
    fig, ax = plt.subplots()
    assert ptr.change_shares(tests, ax=ax) is ax
    assert len(ax.patches) == 3 * len(tests)
    fig, ax = plt.subplots()
    ptr.effects(tests, ax=ax)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["idea", "att"]
    hidden = tests.copy()
    hidden.loc[0, ["effect_size", "ci_low", "ci_high"]] = np.nan
    fig, ax = plt.subplots()
    ptr.effects(hidden, ax=ax)
    assert any("非表示" in t.get_text() for t in ax.texts)


# --------------------------------------------------------------------------- publishing (privacy)
def test_small_headline_is_hidden_in_table_sentence_and_findings(tmp_path):
    import json

    from dxanalysis.report import Publisher

    heads = pd.DataFrame([tr.share_row(3, 4, metric="satisfied", label="研修に満足"), tr.share_row(20, 30, metric="idea_after", label="改善をイメージできる")])
    heads["sentence"] = [tr.share_sentence(r.label, r.numerator, r.n, r.ci_low, r.ci_high) for r in heads.itertuples()]
    pub = Publisher(tmp_path, min_group_size=5, display=False, notebook="04_training")
    shown = tr.publish_headlines(pub, heads)
    assert shown["suppressed"].tolist() == [True, False]
    csv = pd.read_csv(tmp_path / "tables" / "training_headlines.csv")
    assert "3/4" not in " ".join(csv["sentence"].astype(str)) and np.isnan(csv.loc[0, "numerator"])
    findings = json.loads((tmp_path / "findings" / "04_training.json").read_text(encoding="utf-8"))
    assert [f["text"] for f in findings] == ["改善をイメージできる: 67%(20/30人、95%信頼区間 48.8–80.8%)"]  # R: prop.test(20, 30, correct = FALSE)$conf.int -> 0.4878 0.8077


def test_effect_matrix_marks_hidden_groups():
    by = pd.DataFrame({"grouping": ["segment", "segment"], "group": ["1 A", "2 B"], "label": ["att", "att"], "n_pairs": [np.nan, 12.0],
                       "effect_size": [np.nan, 0.5], "ci_low": [np.nan, 0.2], "ci_high": [np.nan, 0.7], "q_value": [np.nan, 0.01], "suppressed": [True, False]})
    mat = tr.effect_matrix(by)
    assert mat["att"].tolist() == ["非表示(少人数)", "+0.50* (0.20〜0.70)"]


def test_did_finding_states_units_and_assumptions():
    did = pd.DataFrame({"item": ["a", "b"], "label": ["前向き", "改善"], "kind": ["likert", "yesno"], "estimate": [0.61, 0.29], "ci_low": [0.36, 0.14], "ci_high": [0.85, 0.43]})
    text = tr.did_finding(did)
    assert "「前向き」+0.61点(95%信頼区間 0.36–0.85)" in text and "「改善」+29ポイント(95%信頼区間 14–43)" in text
    assert "平行トレンド" in text and "2項目中2項目" in text


def test_did_no_change_in_either_group_is_not_tested():
    pairs = pairs_frame([3, 4, 2, 3, 5, 1], [3, 4, 2, 3, 5, 1])
    pairs["group"] = ["participant"] * 3 + ["non_participant"] * 3
    did = tr.did_estimates(pairs).iloc[0]
    assert did["estimate"] == 0.0 and np.isnan(did["p_value"]) and "検定できません" in did["method"]
