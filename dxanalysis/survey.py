"""Step 2 of the programme: the staff survey.

Response rates against the roster, item distributions, construct scores and their
reliability, whole-staff (weighted) estimates, group differences and the advisor's
hypothesis register. Every function takes tidy frames and returns a tidy frame whose
columns are listed in its docstring.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

#: Response rates under this share are flagged (``low_response``).
LOW_RESPONSE_RATE = 0.20


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
    return low, high


def response_rates(survey: pd.DataFrame, roster: pd.DataFrame, *, by: str | Sequence[str], low_rate: float = LOW_RESPONSE_RATE) -> pd.DataFrame:
    """Respondents against the roster, per group, with Wilson 95% intervals.

    Parameters
    ----------
    survey
        Tidy responses (``Municipality.survey``).
    roster
        Staff counts (``Municipality.roster``) with column ``staff``.
    by
        One attribute id, or several: a long table with one block per attribute.

    Returns
    -------
    DataFrame
        ``attribute``, ``group``, ``staff``, ``n`` (respondents), ``response_rate``
        (n / staff), ``ci_low``, ``ci_high`` (Wilson 95%), ``low_response`` (rate below
        ``low_rate``). The interval treats respondents as a sample of the staff; it
        describes uncertainty about the willingness to answer, not a census error.
    """
    attrs = [by] if isinstance(by, str) else list(by)
    blocks = []
    for attr in attrs:
        if attr not in roster.columns:
            raise KeyError(f"response_rates: roster has no column {attr!r}; roster columns: {list(roster.columns)}")
        staff = roster.groupby(attr, observed=False)["staff"].sum()
        n = survey.groupby(attr, observed=False).size().reindex(staff.index, fill_value=0)
        block = pd.DataFrame({"attribute": attr, "group": staff.index.astype(str), "staff": staff.values.astype(int), "n": n.values.astype(int)})
        block = block[block["staff"] > 0]
        blocks.append(block)
    out = pd.concat(blocks, ignore_index=True)
    out["response_rate"] = out["n"] / out["staff"]
    out["ci_low"], out["ci_high"] = wilson_interval(out["n"], out["staff"])
    out["low_response"] = out["response_rate"] < low_rate
    return out


def describe_response_rates(rates: pd.DataFrame, overall: float | None = None) -> str:
    """One sentence stating the overall and the lowest/highest visible rates (for alt text)."""
    vis = rates.dropna(subset=["response_rate"])
    if vis.empty:
        return "表示できる集団がありません。"
    lo = vis.loc[vis["response_rate"].idxmin()]
    hi = vis.loc[vis["response_rate"].idxmax()]
    head = f"全体の回答率は{overall * 100:.0f}%。" if overall is not None else ""
    return f"{head}最も高いのは{hi['group']}({hi['response_rate'] * 100:.0f}%)、最も低いのは{lo['group']}({lo['response_rate'] * 100:.0f}%)。"


#: A construct score needs at least this share of its items answered.
MIN_ITEM_SHARE = 0.5


def reverse_coded(survey: pd.DataFrame, codebook) -> pd.DataFrame:
    """Item answers with reverse-coded items flipped (``min + max − x``); item columns only."""
    out = survey[codebook.item_ids].copy()
    for item in codebook.items:
        if item.reverse:
            sc = codebook.scales[item.scale]
            out[item.id] = sc.min + sc.max - out[item.id]
    return out


def construct_scores(survey: pd.DataFrame, codebook, *, min_item_share: float = MIN_ITEM_SHARE) -> pd.DataFrame:
    """Construct score per respondent: the mean of its items after reverse coding.

    Missing-item rule: a respondent gets a score when at least ``min_item_share`` (default
    half, rounded up) of the construct's items are answered; the mean is taken over the
    answered items. Otherwise the score is NaN (counted, not imputed).

    Returns
    -------
    DataFrame
        Same index as ``survey``; one float column per construct id, in codebook order.
    """
    items = reverse_coded(survey, codebook)
    out = {}
    for construct in codebook.constructs:
        cols = codebook.items_of(construct)
        if not cols:
            continue
        answered = items[cols].notna().sum(axis=1)
        need = int(np.ceil(min_item_share * len(cols)))
        out[construct] = items[cols].mean(axis=1).where(answered >= need)
    return pd.DataFrame(out, index=survey.index)
