"""Charts for the staff survey (notebook 01)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .style import QUALITATIVE


def response_rates(data: pd.DataFrame, *, attribute: str | None = None, ax=None, label: str = "回答率"):
    """Horizontal bars of response rate per group with Wilson 95% intervals.

    ``data`` is :func:`dxanalysis.survey.response_rates` output (after privacy
    suppression: hidden groups have NaN rates and are drawn as an empty row marked
    「非表示」). Returns the Axes.
    """
    if ax is None:
        ax = plt.gca()
    df = data if attribute is None else data[data["attribute"] == attribute]
    df = df.iloc[::-1]
    y = np.arange(len(df))
    rate = df["response_rate"].to_numpy(dtype=float)
    lo = rate - df["ci_low"].to_numpy(dtype=float)
    hi = df["ci_high"].to_numpy(dtype=float) - rate
    ax.barh(y, np.nan_to_num(rate), color=QUALITATIVE[0], alpha=0.85)
    ax.errorbar(np.nan_to_num(rate), y, xerr=[np.nan_to_num(lo), np.nan_to_num(hi)], fmt="none", ecolor="#333333", capsize=3, lw=1)
    for yi, r in zip(y, rate):
        ax.text(0.005 if np.isnan(r) else r + 0.01, yi, "非表示(少人数)" if np.isnan(r) else f"{r * 100:.0f}%", va="center", fontsize=9)
    ax.set_yticks(y, df["group"].astype(str))
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
    ax.set_xlabel(f"{label}(横線は95%信頼区間)")
    return ax
