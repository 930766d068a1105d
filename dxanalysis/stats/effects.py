"""Effect sizes: rank-biserial correlations for independent samples
(:func:`rank_biserial_independent`, from the Mann–Whitney U, with DeLong's interval and the
TOST equivalence test) and for matched pairs (:func:`rank_biserial_paired`, Pratt ranks of
the differences).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from .tests import midranks, pratt_ranks, tie_table, value_codes

#: Equivalence margin on the rank-biserial r: |r| below it is "no meaningful difference"
#: (Cohen's "small" is 0.1). Declared before seeing the data; a parameter of test_hypotheses.
EQUIVALENCE_MARGIN = 0.1


def rank_biserial_independent(x, y) -> float:
    """Rank-biserial correlation of ``x`` vs ``y``: P(X > Y) − P(X < Y), ties count half.

    Equals ``2·U_x / (n_x n_y) − 1`` with the Mann–Whitney ``U`` of ``x`` (Kerby 2014);
    positive when ``x`` tends to be higher. For 0/1 data it is the difference in shares.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    x, y = x[~np.isnan(x)], y[~np.isnan(y)]
    if len(x) == 0 or len(y) == 0:
        return float("nan")
    cx, _, midrank = tie_table(x, y)  # x's rank sum, exact (the same number as rankdata's ranks summed)
    u = np.float64(np.dot(cx, midrank)) - len(x) * (len(x) + 1) / 2
    return float(2 * u / (len(x) * len(y)) - 1)


def _delong(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """AUC = P(X > Y) + ½P(X = Y) and its DeLong standard error (NaN when undefined)."""
    m, n = len(x), len(y)
    if m < 2 or n < 2:
        return float("nan"), float("nan")
    # ranks by distinct value (rankdata's numbers, from counts); the placement arrays are then
    # element for element those of the rankdata formulas, so their mean and variance are too
    codes, k = value_codes(np.concatenate([x, y]))
    cx, cy = np.bincount(codes[:m], minlength=k), np.bincount(codes[m:], minlength=k)
    pooled = midranks(cx + cy)
    v10 = ((pooled - midranks(cx)) / n)[codes[:m]]  # share of y below each x (ties half)
    v01 = (1 - (pooled - midranks(cy)) / m)[codes[m:]]  # share of x above each y (ties half)
    return float(v10.mean()), float(np.sqrt(v10.var(ddof=1) / m + v01.var(ddof=1) / n))


def _clean(v) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    return v[~np.isnan(v)]


#: DeLong standard errors at or below this are degenerate (complete separation, no spread).
_DEGENERATE_SE = 1e-12


def rank_biserial_ci(x, y, *, confidence: float = 0.95) -> tuple[float, float]:
    """Interval for the rank-biserial correlation from DeLong's variance of the AUC.

    ``r = 2·AUC − 1`` with ``AUC = P(X > Y) + ½P(X = Y)``. DeLong, DeLong &
    Clarke-Pearson (1988) give ``Var(AUC) = S10/n_x + S01/n_y`` from the placement values;
    the interval ``AUC ± z·SE`` (clipped to [0, 1]) is R ``pROC::ci.auc(method="delong")``,
    mapped to ``r``. Deterministic (no resampling) and valid with the heavy ties of
    Likert and yes/no data.

    Returns ``(nan, nan)`` when the interval is degenerate: with complete separation
    (every ``x`` above every ``y``, ``r = ±1``) or no spread at all, every placement value
    is the same, DeLong's SE is 0 and the "interval" would be the single point ``r``,
    which claims a certainty the data do not have (pROC prints 1–1). No interval is
    shown then; :func:`rank_biserial_degenerate` tells the two cases apart.
    """
    auc, se = _delong(_clean(x), _clean(y))
    if np.isnan(se) or se <= _DEGENERATE_SE:
        return float("nan"), float("nan")
    z = stats.norm.ppf(1 - (1 - confidence) / 2)
    lo, hi = max(auc - z * se, 0.0), min(auc + z * se, 1.0)
    return float(2 * lo - 1), float(2 * hi - 1)


def rank_biserial_degenerate(x, y) -> bool:
    """True when both groups have 2+ values but DeLong's SE is 0 (e.g. complete separation)."""
    auc, se = _delong(_clean(x), _clean(y))
    return bool(not np.isnan(se) and se <= _DEGENERATE_SE)


def rank_biserial_equivalence_p(x, y, *, margin: float = EQUIVALENCE_MARGIN) -> float:
    """Two one-sided tests (TOST) that |r| < ``margin``, with DeLong's standard error.

    ``p = max(P(Z > (AUC − a_lo)/SE), P(Z < (AUC − a_hi)/SE))`` with the bounds
    ``a = (1 ± margin) / 2`` on the AUC scale (``r = 2·AUC − 1``). ``p < α`` exactly when
    the ``1 − 2α`` DeLong interval (90% for α = 0.05) lies inside ``(−margin, +margin)``
    (Schuirmann 1987). NaN when the standard error is undefined or degenerate.
    """
    auc, se = _delong(_clean(x), _clean(y))
    if np.isnan(se) or se <= _DEGENERATE_SE:
        return float("nan")
    lo_b, hi_b = (1 - margin) / 2, (1 + margin) / 2
    return float(max(stats.norm.sf((auc - lo_b) / se), stats.norm.cdf((auc - hi_b) / se)))


def rank_biserial_paired(d: np.ndarray) -> np.ndarray:
    """Matched-pairs rank-biserial correlation of differences ``d = after − before``.

    ``r = (R+ − R−) / (n(n+1)/2)``: the share of the total rank sum favouring an increase
    minus the share favouring a decrease (Kerby 2014, simple difference formula), with
    Pratt ranks: zero differences keep their ranks in the total, so pairs that did not
    change pull the effect towards 0. Positive = answers rose. Works on the last axis,
    so a (B, n) array of bootstrap samples gives B values.
    """
    d = np.asarray(d, dtype=float)
    n = d.shape[-1]
    if n == 0:
        return np.full(d.shape[:-1], np.nan) if d.ndim > 1 else np.nan
    total = n * (n + 1) / 2
    a = np.abs(d)
    if not np.isnan(a).any() and a.max() <= 4 * n + 100 and np.array_equal(a, np.floor(a)):
        # whole-number changes (Likert answers): Pratt midranks from counts per |d| value and row,
        # the same numbers as rankdata's (multiples of ½, so the rank sums are exact in any order)
        flat = a.reshape(-1, n).astype(np.int64)
        rows, k = flat.shape[0], int(flat.max()) + 1
        codes = flat + k * np.arange(rows)[:, None]
        sign = np.sign(d).reshape(-1, n)
        count = np.bincount(codes.ravel(), minlength=rows * k).reshape(rows, k)
        net = np.bincount(codes.ravel(), weights=sign.ravel(), minlength=rows * k).reshape(rows, k)  # rises − falls per value
        midrank = midranks(count)
        up = np.bincount(codes.ravel(), weights=(sign > 0).ravel(), minlength=rows * k).reshape(rows, k)
        r_plus, r_minus = (midrank * up).sum(axis=1), (midrank * (up - net)).sum(axis=1)
        out = (r_plus - r_minus) / total
        return out.reshape(d.shape[:-1]) if d.ndim > 1 else out[0]
    r = pratt_ranks(d)
    return ((r * (d > 0)).sum(axis=-1) - (r * (d < 0)).sum(axis=-1)) / total
