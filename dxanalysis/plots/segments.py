"""Charts for staff segments (notebook 02).

Each function takes a table returned by :mod:`dxanalysis.segments` (after the privacy
filter where it applies) and returns the Axes it drew on; none recomputes a statistic.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator, PercentFormatter

from .. import i18n
from .style import DIVERGING_CMAP, QUALITATIVE

HIDDEN = i18n.t("hidden")  # the Japanese mark; the charts take i18n.t("hidden", language)
METHOD_STYLE = {"kmeans": {"color": QUALITATIVE[0], "marker": "o"}, "gmm": {"color": QUALITATIVE[1], "marker": "s"}}  # labels: i18n "plot.segments.method.<id>"


def _wrap(text: str, width: int = 8) -> str:
    """Break a label every ``width`` characters (Japanese has no spaces to break at)."""
    text = str(text)
    return "\n".join(text[i : i + width] for i in range(0, len(text), width)) or text


def segment_label(segment, name, width: int | None = None) -> str:
    """「1 意欲は高いが…」: the label used for a segment in every chart."""
    text = f"{int(segment)} {name}"
    return _wrap(text, width) if width else text


def selection_criteria(data: pd.DataFrame, *, stability_threshold: float = 0.8, axes=None, language: str = "ja"):
    """Silhouette, BIC and resampling stability per k, side by side, chosen k marked.

    ``data`` is ``SegmentModel.selection_`` (columns ``k``, ``method``, ``silhouette``,
    ``bic``, ``stability_ari``, ``chosen``). The BIC panel starts at k = 1 (no segments)
    when that row is present; the point is labelled 「分けない」. Returns the array of
    three Axes.
    """
    if axes is None:
        _, axes = plt.subplots(1, 3, figsize=(11, 3.3), constrained_layout=True)
    axes = np.asarray(axes).ravel()
    chosen = data[data["chosen"]]
    k_chosen = int(chosen["k"].iloc[0]) if len(chosen) else None
    panels = [
        ("silhouette", i18n.t("plot.segments.silhouette", language), None),
        ("bic", i18n.t("plot.segments.bic", language), None),
        ("stability_ari", i18n.t("plot.segments.stability", language), stability_threshold),
    ]
    for ax, (col, title, line) in zip(axes, panels):
        for method, d in data.groupby("method", sort=False):
            d = d.dropna(subset=[col]).sort_values("k")
            if d.empty:
                continue
            st = METHOD_STYLE.get(method, {"color": "#333333", "marker": "o"})
            name = i18n.t(f"plot.segments.method.{method}", language) if f"plot.segments.method.{method}" in i18n.TEXT else method
            ax.plot(d["k"], d[col], marker=st["marker"], color=st["color"], label=name, lw=1.5, ms=5)
        if line is not None:
            ax.axhline(line, color="#777777", ls=":", lw=1)
            ax.text(ax.get_xlim()[1], line, i18n.t("plot.segments.threshold", language, value=f"{line:.1f}"), va="bottom", ha="right", fontsize=8, color="#555555")
        if k_chosen is not None:
            ax.axvline(k_chosen, color="#333333", ls="--", lw=1)
            row = chosen.iloc[0]
            if pd.notna(row[col]):
                ax.plot([k_chosen], [row[col]], marker="o", ms=11, mfc="none", mec="#D55E00", mew=2)
        if col == "bic":
            single = data[(data["k"] == 1) & data["bic"].notna()]
            if len(single):
                ax.annotate(i18n.t("plot.segments.k1", language), (1, float(single["bic"].iloc[0])), xytext=(6, -2), textcoords="offset points", fontsize=8, va="top", color="#555555")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(i18n.t("plot.segments.k_axis", language))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if k_chosen is not None:
        for ax in axes:
            ax.text(k_chosen, ax.get_ylim()[0], i18n.t("plot.segments.chosen", language, k=k_chosen), va="bottom", ha="left", fontsize=8, color="#333333")
    axes[0].legend(fontsize=8, frameon=False, loc="upper right")
    return axes


def segment_sizes(data: pd.DataFrame, *, ax=None, language: str = "ja"):
    """Share of respondents and estimated share of all staff (weighted) per segment.

    ``data`` is the segment table (``segment``, ``name``, ``share``, ``weighted_share``
    and, when present, ``weighted_ci_low`` / ``weighted_ci_high``, drawn as error bars
    and written next to the bar) after the privacy filter; hidden segments show
    「非表示(少人数)」. Returns the Axes.
    """
    if ax is None:
        ax = plt.gca()
    df = data.iloc[::-1].reset_index(drop=True)
    y = np.arange(len(df))
    h = 0.38
    share = df["share"].to_numpy(dtype=float)
    wshare = df["weighted_share"].to_numpy(dtype=float) if "weighted_share" in df else np.full(len(df), np.nan)
    lo = df["weighted_ci_low"].to_numpy(dtype=float) if "weighted_ci_low" in df else np.full(len(df), np.nan)
    hi = df["weighted_ci_high"].to_numpy(dtype=float) if "weighted_ci_high" in df else np.full(len(df), np.nan)
    has_ci = ~(np.isnan(wshare) | np.isnan(lo) | np.isnan(hi))
    ax.barh(y + h / 2, np.nan_to_num(share), height=h, color=QUALITATIVE[0], label=i18n.t("plot.segments.share", language))
    if not np.all(np.isnan(wshare)):
        label = i18n.t("plot.segments.weighted_ci" if has_ci.any() else "plot.segments.weighted", language)
        ax.barh(y - h / 2, np.nan_to_num(wshare), height=h, color=QUALITATIVE[5], label=label)
    if has_ci.any():
        ax.errorbar(wshare[has_ci], (y - h / 2)[has_ci], xerr=np.vstack([wshare[has_ci] - lo[has_ci], hi[has_ci] - wshare[has_ci]]),
                    fmt="none", ecolor="#333333", elinewidth=1, capsize=3, zorder=3)
    for yi, s, w, l, u, c in zip(y, share, wshare, lo, hi, has_ci):
        if np.isnan(s):
            ax.text(0.005, yi, i18n.t("hidden", language), va="center", fontsize=9)
            continue
        ax.text(s + 0.005, yi + h / 2, f"{s * 100:.0f}%", va="center", fontsize=8)
        if not np.isnan(w):
            text = i18n.t("plot.segments.share_ci", language, share=f"{w * 100:.0f}%", low=f"{l * 100:.0f}", high=f"{u * 100:.0f}%") if c else f"{w * 100:.0f}%"
            ax.text((u if c else w) + 0.005, yi - h / 2, text, va="center", fontsize=8)
    ax.set_yticks(y, [segment_label(s, n) for s, n in zip(df["segment"], df["name"])])
    top = np.nanmax(np.concatenate([share, wshare, hi])) if len(df) and not np.all(np.isnan(share)) else 0.5
    ax.set_xlim(0, min(1.0, top * 1.35 + 0.04))
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.legend(fontsize=8, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2)
    return ax


def profile_heatmap(data: pd.DataFrame, *, ax=None, limit: float = 1.5, language: str = "ja"):
    """Construct means per segment: colour = difference from the staff in SD, text = mean.

    ``data`` is :func:`dxanalysis.segments.segment_profiles` output (``segment``,
    ``segment_name``, ``construct``, ``construct_label``, ``mean``, ``z``). Blue = above
    the staff average, red = below. Returns the Axes (a colour bar is added to its figure).
    """
    if ax is None:
        ax = plt.gca()
    constructs = list(dict.fromkeys(data["construct"]))
    z = data.pivot(index="segment", columns="construct", values="z")[constructs]
    mean = data.pivot(index="segment", columns="construct", values="mean")[constructs]
    names = data.drop_duplicates("segment").set_index("segment")["segment_name"]
    labels = data.drop_duplicates("construct").set_index("construct")["construct_label"]
    im = ax.imshow(z.to_numpy(dtype=float), cmap=DIVERGING_CMAP, vmin=-limit, vmax=limit, aspect="auto")
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            v = mean.iat[i, j]
            zz = z.iat[i, j]
            colour = "white" if abs(zz) > 0.9 * limit * 0.75 else "#1a1a1a"
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=10, color=colour)
    ax.set_xticks(range(len(constructs)), [_wrap(labels[c], 6) for c in constructs], fontsize=9)
    ax.set_yticks(range(len(z.index)), [segment_label(s, names[s]) for s in z.index], fontsize=9)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    cbar = ax.get_figure().colorbar(im, ax=ax, fraction=0.04, pad=0.02)
    cbar.set_label(i18n.t("plot.segments.z_axis", language), fontsize=8)
    ax.set_title(i18n.t("plot.segments.profile_title", language), fontsize=10)
    return ax


def segment_map(names: pd.DataFrame, sizes: pd.DataFrame, *, threshold: float = 0.3, ax=None, language: str = "ja"):
    """Each segment on the motivation × skill plane, bubble area = respondents.

    ``names`` is :func:`dxanalysis.segments.name_segments` output (``segment``,
    ``segment_name``, ``motivation_z``, ``skill_z``); ``sizes`` the segment table
    (``segment``, ``n``; hidden segments are drawn without a bubble). Dotted lines mark
    the ±``threshold`` bands the names are based on. Returns the Axes.
    """
    if ax is None:
        ax = plt.gca()
    size_of = dict(zip(sizes["segment"].astype(int), sizes["n"]))
    df = names.assign(n=names["segment"].astype(int).map(size_of))
    n = df["n"].to_numpy(dtype=float)
    area = np.where(np.isnan(n), 0, 2400 * n / np.nanmax(n)) if np.any(~np.isnan(n)) else np.zeros(len(df))
    colours = [QUALITATIVE[i % len(QUALITATIVE)] for i in range(len(df))]
    ax.scatter(df["skill_z"], df["motivation_z"], s=area, c=colours, alpha=0.55, edgecolors="#333333", linewidths=0.8)
    for (_, r), a in zip(df.iterrows(), area):
        ax.annotate(segment_label(r["segment"], r["segment_name"], 12), (r["skill_z"], r["motivation_z"]), xytext=(0, -(np.sqrt(a) / 2 + 3)), textcoords="offset points",
                    ha="center", va="top", fontsize=9, bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.8})
    lim = max(1.5, float(np.nanmax(np.abs(df[["skill_z", "motivation_z"]].to_numpy(dtype=float)))) + 0.5)
    for t in (-threshold, threshold):
        ax.axvline(t, color="#999999", ls=":", lw=1)
        ax.axhline(t, color="#999999", ls=":", lw=1)
    ax.axvline(0, color="#666666", lw=0.8)
    ax.axhline(0, color="#666666", lw=0.8)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_xlabel(i18n.t("plot.segments.skill_axis", language))
    ax.set_ylabel(i18n.t("plot.segments.motivation_axis", language))
    ax.set_aspect("equal")
    return ax


def composition_bars(data: pd.DataFrame, *, attribute: str, ax=None, language: str = "ja"):
    """How each group splits over the segments (100% stacked bars, one bar per group).

    ``data`` is the composition table after :func:`dxanalysis.segments.suppress_composition`
    (``attribute``, ``group``, ``segment``, ``segment_name``, ``group_share``,
    ``suppressed``). Hidden cells are pooled into one grey 「非表示(少人数)」 part. Returns
    the Axes.
    """
    if ax is None:
        ax = plt.gca()
    d = data[data["attribute"] == attribute]
    groups = list(dict.fromkeys(d["group"]))[::-1]
    segs = list(dict.fromkeys(d["segment"]))
    names = d.drop_duplicates("segment").set_index("segment")["segment_name"]
    left = np.zeros(len(groups))
    y = np.arange(len(groups))
    wide = d.pivot(index="group", columns="segment", values="group_share").reindex(index=groups, columns=segs)
    for i, s in enumerate(segs):
        v = np.nan_to_num(wide[s].to_numpy(dtype=float))
        ax.barh(y, v, left=left, color=QUALITATIVE[i % len(QUALITATIVE)], label=segment_label(s, names[s]), edgecolor="white", lw=0.5)
        for yi, (l, w) in enumerate(zip(left, v)):
            if w >= 0.08:
                ax.text(l + w / 2, yi, f"{w * 100:.0f}%", ha="center", va="center", fontsize=8, color="white")
        left = left + v
    hidden = wide.isna().any(axis=1).to_numpy()
    rest = np.where(hidden, np.clip(1 - left, 0, 1), 0)
    if rest.any():
        ax.barh(y, rest, left=left, color="#D9D9D9", label=i18n.t("hidden", language), edgecolor="white", lw=0.5)
        for yi, (l, w, hid) in enumerate(zip(left, rest, hidden)):
            if hid and w == 0 and l == 0:
                ax.text(0.01, yi, i18n.t("hidden", language), va="center", fontsize=8)
    ax.set_yticks(y, groups, fontsize=9)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    label = d["attribute_label"].iloc[0] if "attribute_label" in d and len(d) else attribute
    ax.set_title(i18n.t("plot.segments.composition_title", language, attribute=label), fontsize=10)
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax


def composition_panels(data: pd.DataFrame, *, attributes=None, axes=None, language: str = "ja"):
    """:func:`composition_bars` for several attributes, one panel each (stacked vertically).

    ``attributes`` defaults to every attribute in ``data`` (table order). Returns the
    array of Axes.
    """
    attributes = list(dict.fromkeys(data["attribute"])) if attributes is None else list(attributes)
    if axes is None:
        heights = [max(1.0, 0.38 * data.loc[data["attribute"] == a, "group"].nunique() + 0.6) for a in attributes]
        _, axes = plt.subplots(len(attributes), 1, figsize=(9.5, sum(heights) + 0.4 * len(attributes)), gridspec_kw={"height_ratios": heights}, squeeze=False, constrained_layout=True)
    axes = np.asarray(axes).ravel()
    for i, (ax, attr) in enumerate(zip(axes, attributes)):
        composition_bars(data, attribute=attr, ax=ax, language=language)
        if i:
            legend = ax.get_legend()
            if legend is not None:
                legend.remove()
    return axes
