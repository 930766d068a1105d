"""dxanalysis.stats: one function per statistic, by kind, checked against R.

The full R reference tests of each statistic stay next to the data they share, calling
``dxanalysis.stats`` (imported as ``st``): tests/test_survey.py (raking, design-based SE,
Kish, alpha, Mann–Whitney, DeLong, TOST, BH, Wilson) and tests/test_training.py
(McNemar, Wilcoxon–Pratt, paired rank-biserial, Newcombe, BH). Here: the old names still
work, the two rank-biserial correlations told apart, and one R value each.
"""

import numpy as np
import pytest

from dxanalysis import stats, survey, training
from dxanalysis.stats import effects, proportions, reliability, tests, weighting

# R ?wilcox.test "depression" example (Hollander & Wolfe 1973, p. 29)
DEP_X = np.array([1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30])
DEP_Y = np.array([0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29])
G = [4.5, 3.25, 4, 5, 3.5, 4, 2.75, 4, 3.5, 4.25, 3]
H = [3, 2.5, 3.5, 4, 2, 3, 3.25, 2.5, 3, 4, 1.75, 3, 3.5, 2]


def test_step_modules_re_export_the_same_functions():
    # notebooks and older code keep working with the old names
    assert survey.wilson_interval is proportions.wilson_interval is training.wilson_interval
    assert survey.rank_biserial is effects.rank_biserial_independent
    assert training.rank_biserial is effects.rank_biserial_paired
    assert survey.bh_adjust is tests.bh_adjust is training.bh_adjust
    assert survey.rake_weights is weighting.rake_weights
    assert survey.cronbach_alpha is reliability.cronbach_alpha
    assert training.wilcoxon_pratt is tests.wilcoxon_pratt and training.mcnemar_test is tests.mcnemar_test
    assert training.paired_share_difference_ci is proportions.paired_share_difference_ci
    assert survey.EQUIVALENCE_MARGIN == effects.EQUIVALENCE_MARGIN
    assert set(stats.__all__) <= set(dir(stats))


def test_rank_biserial_independent_matches_r():
    # R: wilcox.test(g, h, exact=FALSE, correct=TRUE) -> W = 124.5, p-value = 0.0093320892
    # r = 2W / (n_g n_h) − 1 (Kerby 2014)
    assert stats.rank_biserial_independent(G, H) == pytest.approx(2 * 124.5 / (11 * 14) - 1)
    assert stats.mann_whitney_p(np.array(G), np.array(H)) == pytest.approx(0.0093320892, abs=1e-9)


def test_rank_biserial_paired_matches_r():
    # R: wilcox.test(x, y, paired = TRUE) -> V = 40 (no zeros, no ties): r = 4V / (n(n+1)) − 1 = 0.7777778
    assert round(float(stats.rank_biserial_paired(DEP_X - DEP_Y)), 4) == 0.7778


def test_the_two_rank_biserials_answer_different_questions():
    # the same numbers read as two independent groups or as pairs give different r
    ind = stats.rank_biserial_independent(DEP_X, DEP_Y)
    paired = float(stats.rank_biserial_paired(DEP_X - DEP_Y))
    # R: wilcox.test(x, y, exact = FALSE)$statistic -> W = 58; 2 * 58 / 81 - 1 = 0.4320988
    assert ind == pytest.approx(2 * 58 / 81 - 1)
    assert paired != pytest.approx(ind)


def test_wilson_and_bh_match_r():
    # prop.test(7, 12, correct=FALSE)$conf.int -> 0.3195113125 0.8067396863
    lo, hi = stats.wilson_interval(7, 12)
    assert (float(lo), float(hi)) == pytest.approx((0.3195113125, 0.8067396863), abs=1e-9)
    # p.adjust(c(0.01, 0.04, 0.03, 0.2), "BH") -> 0.04 0.0533333 0.0533333 0.2
    np.testing.assert_allclose(stats.bh_adjust([0.01, 0.04, 0.03, 0.2]), [0.04, 0.16 / 3, 0.16 / 3, 0.2])


def test_bh_adjust_by_family_counts_a_family_once():
    q = stats.bh_adjust_by_family([0.01, 0.01, 0.04], ["a", "a", "b"])
    # two tests: p.adjust(c(0.01, 0.04), "BH") -> 0.02 0.04
    np.testing.assert_allclose(q, [0.02, 0.02, 0.04])
    with pytest.raises(ValueError, match="bh_adjust_by_family"):
        stats.bh_adjust_by_family([0.1, 0.2], ["a"])


@pytest.mark.parametrize("kind", ["likert", "binary", "scores", "continuous", "wide_integers", "with_nan", "one_value_each"])
def test_mann_whitney_and_rank_biserial_equal_scipy_float_for_float(kind):
    """The counting implementation (issue #17) gives scipy's numbers exactly: mannwhitneyu's
    asymptotic p (tie and continuity corrected) and the rank-biserial from rankdata's ranks."""
    from scipy import stats as sps

    rng = np.random.default_rng(len(kind))
    for n1, n2 in [(1, 1), (1, 7), (3, 4), (25, 40), (300, 2700), (20_000, 80_000)]:
        if kind == "likert":
            x, y = rng.integers(1, 6, n1).astype(float), rng.integers(1, 6, n2).astype(float)
        elif kind == "binary":
            x, y = (rng.random(n1) < 0.4).astype(float), (rng.random(n2) < 0.5).astype(float)
        elif kind == "scores":
            x, y = np.round(rng.normal(3.1, 0.8, n1) * 4) / 4, np.round(rng.normal(3.0, 0.8, n2) * 4) / 4
        elif kind == "continuous":
            x, y = rng.normal(0.1, 1, n1), rng.normal(0, 1, n2)
        elif kind == "wide_integers":
            x, y = rng.integers(-10**7, 10**7, n1).astype(float), rng.integers(-10**7, 10**7, n2).astype(float)
        elif kind == "with_nan":
            x, y = rng.integers(1, 6, n1).astype(float), rng.integers(1, 6, n2).astype(float)
            y[0] = np.nan
        else:
            x, y = np.full(n1, 2.0), np.full(n2, 4.0)
        pooled = np.concatenate([x, y])
        ref_p = float("nan") if np.nanmax(pooled) == np.nanmin(pooled) else float(sps.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic", use_continuity=True).pvalue)
        got = tests.mann_whitney_p(x, y)
        assert got == ref_p or (np.isnan(got) and np.isnan(ref_p)), (kind, n1, n2, got, ref_p)
        xc, yc = x[~np.isnan(x)], y[~np.isnan(y)]
        ranks = sps.rankdata(np.concatenate([xc, yc]))
        ref_r = float("nan") if not len(yc) else float(2 * (ranks[: len(xc)].sum() - len(xc) * (len(xc) + 1) / 2) / (len(xc) * len(yc)) - 1)
        got_r = effects.rank_biserial_independent(x, y)
        assert got_r == ref_r or (np.isnan(got_r) and np.isnan(ref_r)), (kind, n1, n2)


def test_rank_biserial_paired_counting_equals_rankdata_pratt_ranks():
    """Whole-number changes take a counting path (issue #17); it gives the numbers of the
    definition with scipy's rankdata Pratt ranks, for single samples and bootstrap arrays."""
    from scipy import stats as sps

    def reference(d):
        r = sps.rankdata(np.abs(d), axis=-1)
        return ((r * (d > 0)).sum(axis=-1) - (r * (d < 0)).sum(axis=-1)) / (d.shape[-1] * (d.shape[-1] + 1) / 2)

    rng = np.random.default_rng(4)
    for n in (1, 2, 7, 40, 300):
        d = (rng.integers(1, 6, n) - rng.integers(1, 6, n)).astype(float)
        boot = d[rng.integers(0, n, size=(500, n))]
        assert effects.rank_biserial_paired(d) == reference(d)
        assert np.array_equal(effects.rank_biserial_paired(boot), reference(boot))
        assert np.array_equal(effects.rank_biserial_paired(np.zeros((3, n))), reference(np.zeros((3, n))))
        assert effects.rank_biserial_paired(d + 0.5) == reference(d + 0.5)  # not whole numbers: the rankdata path


def test_delong_placements_from_counts_equal_the_rankdata_formulas():
    """DeLong's AUC and SE (rank_biserial_ci, the TOST p) from counted ranks equal, float for
    float, the rankdata formulas (placement values = pooled rank − own-sample rank)."""
    from scipy import stats as sps

    def reference(x, y):
        m, n = len(x), len(y)
        all_ranks = sps.rankdata(np.concatenate([x, y]))
        v10 = (all_ranks[:m] - sps.rankdata(x)) / n
        v01 = 1 - (all_ranks[m:] - sps.rankdata(y)) / m
        return float(v10.mean()), float(np.sqrt(v10.var(ddof=1) / m + v01.var(ddof=1) / n))

    rng = np.random.default_rng(9)
    for m, n in [(2, 2), (5, 9), (40, 460), (3000, 97000)]:
        for x, y in [(rng.integers(1, 6, m).astype(float), rng.integers(1, 6, n).astype(float)),
                     (np.round(rng.normal(3, 1, m) * 4) / 4, np.round(rng.normal(3.3, 1, n) * 4) / 4),
                     (rng.normal(size=m), rng.normal(size=n))]:
            assert effects._delong(x, y) == reference(x, y)
