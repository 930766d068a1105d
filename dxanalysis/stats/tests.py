"""Hypothesis tests returning p-values: Mann–Whitney (independent samples), Wilcoxon
signed-rank with Pratt's zeros and McNemar (paired), and Benjamini–Hochberg q-values.
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def value_codes(v: np.ndarray) -> tuple[np.ndarray, int]:
    """Each value's position among the distinct values of ``v`` ascending (gaps allowed), and
    the number of positions: whole numbers (Likert, 0/1) by subtraction, others by factorising."""
    low, high = (v.min(), v.max()) if len(v) else (0.0, 0.0)
    if high - low <= 4 * len(v) + 100 and np.array_equal(v, np.floor(v)):  # counting needs no hashing
        return (v - low).astype(np.int64), int(high - low) + 1  # empty positions (no count) add nothing to any sum
    import pandas as pd

    codes, uniques = pd.factorize(v, sort=True)
    return codes, len(uniques)


def midranks(counts: np.ndarray) -> np.ndarray:
    """Average rank of each distinct value from its count (``scipy.stats.rankdata``'s numbers:
    first ordinal rank + (count − 1)/2)."""
    return (np.cumsum(counts, axis=-1) - counts + 1) + (counts - 1) / 2


def tie_table(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pooled sample by distinct value, ascending: counts in ``x``, counts in ``y`` and
    the average (mid)rank of the value in the pooled sample (``scipy.stats.rankdata``).

    Ranks are the same numbers as rankdata's, from one factorisation of the distinct values
    instead of a sort of every answer: Likert answers and scores take few values, so a
    100,000-answer comparison costs a counting pass, not an argsort. Midranks are multiples of
    ½ below 2⁵³, so every rank sum built from them is exact whatever the order of addition.
    """
    codes, k = value_codes(np.concatenate([x, y]))
    cx = np.bincount(codes[: len(x)], minlength=k)
    cy = np.bincount(codes[len(x):], minlength=k)
    return cx, cy, midranks(cx + cy)


def mann_whitney_p(x: np.ndarray, y: np.ndarray) -> float:
    """Two-sided Mann–Whitney p (normal approximation, tie and continuity corrected).

    Equals R ``wilcox.test(x, y, exact=FALSE, correct=TRUE)``; the exact test is not
    used because Likert data are full of ties. The arithmetic is that of
    ``scipy.stats.mannwhitneyu(method="asymptotic")`` step by step (rank sum, U, tie term,
    z, ``ndtr``) on :func:`tie_table`'s counts, so the p-value is the same float (the tie
    term Σ(t³ − t) is exact below about 208,000 answers; above, it may differ in the last
    bit). NaN in either sample gives NaN, as scipy's default ``nan_policy="propagate"``.
    """
    from scipy import special

    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if len(x) == 0 or len(y) == 0 or np.ptp(np.concatenate([x, y])) == 0:
        return float("nan")
    if np.isnan(x).any() or np.isnan(y).any():
        return float("nan")
    cx, cy, midrank = tie_table(x, y)
    n1, n2 = len(x), len(y)
    R1 = np.float64(np.dot(cx, midrank))
    U1 = R1 - n1 * (n1 + 1) / 2
    U2 = n1 * n2 - U1
    U = np.maximum(U1, U2)
    t = (cx + cy).astype(np.float64)
    mu = n1 * n2 / 2
    n = n1 + n2
    tie_term = np.sum(t**3 - t, axis=-1)
    s = np.sqrt(n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1))))
    numerator = U - mu
    numerator -= 0.5
    with np.errstate(divide="ignore", invalid="ignore"):
        z = numerator / s
    p = special.ndtr(-z)
    p *= 2
    return float(np.clip(p, 0.0, 1.0))


#: McNemar: exact binomial test when the discordant pairs are fewer than this.
MCNEMAR_EXACT_BELOW = 25
#: Wilcoxon–Pratt: exact permutation distribution up to this many non-zero differences
#: (ties and zeros allowed); above it, the normal approximation.
WILCOXON_EXACT_MAX = 25


def pratt_ranks(d: np.ndarray) -> np.ndarray:
    """Ranks of |d| over *all* pairs, zeros included (Pratt 1959); average ranks for ties."""
    return stats.rankdata(np.abs(d), axis=-1)


def pratt_exact_pvalue(ranks_nonzero, statistic: float) -> float:
    """Two-sided p-value of W+ from its exact permutation (sign-flip) distribution.

    Under "no change", each non-zero difference is equally likely to be positive or
    negative, so W+ is a sum of its Pratt ranks each taken with probability 1/2; the
    2^k sign patterns are counted by dynamic programming over the doubled ranks (Pratt
    midranks are multiples of 1/2, so doubled they are integers). The p-value is
    P(|W+ − E| ≥ |w − E|), E = Σr/2, as in R ``coin::wilcoxsign_test(..., zero.method =
    "Pratt", distribution = "exact")``. Without ties and zeros it equals R
    ``wilcox.test(paired = TRUE, exact = TRUE)``.
    """
    doubled = np.rint(2 * np.asarray(ranks_nonzero, dtype=float)).astype(np.int64)
    total = int(doubled.sum())
    counts = np.zeros(total + 1)
    counts[0] = 1.0
    for v in doubled:  # add one sign: the rank is counted (+v) or not
        shifted = np.zeros_like(counts)
        shifted[v:] = counts[: total + 1 - v]
        counts = counts + shifted
    observed = abs(2 * int(round(2 * statistic)) - total)
    sums = np.arange(total + 1)
    return float(min(1.0, counts[np.abs(2 * sums - total) >= observed].sum() / counts.sum()))


def wilcoxon_pratt(before, after, *, exact_max: int = WILCOXON_EXACT_MAX) -> dict:
    """Wilcoxon signed-rank test of ``after − before`` with Pratt's zero handling.

    With at most ``exact_max`` (25) non-zero differences, the exact conditional
    (permutation) distribution of W+ given the observed ranks, ties and zeros included
    (:func:`pratt_exact_pvalue`; equals R ``coin::wilcoxsign_test(after ~ before,
    zero.method = "Pratt", distribution = "exact")``). Above that, the normal
    approximation with the variance of the same permutation distribution (Cureton 1967;
    equals coin's asymptotic test), without continuity correction.

    Returns
    -------
    dict
        ``statistic`` (W+, the sum of Pratt ranks of positive differences; R's V),
        ``p_value`` (two-sided; NaN when every difference is 0), ``z`` (standardised W+,
        coin's Z, given for both methods), ``exact`` (bool), ``n_nonzero``.
    """
    d = np.asarray(after, dtype=float) - np.asarray(before, dtype=float)
    d = d[~np.isnan(d)]
    r = pratt_ranks(d)
    w_plus = float((r * (d > 0)).sum())
    r_nz = r[d != 0]
    k = int(len(r_nz))
    if k == 0:
        return {"statistic": w_plus, "p_value": np.nan, "z": np.nan, "exact": False, "n_nonzero": 0}
    # z as coin reports it: (W+ − E) / sd under the permutation null of the non-zero ranks
    z = float((w_plus - r_nz.sum() / 2) / np.sqrt((r_nz**2).sum() / 4))
    exact = k <= exact_max
    p = pratt_exact_pvalue(r_nz, w_plus) if exact else float(2 * stats.norm.sf(abs(z)))
    return {"statistic": w_plus, "p_value": p, "z": z, "exact": bool(exact), "n_nonzero": k}


def mcnemar_test(before, after, *, exact_below: int = MCNEMAR_EXACT_BELOW) -> dict:
    """McNemar's test for paired yes/no answers (1 = yes).

    Exact binomial test when the discordant pairs (no→yes plus yes→no) are fewer than
    ``exact_below`` (25), otherwise the chi-squared statistic with continuity correction
    (statsmodels ``mcnemar``; equals R ``mcnemar.test``).

    Returns
    -------
    dict
        ``statistic`` (chi-squared, or for the exact test the smaller discordant count),
        ``p_value``, ``exact`` (bool), ``n_yes_to_no``, ``n_no_to_yes``.
    """
    from statsmodels.stats.contingency_tables import mcnemar

    b = np.asarray(before, dtype=float)
    a = np.asarray(after, dtype=float)
    yy = int(((b == 1) & (a == 1)).sum())
    yn = int(((b == 1) & (a == 0)).sum())
    ny = int(((b == 0) & (a == 1)).sum())
    nn = int(((b == 0) & (a == 0)).sum())
    exact = (yn + ny) < exact_below
    res = mcnemar(np.array([[yy, yn], [ny, nn]]), exact=exact, correction=True)
    return {"statistic": float(res.statistic), "p_value": float(res.pvalue), "exact": bool(exact), "n_yes_to_no": yn, "n_no_to_yes": ny}


def bh_adjust(p_values) -> np.ndarray:
    """Benjamini–Hochberg q-values (statsmodels ``multipletests(method="fdr_bh")`` = R
    ``p.adjust(method="BH")``); NaN p-values stay NaN and are not counted."""
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(p_values, dtype=float)
    q = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        q[ok] = multipletests(p[ok], method="fdr_bh")[1]
    return q


def bh_adjust_by_family(p_values, family) -> np.ndarray:
    """BH q-values where rows sharing a ``family`` key are one test (one p enters the family).

    The q of the test is copied to every row of its key. Used for the two groups of a
    two-level attribute: "A vs the rest" and "B vs the rest" are the same comparison, and
    counting it twice would distort the false discovery rate.
    """
    p = np.asarray(p_values, dtype=float)
    keys = list(family)
    if len(keys) != len(p):
        raise ValueError("bh_adjust_by_family: one family key per p-value")
    first: dict = {}
    for i, k in enumerate(keys):
        first.setdefault(k, i)
    idx = np.array(list(first.values()), dtype=int)
    q_one = dict(zip(first, bh_adjust(p[idx]) if len(idx) else []))
    return np.array([q_one[k] for k in keys], dtype=float)
