"""Survey weights and weighted estimates: raking to the roster's margins (R ``survey::rake``),
post-stratification, Kish's design effect, and the linearised design-based mean/share
(R ``survey::svymean`` on a raked design).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ._util import _as_list, _check_columns
from .proportions import wilson_interval


def _margin_targets(roster: pd.DataFrame, margin: str) -> pd.Series:
    t = roster.groupby(margin, observed=True)["staff"].sum()
    t.index = t.index.astype(str)
    return t[t > 0].astype(float)


def rake_weights(survey: pd.DataFrame, roster: pd.DataFrame, *, margins: Sequence[str], max_iter: int = 100, tol: float = 1e-8) -> pd.Series:
    """Raking (iterative proportional fitting) weights from respondents to the roster.

    Parameters
    ----------
    survey
        Tidy responses with the attribute columns named in ``margins``.
    roster
        Staff counts (``Municipality.roster``): attribute columns and ``staff``.
    margins
        Attribute ids whose staff totals the weighted respondents must reproduce, e.g.
        ``["department", "age_band"]``. One margin gives post-stratification.
    max_iter, tol
        At most ``max_iter`` full cycles over the margins; stop when every weighted
        margin total is within ``tol`` (relative) of its roster total.

    Returns
    -------
    Series
        Named ``weight``, indexed like ``survey``. For every margin, the weights of the
        respondents in a category sum to that category's staff; all weights sum to the
        roster's total staff.

    Notes
    -----
    Start: every respondent has weight ``N / n``. One cycle multiplies the weights of each
    category of each margin in turn by ``target / current total`` (Deming & Stephan 1940);
    the result equals R ``survey::rake`` (tests hold its numbers).

    Decisions where the data are incomplete:

    * **Missing margin value**: a respondent with an empty value on any margin gets weight
      NaN; weighted estimates use the respondents with a weight (the roster cannot tell
      which category they belong to). Their number is in ``weights.attrs["n_unweighted"]``.
    * **Category with staff but no respondent**: it cannot be represented; its staff are
      spread over the other categories of that margin in proportion to their staff (the
      targets are rescaled to the roster total) and a warning names it.
    * A category with respondents but no staff raises ``ValueError`` (the data contract
      makes it an input error, see ``io.check_survey_in_roster``).
    """
    import warnings

    margins = _as_list(margins)
    if not margins:
        raise ValueError("rake_weights: give at least one margin")
    _check_columns(survey, margins, "rake_weights")
    _check_columns(roster, [*margins, "staff"], "rake_weights", "roster")
    total = float(roster["staff"].sum())
    complete = survey[margins].notna().all(axis=1).to_numpy()
    n = int(complete.sum())
    if n == 0:
        raise ValueError("rake_weights: no respondent has a value on every margin")
    codes, targets = [], []
    for margin in margins:
        t = _margin_targets(roster, margin)
        values = survey.loc[complete, margin].astype(str).to_numpy()
        unknown = sorted(set(values) - set(t.index))
        if unknown:
            raise ValueError(f"rake_weights: {margin} values {unknown} have respondents but no staff in the roster")
        present = t[t.index.isin(set(values))]
        empty = sorted(set(t.index) - set(present.index))
        if empty:
            warnings.warn(f"rake_weights: {margin} {empty} have staff but no respondents; their staff are spread over the other categories", stacklevel=2)
        present = present * total / present.sum()
        codes.append(pd.Categorical(values, categories=list(present.index)).codes)
        targets.append(present.to_numpy())
    w = np.full(n, total / n)
    converged = False
    for _ in range(max_iter):
        for code, target in zip(codes, targets):
            current = np.bincount(code, weights=w, minlength=len(target))
            w = w * (target / current)[code]
        worst = max(np.max(np.abs(np.bincount(c, weights=w, minlength=len(t)) - t) / t) for c, t in zip(codes, targets))
        if worst < tol:
            converged = True
            break
    if not converged:
        warnings.warn(f"rake_weights: not converged after {max_iter} cycles (largest relative margin error {worst:.2e})", stacklevel=2)
    out = pd.Series(np.nan, index=survey.index, name="weight")
    out[complete] = w
    out.attrs["n_unweighted"] = int((~complete).sum())
    out.attrs["margins"] = margins
    return out


def poststratify_weights(survey: pd.DataFrame, roster: pd.DataFrame, *, by: str) -> pd.Series:
    """Post-stratification weights: staff of the respondent's group / respondents in it.

    Same rules and output as :func:`rake_weights` with ``margins=[by]`` (which gives
    exactly these weights after one step): ``weight`` Series, NaN for respondents
    without a value of ``by``, summing to the roster's total staff.
    """
    if not isinstance(by, str):
        raise TypeError("poststratify_weights: by must be one attribute id; use rake_weights for several margins")
    return rake_weights(survey, roster, margins=[by], max_iter=1)


def kish_design_effect(weights) -> float:
    """Kish's design effect due to unequal weights: ``n Σw² / (Σw)²`` (= 1 + CV² of w).

    NaN weights are ignored. Kish (1965), *Survey Sampling*, §11.7.
    """
    w = np.asarray(weights, dtype=float)
    w = w[~np.isnan(w)]
    if len(w) == 0 or w.sum() == 0:
        return float("nan")
    return float(len(w) * np.sum(w**2) / np.sum(w) ** 2)


#: Backfitting sweeps over the raking margins in the variance, as R ``survey:::svyrecvar``.
RAKING_SWEEPS = 10
#: Design standard errors at or below this are treated as 0 (see :func:`weighted_mean`).
_DEGENERATE_DESIGN_SE = 1e-10


def weighted_mean(y, weights, *, margins: pd.DataFrame | None = None, share: bool = False, confidence: float = 0.95) -> dict:
    """Weighted mean (or share) with its design-based standard error and 95% interval.

    The standard error is the linearisation (Taylor) estimate of R ``survey::svymean`` on
    ``svydesign(ids = ~1, weights = ~w)`` raked with ``survey::rake`` on ``margins`` (tests
    hold its numbers): raking reduces the variance of what the margins explain, and this
    estimate takes that into account instead of only penalising unequal weights.

    Parameters
    ----------
    y
        One value per respondent; NaN = no answer (a domain: the respondent stays in the
        design with zero influence, as ``svymean(..., na.rm = TRUE)``).
    weights
        Weights from :func:`rake_weights`; respondents with NaN weight are not in the design.
    margins
        The raking margins, one column per margin, one row per respondent (e.g.
        ``survey[weights.attrs["margins"]]``). ``None``: the weights are treated as fixed
        sampling weights (no calibration).
    share
        ``y`` is 0/1: the interval is Wilson's with the design-based effective sample size.
    confidence
        Level of the interval.

    Returns
    -------
    dict
        ``mean``, ``se``, ``ci_low``, ``ci_high``, ``n`` (respondents with a value and a
        weight), ``n_design`` (respondents with a weight), ``n_eff_design`` (for shares
        ``p(1 − p) / se²``: the simple random sample that would give the same precision;
        NaN for means).

    Notes
    -----
    With ``W = Σ w`` over the respondents who answered, the influence values are
    ``z_i = w_i (y_i − ȳ_w) / W`` (0 for the others). For raked weights each margin ``g``
    in turn replaces ``z`` by ``z − w · mean_g(z / w)`` (unweighted category means), for
    10 sweeps over the margins, as ``survey:::svyrecvar`` does for a ``rake`` design
    (Lumley 2010, §7.4). Then ``Var = n/(n − 1) · Σ (z_i − z̄)²`` with ``n`` = design rows.
    Means: ``ȳ_w ± z_{0.975} · SE`` (= ``confint(svymean(...))``). Shares: the Wilson
    interval with ``n* = p(1 − p)/SE²`` (Kish's effective sample size based on the
    design variance), which stays inside [0, 1]. Where the SE is 0 (``p`` is 0 or 1, or
    in a tiny sample the margins explain every answer) a zero-width interval would
    overstate the precision, so the interval uses Kish's ``n / deff`` instead (Wilson for
    shares, ``ȳ_w ± z · sd_w / sqrt(n / deff)`` for means); ``se`` stays as computed.
    """
    y = np.asarray(y, dtype=float)
    w = np.asarray(weights, dtype=float)
    if y.shape != w.shape:
        raise ValueError("weighted_mean: y and weights must have the same length")
    design = ~np.isnan(w)
    y, w = y[design], w[design]
    codes = []
    if margins is not None:
        mf = pd.DataFrame(margins)
        if len(mf) != len(design):
            raise ValueError("weighted_mean: margins must have one row per respondent")
        mf = mf.iloc[np.flatnonzero(design)]
        if mf.isna().any().any():
            raise ValueError("weighted_mean: a weighted respondent has no value on a margin (rake_weights gives them no weight)")
        codes = [pd.factorize(mf[c].astype(str))[0] for c in mf.columns]
    has = ~np.isnan(y)
    nd, n = int(design.sum()), int(has.sum())
    nan = float("nan")
    out = {"mean": nan, "se": nan, "ci_low": nan, "ci_high": nan, "n": n, "n_design": nd, "n_eff_design": nan}
    if n == 0:
        return out
    total = w[has].sum()
    mean = float(np.sum(w[has] * y[has]) / total)
    z = np.where(has, w * (np.where(has, y, 0.0) - mean) / total, 0.0)
    for _ in range(RAKING_SWEEPS if codes else 0):
        for code in codes:
            ratio = z / w
            means = np.bincount(code, weights=ratio) / np.bincount(code)
            z = z - w * means[code]
    se = float(np.sqrt(nd / (nd - 1) * np.sum((z - z.mean()) ** 2))) if nd > 1 else nan
    q = stats.norm.ppf(1 - (1 - confidence) / 2)
    out.update(mean=mean, se=se)
    # SE 0: p is 0 or 1, or the margins explain every answer (tiny samples). A zero-width
    # interval would overstate the precision: fall back to Kish's n / deff.
    degenerate = not se > _DEGENERATE_DESIGN_SE
    n_kish = n / kish_design_effect(w[has])
    if share:
        if not degenerate and 0 < mean < 1:
            n_star = mean * (1 - mean) / se**2
            out["n_eff_design"] = float(n_star)
        else:
            n_star = n_kish
        lo, hi = wilson_interval(mean * n_star, n_star, confidence=confidence)
        out.update(ci_low=float(lo), ci_high=float(hi))
    else:
        if degenerate:
            sd = np.sqrt(np.average((y[has] - mean) ** 2, weights=w[has]) * n / max(n - 1, 1))
            se_ci = float(sd / np.sqrt(n_kish))
        else:
            se_ci = se
        out.update(ci_low=float(mean - q * se_ci), ci_high=float(mean + q * se_ci))
    return out
