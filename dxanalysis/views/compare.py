"""Words of notebook 05 (自治体間の比較): sentences and alt texts from :mod:`dxanalysis.compare`.

Every function takes ``language`` and builds its text from the catalogue keys
``compare.*`` of :data:`dxanalysis.i18n.TEXT`, one body for both languages.
"""

from __future__ import annotations

import pandas as pd

from .. import i18n


def _t(key: str, language: str, **params) -> str:
    return i18n.t(f"compare.{key}", language, **params)


def describe_response_rates(rates: pd.DataFrame, *, language: str = "ja") -> str:
    """One sentence: the highest and lowest visible response rate (alt text, finding; was ``compare.describe_response_rates``)."""
    vis = rates.dropna(subset=["response_rate"])
    if vis.empty:
        return _t("rates.none", language)
    hi = vis.loc[vis["response_rate"].idxmax()]
    lo = vis.loc[vis["response_rate"].idxmin()]
    if round(hi["response_rate"] * 100) == round(lo["response_rate"] * 100):
        return _t("rates.same", language, rate=f"{hi['response_rate'] * 100:.0f}")
    return _t("rates", language, low_name=lo["name"], low=f"{lo['response_rate'] * 100:.0f}", high_name=hi["name"], high=f"{hi['response_rate'] * 100:.0f}")


def describe_construct_scores(scores: pd.DataFrame, *, language: str = "ja") -> str:
    """Alt text: for the construct where municipalities differ most, the top and bottom (was ``compare.describe_construct_scores``)."""
    vis = scores.dropna(subset=["weighted"])
    if vis.empty or vis["municipality"].nunique() < 2:
        return _t("nothing", language)
    spread = vis.groupby("construct", sort=False)["weighted"].agg(lambda s: s.max() - s.min())
    rows = vis[vis["construct"] == spread.idxmax()]
    hi, lo = rows.loc[rows["weighted"].idxmax()], rows.loc[rows["weighted"].idxmin()]
    tail = _t("scores.overlap" if hi["ci_low"] <= lo["ci_high"] else "scores.apart", language)
    return _t("scores", language, construct=hi["construct_label"], high_name=hi["name"], high=f"{hi['weighted']:.2f}", low_name=lo["name"], low=f"{lo['weighted']:.2f}", tail=tail)


def describe_segment_shares(shares: pd.DataFrame, *, language: str = "ja") -> str:
    """Alt text: the segment whose share differs most between municipalities (was ``compare.describe_segment_shares``)."""
    vis = shares.dropna(subset=["share"])
    if vis.empty or vis["municipality"].nunique() < 2:
        return _t("nothing", language)
    spread = vis.groupby("segment")["share"].agg(lambda s: s.max() - s.min())
    s = spread.idxmax()
    rows = vis[vis["segment"] == s]
    hi, lo = rows.loc[rows["share"].idxmax()], rows.loc[rows["share"].idxmin()]
    return _t("shares", language, segment=s, name=hi["segment_name"], high_name=hi["name"], high=f"{hi['share'] * 100:.0f}", low_name=lo["name"], low=f"{lo['share'] * 100:.0f}")
