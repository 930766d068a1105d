"""Interactive exploration of the staff survey (notebook 01) and its static counterpart.

In JupyterLab, :class:`Explorer` shows two drop-downs (a construct, item or tool, and a
staff attribute); every change redraws a chart and a table for the groups of that
attribute. All the work happens in :func:`explorer_view`, a plain function that returns
the privacy-filtered table and the figure, so it is tested without a browser
(``tests/test_explore.py``) and the widget only wires drop-downs to it.

Shared HTML reports cannot run widget JavaScript (LGWAN terminals, and the renderer
drops widget views), so :func:`publish_static` publishes the same content as a static
chart: the share of positive answers of every item by the groups of every attribute.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import pandas as pd

from . import survey as sv
from .plots import survey as psv
from .privacy import suppress_small_groups, suppression_plan


@dataclass
class ExplorerView:
    """What the explorer shows for one choice.

    Attributes
    ----------
    measure, attribute
        The chosen construct/item/tool id and attribute id.
    kind
        ``construct``, ``item`` or ``tool``.
    table
        :func:`dxanalysis.survey.measure_by_group` after privacy filtering (hidden groups
        have NaN figures and ``suppressed=True``).
    figure
        The chart (matplotlib Figure) drawn from the filtered data only.
    alt
        One sentence stating what the chart shows.
    distribution
        For items: the filtered answer distribution by group (else None).
    """

    measure: str
    attribute: str
    kind: str
    table: pd.DataFrame
    figure: object
    alt: str
    distribution: pd.DataFrame | None = None


def measure_options(codebook) -> list[tuple[str, str]]:
    """(display label, id) of every construct, Likert item and tool, in codebook order."""
    out = [(f"構成概念: {c.label}", cid) for cid, c in codebook.constructs.items()]
    out += [(f"項目: {i.short or i.header}", i.id) for i in codebook.items]
    out += [(f"ツール: {t.label}", t.id) for t in codebook.binary_measures]
    return out


def attribute_options(codebook, survey: pd.DataFrame | None = None) -> list[tuple[str, str]]:
    """(label, id) of the attributes (those present in ``survey`` when given)."""
    return [(a.label, aid) for aid, a in codebook.attributes.items() if survey is None or aid in survey.columns]


def _kind(codebook, measure: str) -> str:
    if measure in codebook.constructs:
        return "construct"
    if measure in codebook.item_ids:
        return "item"
    if measure in codebook.tool_ids:
        return "tool"
    raise KeyError(f"explorer: {measure!r} is not a construct, item or tool id")


def _describe(table: pd.DataFrame, label: str, attr_label: str, kind: str) -> str:
    vis = table[(table["attribute"] != sv.OVERALL_ATTRIBUTE)].dropna(subset=["mean"])
    if vis.empty:
        return f"{label}を{attr_label}別に示す図。表示できる集団がありません。"
    fmt = (lambda v: f"{v * 100:.0f}%") if kind == "tool" else (lambda v: f"{v:.2f}")
    hi, lo = vis.loc[vis["mean"].idxmax()], vis.loc[vis["mean"].idxmin()]
    return f"{label}を{attr_label}別に示す図。最も高いのは{hi['group']}({fmt(hi['mean'])})、最も低いのは{lo['group']}({fmt(lo['mean'])})。"


def explorer_view(m, *, measure: str, attribute: str, scores: pd.DataFrame | None = None, min_group_size: int | None = None, width: float = 7.5) -> ExplorerView:
    """Table and chart of one measure by the groups of one attribute (the explorer callback).

    Parameters
    ----------
    m
        The loaded municipality.
    measure
        Construct, item or tool id.
    attribute
        Attribute id (e.g. ``age_band``).
    scores
        Construct scores (:func:`dxanalysis.survey.construct_scores`); computed if omitted.
    min_group_size
        Privacy threshold (default ``m.min_group_size``): groups below it are hidden in
        the table and the chart, with complementary suppression, and so are the groups the
        municipality's suppression plan hides in every report (:func:`dxanalysis.privacy.suppression_plan`).

    Returns
    -------
    ExplorerView
    """
    cb = m.codebook
    kind = _kind(cb, measure)
    if attribute not in cb.attributes or attribute not in m.survey.columns:
        raise KeyError(f"explorer: unknown attribute {attribute!r}; choose one of {cb.attribute_ids}")
    min_size = m.min_group_size if min_group_size is None else min_group_size
    table = sv.measure_by_group(m.survey, cb, measure=measure, attribute=attribute, scores=scores)
    plan = suppression_plan(m.survey, cb, min_size=min_size)  # the municipality's one plan: hidden here as in every report
    table = suppress_small_groups(table, n_col="n", min_size=min_size, by="attribute", forced=plan.forced(table))
    label, attr_label = cb.label_of(measure), cb.label_of(attribute)
    dist = None
    n_rows = max(len(table), 3)
    fig, ax = plt.subplots(figsize=(width, 0.42 * n_rows + 1.4))
    if kind == "item":
        d = sv.item_distribution(m.survey, cb, by=attribute)
        d = d[d["item_id"] == measure].copy()
        d = suppress_small_groups(d, n_col="n_group", min_size=min_size, by=["attribute", "value"], forced=plan.forced(d))
        dist = d
        psv.likert_bars(d, row="group", ax=ax, area=False)
    else:
        psv.group_means(table, ax=ax, xlabel="利用している割合" if kind == "tool" else "平均点(1〜5)", percent=kind == "tool")
    ax.set_title(f"{label}({attr_label}別)", loc="left")
    alt = _describe(table, label, attr_label, kind)
    return ExplorerView(measure=measure, attribute=attribute, kind=kind, table=table, figure=fig, alt=alt, distribution=dist)


TABLE_LABELS = {
    "mean": "平均(ツールは利用割合)", "share_negative": "否定的", "share_neutral": "中立", "share_positive": "肯定的",
}


def view_table_html(view: ExplorerView, *, language: str = "ja") -> str:
    """The explorer's table as HTML: group, n, mean, 95% interval, shares (items), difference
    from the whole staff, effect size and q-value. Tool shares show as %, score means and
    their intervals as points (the report's default would print every ``ci_*`` as %)."""
    from .report import table_html

    cols = [c for c in ["group", "n", "mean", "ci_low", "ci_high", "share_negative", "share_neutral", "share_positive", "diff", "effect_size", "q_value", "suppressed"]
            if c in view.table.columns]
    shown = view.table[cols]
    if view.kind != "item":
        shown = shown.drop(columns=["share_negative", "share_neutral", "share_positive"])
    pct, plain = (["mean", "diff"], []) if view.kind == "tool" else ([], ["ci_low", "ci_high"])
    return table_html(shown, labels=TABLE_LABELS, percent_cols=["share_negative", "share_neutral", "share_positive", *pct], plain_cols=plain, language=language)


@dataclass
class Explorer:
    """ipywidgets explorer: choose a measure and an attribute; the chart and table update.

    Build it with :func:`show_explorer` in a notebook. ``update`` is the callback the
    drop-downs call; ``view`` holds the last :class:`ExplorerView` (tests read it).
    """

    m: object
    scores: pd.DataFrame | None = None
    measure: str | None = None
    attribute: str | None = None
    view: ExplorerView | None = None
    widgets: dict = field(default_factory=dict)

    def build(self):
        """Create the widgets (drop-downs, output area) and draw the first view."""
        import ipywidgets as w

        cb = self.m.codebook
        measures = measure_options(cb)
        attrs = attribute_options(cb, self.m.survey)
        self.measure = self.measure or measures[0][1]
        self.attribute = self.attribute or attrs[0][1]
        dd_measure = w.Dropdown(options=measures, value=self.measure, description="指標", layout=w.Layout(width="460px"))
        dd_attr = w.Dropdown(options=attrs, value=self.attribute, description="属性", layout=w.Layout(width="300px"))
        out = w.Output()
        dd_measure.observe(self._on_change, names="value")
        dd_attr.observe(self._on_change, names="value")
        self.widgets = {"measure": dd_measure, "attribute": dd_attr, "output": out, "box": w.VBox([w.HBox([dd_measure, dd_attr]), out])}
        self.update(self.measure, self.attribute)
        return self.widgets["box"]

    def _on_change(self, change) -> None:
        self.update(self.widgets["measure"].value, self.widgets["attribute"].value)

    def update(self, measure: str, attribute: str) -> ExplorerView:
        """Recompute the view for ``measure`` × ``attribute`` and redraw the output area."""
        self.measure, self.attribute = measure, attribute
        view = explorer_view(self.m, measure=measure, attribute=attribute, scores=self.scores)
        self.view = view
        out = self.widgets.get("output")
        if out is not None:
            import base64
            import io

            from IPython.display import HTML, display

            buf = io.BytesIO()
            view.figure.savefig(buf, format="png", dpi=100, bbox_inches="tight")
            img = base64.b64encode(buf.getvalue()).decode("ascii")
            out.clear_output(wait=True)
            with out:
                display(HTML(f'<img src="data:image/png;base64,{img}" alt="{view.alt}">'))
                display(HTML(view_table_html(view, language=getattr(self.m, "language", "ja"))))
        plt.close(view.figure)
        return view


def show_explorer(m, *, scores: pd.DataFrame | None = None, measure: str | None = None, attribute: str | None = None) -> Explorer:
    """Build and display the explorer in JupyterLab; returns the :class:`Explorer`.

    In a batch run (the runner sets ``DXANALYSIS_HEADLESS=1``) nothing is built or
    displayed: no one can use the widget there, and displaying it was traced to a rare
    kernel hang. The report carries the same content as static charts.
    """
    import os

    from IPython.display import display

    ex = Explorer(m, scores=scores, measure=measure, attribute=attribute)
    if os.environ.get("DXANALYSIS_HEADLESS") == "1":
        return ex
    box = ex.build()
    display(box)
    return ex


def positive_share_by_group(dist: pd.DataFrame, codebook, attribute: str) -> pd.DataFrame:
    """Rows of :func:`dxanalysis.survey.positive_shares` for one attribute, with a row label.

    Returns ``item_id``, ``row_label`` (「構成概念 | 項目」), ``group``, ``n_group``,
    ``share_positive`` (NaN for hidden groups).
    """
    pos = sv.positive_shares(dist[dist["attribute"] == attribute], codebook)
    pos["row_label"] = [f"{codebook.label_of(c)} | {codebook.label_of(i)}{'(逆)' if codebook.item(i).reverse else ''}" for c, i in zip(pos["construct"], pos["item_id"])]
    return pos[["item_id", "row_label", "group", "n_group", "share_positive"]]


def _chunks(pos: pd.DataFrame, attributes: list[str], max_columns: int) -> list[list[str]]:
    """Attributes split into consecutive chunks of at most ``max_columns`` groups (≥ 1 attribute each)."""
    sizes = {a: pos.loc[pos["attribute"] == a, "group"].nunique() for a in attributes}
    chunks: list[list[str]] = [[]]
    for a in attributes:
        if chunks[-1] and sum(sizes[b] for b in chunks[-1]) + sizes[a] > max_columns:
            chunks.append([])
        chunks[-1].append(a)
    return chunks


def publish_static(pub, m, dist: pd.DataFrame, *, attributes=None, name: str = "explore_items_by_group", max_columns: int = 10) -> list:
    """The explorer's content as static charts: positive answers per item and group.

    Parameters
    ----------
    pub
        The notebook's :class:`~dxanalysis.report.Publisher`.
    dist
        :func:`dxanalysis.survey.item_distribution` with blocks for the attributes, **after**
        privacy filtering (``pub.table``), so hidden groups stay hidden (「—」).
    attributes
        Attribute ids (default: every attribute block in ``dist``), drawn side by side.
    max_columns
        Groups per chart; attributes are split over several charts (``<name>_1``, …) so
        the numbers stay legible on a printed A4 page.

    Returns
    -------
    list of Path
        The PNG files written.
    """
    cb = m.codebook
    attributes = attributes or [a for a in dict.fromkeys(dist["attribute"]) if a != sv.OVERALL_ATTRIBUTE]
    pos = pd.concat([positive_share_by_group(dist, cb, a).assign(attribute=a) for a in attributes], ignore_index=True)
    paths = []
    for k, chunk in enumerate(_chunks(pos, attributes, max_columns), start=1):
        part = pos[pos["attribute"].isin(chunk)]
        n_items = part["item_id"].nunique()
        n_cols = len(dict.fromkeys(zip(part["attribute"], part["group"])))
        fig, ax = plt.subplots(figsize=(3.6 + 0.5 * n_cols, 0.26 * n_items + 2.0))
        psv.share_heatmap(part, row="row_label", col="group", col_group="attribute", group_labels={a: cb.label_of(a) for a in chunk},
                          value="share_positive", ax=ax, colorbar_label="肯定的な回答の割合")
        paths.append(pub.figure(fig, f"{name}_{k}", alt=describe_static(part, cb)))
    return paths


def describe_static(pos: pd.DataFrame, codebook) -> str:
    """Alt text of :func:`publish_static`: per attribute, the item whose share differs most."""
    parts = []
    for attr, block in pos.dropna(subset=["share_positive"]).groupby("attribute", sort=False):
        spread = block.groupby("item_id")["share_positive"].agg(lambda s: s.max() - s.min())
        if spread.empty:
            continue
        top = spread.idxmax()
        rows = block[block["item_id"] == top]
        hi, lo = rows.loc[rows["share_positive"].idxmax()], rows.loc[rows["share_positive"].idxmin()]
        parts.append(f"{codebook.label_of(attr)}では「{codebook.label_of(top)}」の差が最も大きく、{hi['group']} {hi['share_positive'] * 100:.0f}%、{lo['group']} {lo['share_positive'] * 100:.0f}%")
    head = "設問ごとの肯定的な回答の割合を属性の集団別に示す表形式の図。"
    return head + ("。".join(parts) + "。" if parts else "表示できる集団がありません。")


__all__ = ["Explorer", "ExplorerView", "explorer_view", "view_table_html", "show_explorer", "publish_static", "describe_static", "measure_options", "attribute_options", "positive_share_by_group"]
