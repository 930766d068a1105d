"""Charts for the staff survey (notebook 01)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .. import i18n
from .style import QUALITATIVE


def response_rates(data: pd.DataFrame, *, attribute: str | None = None, ax=None, label: str | None = None, language: str = "ja"):
    """Horizontal bars of response rate per group with Wilson 95% intervals.

    ``data`` is :func:`dxanalysis.survey.response_rates` output (after privacy
    suppression: hidden groups have NaN rates and are drawn as an empty row marked
    「非表示」). Returns the Axes.
    """
    if ax is None:
        ax = plt.gca()
    label = i18n.t("plot.response_rate", language) if label is None else label
    df = data if attribute is None else data[data["attribute"] == attribute]
    df = df.iloc[::-1]
    y = np.arange(len(df))
    rate = df["response_rate"].to_numpy(dtype=float)
    lo = rate - df["ci_low"].to_numpy(dtype=float)
    hi = df["ci_high"].to_numpy(dtype=float) - rate
    ax.barh(y, np.nan_to_num(rate), color=QUALITATIVE[0], alpha=0.85)
    ax.errorbar(np.nan_to_num(rate), y, xerr=[np.nan_to_num(lo), np.nan_to_num(hi)], fmt="none", ecolor="#333333", capsize=3, lw=1)
    for yi, r, h in zip(y, rate, df["ci_high"].to_numpy(dtype=float)):
        ax.text(0.005 if np.isnan(r) else h + 0.015, yi, i18n.t("hidden", language) if np.isnan(r) else f"{r * 100:.0f}%", va="center", fontsize=9)
    ax.set_yticks(y, df["group"].astype(str))
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
    ax.set_xlabel(i18n.t("plot.with_ci", language, label=label))
    return ax


#: the mark of a hidden group in the Japanese charts (``i18n.t("hidden", language)`` in either language)
HIDDEN_TEXT = i18n.t("hidden")


def _diverging_colors(k: int) -> list:
    from .style import DIVERGING

    if k == len(DIVERGING):
        return list(DIVERGING)
    cmap = plt.get_cmap("RdBu")
    return [cmap(v) for v in np.linspace(0.1, 0.9, k)]


def likert_bars(data: pd.DataFrame, *, row: str = "item", ax=None, area: bool = True, legend: bool = True, n_col: str = "n_group", language: str = "ja"):
    """Diverging stacked bars of Likert answers: negative left, neutral centred, positive right.

    Parameters
    ----------
    data
        Rows of :func:`dxanalysis.survey.item_distribution` for one block: either the
        whole staff (``row="item"``: one bar per item) or one item by the groups of one
        attribute (``row="group"``). Hidden groups (NaN shares) get an empty bar marked
        「非表示(少人数)」.
    row
        Column naming each bar (``item`` or ``group``).
    area
        With ``row="item"``: group the bars under a heading per DXリテラシー標準 area.
    n_col
        Count printed at the right end of each bar (``n=…``).

    Returns
    -------
    Axes
    """
    if ax is None:
        ax = plt.gca()
    # hidden rows come back from the privacy filter with every numeric column blank
    values = sorted(data["value"].dropna().unique())
    k = len(values)
    colors = _diverging_colors(k)
    labels = data.dropna(subset=["value"]).drop_duplicates("value").set_index("value")["label"].reindex(values).tolist()
    key = ["item_id", row] if row == "item" else [row]
    order = data.drop_duplicates(key)
    positions, ticklabels, headers = [], [], []
    y = 0.0
    current_area = None
    bars = []
    for _, r in order.iterrows():
        if row == "item" and area and r["area"] != current_area:
            current_area = r["area"]
            headers.append((y, current_area))
            y += 1.0
        sub = data[(data["item_id"] == r["item_id"]) if row == "item" else (data[row] == r[row])]
        sub = sub.dropna(subset=["value"]).set_index("value").reindex(values)
        shares = sub["share"].to_numpy(dtype=float)
        rev = r.get("reverse", False)
        name = str(r[row]) + (i18n.t("plot.reversed", language) if row == "item" and pd.notna(rev) and bool(rev) else "")
        bars.append((y, name, shares, sub[n_col].iloc[0] if n_col in sub.columns and len(sub) else np.nan))
        positions.append(y)
        ticklabels.append(name)
        y += 1.0
    mid = (k - 1) / 2
    segments = []  # (y, left, width, answer index) of every bar segment, drawn below one barh call per answer
    for yi, _name, shares, n in bars:
        if np.isnan(shares).all():
            ax.text(0, yi, i18n.t("hidden", language), ha="center", va="center", fontsize=8, color="#555555")
            continue
        neg = shares[: int(np.floor(mid))].sum() + (shares[int(mid)] / 2 if k % 2 else 0)
        left = -neg
        for j, s in enumerate(shares):
            segments.append((yi, left, s, j))
            if s >= 0.07:
                ax.text(left + s / 2, yi, f"{s * 100:.0f}", ha="center", va="center", fontsize=7, color="white" if j in (0, k - 1) else "#222222")
            left += s
        if not np.isnan(n):
            ax.text(1.02, yi, f"n={int(n)}", va="center", fontsize=8, color="#444444", transform=ax.get_yaxis_transform())
    # one call per answer (not per segment: a barh call costs ≈ 2 ms); within a row answer j is still
    # drawn before answer j + 1 and rows do not overlap, so the picture is the same
    for j in range(k):
        part = [seg for seg in segments if seg[3] == j]
        if part:
            ax.barh([seg[0] for seg in part], [seg[2] for seg in part], left=[seg[1] for seg in part], color=colors[j], edgecolor="white", linewidth=0.5, height=0.75, label=labels[j])
    for yh, text in headers:
        ax.text(-1.0, yh, f"■ {text}", va="center", ha="left", fontsize=10, fontweight="bold", color="#0b4f8a")
    ax.set_yticks(positions, ticklabels, fontsize=9)
    ax.set_ylim(y - 0.4, -0.6)
    ax.set_xlim(-1, 1)
    ax.axvline(0, color="#333333", lw=0.8)
    ax.set_xticks(np.linspace(-1, 1, 9), [f"{abs(v) * 100:.0f}%" for v in np.linspace(-1, 1, 9)])
    ax.set_xlabel(i18n.t("plot.likert_axis", language))
    if legend:
        ax.legend(ncol=k, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False, fontsize=8)
    return ax


def reliability(data: pd.DataFrame, *, ax=None, threshold: float = 0.6, language: str = "ja"):
    """Cronbach's alpha per construct with its 95% interval; dashed line at ``threshold``.

    ``data`` is :func:`dxanalysis.survey.reliability` output. Returns the Axes.
    """
    if ax is None:
        ax = plt.gca()
    df = data.reset_index(drop=True)
    y = np.arange(len(df))
    low = df["alpha"] < threshold
    colors = np.where(low, QUALITATIVE[3], QUALITATIVE[0])
    ax.errorbar(df["alpha"], y, xerr=[df["alpha"] - df["ci_low"], df["ci_high"] - df["alpha"]], fmt="none", ecolor="#555555", capsize=3, lw=1)
    ax.scatter(df["alpha"], y, c=colors, zorder=3, s=36)
    for yi, a in zip(y, df["alpha"]):
        ax.text(a, yi - 0.3, f"{a:.2f}", ha="center", fontsize=8)
    ax.axvline(threshold, color=QUALITATIVE[3], ls="--", lw=1)
    ax.text(threshold, len(df) - 0.4, i18n.t("plot.alpha_threshold", language, threshold=threshold), color=QUALITATIVE[3], fontsize=8, va="bottom")
    ax.set_yticks(y, df["label"] if "label" in df.columns else df["construct"])
    ax.set_ylim(len(df) - 0.3, -0.7)
    ax.set_xlim(min(0.3, float(np.nanmin(df["ci_low"])) - 0.05), 1.0)
    ax.set_xlabel(i18n.t("plot.alpha_axis", language))
    return ax


def weighted_comparison(data: pd.DataFrame, *, ax=None, kind: str = "construct", language: str = "ja"):
    """Unweighted (hollow) and roster-weighted (filled, with 95% interval) estimates side by side.

    ``data`` is :func:`dxanalysis.survey.weighted_estimates` output; ``kind`` selects
    constructs (means) or items/tools (shares). Returns the Axes.
    """
    if ax is None:
        ax = plt.gca()
    df = data[data["kind"] == kind].reset_index(drop=True)
    y = np.arange(len(df))
    share = kind != "construct"
    ax.hlines(y, df["unweighted"], df["weighted"], color="#999999", lw=2)
    ax.errorbar(df["weighted"], y, xerr=[df["weighted"] - df["ci_low"], df["ci_high"] - df["weighted"]], fmt="none", ecolor=QUALITATIVE[0], capsize=3, lw=1)
    ax.scatter(df["unweighted"], y, facecolors="white", edgecolors="#555555", s=40, zorder=3, label=i18n.t("plot.unweighted", language))
    ax.scatter(df["weighted"], y, color=QUALITATIVE[0], s=40, zorder=4, label=i18n.t("plot.weighted", language))
    ax.set_yticks(y, df["label"])
    ax.set_ylim(len(df) - 0.5, -0.5)
    if share:
        ax.xaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
        ax.set_xlabel(i18n.t("plot.weighted_share_axis", language))
    else:
        ax.set_xlabel(i18n.t("plot.weighted_mean_axis", language))
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False, fontsize=8)
    return ax


def difference_heatmap(data: pd.DataFrame, *, labels: dict | None = None, attribute_labels: dict | None = None, ax=None, q_level: float = 0.05, limit: float | None = None, language: str = "ja"):
    """Heatmap of group − whole-staff differences in construct scores.

    Parameters
    ----------
    data
        :func:`dxanalysis.survey.group_differences` output after privacy filtering; hidden
        cells (NaN ``diff``) are drawn grey with 「—」.
    labels, attribute_labels
        Display names of construct ids and attribute ids.
    q_level
        Cells with ``q_value`` below it are outlined and marked ``*``.

    Returns
    -------
    Axes
    """
    from matplotlib.patches import Rectangle

    if ax is None:
        ax = plt.gca()
    labels = labels or {}
    attribute_labels = attribute_labels or {}
    constructs = list(dict.fromkeys(data["construct"]))
    cols = list(dict.fromkeys(zip(data["attribute"], data["group"])))
    grid = np.full((len(constructs), len(cols)), np.nan)
    qs = np.full_like(grid, np.nan)
    for r in data.itertuples():
        i, j = constructs.index(r.construct), cols.index((r.attribute, r.group))
        grid[i, j] = r.diff
        qs[i, j] = r.q_value
    lim = limit or max(0.3, float(np.nanmax(np.abs(grid))) if np.isfinite(grid).any() else 0.3)
    cmap = plt.get_cmap("RdBu").with_extremes(bad="#eeeeee")
    im = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, vmin=-lim, vmax=lim, aspect="auto")
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            v = grid[i, j]
            if np.isnan(v):
                ax.text(j, i, "—", ha="center", va="center", fontsize=7, color="#777777")
                continue
            sig = qs[i, j] < q_level
            ax.text(j, i, f"{v:+.2f}{'*' if sig else ''}", ha="center", va="center", fontsize=7, color="white" if abs(v) > 0.6 * lim else "#222222", fontweight="bold" if sig else "normal")
            if sig:
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="#222222", lw=1.2))
    ax.set_yticks(range(len(constructs)), [labels.get(c, c) for c in constructs])
    ax.set_xticks(range(len(cols)), [g for _, g in cols], rotation=60, ha="right", fontsize=8)
    # attribute blocks: separators and headings
    start = 0
    attrs = [a for a, _ in cols]
    for a in dict.fromkeys(attrs):
        width = attrs.count(a)
        if start > 0:
            ax.axvline(start - 0.5, color="white", lw=3)
        ax.text(start + width / 2 - 0.5, -0.8, attribute_labels.get(a, a), ha="center", va="bottom", fontsize=9, fontweight="bold")
        start += width
    ax.set_ylim(len(constructs) - 0.5, -1.3)
    for side in ("top", "right", "left", "bottom"):
        ax.spines[side].set_visible(False)
    cbar = ax.figure.colorbar(im, ax=ax, fraction=0.025, pad=0.01)
    cbar.set_label(i18n.t("plot.diff_axis", language))
    return ax


def hypotheses(data: pd.DataFrame, *, margin: float | None = 0.1, ax=None, language: str = "ja"):
    """Forest plot of the hypothesis register: effect in the expected direction, with intervals.

    ``data`` is :func:`dxanalysis.survey.test_hypotheses` output. Right of zero = as the
    advisor expected; colour = verdict (supported 支持 blue, refuted 反証 vermillion, equivalent 差は小さい green,
    inconclusive 判定不能 grey). The thin line is the 95% interval (not adjusted for multiple
    comparisons: the verdicts use BH q-values); the thick segment, when the table has
    ``equivalence_ci_low``/``equivalence_ci_high``, is the 90% interval that decides
    差は小さい, and the shaded band is ``±margin`` (None: no band). A row without an
    interval (degenerate, see ``note``) shows the point only. Returns the Axes.
    """
    if ax is None:
        ax = plt.gca()
    colors = {"supported": QUALITATIVE[0], "refuted": QUALITATIVE[3], "equivalent": QUALITATIVE[2], "inconclusive": "#888888"}
    df = data.reset_index(drop=True)
    sign = np.where(df["expected"] == "higher", 1.0, -1.0)

    def flipped(low: str, high: str) -> tuple[np.ndarray, np.ndarray]:
        if low not in df.columns or high not in df.columns:
            return np.full(len(df), np.nan), np.full(len(df), np.nan)
        lo_ = np.where(sign > 0, df[low], -df[high]).astype(float)
        hi_ = np.where(sign > 0, df[high], -df[low]).astype(float)
        return lo_, hi_

    eff = df["effect_size"].to_numpy(dtype=float) * sign
    lo, hi = flipped("ci_low", "ci_high")
    elo, ehi = flipped("equivalence_ci_low", "equivalence_ci_high")
    if margin:
        ax.axvspan(-margin, margin, color=QUALITATIVE[2], alpha=0.12, lw=0, label=i18n.t("plot.equivalence_band", language, margin=f"{margin:g}"))
    y = np.arange(len(df))
    for yi, e, l, h, el, eh, v in zip(y, eff, lo, hi, elo, ehi, df["verdict"]):
        c = colors.get(v, "#888888")
        if np.isnan(e):
            ax.text(0, yi, i18n.t("hidden", language), ha="center", va="center", fontsize=8, color="#555555")
            continue
        if not np.isnan(l):
            ax.plot([l, h], [yi, yi], color=c, lw=1.5)
        if not np.isnan(el):
            ax.plot([el, eh], [yi, yi], color=c, lw=5, alpha=0.55, solid_capstyle="butt")
        ax.scatter([e], [yi], color=c, s=50, zorder=3)
        label = i18n.t("plot.refuted", language) if v == "refuted" else i18n.t(f"verdict.{v}", language) if f"verdict.{v}" in i18n.TEXT else v
        ax.text(1.02, yi, label, transform=ax.get_yaxis_transform(), va="center", fontsize=9, color=c, fontweight="bold")
    ax.axvline(0, color="#333333", lw=0.8)
    ax.set_yticks(y, [f"{h}: {s}" for h, s in zip(df["hypothesis_id"], df["statement"])], fontsize=9)
    ax.set_ylim(len(df) - 0.5, -0.5)
    ax.set_xlim(-1, 1)
    ax.set_xlabel(i18n.t("plot.hypotheses_axis", language))
    if margin:
        ax.legend(loc="lower left", fontsize=8, frameon=False, bbox_to_anchor=(0, 1.0))
    return ax


def share_bars(data: pd.DataFrame, *, label_col: str = "label", ax=None, xlabel: str | None = None, language: str = "ja"):
    """Horizontal bars of shares with Wilson 95% intervals (e.g. tool use, whole staff).

    ``data`` has ``share``, ``ci_low``, ``ci_high``, ``n`` and ``label_col``; hidden rows
    (NaN) are marked. Returns the Axes.
    """
    if ax is None:
        ax = plt.gca()
    df = data.reset_index(drop=True)
    y = np.arange(len(df))
    s = df["share"].to_numpy(dtype=float)
    ax.barh(y, np.nan_to_num(s), color=QUALITATIVE[2], alpha=0.85)
    ax.errorbar(np.nan_to_num(s), y, xerr=[np.nan_to_num(s - df["ci_low"].to_numpy(float)), np.nan_to_num(df["ci_high"].to_numpy(float) - s)], fmt="none", ecolor="#333333", capsize=3, lw=1)
    for yi, v, n, h in zip(y, s, df["n"], df["ci_high"].to_numpy(dtype=float)):
        ax.text(0.005 if np.isnan(v) else h + 0.015, yi, i18n.t("hidden", language) if np.isnan(v) else i18n.t("plot.share_n", language, share=f"{v * 100:.0f}%", n=int(n)), va="center", fontsize=8)
    ax.set_yticks(y, df[label_col].astype(str))
    ax.set_ylim(len(df) - 0.5, -0.5)
    ax.set_xlim(0, 1.2)
    ax.set_xticks(np.linspace(0, 1, 6))
    ax.xaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
    ax.set_xlabel(i18n.t("plot.with_ci", language, label=i18n.t("plot.share_using", language) if xlabel is None else xlabel))
    return ax


def share_heatmap(data: pd.DataFrame, *, row: str, col: str, value: str = "share", row_labels: dict | None = None, col_group: str | None = None,
                  group_labels: dict | None = None, ax=None, cmap: str = "Blues", percent: bool = True, colorbar_label: str | None = None, language: str = "ja"):
    """Heatmap of a share (or mean) for rows × columns, values printed; NaN = hidden.

    Used for tool use by group and for the static version of the explorer (share of
    positive answers per item and group). Row and column order follow ``data``.
    ``col_group`` (e.g. ``"attribute"``) makes the columns (col_group, col) pairs, drawn
    in blocks headed by ``group_labels``. Returns the Axes.
    """
    if ax is None:
        ax = plt.gca()
    row_labels = row_labels or {}
    rows = list(dict.fromkeys(data[row]))
    keys = list(zip(data[col_group], data[col])) if col_group else list(data[col])
    cols = list(dict.fromkeys(keys))
    grid = np.full((len(rows), len(cols)), np.nan)
    for r, k, v in zip(data[row], keys, data[value].to_numpy(dtype=float)):
        grid[rows.index(r), cols.index(k)] = v
    cm = plt.get_cmap(cmap).with_extremes(bad="#eeeeee")
    vmin, vmax = (0, 1) if percent else (np.nanmin(grid), np.nanmax(grid))
    im = ax.imshow(np.ma.masked_invalid(grid), cmap=cm, vmin=vmin, vmax=vmax, aspect="auto")
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            v = grid[i, j]
            txt = "—" if np.isnan(v) else (f"{v * 100:.0f}" if percent else f"{v:.2f}")
            ax.text(j, i, txt, ha="center", va="center", fontsize=7, color="white" if not np.isnan(v) and (v - vmin) > 0.6 * (vmax - vmin) else "#222222")
    ax.set_yticks(range(len(rows)), [row_labels.get(r, r) for r in rows], fontsize=8)
    ax.set_xticks(range(len(cols)), [c[1] if col_group else c for c in cols], rotation=45, ha="right", fontsize=8)
    if col_group:
        blocks = [c[0] for c in cols]
        start = 0
        for b in dict.fromkeys(blocks):
            width = blocks.count(b)
            if start > 0:
                ax.axvline(start - 0.5, color="white", lw=3)
            ax.text(start + width / 2 - 0.5, -0.7, (group_labels or {}).get(b, b), ha="center", va="bottom", fontsize=9, fontweight="bold")
            start += width
        ax.set_ylim(len(rows) - 0.5, -1.2)
    for side in ("top", "right", "left", "bottom"):
        ax.spines[side].set_visible(False)
    cbar = ax.figure.colorbar(im, ax=ax, fraction=0.03, pad=0.01)
    if percent:
        cbar.ax.yaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
    colorbar_label = i18n.t("plot.share_using", language) if colorbar_label is None else colorbar_label
    cbar.set_label(colorbar_label + i18n.t("plot.percent_hidden" if percent else "plot.hidden_dash", language))
    return ax


def group_means(data: pd.DataFrame, *, ax=None, xlabel: str | None = None, percent: bool = False, language: str = "ja"):
    """Dot and 95% interval per group, with the whole staff as a dashed line.

    ``data`` is :func:`dxanalysis.survey.measure_by_group` output after privacy
    filtering (hidden groups are marked). Returns the Axes.
    """
    if ax is None:
        ax = plt.gca()
    overall = data[data["attribute"] == "overall"]
    df = data[data["attribute"] != "overall"].reset_index(drop=True)
    y = np.arange(len(df))
    m = df["mean"].to_numpy(dtype=float)
    ax.errorbar(m, y, xerr=[m - df["ci_low"].to_numpy(float), df["ci_high"].to_numpy(float) - m], fmt="o", color=QUALITATIVE[0], ecolor="#555555", capsize=3)
    for yi, v, n in zip(y, m, df["n"]):
        if np.isnan(v):
            ax.text(0.02, yi, i18n.t("hidden", language), transform=ax.get_yaxis_transform(), va="center", fontsize=8, color="#555555")
        else:
            ax.text(1.01, yi, f"n={int(n)}", transform=ax.get_yaxis_transform(), va="center", fontsize=8, color="#444444")
    if len(overall):
        ax.axvline(float(overall["mean"].iloc[0]), color="#333333", ls="--", lw=1, label=i18n.t("survey.overall", language))
        ax.legend(frameon=False, fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0))
    ax.set_yticks(y, df["group"].astype(str))
    ax.set_ylim(len(df) - 0.5, -0.5)
    if percent:
        ax.xaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
    ax.set_xlabel(i18n.t("plot.with_ci", language, label=i18n.t("plot.mean", language) if xlabel is None else xlabel))
    return ax


def response_rate_panels(data: pd.DataFrame, *, labels: dict | None = None, axes=None, language: str = "ja"):
    """One :func:`response_rates` panel per attribute of a long response-rate table.

    Returns the array of Axes (pass ``axes`` from ``plt.subplots`` with one row per attribute).
    """
    attrs = list(dict.fromkeys(data["attribute"]))
    if axes is None:
        _, axes = plt.subplots(len(attrs), 1, squeeze=False)
    axes = np.asarray(axes).ravel()
    for a, ax in zip(attrs, axes):
        response_rates(data, attribute=a, ax=ax, language=language)
        ax.set_title((labels or {}).get(a, a), loc="left")
    return axes
