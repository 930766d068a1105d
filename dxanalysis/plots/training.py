"""Charts for the training evaluation (notebook 04).

Each function takes a frame returned by :mod:`dxanalysis.training` (after the privacy
filter of ``Publisher.table``: hidden rows hold NaN and are drawn as 「非表示(少人数)」)
and returns the Axes. No statistic is recomputed here.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import PercentFormatter

from .. import i18n
from .style import DIVERGING, QUALITATIVE

HIDDEN = i18n.t("hidden")  # the Japanese marks; the charts take i18n.t(..., language)
SAME_WAY = i18n.t("plot.training.same_way")


def _wrap(text: str, width: int = 16) -> str:
    """Break long Japanese labels into lines of at most ``width`` characters, evenly
    (no line with a single leftover character); lines already broken stay broken."""
    out = []
    for line in str(text).split("\n"):
        n_lines = max(1, -(-len(line) // width))
        size = -(-len(line) // n_lines) if line else 0
        out += [line[i : i + size] for i in range(0, len(line), size)] if size else [line]
    return "\n".join(out)


def distribution(data: pd.DataFrame, *, ax=None, title: str | None = None, language: str = "ja"):
    """Vertical bars of an answer distribution (:func:`training.likert_distribution`).

    Bar height = share, coloured low (red) to high (blue); each bar is labelled with its
    count and share; the Wilson 95% interval is drawn as a thin line.
    """
    if ax is None:
        ax = plt.gca()
    x = np.arange(len(data))
    share = data["share"].to_numpy(dtype=float)
    colours = DIVERGING if len(data) == len(DIVERGING) else [QUALITATIVE[0]] * len(data)
    ax.bar(x, np.nan_to_num(share), color=colours, edgecolor="#555555", linewidth=0.5)
    lo = np.nan_to_num(share - data["ci_low"].to_numpy(dtype=float))
    hi = np.nan_to_num(data["ci_high"].to_numpy(dtype=float) - share)
    ax.errorbar(x, np.nan_to_num(share), yerr=[lo, hi], fmt="none", ecolor="#333333", capsize=3, lw=0.8)
    top = data["ci_high"].to_numpy(dtype=float)
    for xi, s, c, t in zip(x, share, data["count"], top):
        txt = i18n.t("hidden", language) if np.isnan(s) else i18n.t("plot.training.count_share", language, count=int(c), share=f"{s * 100:.0f}%")
        ax.text(xi, (0 if np.isnan(t) else t) + 0.02, txt, ha="center", va="bottom", fontsize=9)
    ax.set_xticks(x, [_wrap(v, 9) for v in data["label"]], fontsize=9)
    ax.set_ylim(0, 1.12)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylabel(i18n.t("plot.training.share_axis", language))
    if title:
        ax.set_title(title)
    return ax


def change_shares(data: pd.DataFrame, *, ax=None, title: str | None = None, language: str = "ja"):
    """Stacked horizontal bars: share of pairs whose answer fell / stayed / rose, per item.

    ``data`` is :func:`training.paired_tests` output (one row per item, ``label``,
    ``share_worse``, ``share_same``, ``share_improved``, ``n_pairs``).
    """
    if ax is None:
        ax = plt.gca()
    df = data.iloc[::-1]
    y = np.arange(len(df))
    left = np.zeros(len(df))
    parts = [("share_worse", i18n.t("plot.training.worse", language), DIVERGING[1]), ("share_same", i18n.t("plot.training.same", language), DIVERGING[2]), ("share_improved", i18n.t("plot.training.improved", language), DIVERGING[4])]
    for col, name, colour in parts:
        v = np.nan_to_num(df[col].to_numpy(dtype=float))
        ax.barh(y, v, left=left, color=colour, label=name, edgecolor="white", linewidth=0.5)
        for yi, li, vi in zip(y, left, v):
            if vi >= 0.08:
                ax.text(li + vi / 2, yi, f"{vi * 100:.0f}%", ha="center", va="center", fontsize=9, color="white" if col == "share_improved" else "#1a1a1a")
        left += v
    for yi, total in zip(y, df["share_improved"].to_numpy(dtype=float)):
        if np.isnan(total):
            ax.text(0.01, yi, i18n.t("hidden", language), va="center", fontsize=9)
    n = df["n_pairs"].to_numpy(dtype=float)
    ax.set_yticks(y, [f"{_wrap(lab)}\n(n={int(k)})" if not np.isnan(k) else _wrap(lab) for lab, k in zip(df["label"], n)])
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(i18n.t("plot.training.change_axis", language))
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False)
    if title:
        ax.set_title(title, pad=28)
    return ax


def effects(data: pd.DataFrame, *, label_col: str = "label", ax=None, xlabel: str | None = None, xlim: tuple[float, float] | None = (-1, 1), title: str | None = None, language: str = "ja"):
    """Dot-and-whisker chart of effect sizes with their intervals, one row per line of ``data``.

    ``data`` has ``effect_size`` (or ``estimate``), ``ci_low``, ``ci_high`` and
    ``label_col``; hidden rows (NaN) are marked 「非表示(少人数)」. A row with an effect
    but no interval and a ``ci_note`` (every change went one way) is drawn as a dot
    marked 「全員が同じ向き(区間なし)」.
    """
    if ax is None:
        ax = plt.gca()
    col = "effect_size" if "effect_size" in data.columns else "estimate"
    df = data.iloc[::-1]
    y = np.arange(len(df))
    est = df[col].to_numpy(dtype=float)
    lo = df["ci_low"].to_numpy(dtype=float)
    hi = df["ci_high"].to_numpy(dtype=float)
    ax.axvline(0, color="#777777", lw=0.8, ls="--")
    ok = ~np.isnan(est)
    ax.errorbar(est[ok], y[ok], xerr=[np.nan_to_num(est[ok] - lo[ok]), np.nan_to_num(hi[ok] - est[ok])], fmt="o", color=QUALITATIVE[0], ecolor="#333333", capsize=3, lw=1)
    x0 = xlim[0] if xlim else np.nanmin(np.append(lo, 0))
    for yi, e in zip(y, est):
        if np.isnan(e):
            ax.text(x0 + 0.02 * (abs(x0) + 1), yi, i18n.t("hidden", language), va="center", fontsize=9, color="#555555")
    # an effect without an interval (every change went one way): say why there is no whisker
    notes = df["ci_note"].to_numpy(dtype=object) if "ci_note" in df.columns else np.full(len(df), None)
    for yi, e, l, note in zip(y, est, lo, notes):
        if not np.isnan(e) and np.isnan(l) and isinstance(note, str) and note:
            right = e > (xlim[0] + xlim[1]) / 2 if xlim else e > 0  # write on the side with room
            ax.text(e + (-0.05 if right else 0.05), yi, i18n.t("plot.training.same_way", language), ha="right" if right else "left", va="center", fontsize=8, color="#555555")
    ax.set_yticks(y, [_wrap(v, 22) for v in df[label_col]])
    if xlim:
        ax.set_xlim(*xlim)
    ax.set_xlabel(i18n.t("plot.training.effect_axis", language) if xlabel is None else xlabel)
    if title:
        ax.set_title(title)
    return ax


def did_means(data: pd.DataFrame, *, ax=None, title: str | None = None, language: str = "ja"):
    """Arrows from the mean before to the mean after, participants vs non-participants.

    ``data`` is :func:`training.did_means` output (``label``, ``group``,
    ``group_label``, ``wave``, ``mean``); one row of arrows per item.
    """
    if ax is None:
        ax = plt.gca()
    items = list(pd.unique(data["label"]))[::-1]
    groups = list(pd.unique(data["group"]))
    colours = {g: QUALITATIVE[i] for i, g in enumerate(["participant", "non_participant"])}
    offsets = {g: (0.15 if g == "participant" else -0.15) for g in groups}
    handles = {}
    for yi, item in enumerate(items):
        for g in groups:
            sub = data[(data["label"] == item) & (data["group"] == g)].set_index("wave")
            if sub.empty or sub["mean"].isna().any():
                continue
            b, a = float(sub.loc["before", "mean"]), float(sub.loc["after", "mean"])
            y = yi + offsets[g]
            ax.annotate("", xy=(a, y), xytext=(b, y), arrowprops={"arrowstyle": "->", "color": colours.get(g, "#333333"), "lw": 2})
            h = ax.scatter([b], [y], color=colours.get(g, "#333333"), s=18, zorder=3, label=sub["group_label"].iloc[0])
            handles[g] = h
    ax.set_yticks(np.arange(len(items)), [_wrap(v, 22) for v in items])
    vals = data["mean"].to_numpy(dtype=float)
    if np.isfinite(vals).any():
        ax.set_xlim(max(0, np.nanmin(vals) - 0.4), np.nanmax(vals) + 0.4)
    ax.set_xlabel(i18n.t("plot.training.did_axis", language))
    ax.legend(handles=list(handles.values()), loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False)
    if title:
        ax.set_title(title, pad=24)
    return ax


def shares_by_wave(data: pd.DataFrame, *, ax=None, title: str | None = None, language: str = "ja"):
    """Lines of the share agreeing (or saying yes) over the waves, one line per item.

    ``data`` is :func:`training.shares_by_wave` output; error bars are Wilson 95%.
    """
    if ax is None:
        ax = plt.gca()
    waves = list(pd.unique(data["wave_label"]))
    x = np.arange(len(waves))
    for i, (label, sub) in enumerate(data.groupby("label", sort=False)):
        s = sub["share"].to_numpy(dtype=float)
        lo = np.nan_to_num(s - sub["ci_low"].to_numpy(dtype=float))
        hi = np.nan_to_num(sub["ci_high"].to_numpy(dtype=float) - s)
        xi = x + (i - 2) * 0.03
        ax.errorbar(xi, s, yerr=[lo, hi], marker="o", capsize=2, lw=1.5, color=QUALITATIVE[i % len(QUALITATIVE)], label=_wrap(label, 24))
    ax.set_xticks(x, waves)
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylabel(i18n.t("plot.training.positive_axis", language))
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False, fontsize=9)
    if title:
        ax.set_title(title)
    return ax
