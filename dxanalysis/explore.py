"""Interactive exploration of the staff survey (notebook 01) and its static counterpart.

In JupyterLab, :class:`Explorer` shows two drop-downs (a construct, item or tool, and a
staff attribute); every change redraws HTML bars (:func:`chart_html`, the same bars as the
shared report's explorer) and a table for the groups of that attribute. All the work
happens in :func:`explorer_view`, a plain function that returns the privacy-filtered table
and a chart drawn on first use, so it is tested without a browser
(``tests/test_explore.py``) and the widget only wires drop-downs to it.

Shared HTML reports cannot run widget JavaScript (LGWAN terminals, and the renderer
drops widget views), so :func:`publish_static` publishes the same content as a static
chart: the share of positive answers of every item by the groups of every attribute.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from . import i18n
from . import survey as sv
from .plots import survey as psv
from .privacy import suppress_small_groups, suppression_plan


#: The explorer's words by language, from the catalogue (``i18n.TEXT["explore.<key>"]``).
WORDS = {language: {key.removeprefix("explore."): i18n.t(key, language) for key in i18n.TEXT if key.startswith("explore.")} for language in i18n.LANGUAGES}


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
    alt
        One sentence stating what the chart shows.
    draw, distribute
        Draw the chart (from the distribution) and compute the distribution; called on the
        first use of :attr:`figure` / :attr:`distribution`, so a redraw in the explorer,
        which shows the HTML bars of :func:`chart_html`, never pays for either.
    distribution
        (property) For items: the filtered answer distribution by group (else None).
    figure
        (property) The chart (matplotlib Figure) drawn from the filtered data only.
    """

    measure: str
    attribute: str
    kind: str
    table: pd.DataFrame
    alt: str
    draw: Callable[[pd.DataFrame | None, pd.DataFrame], object] = field(repr=False, compare=False)
    distribute: Callable[[], pd.DataFrame | None] = field(default=lambda: None, repr=False, compare=False)
    title: str = ""
    _figure: object = field(default=None, init=False, repr=False, compare=False)
    _distribution: pd.DataFrame | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def distribution(self) -> pd.DataFrame | None:
        if self._distribution is None:
            self._distribution = self.distribute()
        return self._distribution

    @property
    def figure(self):
        if self._figure is None:
            self._figure = self.draw(self.distribution, self.table)  # this view's table: a sorted view draws sorted bars
        return self._figure


def measure_groups(codebook, language: str = "ja") -> list[tuple[str, list[tuple[str, str]]]]:
    """Measures grouped by construct: (heading, [(label, id), ...]) with the construct's score
    first, then its items (reverse-worded ones marked (逆)); tools and multi-select options last."""
    w = WORDS.get(language, WORDS["ja"])
    groups = []
    for cid, c in codebook.constructs.items():
        opts = [(f"{w['score']}: {c.label}", cid)]
        opts += [(f"{i.short or i.header}{w['reverse'] if i.reverse else ''}", i.id) for i in codebook.items if i.construct == cid]
        groups.append((c.label, opts))
    rest = [(f"{i.short or i.header}{w['reverse'] if i.reverse else ''}", i.id) for i in codebook.items if i.construct not in codebook.constructs]
    if rest:
        groups.append((w["other_items"], rest))
    if codebook.binary_measures:
        groups.append((w["tools"], [(t.label, t.id) for t in codebook.binary_measures]))
    return groups


def measure_options(codebook, language: str = "ja") -> list[tuple[str, str]]:
    """(display label, id) of every construct, Likert item and tool, grouped by construct.

    The ipywidgets drop-down has no option groups, so each construct's score
    (「構成概念: マインド・スタンス」) is followed by its items, indented
    (「　項目: 変化への前向きさ」, reverse-worded ones ending in (逆)), then the tools.
    """
    w = WORDS.get(language, WORDS["ja"])
    out = []
    for _head, opts in measure_groups(codebook, language):
        for label, mid in opts:
            if mid in codebook.constructs:
                out.append((f"{w['construct_prefix']}: {codebook.label_of(mid)}", mid))
            elif mid in codebook.item_ids:
                out.append((f"\u3000{w['item_prefix']}: {label}", mid))
            else:
                out.append((f"{w['tool_prefix']}: {label}", mid))
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


def _describe(table: pd.DataFrame, label: str, attr_label: str, kind: str, language: str = "ja") -> str:
    vis = table[(table["attribute"] != sv.OVERALL_ATTRIBUTE)].dropna(subset=["mean"])
    if vis.empty:
        return i18n.t("explore.alt.none", language, measure=label, attribute=attr_label)
    fmt = (lambda v: f"{v * 100:.0f}%") if kind == "tool" else (lambda v: f"{v:.2f}")
    hi, lo = vis.loc[vis["mean"].idxmax()], vis.loc[vis["mean"].idxmin()]
    return i18n.t("explore.alt", language, measure=label, attribute=attr_label, high=hi["group"], high_value=fmt(hi["mean"]), low=lo["group"], low_value=fmt(lo["mean"]))


def group_table(m, *, measure: str, attribute: str, scores: pd.DataFrame | None = None, plan=None, min_group_size: int | None = None,
                filters: dict | None = None) -> pd.DataFrame:
    """:func:`dxanalysis.survey.measure_by_group` of one measure by one attribute, privacy-filtered.

    Parameters
    ----------
    plan
        The municipality's :class:`~dxanalysis.privacy.SuppressionPlan` (computed if omitted):
        its hidden groups are hidden here whatever their counts.
    filters
        ``{attribute id: [values]}``: only respondents in those groups (e.g. 福祉部 × 20代).
        The table is then a cross-classification: its groups are hidden below
        ``min_group_size`` with complementary suppression, the plan's hidden groups stay
        hidden, and when a filter value is itself a hidden group of the plan, or the filtered
        staff are fewer than ``min_group_size``, every row is hidden.

    Returns
    -------
    DataFrame
        The columns of ``measure_by_group`` plus ``suppressed`` (hidden rows have NaN figures).
    """
    cb = m.codebook
    if attribute not in cb.attributes or attribute not in m.survey.columns:
        raise KeyError(f"explorer: unknown attribute {attribute!r}; choose one of {cb.attribute_ids}")
    min_size = m.min_group_size if min_group_size is None else min_group_size
    plan = plan if plan is not None else suppression_plan(m.survey, cb, min_size=min_size)
    survey, filters = m.survey, {a: list(v) for a, v in (filters or {}).items() if v}
    scores = sv.construct_scores(survey, cb) if scores is None and measure in cb.constructs else scores
    for a, values in filters.items():
        if a not in survey.columns:
            raise KeyError(f"explorer: unknown filter attribute {a!r}")
        survey = survey[survey[a].astype(str).isin([str(v) for v in values])]
    if filters and scores is not None:
        scores = scores.loc[survey.index]
    filter_hidden = False
    if filters:
        hid = plan.hidden()
        pairs = set(zip(hid["attribute"], hid["group"].astype(str)))
        filter_hidden = any((a, str(v)) in pairs for a, vs in filters.items() for v in vs) or len(survey) < min_size
    if len(survey) == 0:
        return pd.DataFrame({"attribute": [sv.OVERALL_ATTRIBUTE], "group": ["全体"], "n": [0.0], "mean": [float("nan")], "suppressed": [True]})
    table = sv.measure_by_group(survey, cb, measure=measure, attribute=attribute, scores=scores)
    forced = plan.forced(table)
    if filter_hidden:
        forced[:] = True
    table = suppress_small_groups(table, n_col="n", min_size=min_size, by="attribute", forced=forced)
    return table


def explorer_view(m, *, measure: str, attribute: str, scores: pd.DataFrame | None = None, min_group_size: int | None = None, width: float = 7.5,
                  filters: dict | None = None, plan=None) -> ExplorerView:
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
    filters
        ``{attribute id: [values]}``: only those respondents (see :func:`group_table`).
    plan
        The municipality's suppression plan for ``min_group_size`` (computed if omitted;
        :class:`Explorer` computes it once).

    Returns
    -------
    ExplorerView
    """
    cb = m.codebook
    language = getattr(m, "language", "ja")
    kind = _kind(cb, measure)
    min_size = m.min_group_size if min_group_size is None else min_group_size
    if plan is None:  # the municipality's one plan: hidden here as in every report
        plan = suppression_plan(m.survey, cb, min_size=min_size)
    table = group_table(m, measure=measure, attribute=attribute, scores=scores, plan=plan, min_group_size=min_size, filters=filters)
    label, attr_label = cb.label_of(measure), cb.label_of(attribute)
    where = " × ".join(str(v) for vs in (filters or {}).values() for v in vs)
    title = i18n.t("explore.chart_title", language, measure=label, attribute=attr_label, where=i18n.t("explore.chart_where", language, where=where) if where else "")

    def distribute():
        if kind != "item":
            return None
        survey = m.survey
        for f, values in (filters or {}).items():
            if values:
                survey = survey[survey[f].astype(str).isin([str(v) for v in values])]
        d = sv.item_distribution(survey, cb.model_copy(update={"items": [cb.item(measure)]}), by=attribute)  # this item's rows only
        # the chart hides what the table hides (plan, small cells, their complements, a hidden filter)
        hidden = set(zip(table.loc[table["suppressed"].astype(bool), "attribute"], table.loc[table["suppressed"].astype(bool), "group"].astype(str)))
        forced = plan.forced(d) | pd.Series([(a, str(g)) in hidden for a, g in zip(d["attribute"], d["group"])], index=d.index)
        return suppress_small_groups(d, n_col="n_group", min_size=min_size, by=["attribute", "value"], forced=forced)

    def draw(dist, shown):
        fig, ax = plt.subplots(figsize=(width, 0.42 * max(len(shown), 3) + 1.4))
        if kind == "item":
            psv.likert_bars(dist, row="group", ax=ax, area=False, language=language)
        else:
            psv.group_means(shown, ax=ax, xlabel=i18n.t("plot.share_using" if kind == "tool" else "survey.statistic.mean", language), percent=kind == "tool", language=language)
        ax.set_title(title, loc="left", pad=30 if kind == "item" else 6)  # the item legend sits above the axes
        return fig

    alt = _describe(table, i18n.t("explore.alt_label", language, measure=label, where=where) if where else label, attr_label, kind, language)
    return ExplorerView(measure=measure, attribute=attribute, kind=kind, table=table, alt=alt, draw=draw, distribute=distribute, title=title)


def chart_html(view: ExplorerView, *, language: str = "ja") -> str:
    """The view's chart as HTML bars, the same bars as the shared report's explorer.

    One row per group of ``view.table`` (its order, so a sorted table sorts the bars):
    construct means on the 1–5 scale, tool shares as %, items as negative / neutral /
    positive shares stacked. A hidden group shows only 非表示 — the bars are built from the
    privacy-filtered table, so they cannot show what the table hides. ``role="img"`` with
    the view's alt text for screen readers. Costs milliseconds where drawing the
    matplotlib chart cost 0.3–0.5 s (the explorer's redraw target is 0.3 s); the chart is
    still drawn, from the same table, when the view is saved as PNG.
    """
    import html as _html

    w = WORDS.get(language, WORDS["ja"])
    item, tool = view.kind == "item", view.kind == "tool"
    rows = []
    for r in view.table.itertuples(index=False):
        g = _html.escape(str(r.group))
        if bool(r.suppressed) or pd.isna(r.mean):
            rows.append(f'<tr class="dx-hidden"><th scope="row">{g}</th><td>{w["hidden"]}</td><td class="dx-barcell"></td></tr>')
            continue
        shares = [getattr(r, c) for c in ("share_negative", "share_neutral", "share_positive")] if item else []
        value = " / ".join(f"{v * 100:.0f}%" if pd.notna(v) else "—" for v in shares) if item else f"{r.mean * 100:.1f}%" if tool else f"{r.mean:.2f}"
        rows.append(f'<tr><th scope="row">{g}</th><td>{value}</td>{_bar_cell(view.kind, r.mean, shares)}</tr>')
    head = f'<th scope="col">{w["group"]}</th><th scope="col">{w["dist"] if item else w["share"] if tool else w["mean"]}</th><th scope="col">{w["bar"]}</th>'
    return (f'<section class="dx-explore dx-chart" role="img" aria-label="{_html.escape(view.alt)}"><style>{_OFFLINE_CSS}</style>'
            f'<table class="dx-table"><caption>{_html.escape(view.title)}</caption><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
            + (f'<p class="dx-note">{_html.escape(w["legend"])}</p>' if item else "") + "</section>")


def compare_groups(m, *, measure: str, attribute: str, a: str, b: str, table: pd.DataFrame | None = None, filters: dict | None = None,
                   scores: pd.DataFrame | None = None) -> dict | None:
    """Two groups of one attribute side by side: their values, the difference ``a − b`` and its 95% interval.

    Means (construct scores, item answers): Welch's t interval. Tool shares: Newcombe's
    hybrid score interval (method 10, from the two Wilson intervals). Returns None when
    either group is hidden in ``table`` (the privacy-filtered :func:`group_table`), so a
    comparison never shows a hidden group.

    Returns
    -------
    dict
        ``a``, ``b``, ``n_a``, ``n_b``, ``value_a``, ``value_b``, ``diff``, ``ci_low``, ``ci_high``, ``kind``.
    """
    from scipy import stats

    cb = m.codebook
    kind = _kind(cb, measure)
    if table is None:
        table = group_table(m, measure=measure, attribute=attribute, scores=scores, filters=filters)
    shown = table[(table["attribute"] == attribute) & ~table["suppressed"].astype(bool)]
    if a == b or a not in set(shown["group"].astype(str)) or b not in set(shown["group"].astype(str)):
        return None
    survey = m.survey
    for f, values in (filters or {}).items():
        if values:
            survey = survey[survey[f].astype(str).isin([str(v) for v in values])]
    if kind == "construct":
        scores = sv.construct_scores(m.survey, cb) if scores is None else scores
        y = scores.loc[survey.index, measure]
    else:
        y = survey[measure]
    ya = y[survey[attribute].astype(str) == a].dropna().to_numpy(dtype=float)
    yb = y[survey[attribute].astype(str) == b].dropna().to_numpy(dtype=float)
    na, nb = len(ya), len(yb)
    ma, mb = ya.mean(), yb.mean()
    if kind == "tool":
        la, ha = (float(v) for v in sv.wilson_interval(ya.sum(), na))
        lb, hb = (float(v) for v in sv.wilson_interval(yb.sum(), nb))
        d = ma - mb
        lo = d - np.sqrt((ma - la) ** 2 + (hb - mb) ** 2)
        hi = d + np.sqrt((ha - ma) ** 2 + (mb - lb) ** 2)
    else:
        va, vb = ya.var(ddof=1) / na, yb.var(ddof=1) / nb
        se = np.sqrt(va + vb)
        df = (va + vb) ** 2 / (va**2 / (na - 1) + vb**2 / (nb - 1)) if se > 0 else na + nb - 2
        t = stats.t.ppf(0.975, df)
        d = ma - mb
        lo, hi = d - t * se, d + t * se
    return {"a": a, "b": b, "n_a": na, "n_b": nb, "value_a": float(ma), "value_b": float(mb), "diff": float(d), "ci_low": float(lo), "ci_high": float(hi), "kind": kind}


def sort_table(table: pd.DataFrame, order: str = "none") -> pd.DataFrame:
    """The whole-staff row first, then the groups in their order (``none``), by value
    ``desc`` or ``asc``; hidden groups last."""
    if order == "none":
        return table
    overall = table[table["attribute"] == sv.OVERALL_ATTRIBUTE]
    rest = table[table["attribute"] != sv.OVERALL_ATTRIBUTE]
    rest = rest.sort_values("mean", ascending=order == "asc", na_position="last", kind="stable")
    return pd.concat([overall, rest])


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


#: How many views (table and chart) the explorer keeps, so going back to a choice redraws nothing.
CACHED_VIEWS = 32


def figure_png(fig, *, dpi: int = 100) -> bytes:
    """``fig.savefig(format="png", dpi=dpi, bbox_inches="tight")``, the same bytes with one layout pass fewer.

    ``bbox_inches="tight"`` lays the figure out with a throw-away renderer, measures the box
    with it, and renders; here the box is measured once at ``dpi``
    (:func:`dxanalysis.report._tight_bbox`) and passed to ``savefig``.
    """
    import io

    from .report import _tight_bbox

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches=_tight_bbox(fig, dpi=dpi))
    return buf.getvalue()


@dataclass
class Explorer:
    """ipywidgets explorer: a measure, an attribute, filters, two groups to compare, an order,
    and a button that saves the current view; the chart and the table follow every change.

    Build it with :func:`show_explorer` in a notebook. ``update`` is the callback the
    controls call; ``view`` holds the last :class:`ExplorerView` and ``comparison`` the last
    :func:`compare_groups` result (tests read them). ``report_dir`` is where :meth:`save`
    writes (``<report_dir>/explore/``).
    """

    m: object
    scores: pd.DataFrame | None = None
    measure: str | None = None
    attribute: str | None = None
    report_dir: object = None
    filters: dict = field(default_factory=dict)
    order: str = "none"
    view: ExplorerView | None = None
    comparison: dict | None = None
    widgets: dict = field(default_factory=dict)
    _html: str = ""
    _plan: object = None
    _cache: dict = field(default_factory=dict)  # (measure, attribute, filters) → view (its chart undrawn), most recent last

    @property
    def words(self) -> dict:
        return WORDS.get(getattr(self.m, "language", "ja"), WORDS["ja"])

    def _groups(self, attribute: str) -> list[str]:
        col = self.m.survey[attribute].dropna()
        cats = list(col.cat.categories) if hasattr(col, "cat") else sorted(col.astype(str).unique())
        return [str(c) for c in cats if (col.astype(str) == str(c)).any()]

    def build(self):
        """Create the widgets and draw the first view."""
        import ipywidgets as w

        cb, wd = self.m.codebook, self.words
        measures = measure_options(cb, getattr(self.m, "language", "ja"))
        attrs = attribute_options(cb, self.m.survey)
        self.measure = self.measure or measures[0][1]
        self.attribute = self.attribute or attrs[0][1]
        style = {"description_width": "initial"}
        dd_measure = w.Dropdown(options=measures, value=self.measure, description=wd["measure"], layout=w.Layout(width="440px"), style=style)
        dd_attr = w.Dropdown(options=attrs, value=self.attribute, description=wd["attribute"], layout=w.Layout(width="220px"), style=style)
        dd_sort = w.Dropdown(options=[(wd["sort_none"], "none"), (wd["sort_desc"], "desc"), (wd["sort_asc"], "asc")], value=self.order, description=wd["sort"],
                             layout=w.Layout(width="200px"), style=style)
        filt = {aid: w.Dropdown(options=[(wd["filter_all"], "")] + [(g, g) for g in self._groups(aid)], value="", description=label,
                                layout=w.Layout(width="230px"), style=style) for label, aid in attrs}
        dd_a = w.Dropdown(options=[(wd["compare_none"], "")], value="", description=wd["compare"] + " A", layout=w.Layout(width="230px"), style=style)
        dd_b = w.Dropdown(options=[(wd["compare_none"], "")], value="", description="B", layout=w.Layout(width="200px"), style=style)
        save = w.Button(description=wd["save"], icon="download", layout=w.Layout(width="auto"))
        status = w.HTML()
        out = w.Output()
        for dd in (dd_measure, dd_attr, dd_sort, dd_a, dd_b, *filt.values()):
            dd.observe(self._on_change, names="value")
        save.on_click(lambda _b: self.save())
        self.widgets = {"measure": dd_measure, "attribute": dd_attr, "sort": dd_sort, "filters": filt, "compare_a": dd_a, "compare_b": dd_b,
                        "save": save, "status": status, "output": out}
        filter_box = w.HBox([w.Label(wd["filter"] + ":"), *filt.values()], layout=w.Layout(flex_flow="row wrap"))
        self.widgets["box"] = w.VBox([w.HBox([dd_measure, dd_attr, dd_sort]), filter_box, w.HBox([dd_a, dd_b, save, status]), out])
        self._set_compare_options()
        self.update(self.measure, self.attribute)
        return self.widgets["box"]

    def _set_compare_options(self) -> None:
        wd = self.words
        opts = [(wd["compare_none"], "")] + [(g, g) for g in self._groups(self.attribute)]
        for key in ("compare_a", "compare_b"):
            dd = self.widgets[key]
            with dd.hold_trait_notifications():
                dd.unobserve(self._on_change, names="value")
                dd.options, dd.value = opts, ""
                dd.observe(self._on_change, names="value")

    def _on_change(self, change) -> None:
        wg = self.widgets
        if change.get("owner") is wg["attribute"]:
            self.attribute = wg["attribute"].value
            self._set_compare_options()
        filters = {a: [dd.value] for a, dd in wg["filters"].items() if dd.value}
        self.update(wg["measure"].value, wg["attribute"].value, filters=filters, order=wg["sort"].value,
                    compare=(wg["compare_a"].value, wg["compare_b"].value))

    def update(self, measure: str, attribute: str, *, filters: dict | None = None, order: str | None = None, compare: tuple[str, str] | None = None) -> ExplorerView:
        """Recompute the view for ``measure`` × ``attribute`` (restricted to ``filters``) and redraw."""
        self.measure, self.attribute = measure, attribute
        self.filters = dict(filters if filters is not None else self.filters)
        self.order = order or self.order
        if self._plan is None:
            self._plan = suppression_plan(self.m.survey, self.m.codebook, min_size=self.m.min_group_size)
        key = (measure, attribute, tuple(sorted((a, tuple(map(str, v))) for a, v in self.filters.items() if v)))
        if key in self._cache:  # the same choice again (another order, another comparison): no new computation
            view = self._cache.pop(key)
        else:  # the table only: the bars are HTML; matplotlib draws the chart when the view is saved
            view = explorer_view(self.m, measure=measure, attribute=attribute, scores=self.scores, filters=self.filters, plan=self._plan)
        self._cache[key] = view
        while len(self._cache) > CACHED_VIEWS:
            self._cache.pop(next(iter(self._cache)))
        view = replace(view, table=sort_table(view.table, self.order))
        self.view = view
        self._html = chart_html(view, language=getattr(self.m, "language", "ja"))
        a, b = compare or ("", "")
        self.comparison = compare_groups(self.m, measure=measure, attribute=attribute, a=a, b=b, table=view.table, filters=self.filters, scores=self.scores) if a and b else None
        out = self.widgets.get("output")
        if out is not None:
            from IPython.display import HTML, display

            out.clear_output(wait=True)
            with out:
                # the Output's saved state keeps these bars and the table: a reopened notebook shows the last view
                display(HTML(self._html))
                if self.comparison is not None:
                    display(HTML(comparison_html(self.comparison, self.m.codebook.label_of(measure), language=getattr(self.m, "language", "ja"))))
                elif a and b and a != b:
                    display(HTML(f'<p class="dx-note">{self.words["filtered_hidden"]}</p>'))
                display(HTML(view_table_html(view, language=getattr(self.m, "language", "ja"))))
        return view

    def save(self) -> list:
        """Save the current view as CSV (privacy-filtered table, Japanese headers) and PNG into
        ``<report_dir>/explore/``; returns the two paths."""
        from pathlib import Path

        from .privacy import neutralise_frame
        from .report import COLUMN_LABELS

        if self.view is None:
            raise RuntimeError("explorer: nothing to save yet")
        folder = Path(self.report_dir if self.report_dir is not None else ".") / "explore"
        folder.mkdir(parents=True, exist_ok=True)
        parts = [self.measure, self.attribute] + [f"{a}-{'+'.join(map(str, v))}" for a, v in sorted(self.filters.items())]
        stem = "_".join(parts).replace("/", "-")
        table = self.view.table.drop(columns=[c for c in ("suppression_reason", "p_value") if c in self.view.table.columns])
        labels = {**COLUMN_LABELS.get(getattr(self.m, "language", "ja"), {}), **TABLE_LABELS}
        csv = neutralise_frame(table.round(4)).rename(columns=labels)
        csv.to_csv(folder / f"{stem}.csv", index=False, encoding="utf-8-sig")
        fig = self.view.figure
        (folder / f"{stem}.png").write_bytes(figure_png(fig))
        plt.close(fig)
        status = self.widgets.get("status")
        if status is not None:
            status.value = self.words["saved"].format(path=f"explore/{stem}.csv, .png")
        return [folder / f"{stem}.csv", folder / f"{stem}.png"]


def comparison_html(c: dict, label: str, *, language: str = "ja") -> str:
    """Two groups side by side with the difference and its 95% interval (a small table)."""
    import html as _html

    w = WORDS.get(language, WORDS["ja"])
    fmt = (lambda v: f"{v * 100:.1f}%") if c["kind"] == "tool" else (lambda v: f"{v:.2f}")
    dfmt = (lambda v: f"{v * 100:+.1f}pt") if c["kind"] == "tool" else (lambda v: f"{v:+.2f}")
    head = w["share"] if c["kind"] == "tool" else w["mean"]
    e = _html.escape
    return (f'<table class="dx-table"><caption>{e(label)}: A {e(c["a"])} / B {e(c["b"])}</caption><thead><tr><th scope="col">{w["group"]}</th>'
            f'<th scope="col">{w["n"]}</th><th scope="col">{head}</th></tr></thead><tbody>'
            f'<tr><th scope="row">A {e(c["a"])}</th><td>{c["n_a"]:,}</td><td>{fmt(c["value_a"])}</td></tr>'
            f'<tr><th scope="row">B {e(c["b"])}</th><td>{c["n_b"]:,}</td><td>{fmt(c["value_b"])}</td></tr>'
            f'<tr><th scope="row">{w["diff"]}</th><td></td><td>{dfmt(c["diff"])}({w["ci"]} {dfmt(c["ci_low"])}{w["range_sep"]}{dfmt(c["ci_high"])})</td></tr></tbody></table>')


def show_explorer(m, *, scores: pd.DataFrame | None = None, measure: str | None = None, attribute: str | None = None, report_dir=None) -> Explorer:
    """Build and display the explorer in JupyterLab; returns the :class:`Explorer`.

    In a batch run (the runner sets ``DXANALYSIS_HEADLESS=1``) nothing is built or
    displayed: no one can use the widget there, and displaying it was traced to a rare
    kernel hang. The report carries the same content as the offline explorer
    (:func:`publish_offline`).
    """
    import os

    from IPython.display import display

    ex = Explorer(m, scores=scores, measure=measure, attribute=attribute, report_dir=report_dir)
    if os.environ.get("DXANALYSIS_HEADLESS") == "1":
        return ex
    box = ex.build()
    display(box)
    return ex


# ----------------------------------------------------------------------------- offline explorer
def _r(v, digits: int = 3):
    return None if v is None or pd.isna(v) else round(float(v), digits)


def offline_data(m, *, scores: pd.DataFrame | None = None, plan=None, language: str | None = None) -> dict:
    """Every measure × attribute view of the explorer, privacy-filtered, as compact JSON-ready data.

    Returns
    -------
    dict
        ``measures``: ``[id, label, kind, heading]`` in drop-down order (grouped by construct,
        reverse-worded items marked (逆)); ``attributes``: ``[id, label]``; ``views``:
        ``{"<measure>|<attribute>": rows}`` where a shown row is ``[group, n, mean, ci_low,
        ci_high]`` (+ ``share_negative, share_neutral, share_positive`` for items) and a
        hidden row is ``[group]`` alone: no number of a hidden group is in the data.
    """
    cb = m.codebook
    language = language or getattr(m, "language", "ja")
    plan = plan if plan is not None else suppression_plan(m.survey, cb, min_size=m.min_group_size)
    scores = sv.construct_scores(m.survey, cb) if scores is None else scores
    measures = [[mid, label, _kind(cb, mid), head] for head, opts in measure_groups(cb, language) for label, mid in opts]
    attributes = [[aid, label] for label, aid in attribute_options(cb, m.survey)]
    overall = WORDS.get(language, WORDS["ja"])["overall"]  # the whole-staff row, in the report's language
    ids = [mid for mid, *_ in measures]
    # every measure by one attribute in one pass (survey.group_summaries: the numbers of measure_by_group),
    # then one suppression call for all views: its partitions (view × attribute) are suppressed each on
    # their own, exactly as group_table suppresses one view. A partition with no small and no planned
    # group hides nothing (the complementary step starts from a hidden cell), so it is left out of the call.
    t = pd.concat([sv.group_summaries(m.survey, cb, measures=ids, attribute=aid, scores=scores).assign(view=lambda d, aid=aid: d["measure"] + "|" + aid)
                   for aid, _ in attributes], ignore_index=True)
    cells = t[["view", "attribute", "group", "n"]]
    forced = plan.forced(cells)
    touched = ((cells["n"] < m.min_group_size) | forced).groupby([cells["view"], cells["attribute"]], sort=False).transform("any").to_numpy(dtype=bool)
    hidden = np.zeros(len(t), dtype=bool)
    if touched.any():
        part = cells[touched]
        hidden[touched] = suppress_small_groups(part, n_col="n", min_size=m.min_group_size, by=["view", "attribute"], forced=forced[touched])["suppressed"].to_numpy(dtype=bool)
    item = {mid: kind == "item" for mid, _label, kind, _head in measures}
    views: dict[str, list] = {f"{mid}|{aid}": [] for mid in ids for aid, _ in attributes}
    for r, hide in zip(t.itertuples(index=False), hidden):
        group = overall if r.attribute == sv.OVERALL_ATTRIBUTE else str(r.group)
        if hide:
            views[r.view].append([group])
            continue
        row = [group, int(r.n), _r(r.mean), _r(r.ci_low), _r(r.ci_high)]
        if item[r.measure]:
            row += [_r(r.share_negative), _r(r.share_neutral), _r(r.share_positive)]
        views[r.view].append(row)
    return {"measures": measures, "attributes": attributes, "views": views}


_OFFLINE_CSS = """
.dx-explore{border:1px solid var(--line,#d0d7de);border-radius:6px;padding:.4rem 1rem 1rem;margin:1rem 0}
.dx-explore .dx-controls{display:flex;flex-wrap:wrap;gap:.6rem 1.2rem;align-items:end}
.dx-explore label{display:flex;flex-direction:column;font-size:.9rem;font-weight:bold}
.dx-explore select{font-size:1rem;padding:.2rem;max-width:34rem}
.dx-explore td.dx-barcell{width:14rem;text-align:left}
.dx-explore .dx-track{display:flex;height:.95rem;background:#eef1f4;width:100%}
.dx-explore .dx-bar{display:block;height:100%;background:#0b4f8a}
.dx-explore .dx-neg{background:#b2182b}.dx-explore .dx-neu{background:#bdbdbd}.dx-explore .dx-pos{background:#2166ac}
.dx-explore th[scope=row]{text-align:left;font-weight:normal}
@media print{.dx-explore .dx-controls{display:none}}
"""

# the inline script: rebuilds the table body and caption from the embedded JSON; no network, no eval
_OFFLINE_JS = r"""
(function(){
var root=document.getElementById('%(id)s');if(!root)return;
var D=JSON.parse(document.getElementById('%(id)s-data').textContent),W=D.words;
var sm=root.querySelector('.dx-measure'),sa=root.querySelector('.dx-attribute'),so=root.querySelector('.dx-sort');
var cap=root.querySelector('caption'),head=root.querySelector('thead tr'),body=root.querySelector('tbody');
function esc(t){return String(t).replace(/[&<>"]/g,function(c){return{'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c];});}
function kind(id){for(var i=0;i<D.measures.length;i++)if(D.measures[i][0]===id)return D.measures[i];}
function pct(v){return (v*100).toFixed(1)+'%';}
function draw(){
 var m=kind(sm.value),item=m[2]==='item',tool=m[2]!=='item'&&m[2]!=='construct';
 var rows=(D.views[sm.value+'|'+sa.value]||[]).slice(),alab=sa.options[sa.selectedIndex].text;
 var fmt=tool?pct:function(v){return v.toFixed(2);};
 if(so.value!=='none'){var top=rows.shift();rows.sort(function(a,b){var x=a.length>1?a[2]:null,y=b.length>1?b[2]:null;if(x===null)return 1;if(y===null)return -1;return so.value==='desc'?y-x:x-y;});rows.unshift(top);}
 cap.textContent=W.caption.replace('{measure}',m[1]).replace('{attribute}',alab);
 var h='<th scope="col">'+W.group+'</th><th scope="col">'+W.n+'</th><th scope="col">'+(tool?W.share:W.mean)+'</th><th scope="col">'+W.ci+'</th>'+(item?'<th scope="col">'+W.dist+'</th>':'')+'<th scope="col">'+W.bar+'</th>';
 head.innerHTML=h;
 var out='';
 rows.forEach(function(r){
  if(r.length===1){out+='<tr class="dx-hidden"><th scope="row">'+esc(r[0])+'</th><td>'+W.hidden+'</td><td>—</td><td>—</td>'+(item?'<td>—</td>':'')+'<td class="dx-barcell"></td></tr>';return;}
  var w=tool?r[2]*100:(r[2]-1)/4*100,bar;
  if(item){bar='<span class="dx-track" aria-hidden="true"><span class="dx-bar dx-neg" style="width:'+(r[5]*100).toFixed(1)+'%"></span><span class="dx-bar dx-neu" style="width:'+(r[6]*100).toFixed(1)+'%"></span><span class="dx-bar dx-pos" style="width:'+(r[7]*100).toFixed(1)+'%"></span></span>';}
  else{bar='<span class="dx-track" aria-hidden="true"><span class="dx-bar" style="width:'+Math.max(0,Math.min(100,w)).toFixed(1)+'%"></span></span>';}
  out+='<tr><th scope="row">'+esc(r[0])+'</th><td>'+r[1].toLocaleString()+'</td><td>'+fmt(r[2])+'</td><td>'+(r[3]===null?'—':fmt(r[3])+W.range_sep+fmt(r[4]))+'</td>'+(item?'<td>'+pct(r[5])+' / '+pct(r[6])+' / '+pct(r[7])+'</td>':'')+'<td class="dx-barcell">'+bar+'</td></tr>';
 });
 body.innerHTML=out;
}
sm.addEventListener('change',draw);sa.addEventListener('change',draw);so.addEventListener('change',draw);
root.querySelector('.dx-controls').hidden=false;
})();
"""


def _bar_cell(kind: str, mean: float, shares) -> str:
    """One group's bar cell, shared by the report's offline explorer and the JupyterLab panel:
    an item's negative / neutral / positive shares stacked, a tool's share, a construct's
    mean on the 1–5 scale (its inline script draws the same bars for the other views)."""
    if kind == "item":
        bar = "".join(f'<span class="dx-bar dx-{k}" style="width:{v * 100:.1f}%"></span>' for k, v in zip(("neg", "neu", "pos"), shares) if pd.notna(v))
    else:
        width = (mean - 1) / 4 * 100 if kind == "construct" else mean * 100  # any other measure is a share, as in the inline script
        bar = f'<span class="dx-bar" style="width:{max(0, min(100, width)):.1f}%"></span>'
    return f'<td class="dx-barcell"><span class="dx-track" aria-hidden="true">{bar}</span></td>'


def _first_table_html(data: dict, words: dict, measure: str, attribute: str, attr_label: str) -> str:
    """The first view as a real table (what a reader without JavaScript, or a printer, sees)."""
    import html as _html

    m = next(x for x in data["measures"] if x[0] == measure)
    item, tool = m[2] == "item", m[2] not in ("item", "construct")
    fmt = (lambda v: f"{v * 100:.1f}%") if tool else (lambda v: f"{v:.2f}")

    def pct(v):
        return f"{v * 100:.1f}%"

    head = (f'<th scope="col">{words["group"]}</th><th scope="col">{words["n"]}</th><th scope="col">{words["share"] if tool else words["mean"]}</th>'
            f'<th scope="col">{words["ci"]}</th>' + (f'<th scope="col">{words["dist"]}</th>' if item else "") + f'<th scope="col">{words["bar"]}</th>')
    rows = []
    for r in data["views"][f"{measure}|{attribute}"]:
        g = _html.escape(r[0])
        if len(r) == 1:
            rows.append(f'<tr class="dx-hidden"><th scope="row">{g}</th><td>{words["hidden"]}</td><td>—</td><td>—</td>' + ("<td>—</td>" if item else "") + '<td class="dx-barcell"></td></tr>')
            continue
        ci = "—" if r[3] is None else f"{fmt(r[3])}{words['range_sep']}{fmt(r[4])}"
        dist = f"<td>{pct(r[5])} / {pct(r[6])} / {pct(r[7])}</td>" if item else ""
        rows.append(f'<tr><th scope="row">{g}</th><td>{r[1]:,}</td><td>{fmt(r[2])}</td><td>{ci}</td>{dist}{_bar_cell(m[2], r[2], r[5:8])}</tr>')
    cap = words["caption"].format(measure=m[1], attribute=attr_label)
    return f'<table class="dx-table"><caption>{_html.escape(cap)}</caption><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def offline_explorer_html(data: dict, *, language: str = "ja", element_id: str = "dx-explore") -> str:
    """The explorer for the shared HTML: ``<select>`` elements, the first view as a real table,
    the data in ``<script type="application/json">`` and a small inline script (no external file).

    Without JavaScript the first view stays, with a ``<noscript>`` note; the controls are
    hidden until the script runs, so a reader never sees drop-downs that do nothing.
    """
    import html as _html
    import json as _json

    w = WORDS.get(language, WORDS["ja"])
    e = _html.escape
    measure, (attribute, attr_label) = data["measures"][0][0], data["attributes"][0]
    groups: dict[str, list] = {}
    for mid, label, _kind, head in data["measures"]:
        groups.setdefault(head, []).append((mid, label))
    opt_m = "".join(f'<optgroup label="{e(h)}">' + "".join(f'<option value="{e(i)}"{" selected" if i == measure else ""}>{e(lab)}</option>' for i, lab in opts) + "</optgroup>"
                    for h, opts in groups.items())
    opt_a = "".join(f'<option value="{e(i)}">{e(lab)}</option>' for i, lab in data["attributes"])
    opt_s = "".join(f'<option value="{v}">{w[k]}</option>' for v, k in (("none", "sort_none"), ("desc", "sort_desc"), ("asc", "sort_asc")))
    payload = _json.dumps({**data, "words": {k: w[k] for k in ("caption", "group", "n", "mean", "share", "ci", "dist", "bar", "hidden", "range_sep")}},
                          ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    controls = (f'<div class="dx-controls" hidden>'
                f'<label for="{element_id}-m">{w["measure"]}<select id="{element_id}-m" class="dx-measure">{opt_m}</select></label>'
                f'<label for="{element_id}-a">{w["attribute"]}<select id="{element_id}-a" class="dx-attribute">{opt_a}</select></label>'
                f'<label for="{element_id}-s">{w["sort"]}<select id="{element_id}-s" class="dx-sort">{opt_s}</select></label></div>')
    return (f'<section class="dx-explore" id="{element_id}" aria-label="{e(w["title"])}"><style>{_OFFLINE_CSS}</style>'
            f'<p class="dx-note">{e(w["lead"])} {e(w["legend"])}</p>{controls}'
            f'<div class="dx-table-wrap" aria-live="polite">{_first_table_html(data, w, measure, attribute, attr_label)}</div>'
            f'<noscript><p class="dx-note">{e(w["noscript"])}</p></noscript>'
            f'<script type="application/json" id="{element_id}-data">{payload}</script>'
            f"<script>{_OFFLINE_JS.replace('%(id)s', element_id)}</script></section>")


def publish_offline(pub, m, *, scores: pd.DataFrame | None = None) -> int:
    """Publish the offline explorer into the report (replaces the static heatmaps of
    :func:`publish_static`): every measure × attribute view, privacy-filtered with the
    Publisher's suppression plan. Returns the size of the HTML block in bytes."""
    data = offline_data(m, scores=scores, plan=pub.plan, language=pub.language)
    snippet = offline_explorer_html(data, language=pub.language)
    pub.html(snippet)
    return len(snippet.encode("utf-8"))


__all__ = ["Explorer", "ExplorerView", "explorer_view", "chart_html", "figure_png", "view_table_html", "show_explorer", "measure_options", "attribute_options", "group_table", "measure_groups", "offline_data", "offline_explorer_html", "publish_offline", "WORDS"]
