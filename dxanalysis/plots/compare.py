"""Charts comparing municipalities (notebook 05).

Each function takes a table returned by :mod:`dxanalysis.compare` *after* the privacy
filter (hidden rows have NaN values and are drawn as an empty row marked 「非表示(少人数)」)
and returns the Axes it drew on (an array of Axes for the small multiples); none
recomputes a statistic.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import PercentFormatter

from .. import i18n
from .style import QUALITATIVE

HIDDEN = i18n.t("hidden")  # Japanese; the charts take ``language`` and look the word up
HIDDEN_COLOR = "#E0E0E0"


def response_rates(data: pd.DataFrame, *, ax=None, label: str | None = None, language: str = "ja"):
    """One bar per municipality: response rate with its Wilson 95% interval.

    ``data`` is :func:`dxanalysis.compare.response_rates` output (``name``,
    ``response_rate``, ``ci_low``, ``ci_high``), drawn top to bottom in table order.
    Returns the Axes.
    """
    if ax is None:
        ax = plt.gca()
    df = data.iloc[::-1]
    y = np.arange(len(df))
    rate = df["response_rate"].to_numpy(dtype=float)
    # clip: an interval end can sit a rounding error inside the estimate (e.g. 0.9999999999999999 for 100%)
    lo = np.clip(np.nan_to_num(rate - df["ci_low"].to_numpy(dtype=float)), 0, None)
    hi = np.clip(np.nan_to_num(df["ci_high"].to_numpy(dtype=float) - rate), 0, None)
    ax.barh(y, np.nan_to_num(rate), color=QUALITATIVE[0], alpha=0.85)
    ax.errorbar(np.nan_to_num(rate), y, xerr=[lo, hi], fmt="none", ecolor="#333333", capsize=3, lw=1)
    for yi, r, h in zip(y, rate, hi):
        ax.text(0.005 if np.isnan(r) else r + h + 0.01, yi, i18n.t("hidden", language) if np.isnan(r) else f"{r * 100:.0f}%", va="center", fontsize=9)
    ax.set_yticks(y, df["name"].astype(str))
    top = np.nanmax(df["ci_high"].to_numpy(dtype=float)) if np.isfinite(df["ci_high"].to_numpy(dtype=float)).any() else 1.0
    ax.set_xlim(0, min(1.0, top + 0.15))
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel(i18n.t("plot.with_ci", language, label=label or i18n.t("plot.response_rate", language)))
    return ax


def construct_scores(data: pd.DataFrame, *, axes=None, ncols: int = 3, value: str = "weighted", xlabel: str | None = None, language: str = "ja"):
    """Small multiples, one panel per construct: each municipality's score with its interval.

    Parameters
    ----------
    data
        :func:`dxanalysis.compare.construct_scores` output after the privacy filter.
    axes
        Axes to draw on (one per construct); created when omitted.
    ncols
        Panels per row when ``axes`` is created.
    value
        Column drawn as the point (``weighted`` or ``unweighted``); the interval is
        ``ci_low``–``ci_high`` (of the weighted mean).

    Returns
    -------
    ndarray of Axes
        One per construct, in table order. The dashed line is the mean of the visible
        municipalities (each counts once).
    """
    constructs = list(dict.fromkeys(data["construct"]))
    names = list(dict.fromkeys(data["name"].astype(str)))
    if axes is None:
        nrows = int(np.ceil(len(constructs) / ncols)) or 1
        height = max(1.8, 0.32 * len(names) + 1.0)
        _, axes = plt.subplots(nrows, ncols, figsize=(3.4 * ncols, height * nrows), sharex=True, squeeze=False, constrained_layout=True)
    axes = np.asarray(axes).ravel()
    finite = data[[value, "ci_low", "ci_high"]].to_numpy(dtype=float)
    finite = finite[np.isfinite(finite)]
    xlim = (np.floor(finite.min() * 4) / 4 - 0.1, np.ceil(finite.max() * 4) / 4 + 0.1) if finite.size else (1, 5)
    for i, (ax, c) in enumerate(zip(axes, constructs)):
        d = data[data["construct"] == c].set_index(data.loc[data["construct"] == c, "name"].astype(str)).reindex(names)
        y = np.arange(len(names))[::-1]
        v = d[value].to_numpy(dtype=float)
        err = [np.clip(np.nan_to_num(v - d["ci_low"].to_numpy(dtype=float)), 0, None), np.clip(np.nan_to_num(d["ci_high"].to_numpy(dtype=float) - v), 0, None)]
        ax.errorbar(v, y, xerr=err,
                    fmt="o", color=QUALITATIVE[0], ecolor="#555555", capsize=2, lw=1, ms=5)
        if np.isfinite(v).any():
            ax.axvline(np.nanmean(v), color="#888888", ls="--", lw=0.8)
        for yi, vi in zip(y, v):
            if np.isnan(vi):
                ax.text(xlim[0] + 0.02, yi, i18n.t("hidden", language), va="center", fontsize=8, color="#555555")
        ax.set_yticks(y, names if i % ncols == 0 else [""] * len(names), fontsize=9)
        ax.set_xlim(*xlim)
        ax.set_ylim(-0.6, len(names) - 0.4)
        label = d["construct_label"].dropna().iloc[0] if d["construct_label"].notna().any() else c
        ax.set_title(str(label), fontsize=10)
        ax.grid(axis="x", color="#EEEEEE")
    for ax in axes[len(constructs):]:
        ax.set_visible(False)
    for ax in axes[: len(constructs)][-ncols:]:
        ax.set_xlabel(xlabel or i18n.t("plot.compare.weighted_mean", language), fontsize=9)
    return axes[: len(constructs)]


def segment_shares(data: pd.DataFrame, *, ax=None, value: str = "share", xlabel: str | None = None, language: str = "ja"):
    """One 100% bar per municipality, split into the pooled segments.

    ``data`` is :func:`dxanalysis.compare.segment_shares` output after the privacy filter:
    a hidden cell is drawn grey and hatched (its share may be recovered from nothing
    shown). Segment colours follow the Okabe–Ito palette in segment order. Returns the Axes.
    """
    if ax is None:
        ax = plt.gca()
    names = list(dict.fromkeys(data["name"].astype(str)))
    segs = list(dict.fromkeys(data["segment"].astype(int)))
    seg_names = data.drop_duplicates("segment").set_index(data.drop_duplicates("segment")["segment"].astype(int))["segment_name"]
    y = np.arange(len(names))[::-1]
    for yi, name in zip(y, names):
        d = data[data["name"].astype(str) == name].set_index(data.loc[data["name"].astype(str) == name, "segment"].astype(int))
        shown = d[value].astype(float)
        hidden_total = max(0.0, 1.0 - float(shown.sum(skipna=True))) if shown.isna().any() else 0.0
        n_hidden = int(shown.isna().sum())
        left = 0.0
        for j, s in enumerate(segs):
            v = float(shown.get(s, np.nan))
            if np.isnan(v):
                width = hidden_total / n_hidden if n_hidden else 0.0
                ax.barh(yi, width, left=left, color=HIDDEN_COLOR, hatch="///", edgecolor="white", lw=0.5)
            else:
                width = v
                ax.barh(yi, width, left=left, color=QUALITATIVE[j % len(QUALITATIVE)], edgecolor="white", lw=0.5)
                if width >= 0.07:
                    ax.text(left + width / 2, yi, f"{width * 100:.0f}%", ha="center", va="center", fontsize=8, color="white" if j in (0, 3, 7) else "black")
            left += width
    handles = [plt.Rectangle((0, 0), 1, 1, color=QUALITATIVE[j % len(QUALITATIVE)]) for j in range(len(segs))]
    labels = [f"{s} {seg_names.get(s, s)}" for s in segs]
    if data[value].isna().any():
        handles.append(plt.Rectangle((0, 0), 1, 1, facecolor=HIDDEN_COLOR, hatch="///", edgecolor="white"))
        labels.append(i18n.t("hidden", language))
    ax.legend(handles, labels, fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_yticks(y, names)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel(xlabel or i18n.t("plot.segments.share", language))
    return ax
