"""Charts for change over time (notebook 06).

Each function takes a frame returned by :mod:`dxanalysis.waves` (after the privacy filter
of ``Publisher.table``) and returns the Axes. No statistic is recomputed here.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .. import i18n
from .style import QUALITATIVE


def change_intervals(data: pd.DataFrame, *, ax=None, xlabel: str | None = None, q_level: float = 0.05, language: str = "ja"):
    """Change of each measure with its 95% interval (rows of :func:`waves.wave_changes`).

    A dot per measure at ``change`` with a line from ``ci_low`` to ``ci_high``; filled when
    ``q_value < q_level`` (a clear change), hollow otherwise; a vertical line at 0.
    Rows with NaN (hidden) are left out.
    """
    if ax is None:
        ax = plt.gca()
    d = data.dropna(subset=["change"]).iloc[::-1]
    y = np.arange(len(d))
    clear = (d["q_value"] < q_level).to_numpy()
    ax.axvline(0, color="0.4", lw=1)
    ax.hlines(y, d["ci_low"], d["ci_high"], color=QUALITATIVE[0], lw=2)
    ax.scatter(d["change"][clear], y[clear], color=QUALITATIVE[0], s=50, zorder=3, label=i18n.t("plot.waves.clear", language, q=q_level))
    ax.scatter(d["change"][~clear], y[~clear], facecolor="white", edgecolor=QUALITATIVE[0], s=50, zorder=3, label=i18n.t("plot.waves.chance", language))
    ax.set_yticks(y)
    ax.set_yticklabels(d["label"])
    ax.set_xlabel(i18n.t("plot.waves.change_axis", language) if xlabel is None else xlabel)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12 - 0.6 / max(len(d), 1)), ncol=2, fontsize=8, frameon=False)
    return ax


def segment_shares(data: pd.DataFrame, *, ax=None, language: str = "ja"):
    """Weighted share of each segment in the earlier and this wave (:func:`waves.segment_shift`).

    Two bars per segment (earlier: light, this year: dark); hidden rows are left out.
    """
    if ax is None:
        ax = plt.gca()
    d = data.dropna(subset=["share_from", "share_to"])
    y = np.arange(len(d))[::-1]
    h = 0.38
    fy_from, fy_to = (int(d["fy_from"].iloc[0]), int(d["fy_to"].iloc[0])) if len(d) else (0, 0)
    from ..roadmap import fiscal_year_label

    ax.barh(y + h / 2, d["share_from"] * 100, height=h, color=QUALITATIVE[1], alpha=0.6, label=fiscal_year_label(fy_from, language=language) if len(d) else "")
    ax.barh(y - h / 2, d["share_to"] * 100, height=h, color=QUALITATIVE[0], label=fiscal_year_label(fy_to, language=language) if len(d) else "")
    ax.set_yticks(y)
    ax.set_yticklabels(d["segment_name"])
    ax.set_xlabel(i18n.t("plot.waves.share_axis", language))
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    return ax
