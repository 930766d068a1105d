"""Internal consistency: Cronbach's alpha with Feldt's interval and alpha-if-dropped (R ``psych::alpha``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats


def cronbach_alpha(items: pd.DataFrame, *, confidence: float = 0.95) -> dict:
    """Cronbach's alpha from pairwise-complete covariances, as R ``psych::alpha``.

    Parameters
    ----------
    items
        One column per item (already reverse coded), one row per respondent; NaN = missing.
        Rows with no answer at all are ignored.

    Returns
    -------
    dict
        ``alpha`` (raw alpha), ``ci_low``, ``ci_high`` (Feldt interval), ``n`` (rows with
        at least one answer), ``n_items``, and ``if_dropped``: a DataFrame with columns
        ``item_id``, ``alpha_if_dropped`` (raw alpha of the other items), ``r_drop``
        (correlation of the item with the sum of the other items).

    Notes
    -----
    ``C`` is the covariance matrix from pairwise-complete observations (R
    ``cov(x, use="pairwise")``, pandas ``DataFrame.cov``); with ``k`` items
    ``alpha = k / (k − 1) · (1 − tr C / ΣC)`` (psych ``raw_alpha``). ``r_drop`` is
    ``(ΣC[:, i] − C[i, i]) / sqrt(C[i, i] · ΣC[−i, −i])`` (psych ``r.drop``).

    The interval is Feldt's (Feldt, Woodruff & Salih 1987), as ``psych::alpha.ci`` and the
    "Feldt" line of ``psych::alpha``: with ``N = n`` respondents,
    ``1 − (1 − alpha) · F(1 − a/2; N − 1, (N − 1)(k − 1))`` … ``F(a/2; …)``.
    With two items, alpha-if-dropped is undefined (one item left) and reported as NaN.
    """
    if not isinstance(items, pd.DataFrame):
        raise TypeError("cronbach_alpha: items must be a DataFrame with one column per item")
    x = items.astype(float)
    x = x[x.notna().any(axis=1)]
    k = x.shape[1]
    n = len(x)
    nan = float("nan")
    empty_drop = pd.DataFrame({"item_id": list(map(str, items.columns)), "alpha_if_dropped": nan, "r_drop": nan})
    if k < 2 or n < 3:
        return {"alpha": nan, "ci_low": nan, "ci_high": nan, "n": n, "n_items": k, "if_dropped": empty_drop}
    C = x.cov().to_numpy()

    def raw_alpha(c: np.ndarray) -> float:
        m = c.shape[0]
        return float((1 - np.trace(c) / c.sum()) * m / (m - 1))

    alpha = raw_alpha(C)
    a = 1 - confidence
    df1, df2 = n - 1, (n - 1) * (k - 1)
    ci_low = 1 - (1 - alpha) * stats.f.ppf(1 - a / 2, df1, df2)
    ci_high = 1 - (1 - alpha) * stats.f.ppf(a / 2, df1, df2)
    drops, rdrop = [], []
    for i in range(k):
        keep = [j for j in range(k) if j != i]
        sub = C[np.ix_(keep, keep)]
        drops.append(raw_alpha(sub) if k > 2 else nan)
        rdrop.append(float((C[:, i].sum() - C[i, i]) / np.sqrt(C[i, i] * sub.sum())))
    if_dropped = pd.DataFrame({"item_id": list(map(str, items.columns)), "alpha_if_dropped": drops, "r_drop": rdrop})
    return {"alpha": alpha, "ci_low": float(ci_low), "ci_high": float(ci_high), "n": n, "n_items": k, "if_dropped": if_dropped}
