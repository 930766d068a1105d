"""Charts for the gap assessment and the roadmap (notebook 03).

Each function takes a frame returned by :mod:`dxanalysis.roadmap` and returns the Axes;
none recomputes a statistic.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .. import i18n
from ..roadmap import QUADRANTS, fiscal_year_label, quadrant_label, weight_label
from .style import QUALITATIVE

CURRENT_COLOR = QUALITATIVE[1]  # orange
TARGET_COLOR = QUALITATIVE[0]  # blue
FLAG_COLOR = QUALITATIVE[3]  # vermillion


def current_vs_target(domains: pd.DataFrame, *, ax=None, level_max: float = 5.0, language: str = "ja"):
    """Dumbbells of the mean current and target level per domain (0–5 scale).

    ``domains`` is :func:`dxanalysis.roadmap.domain_gaps` output; domains are drawn top
    to bottom in its order, each labelled with its mean gap.
    """
    if ax is None:
        ax = plt.gca()
    df = domains.iloc[::-1]
    y = np.arange(len(df))
    ax.hlines(y, df["current_mean"], df["target_mean"], color="#999999", lw=3, zorder=1)
    ax.scatter(df["current_mean"], y, color=CURRENT_COLOR, s=70, zorder=2, label=i18n.t("plot.roadmap.current", language))
    ax.scatter(df["target_mean"], y, color=TARGET_COLOR, marker="D", s=60, zorder=2, label=i18n.t("plot.roadmap.target", language))
    for yi, t, g in zip(y, df["target_mean"], df["gap_mean"]):
        ax.text(t + 0.12, yi, f"+{g:.1f}", va="center", fontsize=9)
    ax.set_yticks(y, [i18n.t("plot.roadmap.domain", language, domain=d, n=n) for d, n in zip(df["domain"], df["n_items"])])
    ax.set_xlim(0, level_max + 0.6)
    ax.set_xticks(range(int(level_max) + 1))
    ax.set_xlabel(i18n.t("plot.roadmap.level_axis", language))
    ax.grid(axis="x", color="#e5e5e5", zorder=0)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2, fontsize=9, frameon=False)
    return ax


def gap_matrix(quad: pd.DataFrame, *, gap_split: float = 2.0, importance_split: float = 4.0, ax=None, language: str = "ja"):
    """Gap–importance matrix: one labelled point per item, quadrants shaded and named.

    ``quad`` is :func:`dxanalysis.roadmap.gap_quadrants` output. Points sharing a position
    are spread sideways so every item id stays readable.
    """
    if ax is None:
        ax = plt.gca()
    labels = {key: quadrant_label(*key, language) for key in QUADRANTS}
    xmax = max(5.5, float(quad["importance"].max()) + 0.5)
    ymax = max(float(quad["gap"].max()) + 0.6, gap_split + 1)
    ymin = min(0.0, float(quad["gap"].min())) - 0.3
    # a value equal to the split belongs to the upper/right quadrant: draw the line just
    # below it (half-way to the previous whole number when every value is whole)
    whole = lambda s: bool(np.all(np.isclose(s, np.round(s))))  # noqa: E731
    xline = importance_split - (0.5 if whole(quad["importance"]) else 0.05)
    yline = gap_split - (0.5 if whole(quad["gap"]) else 0.1)
    ax.axvspan(xline, xmax, ymin=(yline - ymin) / (ymax - ymin), ymax=1, color=FLAG_COLOR, alpha=0.08, zorder=0)
    ax.axvline(xline, color="#888888", lw=1, ls="--")
    ax.axhline(yline, color="#888888", lw=1, ls="--")
    corners = {
        (True, True): (xmax - 0.05, ymax - 0.05, "right", "top"),
        (True, False): (0.55, ymax - 0.05, "left", "top"),
        (False, True): (xmax - 0.05, ymin + 0.05, "right", "bottom"),
        (False, False): (0.55, ymin + 0.05, "left", "bottom"),
    }
    for key, (x, y, ha, va) in corners.items():
        ax.text(x, y, labels[key], ha=ha, va=va, fontsize=10, color=FLAG_COLOR if key == (True, True) else "#555555")
    # spread points that share (importance, gap)
    offsets = np.zeros(len(quad))
    label_dy = np.full(len(quad), 5.0)
    for _, idx in quad.sort_values("item_id").groupby(["importance", "gap"]).groups.items():
        k = len(idx)
        pos = [quad.index.get_loc(i) for i in idx]
        offsets[pos] = (np.arange(k) - (k - 1) / 2) * min(0.2, 0.9 / k)
        label_dy[pos] = np.where(np.arange(k) % 2 == 0, 4.0, 14.0)  # alternate heights above the point
    x = quad["importance"].to_numpy(float) + offsets
    y = quad["gap"].to_numpy(float)
    colors = [FLAG_COLOR if (a and b) else TARGET_COLOR for a, b in zip(quad["large_gap"], quad["high_importance"])]
    ax.scatter(x, y, c=colors, s=40, zorder=3)
    for xi, yi, dy, t in zip(x, y, label_dy, quad["item_id"]):
        ax.annotate(t, (xi, yi), xytext=(0, dy), textcoords="offset points", ha="center", fontsize=8)
    ax.set_xlim(0.5, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_xticks(range(1, 6))
    ax.set_xlabel(i18n.t("plot.roadmap.importance_axis", language))
    ax.set_ylabel(i18n.t("plot.roadmap.gap_axis", language))
    return ax


#: Marker, colour and vertical offset of each scenario kind (family, criterion) in the rank chart.
_SCENARIO_STYLE = {
    ("weight", "gap"): ("o", QUALITATIVE[0], -0.33),
    ("weight", "importance"): ("s", QUALITATIVE[1], -0.20),
    ("weight", "feasibility"): ("^", QUALITATIVE[2], -0.07),
    ("rating", "importance"): ("D", QUALITATIVE[4], 0.07),
    ("rating", "feasibility"): ("P", "#666666", 0.20),
    ("survey", "current"): ("v", QUALITATIVE[3], 0.33),
}


def _scenario_legend(family: str, criterion: str, change: float, up: bool, language: str) -> str:
    names = {w: weight_label(w, language) for w in ("gap", "importance", "feasibility")}
    sign = "+" if up else "−"
    if family == "weight":
        return i18n.t("plot.roadmap.weight_scenario", language, name=names[criterion], change=f"{sign}{abs(round((change - 1) * 100))}%")
    if family == "rating":
        return i18n.t("plot.roadmap.rating_scenario", language, name=names[criterion], change=f"{sign}{abs(change):g}")
    return i18n.t("plot.roadmap.survey_upper" if up else "plot.roadmap.survey_lower", language)


def rank_stability(sens: pd.DataFrame, stability: pd.DataFrame, *, top: int = 10, ax=None, language: str = "ja"):
    """Rank of each top item under every scenario, with its range.

    ``sens`` is :func:`dxanalysis.roadmap.rank_sensitivity` output and ``stability``
    :func:`dxanalysis.roadmap.rank_stability`. A grey bar spans the best to the worst
    rank, the black ring is the rank with the chosen weights, small markers are the
    scenarios: shape and colour = what moved (a weight, the item's own rating, the
    survey-based levels), filled = up (weight increased, rating +1, upper bound), open =
    down. Each kind sits on its own line within the item's row. Rank 1 is left.
    """
    if ax is None:
        ax = plt.gca()
    st = stability.sort_values("base_rank", kind="stable")
    ypos = {iid: i for i, iid in enumerate(st["item_id"])}
    y = np.array([ypos[i] for i in st["item_id"]])
    ax.hlines(y, st["rank_min"], st["rank_max"], color="#bbbbbb", lw=6, zorder=1)
    family = sens["family"] if "family" in sens.columns else pd.Series("weight", index=sens.index)
    seen: dict = {}
    for fam, crit, change, rank, item in zip(family, sens["criterion"], sens["change"], sens["rank"], sens["item_id"]):
        marker, colour, dy = _SCENARIO_STYLE[(fam, crit)]
        up = change > (1 if fam == "weight" else 0)
        ax.scatter(rank, ypos[item] + dy, marker=marker, s=34, zorder=2, facecolors=colour if up else "white", edgecolors=colour, linewidths=1.2)
        seen.setdefault((fam, crit, up), change)
    # the base rank is a ring, so a scenario marker on the same rank stays visible inside it
    ax.scatter(st["base_rank"], y, facecolors="none", edgecolors="black", s=170, linewidths=1.8, zorder=3)
    ax.axvline(top + 0.5, color=FLAG_COLOR, ls="--", lw=1)
    ax.text(top + 0.6, -0.6, i18n.t("plot.roadmap.top", language, top=top), color=FLAG_COLOR, fontsize=9, va="bottom", ha="left")
    ax.set_yticks(y, [f"{i} {t}" for i, t in zip(st["item_id"], st["item"])])
    ax.set_ylim(len(st) - 0.5, -0.75)
    hi = int(max(st["rank_max"].max(), top)) + 1
    ax.set_xlim(0.5, hi + 0.5)
    ax.set_xticks(range(1, hi + 1))
    ax.set_xlabel(i18n.t("plot.roadmap.rank_axis", language))
    handles = [Line2D([], [], marker="o", markerfacecolor="none", markeredgecolor="black", markersize=10, markeredgewidth=1.8, ls="", label=i18n.t("plot.roadmap.base_rank", language))]
    for key in _SCENARIO_STYLE:
        for up in (True, False):
            if (*key, up) in seen:
                marker, colour, _ = _SCENARIO_STYLE[key]
                handles.append(Line2D([], [], marker=marker, markerfacecolor=colour if up else "white", markeredgecolor=colour, ls="", label=_scenario_legend(*key, seen[(*key, up)], up, language)))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.4, -0.09), ncol=3, fontsize=8, frameon=False, columnspacing=1.2)
    ax.grid(axis="x", color="#eeeeee", zorder=0)
    return ax


def gantt(roadmap: pd.DataFrame, *, dependencies: pd.DataFrame | None = None, ax=None, language: str = "ja"):
    """Gantt chart of the measures by fiscal year (令和N年度).

    ``roadmap`` is :func:`dxanalysis.roadmap.roadmap_table` output (measures top to bottom
    in its order). Each label names the measure's prerequisites (前提); a measure whose
    prerequisite starts later is drawn hatched in vermillion with the reason written on
    the bar (``dependencies`` = :func:`dxanalysis.roadmap.dependency_check` output).
    """
    if ax is None:
        ax = plt.gca()
    df = roadmap.reset_index(drop=True)
    flagged = set(df.loc[df["dependency_flag"].astype(str) != "", "measure_id"])
    late = {}
    if dependencies is not None:
        for r in dependencies[dependencies["starts_later"]].itertuples():
            late.setdefault(r.measure_id, []).append(i18n.t("plot.roadmap.late", language, dependency=r.dependency, start=fiscal_year_label(r.dependency_start_fy, language=language)))
    for i, r in df.iterrows():
        bad = r["measure_id"] in flagged
        ax.barh(i, r["end_fy"] - r["start_fy"] + 1, left=r["start_fy"] - 0.5, height=0.6,
                color=FLAG_COLOR if bad else TARGET_COLOR, alpha=0.7 if bad else 0.85, hatch="//" if bad else None, edgecolor="white")
        if r["measure_id"] in late:
            ax.text(r["start_fy"] - 0.45, i, "※" + i18n.t("list.sep", language).join(late[r["measure_id"]]), va="center", ha="left", fontsize=9,
                    bbox=dict(boxstyle="round,pad=0.2", facecolor="white", edgecolor=FLAG_COLOR, alpha=0.95))
    years = list(range(int(df["start_fy"].min()), int(df["end_fy"].max()) + 1))
    ax.set_xticks(years, [f"{fiscal_year_label(y, language=language)}\n({y})" for y in years])
    ax.set_xlim(years[0] - 0.5, years[-1] + 0.5)
    for y in years[:-1]:
        ax.axvline(y + 0.5, color="#dddddd", lw=1, zorder=0)
    deps = df["depends_on"].fillna("").astype(str)
    ax.set_yticks(range(len(df)), [f"{m} {n}" + (i18n.t("plot.roadmap.needs", language, ids=i18n.t("list.dot", language).join(d.split(";"))) if d else "") for m, n, d in zip(df["measure_id"], df["measure"], deps)])
    ax.invert_yaxis()
    ax.tick_params(axis="x", top=True, labeltop=True, bottom=False, labelbottom=False)
    handles = [Patch(color=TARGET_COLOR, label=i18n.t("plot.roadmap.period", language))]
    if flagged:
        handles.append(Patch(facecolor=FLAG_COLOR, hatch="//", edgecolor="white", label=i18n.t("plot.roadmap.late_legend", language)))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0, -0.02), ncol=2, fontsize=9, frameon=False)
    return ax
