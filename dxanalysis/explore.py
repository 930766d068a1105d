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


#: Reader-facing words of the explorer (ja, en), in one place so they can join the catalogue.
WORDS = {
    "ja": {
        "score": "得点", "construct_prefix": "構成概念", "item_prefix": "項目", "tool_prefix": "ツール", "reverse": "(逆)", "other_items": "その他の設問", "tools": "ツールの利用",
        "measure": "指標", "attribute": "属性", "sort": "並べ方", "sort_none": "集団の順", "sort_desc": "高い順", "sort_asc": "低い順",
        "group": "グループ", "n": "回答者数", "mean": "平均(1〜5)", "share": "利用している割合", "ci": "95%信頼区間",
        "dist": "否定的 / 中立 / 肯定的", "bar": "図", "hidden": "非表示(少人数)", "overall": "全体",
        "caption": "{measure}({attribute}別)",
        "title": "自由に探索する(このページの中で切り替え)",
        "lead": "指標と属性を選ぶと、集団ごとの表が切り替わります。すべての組み合わせを事前に集計してこのファイルに入れてあるため、ネットワークにつながっていなくても動きます。回答者が少ない集団は「非表示(少人数)」と表示し、数値を出しません。",
        "noscript": "この表を切り替えるには JavaScript を有効にしてください。最初の組み合わせ(上の表)だけを表示しています。すべての組み合わせは表計算ソフトで開ける tables/ フォルダにはありません。",
        "legend": "棒の長さは平均点(1〜5)または割合。項目の棒は左から否定的・中立・肯定的な回答の割合。",
        "filter": "絞り込み", "filter_all": "すべて", "compare": "比べる", "compare_none": "(比べない)",
        "diff": "差(A − B)", "save": "この表示を保存(CSV・PNG)", "saved": "保存しました: {path}",
        "filtered_hidden": "絞り込んだ集団は回答者が少ないため表示できません。", "no_view": "表示できる集団がありません。",
    },
    "en": {
        "score": "Score", "construct_prefix": "Construct", "item_prefix": "Item", "tool_prefix": "Tool", "reverse": " (reversed)", "other_items": "Other questions", "tools": "Tool use",
        "measure": "Measure", "attribute": "Attribute", "sort": "Order", "sort_none": "Group order", "sort_desc": "Highest first", "sort_asc": "Lowest first",
        "group": "Group", "n": "Respondents", "mean": "Mean (1-5)", "share": "Share using", "ci": "95% interval",
        "dist": "Negative / neutral / positive", "bar": "Chart", "hidden": "Hidden (small group)", "overall": "All staff",
        "caption": "{measure} by {attribute}",
        "title": "Explore (switch views on this page)",
        "lead": "Choose a measure and an attribute to switch the table. Every combination is precomputed in this file, so it works without a network. Groups with too few respondents are shown as hidden, without numbers.",
        "noscript": "Enable JavaScript to switch this table; only the first view (above) is shown.",
        "legend": "Bar length: mean score (1-5) or share. Item bars: negative, neutral, positive answers from the left.",
        "filter": "Filter", "filter_all": "All", "compare": "Compare", "compare_none": "(none)",
        "diff": "Difference (A − B)", "save": "Save this view (CSV, PNG)", "saved": "Saved: {path}",
        "filtered_hidden": "The filtered group has too few respondents to show.", "no_view": "No group can be shown.",
    },
}


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
    for head, opts in measure_groups(codebook, language):
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


def _describe(table: pd.DataFrame, label: str, attr_label: str, kind: str) -> str:
    vis = table[(table["attribute"] != sv.OVERALL_ATTRIBUTE)].dropna(subset=["mean"])
    if vis.empty:
        return f"{label}を{attr_label}別に示す図。表示できる集団がありません。"
    fmt = (lambda v: f"{v * 100:.0f}%") if kind == "tool" else (lambda v: f"{v:.2f}")
    hi, lo = vis.loc[vis["mean"].idxmax()], vis.loc[vis["mean"].idxmin()]
    return f"{label}を{attr_label}別に示す図。最も高いのは{hi['group']}({fmt(hi['mean'])})、最も低いのは{lo['group']}({fmt(lo['mean'])})。"


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
    min_size = m.min_group_size if min_group_size is None else min_group_size
    plan = suppression_plan(m.survey, cb, min_size=min_size)  # the municipality's one plan: hidden here as in every report
    table = group_table(m, measure=measure, attribute=attribute, scores=scores, plan=plan, min_group_size=min_size)
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
    views = {}
    for mid, _label, kind, _head in measures:
        for aid, _ in attributes:
            t = group_table(m, measure=mid, attribute=aid, scores=scores, plan=plan)
            rows = []
            for r in t.itertuples(index=False):
                if bool(r.suppressed) or pd.isna(r.n):
                    rows.append([str(r.group)])
                    continue
                row = [str(r.group), int(r.n), _r(r.mean), _r(r.ci_low), _r(r.ci_high)]
                if kind == "item":
                    row += [_r(r.share_negative), _r(r.share_neutral), _r(r.share_positive)]
                rows.append(row)
            views[f"{mid}|{aid}"] = rows
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
  out+='<tr><th scope="row">'+esc(r[0])+'</th><td>'+r[1].toLocaleString()+'</td><td>'+fmt(r[2])+'</td><td>'+(r[3]===null?'—':fmt(r[3])+'〜'+fmt(r[4]))+'</td>'+(item?'<td>'+pct(r[5])+' / '+pct(r[6])+' / '+pct(r[7])+'</td>':'')+'<td class="dx-barcell">'+bar+'</td></tr>';
 });
 body.innerHTML=out;
}
sm.addEventListener('change',draw);sa.addEventListener('change',draw);so.addEventListener('change',draw);
root.querySelector('.dx-controls').hidden=false;
})();
"""


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
        if item:
            bar = "".join(f'<span class="dx-bar dx-{k}" style="width:{v * 100:.1f}%"></span>' for k, v in zip(("neg", "neu", "pos"), r[5:8]))
        else:
            w = r[2] * 100 if tool else (r[2] - 1) / 4 * 100
            bar = f'<span class="dx-bar" style="width:{max(0, min(100, w)):.1f}%"></span>'
        ci = "—" if r[3] is None else f"{fmt(r[3])}〜{fmt(r[4])}"
        dist = f"<td>{pct(r[5])} / {pct(r[6])} / {pct(r[7])}</td>" if item else ""
        rows.append(f'<tr><th scope="row">{g}</th><td>{r[1]:,}</td><td>{fmt(r[2])}</td><td>{ci}</td>{dist}<td class="dx-barcell"><span class="dx-track" aria-hidden="true">{bar}</span></td></tr>')
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
    for mid, label, _kind_, head in data["measures"]:
        groups.setdefault(head, []).append((mid, label))
    opt_m = "".join(f'<optgroup label="{e(h)}">' + "".join(f'<option value="{e(i)}"{" selected" if i == measure else ""}>{e(lab)}</option>' for i, lab in opts) + "</optgroup>"
                    for h, opts in groups.items())
    opt_a = "".join(f'<option value="{e(i)}">{e(lab)}</option>' for i, lab in data["attributes"])
    opt_s = "".join(f'<option value="{v}">{w[k]}</option>' for v, k in (("none", "sort_none"), ("desc", "sort_desc"), ("asc", "sort_asc")))
    payload = _json.dumps({**data, "words": {k: w[k] for k in ("caption", "group", "n", "mean", "share", "ci", "dist", "bar", "hidden")}},
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


__all__ = ["Explorer", "ExplorerView", "explorer_view", "view_table_html", "show_explorer", "measure_options", "attribute_options", "group_table", "measure_groups", "offline_data", "offline_explorer_html", "publish_offline", "WORDS"]
