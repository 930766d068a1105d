"""Training evaluation (dxanalysis.training): every statistic against an independent reference.

Reference numbers come from R 4.x (base stats, coin, boot, sandwich, lmtest), statsmodels or a
published worked example, run once and hard-coded here with the exact call next to them; R is
not needed to run the tests. Where no R package was installed (Newcombe's paired interval:
PropCIs / contingencytables are not), the formula was hand-coded in R (``newcombe10`` below)
and checked against the published example of Fagerland, Lydersen & Laake (2017).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dxanalysis import stats as st  # the statistics, tested here against R
from dxanalysis import training as tr
from dxanalysis.views import training as vtr  # the words of notebook 04
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
# 24 Likert pairs, mostly falling: 8 zeros, 16 non-zero with ties (2 rose, 14 fell)
FALL_PRE = np.array([3, 2, 4, 3, 3, 2, 1, 4, 5, 3, 2, 3, 4, 3, 2, 3, 4, 2, 3, 3, 4, 5, 2, 3], dtype=float)
FALL_POST = np.array([2, 2, 3, 3, 1, 2, 2, 3, 4, 3, 1, 3, 2, 2, 2, 4, 3, 1, 3, 2, 3, 4, 2, 1], dtype=float)

# R, Newcombe (1998) method 10 hand-coded from the formula (no package with it is installed):
#   wilson <- function(x, n, z = qnorm(0.975)) { p <- x/n; c <- p + z^2/(2*n)
#     h <- z*sqrt(p*(1-p)/n + z^2/(4*n^2)); d <- 1 + z^2/n; c((c-h)/d, (c+h)/d) }
#   newcombe10 <- function(yy, yn, ny, nn) {          # before yes/no x after yes/no
#     N <- yy+yn+ny+nn; xb <- yy+yn; xa <- yy+ny; pb <- xb/N; pa <- xa/N; D <- pa-pb
#     wb <- wilson(xb, N); wa <- wilson(xa, N)
#     if (xb == 0 || xb == N || xa == 0 || xa == N) psi <- 0 else {
#       A <- yy*nn - yn*ny; den <- sqrt(xb*(N-xb)*xa*(N-xa))
#       psi <- if (A > N/2) (A - N/2)/den else if (A >= 0) 0 else A/den }
#     c(D, D - sqrt((pa-wa[1])^2 + (wb[2]-pb)^2 - 2*psi*(pa-wa[1])*(wb[2]-pb)),
#          D + sqrt((wa[2]-pa)^2 + (pb-wb[1])^2 - 2*psi*(wa[2]-pa)*(pb-wb[1]))) }


def yesno_pairs(yy, yn, ny, nn):
    """Paired 0/1 answers from the 2×2 counts (yes→yes, yes→no, no→yes, no→no)."""
    before = np.repeat([1, 1, 0, 0], [yy, yn, ny, nn]).astype(float)
    after = np.repeat([1, 0, 1, 0], [yy, yn, ny, nn]).astype(float)
    return before, after


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
    s = vtr.share_sentence(row["label"], row["numerator"], row["n"], row["ci_low"], row["ci_high"])
    assert s == "研修後、デジタル化に前向き: 100%(30/30人、95%信頼区間 88.6–100.0%)"
    row = tr.share_row(8, 31, metric="idea", label="具体的な改善をイメージできる")
    # R: prop.test(8, 31, correct = FALSE)$conf.int -> 0.1370171 0.4324614
    assert (round(row["ci_low"], 4), round(row["ci_high"], 4)) == (0.1370, 0.4325)
    assert vtr.share_sentence(row["label"], 8, 31, row["ci_low"], row["ci_high"]) == "具体的な改善をイメージできる: 26%(8/31人、95%信頼区間 13.7–43.2%)"


def test_share_sentence_no_100_or_0_unless_all_or_none():
    # R: prop.test(199, 200, correct = FALSE)$conf.int -> 0.9722262956 0.9991168313
    row = tr.share_row(199, 200, metric="m", label="満足")
    assert (round(row["ci_low"], 6), round(row["ci_high"], 6)) == (0.972226, 0.999117)
    assert vtr.share_sentence("満足", 199, 200, row["ci_low"], row["ci_high"]) == "満足: 99.5%(199/200人、95%信頼区間 97.2–99.9%)"
    # R: prop.test(1, 300, correct = FALSE)$conf.int -> 0.0005886577 0.0186366937
    row = tr.share_row(1, 300, metric="m", label="不満")
    assert (round(row["ci_low"], 6), round(row["ci_high"], 6)) == (0.000589, 0.018637)
    assert vtr.share_sentence("不満", 1, 300, row["ci_low"], row["ci_high"]) == "不満: 0.3%(1/300人、95%信頼区間 0.1–1.9%)"
    # 1999/2000 = 99.95% and 1/2001 = 0.05% round to 100.0 / 0.0 even with one decimal
    assert tr.format_percent(1999, 2000) == "99.9%超" and tr.format_percent(1, 2001) == "0.1%未満"
    assert tr.format_percent(30, 30) == "100%" and tr.format_percent(0, 30) == "0%"


def test_interval_ends_have_one_decimal_each():
    # R: prop.test(14, 44, correct = FALSE)$conf.int -> 0.1999930771 0.4655689606 (the sample's idea_after)
    row = tr.share_row(14, 44, metric="m", label="改善")
    assert round(row["ci_low"], 6) == 0.199993
    assert vtr.share_sentence("改善", 14, 44, row["ci_low"], row["ci_high"]) == "改善: 32%(14/44人、95%信頼区間 20.0–46.6%)"


# --------------------------------------------------------------------------- McNemar
def test_mcnemar_agresti_presidential_approval():
    # R: mcnemar.test(matrix(c(794, 86, 150, 570), nrow = 2))  (?mcnemar.test, Agresti 1990 p. 350)
    #    -> McNemar's chi-squared = 16.818, df = 1, p-value = 4.115e-05
    # (1st survey approve→2nd approve 794, approve→disapprove 150, disapprove→approve 86, 570)
    before = np.repeat([1, 1, 0, 0], [794, 150, 86, 570])
    after = np.repeat([1, 0, 1, 0], [794, 150, 86, 570])
    res = st.mcnemar_test(before, after)
    assert not res["exact"]
    assert round(res["statistic"], 3) == 16.818
    assert round(res["p_value"] * 1e5, 3) == 4.115
    assert (res["n_yes_to_no"], res["n_no_to_yes"]) == (150, 86)


def test_mcnemar_exact_when_few_discordant():
    # 1 yes→no, 9 no→yes (10 discordant < 25) → exact binomial
    # R: binom.test(1, 10, 0.5)$p.value -> 0.02148 ; statsmodels mcnemar(exact=True) agrees
    before = np.array([1] * 5 + [1] + [0] * 9 + [0] * 5, dtype=float)
    after = np.array([1] * 5 + [0] + [1] * 9 + [0] * 5, dtype=float)
    res = st.mcnemar_test(before, after)
    assert res["exact"]
    assert round(res["p_value"], 5) == 0.02148
    assert res["statistic"] == 1.0


# --------------------------------------------------------------------------- Wilcoxon
def test_wilcoxon_r_depression_example_exact():
    # R: wilcox.test(x, y, paired = TRUE) -> V = 40, p-value = 0.03906 (exact)
    res = st.wilcoxon_pratt(before=DEP_Y, after=DEP_X)
    assert res["exact"]
    assert res["statistic"] == 40.0
    assert round(res["p_value"], 5) == 0.03906


def test_wilcoxon_pratt_exact_with_ties_and_zeros_matches_coin():
    # 9 non-zero differences (≤ 25): exact permutation distribution although there are ties and zeros
    # R: coin::wilcoxsign_test(post ~ pre, zero.method = "Pratt", distribution = "exact")
    #    -> Z = 2.3762, p-value = 0.02734 (pvalue() = 0.02734375); statistic(type = "linear") = 65.5
    res = st.wilcoxon_pratt(before=PRATT_PRE, after=PRATT_POST)
    assert res["exact"] and res["n_nonzero"] == 9
    assert res["statistic"] == 65.5
    assert round(res["z"], 4) == 2.3762
    assert round(res["p_value"], 8) == 0.02734375


def test_wilcoxon_pratt_asymptotic_matches_coin():
    # the normal approximation, forced (it is used above 25 non-zero differences)
    # R: coin::wilcoxsign_test(post ~ pre, zero.method = "Pratt") -> Z = 2.3762, p-value = 0.01749134
    res = st.wilcoxon_pratt(before=PRATT_PRE, after=PRATT_POST, exact_max=0)
    assert not res["exact"]
    assert round(res["p_value"], 7) == 0.0174913


def test_wilcoxon_pratt_exact_falls_with_ties_matches_coin():
    # 16 non-zero differences with ties, 8 zeros, mostly falling
    # R: coin::wilcoxsign_test(post2 ~ pre2, zero.method = "Pratt", distribution = "exact")
    #    -> pvalue 0.002899169922, statistic(type = "linear") 30; asymptotic: Z = -3.037005804, p 0.002389408547
    res = st.wilcoxon_pratt(before=FALL_PRE, after=FALL_POST)
    assert res["exact"] and res["n_nonzero"] == 16
    assert res["statistic"] == 30.0
    assert round(res["p_value"], 10) == 0.0028991699
    approx = st.wilcoxon_pratt(before=FALL_PRE, after=FALL_POST, exact_max=15)
    assert not approx["exact"]
    assert round(approx["z"], 6) == -3.037006
    assert round(approx["p_value"], 9) == 0.002389409


def test_wilcoxon_six_pairs_all_plus_one_exact():
    # every difference +1 (all tied): exact p = 2 / 2^6 = 0.03125, not the asymptotic 0.0143
    # R: coin::wilcoxsign_test(rep(4, 6) ~ rep(3, 6), zero.method = "Pratt", distribution = "exact") -> 0.03125
    #    (asymptotic: 0.01430587844)
    res = st.wilcoxon_pratt(before=np.full(6, 3.0), after=np.full(6, 4.0))
    assert res["exact"] and res["p_value"] == 0.03125
    assert round(st.wilcoxon_pratt(before=np.full(6, 3.0), after=np.full(6, 4.0), exact_max=5)["p_value"], 6) == 0.014306


def test_rank_biserial_values_and_sign():
    # No zeros, no ties: r = 4V / (n(n+1)) - 1 with R's V from wilcox.test(x, y, paired = TRUE)
    # -> 4 * 40 / 90 - 1 = 0.7777778 (Kerby 2014 simple difference formula)
    assert round(float(st.rank_biserial_paired(DEP_X - DEP_Y)), 4) == 0.7778
    # sign is post minus pre: post < pre gives a negative correlation
    assert round(float(st.rank_biserial_paired(DEP_Y - DEP_X)), 4) == -0.7778
    # Pratt variant: a hand computation from the definition r = (R+ − R−) / (n(n+1)/2), not an
    # independent package. d = post − pre = 2,0,1,0,1,2,1,−1,1,2,0,1; ranks of |d| over all 12
    # pairs: three 0s → 1..3 (mean 2), six 1s → 4..9 (mean 6.5), three 2s → 10..12 (mean 11);
    # R+ = 5·6.5 + 3·11 = 65.5 (= coin's linear statistic), R− = 6.5; (65.5 − 6.5) / 78 = 0.7564103
    # (R: rb(d, seq_along(d)) with rb as in test_rank_biserial_bootstrap_interval -> 0.7564102564)
    assert round(float(st.rank_biserial_paired(PRATT_POST - PRATT_PRE)), 4) == 0.7564
    # contrast: dropping the zeros (Wilcoxon's zero method) gives a larger r. R: V = 41.5 from
    # wilcox.test(post, pre, paired = TRUE) on the 9 non-zero pairs -> 4 * 41.5 / (9 * 10) - 1 = 0.8444444
    d = PRATT_POST - PRATT_PRE
    assert round(float(st.rank_biserial_paired(d[d != 0])), 4) == 0.8444
    assert round(float(st.rank_biserial_paired(d)), 4) != 0.8444  # zeros kept: Pratt pulls r towards 0
    assert st.rank_biserial_paired(np.array([1.0, 2.0, 1.0])) == 1.0  # all rose → +1


def test_rank_biserial_bootstrap_interval_matches_r_boot():
    # R: rb <- function(d, i) { x <- d[i]; r <- rank(abs(x)); n <- length(x)
    #                            (sum(r[x > 0]) - sum(r[x < 0])) / (n * (n + 1) / 2) }
    #    set.seed(1); b <- boot::boot(post - pre, rb, R = 200000); boot::boot.ci(b, type = "perc")
    #    -> 0.3076923 0.9871795 (= 24/78 and 77/78)
    # The bootstrap distribution is discrete (steps of 1/78) and Monte Carlo: allow 2 steps.
    out = tr.paired_tests(pairs_frame(PRATT_PRE, PRATT_POST), n_boot=20000).iloc[0]
    assert abs(out["ci_low"] - 24 / 78) <= 2 / 78 + 1e-9
    assert abs(out["ci_high"] - 77 / 78) <= 2 / 78 + 1e-9
    assert out["ci_note"] == ""


# --------------------------------------------------------------------------- Newcombe interval (yes/no)
def test_newcombe_paired_interval_published_example():
    # Fagerland, Lydersen & Laake (2017) ch. 8, Cavo et al. (2012) table [[59, 6], [16, 80]]:
    # R contingencytables::Newcombe_square_and_add_CI_paired_2x2 -> estimate -0.0621 (95% CI -0.1186 to -0.0046)
    # for first − second; ours is after − before, so the signs flip.
    # R hand-coded: newcombe10(59, 6, 16, 80) -> 0.062111801242 0.004625113933 0.118621195639
    lo, hi = st.paired_share_difference_ci(*yesno_pairs(59, 6, 16, 80))
    assert (round(lo, 4), round(hi, 4)) == (0.0046, 0.1186)
    assert (round(lo, 9), round(hi, 9)) == (0.004625114, 0.118621196)


def test_newcombe_few_discordant_pairs_includes_zero_like_exact_mcnemar():
    # 4 yes→no, 0 no→yes among 42 (the sample's 研修直後→フォローアップ, 具体的な改善):
    # R: newcombe10(10, 4, 0, 28) -> -0.095238095238 -0.198582860015 0.006352377431
    #    binom.test(0, 4)$p.value -> 0.125 (exact McNemar): the interval now includes 0 as well
    before, after = yesno_pairs(10, 4, 0, 28)
    lo, hi = st.paired_share_difference_ci(before, after)
    assert (round(lo, 9), round(hi, 9)) == (-0.19858286, 0.006352377)
    out = tr.paired_tests(pairs_frame(before, after, kind="yesno")).iloc[0]
    assert out["p_value"] == 0.125 and out["ci_low"] < 0 < out["ci_high"]
    assert "Newcombe" in out["method"]


def test_newcombe_all_pairs_no_to_yes_does_not_collapse():
    # 6 of 6 went no→yes: the bootstrap gave 1.00–1.00; R: newcombe10(0, 0, 6, 0) -> 1 0.4479839562 1
    lo, hi = st.paired_share_difference_ci(*yesno_pairs(0, 0, 6, 0))
    assert (round(lo, 9), hi) == (0.447983956, 1.0)


def test_bh_matches_r_and_keeps_nan():
    # R: p.adjust(c(0.01, 0.04, 0.03, 0.005, 0.2), "BH") -> 0.025 0.050 0.050 0.025 0.200
    q = st.bh_adjust([0.01, 0.04, np.nan, 0.03, 0.005, 0.2])
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
    assert round(out["p_value"], 8) == 0.02734375  # coin exact, see test_wilcoxon_pratt_exact_with_ties_and_zeros_matches_coin
    assert round(out["effect_size"], 4) == 0.7564  # hand computation, see test_rank_biserial_values_and_sign
    # percentile bootstrap (2,000, seed 0) vs R boot.ci(type = "perc") with 200,000: 0.3077 0.9872 (±2/78)
    assert abs(out["ci_low"] - 24 / 78) <= 2 / 78 + 1e-9 and abs(out["ci_high"] - 77 / 78) <= 2 / 78 + 1e-9
    assert (out["n_improved"], out["n_same"], out["n_worse"]) == (8, 3, 1)
    assert "Pratt" in out["method"] and "正確法" in out["method"]


def test_likert_all_same_direction_gives_no_interval_but_wilson_share():
    # six pairs all +1: the bootstrap of r collapsed to 1.00–1.00; now no interval for r
    # R: prop.test(6, 6, correct = FALSE)$conf.int -> 0.6096657 1.0000000 (Wilson of share improved)
    out = tr.paired_tests(pairs_frame(np.full(6, 3.0), np.full(6, 4.0))).iloc[0]
    assert out["effect_size"] == 1.0 and np.isnan(out["ci_low"]) and np.isnan(out["ci_high"])
    assert out["p_value"] == 0.03125  # coin exact, see test_wilcoxon_six_pairs_all_plus_one_exact
    assert out["ci_note"] == "全員が同じ向き(変化した6人は全員上がった)。上がった人 100%(6/6人、95%信頼区間 61.0–100.0%)"
    assert "区間なし" in out["method"]
    # with zeros and all changes downward: 4 fell, 6 unchanged
    # R: prop.test(4, 10, correct = FALSE)$conf.int -> 0.1681803297 0.6873262303
    out = tr.paired_tests(pairs_frame([3] * 10, [2] * 4 + [3] * 6)).iloc[0]
    assert np.isnan(out["ci_low"]) and out["effect_size"] < 0
    assert out["ci_note"].endswith("下がった人 40%(4/10人、95%信頼区間 16.8–68.7%)")


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
    # R: newcombe10(5, 1, 9, 5) -> 0.4 0.1015903493 0.6105790195
    assert (round(out["ci_low"], 9), round(out["ci_high"], 9)) == (0.101590349, 0.610579019)
    assert "McNemar" in out["method"] and "Newcombe" in out["method"]


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
    assert "判断できません" in vtr.did_caveat(did)


def test_did_caveat_does_not_assume_the_direction_of_bias():
    text = vtr.did_caveat(pd.DataFrame({"estimate": [0.5]}))
    assert "偏りの向きは分からないため、効果の証明ではなく目安として読んでください" in text
    assert "上限" not in text


# --------------------------------------------------------------------------- the bundled sample
@pytest.fixture(scope="module")
def sample(sample_municipality, sample_truth):
    return sample_municipality, sample_truth["training"]


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
        assert verdicts.loc[item, "verdict"] in {"held", "partly", "above_pre"}  # still above pre
        assert verdicts.loc[item, "n_pairs"] == truth["followup"]["n"]
    # planted: 70% of the gain retained, so nothing may be called "held" on 4 yes→no, 0 no→yes
    idea = verdicts.loc["concrete_idea"]
    post, fu_share = truth["realised"]["participants"]["concrete_idea_post"], truth["followup"]["concrete_idea_followup"]
    assert idea["verdict"] == "above_pre"
    assert f"({post * 100:.0f}%→{fu_share * 100:.0f}%)" in idea["verdict_text"]


# --------------------------------------------------------------------------- follow-up verdicts
def followup_training(post_to_fu_lost: int, *, n: int = 42):
    """pre 2 yes, post 14 yes (12 no→yes), follow-up: ``post_to_fu_lost`` of the 14 back to no."""
    keys = list(range(1, n + 1))
    pre = [1] * 2 + [0] * (n - 2)
    post = [1] * 14 + [0] * (n - 14)
    fu = [1] * (14 - post_to_fu_lost) + [0] * post_to_fu_lost + [0] * (n - 14)
    return TrainingData(pre=wave(keys, "pre", {"idea": pre}), post=wave(keys, "post", {"idea": post}), followup=wave(keys, "followup", {"idea": fu}))


def test_followup_verdict_few_discordant_pairs_is_not_held():
    # post→FU: 4 yes→no, 0 no→yes (as in the sample). R: binom.test(0, 4)$p.value -> 0.125;
    # newcombe10(10, 4, 0, 28) -> -0.0952 (-0.1986, 0.0064): the interval reaches below −0.10
    # pre→FU: 8 no→yes, 0 yes→no. R: binom.test(0, 8)$p.value -> 0.0078125; BH over the two p-values
    # (p.adjust(c(0.125, 0.0078125), "BH") -> 0.125 0.015625)
    cb = kinds_codebook({"idea": "yesno"})
    fu = tr.followup_change(followup_training(4), cb).set_index("comparison")
    assert fu.loc["post_followup", "p_value"] == 0.125 and fu.loc["pre_followup", "q_value"] == 0.015625
    v = tr.followup_verdicts(fu.reset_index()).iloc[0]
    assert v["verdict"] == "above_pre"
    assert v["verdict_text"] == "研修前よりは高い。直後からの低下の有無は判断できない(33%→24%)"
    assert round(v["ci_low_post_followup"], 6) == -0.198583 and v["margin"] == 0.1
    # with a margin chosen wider than the interval's lower end (0.25), the same data count as held
    held = tr.followup_verdicts(fu.reset_index(), margin_yesno=0.25).iloc[0]
    assert held["verdict"] == "held" and "33%→24%" in held["verdict_text"]


def test_followup_verdict_back_to_pre_and_no_change():
    cb = kinds_codebook({"idea": "yesno"})
    # 11 of 14 lost: post→FU R: binom.test(0, 11)$p.value -> 0.0009765625 (a clear fall), but
    # pre→FU only 1 no→yes (R: binom.test(1, 1)$p.value -> 1): no difference from pre
    fu = tr.followup_change(followup_training(11), cb).set_index("comparison")
    assert fu.loc["post_followup", "p_value"] == 0.0009765625 and fu.loc["pre_followup", "p_value"] == 1.0
    v = tr.followup_verdicts(fu.reset_index()).iloc[0]
    assert v["verdict"] == "not_shown" and v["verdict_text"].endswith(": 5%→7%)")  # pre 2/42, follow-up 3/42
    # nobody changed between post and follow-up: held (no fall at all)
    v = tr.followup_verdicts(tr.followup_change(followup_training(0), cb)).iloc[0]
    assert v["verdict"] == "held"


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
    same_way = tr.paired_tests(pairs_frame(np.full(6, 3.0), np.full(6, 4.0)))
    fig, ax = plt.subplots()
    ptr.effects(same_way, ax=ax)
    assert [t.get_text() for t in ax.texts] == [ptr.SAME_WAY]


# --------------------------------------------------------------------------- publishing (privacy)
def test_small_headline_is_hidden_in_table_sentence_and_findings(tmp_path):
    import json

    from dxanalysis.report import Publisher

    heads = pd.DataFrame([tr.share_row(3, 4, metric="satisfied", label="研修に満足"), tr.share_row(20, 30, metric="idea_after", label="改善をイメージできる")])
    heads["sentence"] = [vtr.share_sentence(r.label, r.numerator, r.n, r.ci_low, r.ci_high) for r in heads.itertuples()]
    pub = Publisher(tmp_path, min_group_size=5, display=False, notebook="04_training")
    shown = vtr.publish_headlines(pub, heads)
    assert shown["suppressed"].tolist() == [True, False]
    csv = pd.read_csv(tmp_path / "tables" / "training_headlines.csv")
    assert "3/4" not in " ".join(csv["sentence"].astype(str)) and np.isnan(csv.loc[0, "numerator"])
    findings = json.loads((tmp_path / "findings" / "04_training.json").read_text(encoding="utf-8"))
    assert [f["text"] for f in findings] == ["改善をイメージできる: 67%(20/30人、95%信頼区間 48.8–80.8%)"]  # R: prop.test(20, 30, correct = FALSE)$conf.int -> 0.4878 0.8077


def test_text_with_counts_is_hidden_for_small_groups(tmp_path):
    from dxanalysis.report import Publisher

    tests = pd.concat([tr.paired_tests(pairs_frame([3] * 4, [4] * 4)), tr.paired_tests(pairs_frame([3] * 6, [4] * 6))], ignore_index=True)
    tests["item"] = ["a", "b"]
    assert "4/4人" in tests.loc[0, "ci_note"]
    pub = Publisher(tmp_path, min_group_size=5, display=False, notebook="04_training")
    shown = tr.publish(pub, tests, "t", n_col="n_pairs", by="item", labels=tr.COLUMN_LABELS)
    csv = pd.read_csv(tmp_path / "tables" / "t.csv")
    assert shown["suppressed"].tolist() == [True, False]
    assert pd.isna(csv.loc[0, "ci_note"]) and "6/6人" in csv.loc[1, "ci_note"]


def test_effect_matrix_marks_hidden_groups():
    by = pd.DataFrame({"grouping": ["segment", "segment"], "group": ["1 A", "2 B"], "label": ["att", "att"], "n_pairs": [np.nan, 12.0],
                       "effect_size": [np.nan, 0.5], "ci_low": [np.nan, 0.2], "ci_high": [np.nan, 0.7], "q_value": [np.nan, 0.01], "suppressed": [True, False]})
    mat = tr.effect_matrix(by)
    assert mat["att"].tolist() == ["非表示(少人数)", "+0.50* (0.20〜0.70)"]
    by.loc[1, ["ci_low", "ci_high"]] = np.nan
    by["ci_note"] = [None, "全員が同じ向き(…)"]
    assert tr.effect_matrix(by)["att"].tolist()[1] == "+0.50* (全員が同じ向き)"


def test_describe_effects_counts_changes_by_q_value_not_interval():
    table = pd.DataFrame({"label": ["a", "b"], "effect_size": [-0.095, 0.6], "ci_low": [-0.199, np.nan], "ci_high": [0.006, np.nan],
                          "ci_note": ["", "全員が同じ向き"], "q_value": [0.156, 0.001]})
    text = vtr.describe_effects(table)
    assert "q値が0.05未満(変化あり)は2件中1件" in text and "区間なし" in text and "0をまたぐ" not in text


def test_did_finding_states_units_and_assumptions():
    did = pd.DataFrame({"item": ["a", "b"], "label": ["前向き", "改善"], "kind": ["likert", "yesno"], "estimate": [0.61, 0.29], "ci_low": [0.36, 0.14], "ci_high": [0.85, 0.43]})
    text = vtr.did_finding(did)
    assert "「前向き」+0.61点(95%信頼区間 0.36–0.85)" in text and "「改善」+29ポイント(95%信頼区間 14–43)" in text
    assert "平行トレンド" in text and "2項目中2項目" in text


def test_did_no_change_in_either_group_is_not_tested():
    pairs = pairs_frame([3, 4, 2, 3, 5, 1], [3, 4, 2, 3, 5, 1])
    pairs["group"] = ["participant"] * 3 + ["non_participant"] * 3
    did = tr.did_estimates(pairs).iloc[0]
    assert did["estimate"] == 0.0 and np.isnan(did["p_value"]) and "検定できません" in did["method"]
