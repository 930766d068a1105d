"""Charts for free-text answers: term bars, characteristic terms, co-occurrence network.

Each function takes a frame returned by :mod:`dxanalysis.text` and draws it; Japanese
labels need :func:`dxanalysis.plots.setup_style` (bundled IPAexGothic, no tofu boxes).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .style import QUALITATIVE


def term_bars(data: pd.DataFrame, *, value: str = "doc_share", ax=None, language: str = "ja", color: str = QUALITATIVE[0]):
    """Horizontal bars of the most used terms, most used on top.

    ``data`` is :func:`dxanalysis.text.term_frequencies` output (already cut to the
    terms to show). ``value``: ``doc_share`` (share of comments, default), ``n_docs``
    or ``count``. Each bar is labelled with the share and the number of comments.
    Returns the Axes.
    """
    if ax is None:
        ax = plt.gca()
    df = data.iloc[::-1]
    y = np.arange(len(df))
    vals = df[value].to_numpy(dtype=float)
    ax.barh(y, vals, color=color, alpha=0.85)
    ax.set_yticks(y, df["term"].astype(str))
    for yi, v, n in zip(y, vals, df["n_docs"]):
        label = f"{v * 100:.0f}%({int(n)}件)" if value == "doc_share" else f"{v:,.0f}"
        if language == "en" and value == "doc_share":
            label = f"{v * 100:.0f}% ({int(n)})"
        ax.text(v, yi, " " + label, va="center", fontsize=8)
    if value == "doc_share":
        ax.xaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0, decimals=0))
        ax.set_xlim(0, max(vals.max() * 1.25, 0.05) if len(vals) else 1)
        ax.set_xlabel("その語を含む記述の割合" if language != "en" else "share of comments using the term")
    else:
        ax.set_xlabel({"n_docs": "記述数", "count": "出現回数"}.get(value, value) if language != "en" else value)
    ax.set_ylim(-0.6, len(df) - 0.4)
    return ax


def characteristic_terms(data: pd.DataFrame, *, ax=None, top_n: int = 5, color: str = QUALITATIVE[2], title: str | None = None):
    """Bars of the z-scores of one group's most characteristic terms (largest on top).

    ``data``: rows of :func:`dxanalysis.text.term_frequencies_by_group` for one group.
    A dashed line marks z = 1.96. Returns the Axes.
    """
    if ax is None:
        ax = plt.gca()
    df = data.nlargest(top_n, "z").iloc[::-1]
    y = np.arange(len(df))
    ax.barh(y, df["z"].to_numpy(dtype=float), color=color, alpha=0.85)
    ax.set_yticks(y, df["term"].astype(str))
    ax.axvline(1.96, color="#555555", lw=0.8, ls="--")
    ax.set_ylim(-0.6, max(len(df), 1) - 0.4)
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def characteristic_terms_grid(data: pd.DataFrame, *, top_n: int = 5, ncols: int = 3, language: str = "ja"):
    """Figure-level: one panel of :func:`characteristic_terms` per group (shown groups only).

    ``data``: :func:`dxanalysis.text.term_frequencies_by_group` rows of one attribute.
    Returns the Figure (several Axes).
    """
    grps = list(dict.fromkeys(data["group"]))
    ncols = max(1, min(ncols, len(grps)))
    nrows = int(np.ceil(len(grps) / ncols)) if grps else 1
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.3 * ncols, 0.35 * top_n * nrows + 0.9 * nrows), squeeze=False)
    for k, ax in enumerate(axes.ravel()):
        if k >= len(grps):
            ax.set_visible(False)
            continue
        g = grps[k]
        d = data[data["group"] == g]
        characteristic_terms(d, ax=ax, top_n=top_n, color=QUALITATIVE[k % len(QUALITATIVE)], title=f"{g}(n={int(d['n'].iloc[0])})")
    fig.supxlabel("特徴度(z値、破線は1.96)" if language != "en" else "distinctiveness (z; dashed line at 1.96)", fontsize=9)
    fig.tight_layout()
    return fig


def _overlap(a, b) -> float:
    """Area shared by two display-space boxes ``(x0, y0, x1, y1)``."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return max(w, 0.0) * max(h, 0.0)


def cooccurrence_network(nodes: pd.DataFrame, edges: pd.DataFrame, *, ax=None, max_label: int = 60, fontsize: float = 9):
    """Network of terms used together: node size = comments, line width = Jaccard.

    ``nodes``: :func:`dxanalysis.text.network_layout` output (``term``, ``n_docs``,
    ``cluster``, ``x``, ``y``); ``edges``: the pairs kept by
    :func:`dxanalysis.text.term_clusters`. Colours are the term groups (Okabe–Ito).
    Returns the Axes.

    Labels sit beside their circle, not on it, with a white outline. Terms are labelled
    most used first; each label takes the first of eight places around its circle
    (right, left, above, below, then the corners) that overlaps no label already placed
    and no circle, or else the place with the least overlap. A greedy placement, as in
    cartographic label placement; no extra package (adjustText) needed.
    """
    import matplotlib.patheffects as pe

    if ax is None:
        ax = plt.gca()
    ax.set_xlim(-0.08, 1.08)
    ax.set_ylim(-0.08, 1.08)
    ax.set_axis_off()
    pos = nodes.set_index("term")[["x", "y"]]
    wmax = float(edges["jaccard"].max()) if len(edges) else 1.0
    for a, b, w in zip(edges["term_a"], edges["term_b"], edges["jaccard"]):
        if a in pos.index and b in pos.index:
            ax.plot([pos.at[a, "x"], pos.at[b, "x"]], [pos.at[a, "y"], pos.at[b, "y"]], color="#8c8c8c", lw=0.6 + 3.0 * w / wmax, alpha=0.6, zorder=1)
    if nodes.empty:
        return ax
    nmax = float(nodes["n_docs"].max())
    colors = [QUALITATIVE[(c - 1) % len(QUALITATIVE)] if c <= len(QUALITATIVE) else "#bbbbbb" for c in nodes["cluster"]]
    sizes = 60 + 500 * nodes["n_docs"].to_numpy(dtype=float) / nmax
    ax.scatter(nodes["x"], nodes["y"], s=sizes, c=colors, alpha=0.35, edgecolors=colors, linewidths=1.2, zorder=2)

    fig = ax.get_figure()
    renderer = fig.canvas.get_renderer()
    to_px = fig.dpi / 72.0
    xy = ax.transData.transform(nodes[["x", "y"]].to_numpy(dtype=float))
    radius = np.sqrt(sizes) / 2 * to_px  # scatter size is the marker's area in points²
    circles = [(x - r, y - r, x + r, y + r) for (x, y), r in zip(xy, radius)]
    placed: list[tuple] = []
    order = np.argsort(-nodes["n_docs"].to_numpy(dtype=float), kind="stable")[:max_label]
    directions = [(1, 0, "left", "center"), (-1, 0, "right", "center"), (0, 1, "center", "bottom"), (0, -1, "center", "top"),
                  (0.75, 0.75, "left", "bottom"), (-0.75, 0.75, "right", "bottom"), (0.75, -0.75, "left", "top"), (-0.75, -0.75, "right", "top")]
    for k in order:
        term, (x, y) = nodes["term"].iloc[k], (nodes["x"].iloc[k], nodes["y"].iloc[k])
        gap = radius[k] / to_px + 1.5  # points
        best = None
        for dx, dy, ha, va in directions:
            t = ax.annotate(str(term), (x, y), xytext=(dx * gap, dy * gap), textcoords="offset points", ha=ha, va=va, fontsize=fontsize, zorder=3,
                            path_effects=[pe.withStroke(linewidth=2.5, foreground="white")])
            bb = t.get_window_extent(renderer)
            box = (bb.x0, bb.y0, bb.x1, bb.y1)
            axbox = ax.get_window_extent(renderer)
            outside = box[0] < axbox.x0 or box[2] > axbox.x1 or box[1] < axbox.y0 or box[3] > axbox.y1
            cost = sum(_overlap(box, o) for o in placed) + sum(_overlap(box, c) for j, c in enumerate(circles) if j != k) + (1e6 if outside else 0)
            if best is None or cost < best[0]:
                if best is not None:
                    best[1].remove()
                best = (cost, t, box)
            else:
                t.remove()
            if cost == 0:
                break
        placed.append(best[2])
    return ax
