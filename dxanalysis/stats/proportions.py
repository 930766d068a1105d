"""Intervals for proportions: Wilson's score interval for one share, Newcombe's
square-and-add interval for the difference of two paired shares.
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def wilson_interval(successes, n, *, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a binomial proportion (vectorised).

    Returns ``(low, high)``; NaN where ``n == 0``. The Wilson interval keeps its coverage
    for small groups and shares near 0 or 1, where the normal approximation fails
    (Brown, Cai & DasGupta 2001). Equals ``statsmodels.stats.proportion.proportion_confint
    (method="wilson")`` and R ``binom::binom.confint(method="wilson")``.
    """
    x = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    z = stats.norm.ppf(1 - (1 - confidence) / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = x / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
        low = np.where(n > 0, np.clip(centre - half, 0, 1), np.nan)
        high = np.where(n > 0, np.clip(centre + half, 0, 1), np.nan)
    # exact ends: floating point gives 0.9999999999999999 for x == n, below the share itself
    low = np.where(x == 0, 0.0, low)
    high = np.where((x == n) & (n > 0), 1.0, high)
    return low, high


def paired_share_difference_ci(before, after, *, confidence: float = 0.95) -> tuple[float, float]:
    """Interval of the difference in share "yes" (after − before) in paired yes/no answers.

    Newcombe (1998) method 10 (square-and-add): the Wilson score intervals of the two
    shares (l, u) are combined with the correlation of the paired answers,
    ``L = D − √((p_a − l_a)² + (u_b − p_b)² − 2ψ(p_a − l_a)(u_b − p_b))`` and
    ``U = D + √((u_a − p_a)² + (p_b − l_b)² − 2ψ(u_a − p_a)(p_b − l_b))``, with
    ``D = p_a − p_b`` and ψ the phi coefficient of the 2×2 table with Newcombe's
    correction (ψ = (AD − BC − N/2)/√(…) when AD − BC > N/2, 0 when 0 ≤ AD − BC ≤ N/2,
    (AD − BC)/√(…) when negative; 0 when a margin is empty). Unlike a bootstrap, it
    does not collapse when every pair moved the same way and it stays close to the
    exact McNemar test with few discordant pairs.

    Returns
    -------
    tuple
        ``(ci_low, ci_high)``; NaN without pairs.
    """
    b = np.asarray(before, dtype=float)
    a = np.asarray(after, dtype=float)
    ok = ~(np.isnan(b) | np.isnan(a))
    b, a = b[ok], a[ok]
    n = len(b)
    if n == 0:
        return np.nan, np.nan
    yy = float(((b == 1) & (a == 1)).sum())
    yn = float(((b == 1) & (a == 0)).sum())
    ny = float(((b == 0) & (a == 1)).sum())
    nn = float(((b == 0) & (a == 0)).sum())
    xb, xa = yy + yn, yy + ny
    pb, pa = xb / n, xa / n
    (lb, la), (ub, ua) = wilson_interval(np.array([xb, xa]), np.array([n, n]), confidence=confidence)
    if min(xb, n - xb, xa, n - xa) == 0:
        psi = 0.0
    else:
        ad_bc = yy * nn - yn * ny
        den = np.sqrt(xb * (n - xb) * xa * (n - xa))
        psi = (ad_bc - n / 2) / den if ad_bc > n / 2 else (0.0 if ad_bc >= 0 else ad_bc / den)
    diff = pa - pb
    low = diff - np.sqrt(max(0.0, (pa - la) ** 2 + (ub - pb) ** 2 - 2 * psi * (pa - la) * (ub - pb)))
    high = diff + np.sqrt(max(0.0, (ua - pa) ** 2 + (pb - lb) ** 2 - 2 * psi * (ua - pa) * (pb - lb)))
    return float(max(-1.0, low)), float(min(1.0, high))
