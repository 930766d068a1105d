"""Shared outputs: tables and figures from notebooks, self-contained HTML, index page.

Inside a notebook, :class:`Publisher` is the only way a table or chart reaches the
report: it applies the privacy filter, writes ``tables/<name>.csv`` (UTF-8 with BOM so
Excel reads Japanese), ``figures/<name>.png`` (2×) and ``.svg``, and displays the result
with Japanese headers and alt text. After execution, :func:`render_html` turns the
notebook into one HTML file with code hidden, images embedded and no external reference
(nbconvert's own templates load require.js and MathJax from a CDN, which LGWAN terminals
cannot reach), and :func:`write_index` writes ``index.html``.
"""

from __future__ import annotations

import base64
import functools
import html
import io
import json
import math
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pandas as pd

from . import __version__, i18n
from .fsutil import atomic_write_bytes, atomic_write_text
from .privacy import SUPPRESSED_MARK, SuppressionPlan, assert_shareable, neutralise_formula, neutralise_frame, suppress_small_groups, suppression_plan

#: Japanese headers for common columns; modules pass their own with ``labels=``.
COLUMN_LABELS = {
    "ja": {
        "n": "回答者数", "staff": "職員数", "respondents": "回答者数", "share": "割合",
        "response_rate": "回答率", "ci_low": "95%信頼区間(下限)", "ci_high": "95%信頼区間(上限)",
        "attribute": "属性", "group": "グループ", "construct": "構成概念", "item": "項目",
        "mean": "平均", "diff": "全体との差", "effect_size": "効果量", "p_value": "p値", "q_value": "q値",
        "alpha": "α係数", "n_items": "項目数", "weighted_share": "重み付き割合", "verdict": "判定",
        "statement": "仮説", "hypothesis_id": "仮説ID", "segment": "セグメント", "name": "名称",
        "low_response": "回答率が低い", "reason": "理由", "count": "件数", "suppressed": "非表示",
    },
    "en": {},
}

#: Output metadata key set by Publisher; only outputs carrying it reach shared HTML.
SHARED_MARK = "dxanalysis_shared"

#: Counts: shown as whole numbers even when suppression made the column float.
INTEGER_COLUMNS = {"n", "staff", "respondents", "count", "numerator", "rows", "answers"}

PERCENT_COLUMNS = {"share", "response_rate", "ci_low", "ci_high", "weighted_share", "unweighted_share"}


def _fmt_number(value, col: str, percent_cols: set[str]) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "—"
    if isinstance(value, bool):
        return "○" if value else ""
    if col.endswith("_fy") or col in {"fiscal_year", "year"}:
        return html.escape(str(int(value)) if isinstance(value, (int, float)) else str(value))
    if isinstance(value, (int,)) or (isinstance(value, float) and (col in INTEGER_COLUMNS or col.startswith("n_"))):
        return f"{int(value):,}"
    if isinstance(value, float):
        if col in percent_cols:
            return f"{value * 100:.1f}%"
        if col in {"p_value", "q_value"}:
            return "<0.001" if value < 0.001 else f"{value:.3f}"
        return f"{value:,.2f}"
    return html.escape(str(value))


def table_html(df: pd.DataFrame, *, labels: Mapping[str, str] | None = None, percent_cols: Sequence[str] = (), plain_cols: Sequence[str] = (), caption: str | None = None, language: str = "ja",
               table: str | None = None) -> str:
    """A display table: formatted numbers, Japanese headers, hidden rows marked.

    Columns in ``PERCENT_COLUMNS`` or ``percent_cols`` show as percentages unless listed in
    ``plain_cols`` (e.g. the interval of an effect size, which is not a share).
    """
    labels = header_labels(df.columns, labels, language=language, table=table)
    pcols = (set(PERCENT_COLUMNS) | set(percent_cols) | {c for c in df.columns if str(c).startswith("share_")}) - set(plain_cols)
    show = df.drop(columns=[c for c in ("suppressed", "suppression_reason") if c in df.columns])
    head = "".join(f'<th scope="col">{html.escape(str(labels.get(c, c)))}</th>' for c in show.columns)
    rows = []
    hidden = df["suppressed"].tolist() if "suppressed" in df.columns else [False] * len(df)
    for (_, r), hid in zip(show.iterrows(), hidden):
        cells = []
        for c in show.columns:
            v = r[c]
            txt = _fmt_number(v, c, pcols)
            if hid and txt == "—":
                txt = SUPPRESSED_MARK.get(language, SUPPRESSED_MARK["ja"]) if c in {"n", "respondents"} else "—"
            numeric = isinstance(v, (int, float)) and not isinstance(v, bool) or txt in {"—"}
            cells.append(f"<td>{txt}</td>" if numeric else f'<td class="dx-text">{txt}</td>')
        rows.append(f'<tr class="{"dx-hidden" if hid else ""}">' + "".join(cells) + "</tr>")
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    note = ""
    if any(hidden):
        note = f'<p class="dx-note">{html.escape(i18n.t("report.hidden_note", language))}</p>'
    return f'<div class="dx-table-wrap"><table class="dx-table">{cap}<thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>{note}'


def header_labels(columns, labels: Mapping[str, str] | None = None, *, language: str = "ja", table: str | None = None) -> dict:
    """Column headers of a table: the passed ``labels`` over :data:`COLUMN_LABELS` in Japanese;
    in English the catalogue's (:func:`dxanalysis.i18n.english_labels`), so a module's
    Japanese ``LABELS`` never reach an English report."""
    if language == "en":
        return i18n.english_labels(columns, labels, table=table)
    return {**COLUMN_LABELS.get(language, {}), **(labels or {})}


def _sentences(text) -> list[str]:
    """One sentence, an iterable of them, or None → a list of the non-empty ones."""
    if text is None:
        return []
    texts = [text] if isinstance(text, str) else list(text)
    return [str(t) for t in texts if t is not None and str(t).strip()]


def _tight_bbox(fig, *, dpi: float):
    """The box ``savefig(dpi=dpi, bbox_inches="tight")`` would crop to, computed once for a chart's images.

    Each ``savefig(..., bbox_inches="tight")`` lays the whole figure out once more only to
    find this box (≈ 40 % of saving a chart, measured in docs/performance.md); the same layout
    pass (``draw_without_rendering``) runs once here. It runs at ``dpi`` — the resolution the
    picture is drawn at — because text measured at a lower resolution is narrower than it is
    drawn: a long label measured at the figure's 110 dpi lost the edge of its first glyph in the
    200-dpi PNG. Falls back to ``"tight"`` on a canvas without a renderer.
    """
    import matplotlib

    get_renderer = getattr(fig.canvas, "get_renderer", None)
    if get_renderer is None:
        return "tight"
    dpi_before = fig.dpi
    fig.set_dpi(dpi)
    try:
        fig.draw_without_rendering()
        return fig.get_tightbbox(get_renderer()).padded(matplotlib.rcParams["savefig.pad_inches"])
    finally:
        fig.set_dpi(dpi_before)


#: Resolution of ``figures/<name>.png`` (for slides); the notebook and HTML show that same
#: picture at the size of :data:`INLINE_DPI` (sharp on high-resolution screens and in print).
PNG_DPI, INLINE_DPI = 200, 110
#: zlib level of the chart PNGs: 3 encodes the sample's 30 charts in half the time of
#: Pillow's default 6 and, as RGB, in fewer bytes than the RGBA files at 6 (docs/performance.md).
PNG_COMPRESS_LEVEL = 3


@functools.cache
def _png_canvas_class():
    """A FigureCanvasAgg that writes the opaque RGB PNG of :func:`_chart_png` (built once)."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    class _ChartPNGCanvas(FigureCanvasAgg):
        def print_dxpng(self, filename_or_obj, **_ignored):  # facecolor, transparency etc. are applied by savefig/print_figure
            FigureCanvasAgg.draw(self)
            rgba = np.asarray(self.buffer_rgba())
            image = Image.fromarray(rgba, "RGBA")
            if rgba[..., 3].min() == 255:
                image = image.convert("RGB")
            image.save(filename_or_obj, format="png", dpi=(PNG_DPI, PNG_DPI), compress_level=PNG_COMPRESS_LEVEL)

    return _ChartPNGCanvas


def _chart_png(fig, bbox) -> bytes:
    """``fig`` drawn at :data:`PNG_DPI` inside ``bbox`` (inches), as PNG bytes.

    Charts are drawn on an opaque white face, so the alpha channel Agg renders is all 255:
    the picture is saved as RGB (a quarter less data to compress) at
    :data:`PNG_COMPRESS_LEVEL`. A chart with any transparent pixel (a transparent face,
    ``savefig.transparent``) keeps RGBA. Saved through ``Figure.savefig``, so everything
    savefig applies (rcParams ``savefig.*``) applies as for the SVG.
    """
    before = fig.canvas
    buf = io.BytesIO()
    _png_canvas_class()(fig)  # becomes fig.canvas until restored below
    try:
        fig.savefig(buf, format="dxpng", dpi=PNG_DPI, bbox_inches=bbox)
    finally:
        fig.set_canvas(before)
    return buf.getvalue()


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) in pixels of PNG bytes, read from the IHDR chunk."""
    if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def _inline_img(png: bytes, alt: str) -> str:
    """``<img>`` of the chart's :data:`PNG_DPI` file, shown at the size it has at :data:`INLINE_DPI`.

    The notebook and the HTML report show figures/<name>.png itself (no second picture to
    scale or encode); ``width``/``height`` give it the on-screen size of a 110-dpi chart,
    and ``max-width: 100%`` (CSS) narrows it on small screens.
    """
    w, h = png_size(png)
    data = base64.b64encode(png).decode("ascii")
    return (f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt, quote=True)}" '
            f'width="{max(1, round(w * INLINE_DPI / PNG_DPI))}" height="{max(1, round(h * INLINE_DPI / PNG_DPI))}">')


class Publisher:
    """Writes and shows every shared table and figure of one notebook run.

    Parameters
    ----------
    report_dir
        ``reports/<id>/``; ``tables/``, ``figures/`` and ``private/`` are created inside.
    min_group_size
        Privacy threshold applied to every table with a count column.
    language
        ``ja`` or ``en`` for headers and notes.
    display
        Show outputs in the notebook (False in tests).
    plan
        The municipality's :class:`~dxanalysis.privacy.SuppressionPlan`: every table hides
        the plan's groups whatever its own counts. :meth:`for_municipality` builds it.
    """

    def __init__(self, report_dir: Path | str, *, min_group_size: int = 5, language: str = "ja", display: bool = True, notebook: str = "notebook",
                 plan: SuppressionPlan | None = None):
        self.report_dir = Path(report_dir)
        self.min_group_size = min_group_size
        self.language = language
        self.display = display
        self.notebook = notebook
        self.plan = plan
        for sub in ("tables", "figures", "private", "findings"):
            (self.report_dir / sub).mkdir(parents=True, exist_ok=True)
        # one findings file per notebook, reset on each run, so re-runs never duplicate
        self._findings_path = self.report_dir / "findings" / f"{notebook}.json"
        self._findings_path.unlink(missing_ok=True)

    @classmethod
    def for_municipality(cls, m, report_dir: Path | str, *, notebook: str, display: bool = True) -> Publisher:
        """The Publisher of one notebook of municipality ``m``, applying its one suppression plan.

        The plan (:func:`dxanalysis.privacy.suppression_plan`) is recomputed from the
        survey in every notebook, deterministically, so all notebooks hide the same groups;
        it is also written to ``private/suppression_plan.csv`` for the advisor.
        """
        plan = suppression_plan(m.survey, m.codebook, min_size=m.min_group_size)
        pub = cls(report_dir, min_group_size=m.min_group_size, language=m.language, display=display, notebook=notebook, plan=plan)
        plan.to_csv(pub.report_dir / "private" / "suppression_plan.csv")
        return pub

    @property
    def cache_dir(self) -> Path:
        """The municipality's cache of shared results (``<report folder>/private/cache``, :mod:`dxanalysis.cache`).

        Resolved from the final report folder also when the runner gives this notebook a
        scratch folder, so notebooks of one run share it and its files are never outputs.
        """
        from .cache import cache_dir

        return cache_dir(self.report_dir)

    # tables -------------------------------------------------------------------------
    def table(
        self,
        df: pd.DataFrame,
        name: str,
        *,
        caption: str | None = None,
        n_col: str | None = "n",
        by: str | Sequence[str] | None = None,
        partitions: Sequence[Sequence[str]] | None = None,
        value_cols: Sequence[str] | None = None,
        labels: Mapping[str, str] | None = None,
        percent_cols: Sequence[str] = (),
        plain_cols: Sequence[str] = (),
        columns: Sequence[str] | None = None,
        view: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
        show: bool = True,
        max_rows: int | None = 60,
        caption_params: Mapping[str, object] | None = None,
        min_size: int | None = None,
        forced: pd.Series | None = None,
    ) -> pd.DataFrame:
        """Privacy-filter, save as ``tables/<name>.csv`` and display a table.

        ``n_col`` names the respondent count behind each row (``None`` only for tables
        with no group figures, such as a parameter list); ``by``/``partitions`` say which
        rows add up to published totals; ``value_cols`` limits which columns a hidden row
        blanks (default: every numeric column). The display can differ from the CSV:
        ``columns`` picks the columns shown, and ``view``, a function of the *filtered*
        table, builds the shown frame (so a display can only show what passed the filter).
        Returns the filtered table. ``min_size`` raises the threshold for this table only
        (the comment threshold for commenters per group); it is never below the
        publisher's ``min_group_size``. ``forced`` (boolean Series on ``df``'s index) hides
        rows whatever their counts, on top of the plan's (a decision made for a whole
        population, such as the commenters, that several tables must share).

        With a suppression plan, rows of the plan's hidden groups are hidden too. The CSV
        says which rows are hidden (``suppressed``) but not why: ``suppression_reason``
        (``primary``/``plan``/``complementary``) would tell a reader which hidden cells are
        under ``min_group_size``, so it goes to ``private/suppression/<name>.csv`` only.
        Text that a spreadsheet would run as a formula is neutralised
        (:func:`dxanalysis.privacy.neutralise_formula`).
        """
        assert_shareable(df, name)
        if self.language == "en" or (caption is None and show):  # the catalogue's caption by table name (a notebook passes none)
            caption = i18n.caption(name, self.language, default=caption, **(caption_params or {}))
        out = df.copy()
        if n_col is not None:
            out = self.filter(out, n_col=n_col, by=by, partitions=partitions, value_cols=value_cols, min_size=min_size, forced=forced)
        reasons = out[out["suppression_reason"].fillna("") != ""] if "suppression_reason" in out.columns else out.iloc[:0]
        (self.report_dir / "private" / "suppression" / f"{name}.csv").unlink(missing_ok=True)  # a re-run that hides nothing leaves no stale list
        if len(reasons):
            keep = [c for c in reasons.columns if not pd.api.types.is_float_dtype(reasons[c])]
            private = self.report_dir / "private" / "suppression"
            private.mkdir(parents=True, exist_ok=True)
            reasons[keep].to_csv(private / f"{name}.csv", index=False, encoding="utf-8-sig")
        csv = out.drop(columns=[c for c in ("suppression_reason",) if c in out.columns])
        for c in csv.columns:
            if pd.api.types.is_float_dtype(csv[c]):
                # p- and q-values keep 4 significant digits so 1e-7 does not become 0.0
                csv[c] = csv[c].map(lambda v: float(f"{v:.4g}") if pd.notna(v) else v) if c in {"p_value", "q_value"} else csv[c].round(4)
        neutralise_frame(csv).to_csv(self.report_dir / "tables" / f"{name}.csv", index=False, encoding="utf-8-sig")
        # the headers shown here are reused for tables.xlsx
        meta = self.report_dir / "meta"
        meta.mkdir(exist_ok=True)
        headers = header_labels(out.columns, labels, language=self.language, table=name)
        (meta / f"{name}.json").write_text(json.dumps({"caption": caption, "labels": {c: headers.get(c, c) for c in out.columns}}, ensure_ascii=False), encoding="utf-8")
        if self.display and show:
            shown = view(out) if view is not None else out
            if columns is not None:
                shown = shown[[c for c in columns if c in shown.columns] + [c for c in ("suppressed", "suppression_reason") if c in shown.columns and c not in columns]]
            shown = shown if max_rows is None or len(shown) <= max_rows else shown.head(max_rows)
            self._show_html(table_html(shown, labels=labels, percent_cols=percent_cols, plain_cols=plain_cols, caption=caption, language=self.language, table=name))
        return out

    def filter(self, df: pd.DataFrame, *, n_col: str = "n", by: str | Sequence[str] | None = None, partitions: Sequence[Sequence[str]] | None = None,
               value_cols: Sequence[str] | None = None, min_size: int | None = None, forced: pd.Series | None = None) -> pd.DataFrame:
        """The privacy filter of :meth:`table` alone, nothing written or shown: the plan's
        groups and ``forced`` rows hidden, then :func:`dxanalysis.privacy.suppress_small_groups`
        at ``max(min_size, min_group_size)``. For a decision several tables must share
        (which groups of commenters every comment table hides) before any is published."""
        if self.plan is not None:
            plan_rows = self.plan.forced(df)
            forced = plan_rows if forced is None else plan_rows | forced.reindex(df.index).fillna(False).astype(bool)
        threshold = max(int(min_size or 0), int(self.min_group_size))
        return suppress_small_groups(df, n_col=n_col, min_size=threshold, by=by, partitions=partitions, value_cols=value_cols, forced=forced)

    def private_table(self, df: pd.DataFrame, name: str) -> Path:
        """Respondent-level results for later notebooks: ``private/<name>.csv``, never shown."""
        path = self.report_dir / "private" / f"{name}.csv"
        df.to_csv(path, index=False, encoding="utf-8-sig")
        return path

    # figures ------------------------------------------------------------------------
    def figure(self, fig_or_ax, name: str, *, alt: str, caption: str | None = None, show: bool = True) -> Path:
        """Save a chart as PNG (2×) and SVG in ``figures/`` and show it with alt text.

        ``alt`` states the chart's finding in words (screen readers, printed reports).
        The figure is closed afterwards so the inline backend does not show it twice.
        """
        import matplotlib.pyplot as plt

        if not alt or not alt.strip():
            raise ValueError("figure(): alt text must state what the chart shows")
        fig = fig_or_ax.get_figure() if hasattr(fig_or_ax, "get_figure") and not hasattr(fig_or_ax, "savefig") else fig_or_ax
        if hasattr(fig, "get_figure") and fig.get_figure() is not None and not hasattr(fig, "savefig"):
            fig = fig.get_figure()
        png_path = self.report_dir / "figures" / f"{name}.png"
        bbox = _tight_bbox(fig, dpi=PNG_DPI)
        png = _chart_png(fig, bbox)
        png_path.write_bytes(png)
        fig.savefig(self.report_dir / "figures" / f"{name}.svg", bbox_inches=bbox)
        if self.display and show:
            cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
            self._show_html(f'<figure class="dx-figure">{_inline_img(png, alt)}{cap}</figure>')
        plt.close(fig)
        return png_path

    # text -----------------------------------------------------------------------------
    def finding(self, text, *, section: str | None = None, kind: str = "finding") -> None:
        """Record key findings for the summary on ``index.html`` (and show them).

        ``text`` is one sentence or an iterable of sentences; ``None`` or "" records nothing.
        """
        texts = _sentences(text)
        if not texts:
            return
        path = self._findings_path
        items = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
        items += [{"text": t, "section": section or f"{self.notebook}.html", "kind": kind, "notebook": self.notebook} for t in texts]
        path.write_text(json.dumps(items, ensure_ascii=False, indent=1), encoding="utf-8")
        if self.display:
            for t in texts:
                self._show_html(f'<p class="dx-finding">{html.escape(t)}</p>')

    def text(self, key: str, **params) -> str:
        """Words from the catalogue in this report's language (:func:`dxanalysis.i18n.t`)."""
        return i18n.t(key, self.language, **params)

    def note(self, text) -> None:
        """Show short explanatory notes (plain text, escaped): one sentence, several, or none."""
        if self.display:
            for t in _sentences(text):
                self._show_html(f'<p class="dx-note">{html.escape(t)}</p>')

    def html(self, snippet: str) -> None:
        """Show a block of HTML built from privacy-filtered data (e.g. the offline explorer,
        :func:`dxanalysis.explore.publish_offline`) in the notebook and the shared report.

        The caller is responsible for the privacy of what the snippet holds. Refused when the
        snippet would load anything from outside the file (:func:`external_references`).
        """
        bad = external_references(snippet)
        if bad:
            raise ValueError(f"html(): the block would load external resources: {bad[:3]}")
        if self.display:
            self._show_html(snippet)

    def _show_html(self, snippet: str) -> None:
        from IPython.display import HTML, display

        # the marker tells render_html that this output passed the privacy filter
        display(HTML(snippet), metadata={SHARED_MARK: True})


# ----------------------------------------------------------------------------- HTML
CSS = """
:root{--fg:#1a1a1a;--muted:#555;--accent:#0b4f8a;--line:#d0d7de;--bg-alt:#f5f7fa}
html{font-family:"Yu Gothic UI","Meiryo","Hiragino Sans","Noto Sans CJK JP",sans-serif;color:var(--fg);line-height:1.7}
body{max-width:1000px;margin:0 auto;padding:1.5rem}
h1{font-size:1.6rem;border-bottom:3px solid var(--accent);padding-bottom:.3rem}
h2{font-size:1.3rem;border-left:6px solid var(--accent);padding-left:.5rem;margin-top:2.2rem}
h3{font-size:1.1rem}
a{color:var(--accent)}
.dx-table-wrap{overflow-x:auto}
table.dx-table,table.dataframe{border-collapse:collapse;margin:.6rem 0;font-size:.9rem}
.dx-table th,.dx-table td,table.dataframe th,table.dataframe td{border:1px solid var(--line);padding:.25rem .5rem;text-align:right}
.dx-table th{background:var(--bg-alt);text-align:center}
.dx-table td:first-child,.dx-table td.dx-text{text-align:left}
.dx-table caption{caption-side:top;text-align:left;font-weight:bold;padding:.3rem 0}
tr.dx-hidden td{color:var(--muted);background:#fafafa}
.dx-note{color:var(--muted);font-size:.9rem}
.dx-finding{background:#eef5fb;border-left:5px solid var(--accent);padding:.5rem .8rem}
.dx-warning{background:#fff4e5;border-left:5px solid #b35c00;padding:.5rem .8rem}
.dx-reason{display:block;margin-top:.3rem}
figure.dx-figure{margin:1rem 0}
figure.dx-figure img{max-width:100%;height:auto}
figcaption{color:var(--muted);font-size:.9rem}
nav.dx-toc{background:var(--bg-alt);padding:.6rem 1rem;border-radius:4px}
nav.dx-toc ol{margin:.2rem 0}
.dx-lead{font-size:1.05rem}\n.dx-summary{border:2px solid var(--accent);border-radius:6px;padding:.2rem 1.2rem 1rem}\n.dx-summary h2{border:none;padding-left:0;margin-top:.8rem}\ndl.dx-glossary dt{font-weight:bold;margin-top:.5rem}\ndl.dx-glossary dd{margin-left:1rem}\nfooter.dx-footer{margin-top:3rem;border-top:1px solid var(--line);padding-top:.6rem;color:var(--muted);font-size:.85rem}
.jp-OutputArea-output pre,.output_text pre{white-space:pre-wrap;font-size:.85rem}
@media print{body{max-width:none;padding:0}nav.dx-toc{display:none}figure,table,.dx-finding{break-inside:avoid}h2,h3{break-after:avoid}a{color:inherit;text-decoration:none}@page{size:A4;margin:15mm}}
"""

_EXTERNAL_PATTERNS = [
    re.compile(r"<script\b[^>]*\bsrc\s*=", re.I),  # inline scripts are allowed (the offline explorer); loaded ones are not
    re.compile(r"<link\b[^>]*href\s*=\s*[\"']?(?!#)[^\"'\s>]+", re.I),
    re.compile(r"\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//", re.I),
    re.compile(r"url\(\s*[\"']?(?:https?:)?//", re.I),
    re.compile(r"@import", re.I),
    re.compile(r"<iframe\b", re.I),
]


def external_references(html_text: str) -> list[str]:
    """Every script, stylesheet link, remote URL or import in an HTML page.

    Links to sibling report files (``href="01_current_state.html"``) are allowed; anything
    that would make the browser fetch from elsewhere or run script is returned.
    """
    hits = []
    for rx in _EXTERNAL_PATTERNS:
        for m in rx.finditer(html_text):
            start = max(0, m.start() - 20)
            hits.append(html_text[start : m.end() + 40])
    return hits


def _strip_for_sharing(nb) -> None:
    """Keep markdown and the outputs the Publisher produced; drop everything else.

    Code, prompts, widget views, return values, printed text and warnings never reach
    staff: only outputs marked by :class:`Publisher` (which applied the privacy filter)
    do, so a stray ``display(df)`` in a notebook cannot leak a small group.
    """
    nb.metadata.pop("widgets", None)
    keep = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & {"hide", "remove_cell", "parameters", "injected-parameters", "papermill-error-cell-tag"}:
            continue
        if cell.cell_type == "code":
            cell["outputs"] = [
                out for out in cell.get("outputs", [])
                if out.get("output_type") == "display_data" and out.get("metadata", {}).get(SHARED_MARK)
            ]
            if not cell["outputs"]:
                continue
        keep.append(cell)
    nb.cells = keep


def failure_banner(nb, language: str = "ja") -> str:
    """A plain-language note when the notebook stopped with an error ("" otherwise)."""
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.get("output_type") == "error":
                line = (str(out.get("evalue", "")).strip().splitlines() or [""])[0][:200]
                if language == "en":
                    msg = f"This report stopped part-way: the sections after the error are missing. Cause: {out.get('ename', '')}: {line}"
                else:
                    msg = f"このレポートは途中で止まりました。これより後の節は表示されていません。原因: {out.get('ename', '')}: {line}(入力データを確認し、解決しない場合は担当者に連絡してください)"
                return f'<p class="dx-warning" role="alert">{html.escape(msg)}</p>'
    return ""


def _toc_and_ids(body: str, language: str = "ja") -> tuple[str, str]:
    """Give every h2 an id and build a table of contents from them."""
    entries = []

    def repl(m):
        attrs, inner = m.group(1), m.group(2)
        text = re.sub(r"<[^>]+>", "", inner).replace("¶", "").strip()
        idm = re.search(r'id="([^"]+)"', attrs)
        anchor = idm.group(1) if idm else f"sec-{len(entries) + 1}"
        entries.append((anchor, text))
        attrs = attrs if idm else f'{attrs} id="{anchor}"'
        return f"<h2{attrs}>{inner}</h2>"

    body = re.sub(r"<h2([^>]*)>(.*?)</h2>", repl, body, flags=re.S)
    body = re.sub(r'<a class="anchor-link"[^>]*>.*?</a>', "", body, flags=re.S)
    if not entries:
        return body, ""
    items = "".join(f'<li><a href="#{html.escape(a)}">{html.escape(t)}</a></li>' for a, t in entries)
    toc = html.escape(i18n.t("report.toc", language))
    return body, f'<nav class="dx-toc" aria-label="{toc}"><strong>{toc}</strong><ol>{items}</ol></nav>'


def page(title: str, body: str, *, language: str = "ja", footer: str = "", toc: str = "", nav: str = "") -> str:
    """Wrap a body in the report's self-contained HTML shell (table of contents before the first h2)."""
    if toc:
        cut = min((i for i in (body.find("<section"), body.find("<h2")) if i >= 0), default=-1)
        body = body[:cut] + toc + body[cut:] if cut >= 0 else toc + body
    toc = nav
    return (
        f'<!DOCTYPE html>\n<html lang="{language}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
        f"{toc}\n{body}\n</main>\n<footer class=\"dx-footer\">{footer}</footer>\n</body>\n</html>\n"
    )


def footer_text(*, municipality: str, data_date=None, n_respondents=None, min_group_size=None, manifest_hash: str | None = None, language: str = "ja") -> str:
    """Footer: data date, respondents, privacy rule, package version, manifest hash."""
    if language == "en":
        parts = [municipality, f"data as of {data_date}" if data_date else None, f"{n_respondents:,} respondents" if n_respondents else None,
                 f"groups under {min_group_size} hidden" if min_group_size else None, f"dxanalysis {__version__}", f"manifest {manifest_hash[:12]}" if manifest_hash else None]
    else:
        parts = [municipality, f"データ時点 {data_date}" if data_date else None, f"回答者 {n_respondents:,}人" if n_respondents else None,
                 f"{min_group_size}人未満の集団は非表示" if min_group_size else None, f"dxanalysis {__version__}", f"manifest {manifest_hash[:12]}" if manifest_hash else None]
    return " ・ ".join(html.escape(p) for p in parts if p)


_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


def _notebook_name(nb, path=None) -> str | None:
    """The notebook's name (``01_current_state``): from its path, or papermill's record of its input."""
    if path is not None:
        return Path(path).stem
    pm = nb.metadata.get("papermill") if hasattr(nb, "metadata") else None
    src = pm.get("input_path") if isinstance(pm, Mapping) else None
    return Path(str(src)).stem if src else None


def translate_markdown(nb, notebook: str | None, language: str = "ja") -> int:
    """Replace each markdown cell's prose by its translation (``language: en``); returns how many.

    The Japanese prose stays in the notebook; the English is in
    ``resources/notebook_text_en.yaml`` by notebook and cell id
    (:func:`dxanalysis.i18n.notebook_prose`). Each translated heading keeps the id of
    the Japanese heading it replaces, so links from findings
    (``01_current_state.html#予想と違ったこと``) lead to the same section in both languages.
    """
    if language != "en" or not notebook:
        return 0
    from nbconvert.filters.strings import _convert_header_id

    done = 0
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        english = i18n.notebook_prose(notebook, cell.get("id", ""), language)
        if not english:
            continue
        ja_heads = [m.group(2) for m in map(_HEADING.match, cell.source.splitlines()) if m]
        lines, k = [], 0
        for line in english.rstrip("\n").splitlines():
            m = _HEADING.match(line)
            if m and k < len(ja_heads):
                level, anchor = len(m.group(1)), _convert_header_id(ja_heads[k])
                line = f'<h{level} id="{html.escape(anchor, quote=True)}">{html.escape(m.group(2))}</h{level}>'
                k += 1
            lines.append(line)
        cell.source = "\n".join(lines)
        done += 1
    return done


_EXPORTERS = threading.local()


def _html_exporter():
    """This thread's nbconvert ``HTMLExporter`` (basic template, code and prompts excluded).

    Kept for the next notebook: building one loads and compiles the templates again, half of
    what rendering five notebooks costs (1.4 → 0.7 CPU-s, docs/performance.md). One per thread,
    as a Dask worker may render in several threads.
    """
    exporter = getattr(_EXPORTERS, "html", None)
    if exporter is None:
        from nbconvert import HTMLExporter

        exporter = _EXPORTERS.html = HTMLExporter(template_name="basic", exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True, anchor_link_text="")
    return exporter


def render_html(nb_or_path, *, title: str, language: str = "ja", footer: str = "", notebook: str | None = None) -> str:
    """Executed notebook → one self-contained HTML page with code hidden.

    Uses nbconvert's ``basic`` template (cell bodies only, no scripts), drops code,
    prompts, widget views and stderr, and wraps the result in :func:`page`. In English
    (``language="en"``) the markdown prose and the title come from the catalogue
    (:func:`translate_markdown`, :data:`NOTEBOOK_TITLES`); ``notebook`` (default: the
    file's or papermill's input name) says which notebook's text to use.
    """
    import nbformat

    nb = nbformat.read(str(nb_or_path), as_version=4) if isinstance(nb_or_path, (str, Path)) else nb_or_path
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))  # work on a copy
    notebook = notebook or _notebook_name(nb, nb_or_path if isinstance(nb_or_path, (str, Path)) else None)
    if translate_markdown(nb, notebook, language) and notebook in NOTEBOOK_TITLES["en"]:
        title = NOTEBOOK_TITLES["en"][notebook]
    failure = failure_banner(nb, language)
    _strip_for_sharing(nb)
    body, _ = _html_exporter().from_notebook_node(nb)
    body, toc = _toc_and_ids(body, language)
    nav = ('<p class="dx-nav"><a href="index.html">← レポート一覧と要点</a> ・ <a href="index.html#glossary">用語の説明</a></p>'
           if language != "en" else '<p class="dx-nav"><a href="index.html">← Summary and reports</a> · <a href="index.html#glossary">Glossary</a></p>')
    out = page(title, body, language=language, footer=footer, toc=toc, nav=nav + failure)
    bad = external_references(out)
    if bad:
        raise RuntimeError(f"report {title!r} would load external resources: {bad[:3]}")
    return out


NOTEBOOK_TITLES = {
    "ja": {"01_current_state": "01 現状把握(職員アンケート)", "02_segments": "02 職員セグメント", "03_roadmap": "03 ギャップ分析とロードマップ", "04_training": "04 研修効果の評価", "05_comparison": "05 自治体の比較", "06_waves": "06 経年変化"},
    "en": {"01_current_state": "01 Current state (staff survey)", "02_segments": "02 Staff segments", "03_roadmap": "03 Gaps and roadmap", "04_training": "04 Training evaluation", "05_comparison": "05 Comparison of municipalities", "06_waves": "06 Change over time"},
}
STATUS_LABELS = {"ja": {"ok": "完了", "failed": "失敗", "skipped": "変更なし(前回の結果)", "not_applicable": "対象外(入力なし)"},
                 "en": {"ok": "done", "failed": "failed", "skipped": "unchanged (previous result)", "not_applicable": "not applicable (no input)"}}


def read_findings(report_dir: Path) -> list[dict]:
    """Key findings recorded by the notebooks (``findings/<notebook>.json``), in notebook order."""
    out = []
    for path in sorted((Path(report_dir) / "findings").glob("*.json")):
        out.extend(json.loads(path.read_text(encoding="utf-8")))
    return out


GLOSSARY = {
    "ja": [
        ("信頼区間(95%)", "同じ調査を何度も繰り返したとき、100回中95回は真の値を含む幅。人数が少ないほど広くなります。「○%(△〜□%)」の括弧内がこれです。"),
        ("効果量", "差の大きさを人数に左右されない尺度で表した値。p値が「差があるか」を示すのに対し、効果量は「どれくらい違うか」を示します。目安: 0.1 小、0.3 中、0.5 大(順位相関の場合)。"),
        ("p値・q値", "本当は差がないとしたら、これ以上の差が偶然に出る確率。小さいほど偶然では説明しにくいことを示します(差の大きさではありません)。多くの比較を同時に行うと偶然の「差あり」が増えるため、比較の数を考慮して補正した値が q値(Benjamini–Hochberg 法)です。q値 0.05 未満を「差あり」とします。"),
        ("重み付け(ウエイト)", "回答率が部署や年代で違うため、名簿の職員構成に合わせて回答を重み付けし、全職員の姿を推定します。重み付けなしの値と並べて示します。"),
        ("α係数(クロンバックのα)", "同じ構成概念を測る複数の設問が、どれだけ一貫して答えられているか。0.7 以上が目安、0.6 未満は注意。"),
        ("構成概念", "複数の設問をまとめて測る考え方の単位(例: マインド・スタンス)。設問の平均点で表します。"),
        ("SD(標準偏差)", "ばらつきの大きさ。「全体より −0.8SD」は、全体の平均から標準的なばらつきの0.8倍ぶん低いことを表します。"),
        ("セグメント", "回答の傾向が似た職員のまとまり。統計的に見つけ、傾向から名前を付けています。"),
        ("非表示(少人数)", "回答者が少ない集団は、個人が特定されないよう数値を表示しません。"),
    ],
    "en": [
        ("95% confidence interval", "If the same survey were repeated many times, the range that would contain the true value 95 times in 100; wider for small groups. The brackets in \u201cx% (y–z%)\u201d are this range."),
        ("Effect size", "How large a difference is, on a scale that does not depend on the number of respondents. The p-value says whether there is a difference; the effect size says how large it is. Guide: 0.1 small, 0.3 medium, 0.5 large (rank correlations)."),
        ("p-value / q-value", "If there were truly no difference, the chance of seeing one at least this large by chance; small values are hard to explain by chance (it is not the size of the difference). Many comparisons at once produce more chance \u201cdifferences\u201d, so q-values adjust for the number of comparisons (Benjamini–Hochberg). q < 0.05 counts as a difference."),
        ("Weighting", "Response rates differ by department and age, so answers are weighted to the staff roster to estimate all staff. Shown beside unweighted values."),
        ("Cronbach's alpha", "How consistently the questions measuring one construct are answered. 0.7 or more is the usual guide; below 0.6 needs care."),
        ("Construct", "A concept measured by several questions together (e.g. mind and stance), expressed as the mean of its questions."),
        ("SD (standard deviation)", "The size of the spread. \u201c−0.8 SD below all staff\u201d means 0.8 times the typical spread below the overall mean."),
        ("Segment", "A group of staff who answered alike, found statistically and named from their pattern of answers."),
        ("Hidden (small group)", "Groups with few respondents show no numbers, so that no one can be identified."),
    ],
}

#: Order, headings and how many findings of each kind the one-screen summary shows;
#: the rest are listed under "その他の要点" after the report list.
SUMMARY_KINDS = {
    "ja": [("surprise", "事前の想定と違ったこと", 3), ("gap", "大きなギャップ", 2), ("segment", "職員セグメントと必要な支援", 3),
           ("needs", "属性別に支援が必要な集団", 2), ("training", "研修の成果", 4), ("change", "前回からの変化", 3)],
    "en": [("surprise", "What we got wrong", 3), ("gap", "Largest gaps", 2), ("segment", "Staff segments and what each needs", 3),
           ("needs", "Groups that need support", 2), ("training", "Training results", 4), ("change", "Change since the last survey", 3)],
}


def glossary_html(language: str = "ja") -> str:
    """The short glossary of statistical terms (once, on index.html)."""
    items = GLOSSARY.get(language, GLOSSARY["ja"])
    head = "用語の説明" if language != "en" else "Glossary"
    body = "".join(f"<dt>{html.escape(t)}</dt><dd>{html.escape(d)}</dd>" for t, d in items)
    return f'<h2 id="glossary">{head}</h2><dl class="dx-glossary">{body}</dl>'


def _finding_items(items: list[dict], language: str) -> str:
    link_text = "根拠を見る" if language != "en" else "evidence"
    return "".join(f'<li>{html.escape(f["text"])} <a href="{html.escape(f.get("section") or "#")}">{link_text}</a></li>' for f in items)


def split_findings(findings: list[dict], language: str = "ja") -> tuple[list[tuple[str, list[dict]]], list[dict]]:
    """(summary blocks by kind, the rest): the summary keeps the first few of each kind."""
    kinds = SUMMARY_KINDS.get(language, SUMMARY_KINDS["ja"])
    blocks, used = [], set()
    for kind, heading, cap in kinds:
        items = [f for f in findings if f.get("kind") == kind][:cap]
        used |= {id(f) for f in items}
        if items:
            blocks.append((heading, items))
    return blocks, [f for f in findings if id(f) not in used]


def summary_html(findings: list[dict], language: str = "ja") -> str:
    """One-screen summary: the key findings grouped by kind, each linking to its evidence."""
    blocks, _ = split_findings(findings, language)
    if not blocks:
        return ""
    parts = ['<section class="dx-summary" aria-labelledby="summary"><h2 id="summary">' + ("要点" if language != "en" else "Summary") + "</h2>"]
    for heading, items in blocks:
        parts.append(f"<h3>{html.escape(heading)}</h3><ul>{_finding_items(items, language)}</ul>")
    parts.append("</section>")
    return "".join(parts)


#: Metadata key of an executed notebook already reduced to its shareable form.
SHARED_NOTEBOOK_MARK = "dxanalysis_shared_copy"

_DATA_URI = re.compile(r"(data:[\w/+.-]+;base64,[A-Za-z0-9+/=]+)")
#: Absolute paths as they appear in outputs and metadata (POSIX, Windows drive, UNC).
ABSOLUTE_PATH = re.compile(r"(?<![\w.:/])(?:/(?:[\w.@+-]+/)+[\w.@+-]*|[A-Za-z]:\\[^\s\"'<>|]*|\\\\[^\s\"'<>|]+)")


def _scrub_paths(text: str) -> str:
    """Absolute paths → their last component (``/srv/x/data/sample`` → ``…/sample``); data URIs untouched."""
    parts = _DATA_URI.split(text)
    return "".join(p if _DATA_URI.fullmatch(p) else ABSOLUTE_PATH.sub(lambda m: "…/" + re.split(r"[/\\]", m.group(0).rstrip("/\\"))[-1], p) for p in parts)


def share_executed_notebook(path: Path, private_dir: Path) -> bool:
    """Reduce an executed notebook in a shared folder to what its HTML shows.

    The full executed notebook (every output, traceback and papermill's record of the
    server paths) moves to ``private_dir``; the shared copy keeps markdown, code and only
    the outputs the :class:`Publisher` marked (as :func:`render_html` does), has no
    absolute path (replaced by ``…/<last part>``), no traceback (an error keeps its type
    and first line) and no papermill paths or parameters. Returns False when the file
    was already a shared copy.
    """
    import nbformat

    path, private_dir = Path(path), Path(private_dir)
    nb = nbformat.read(str(path), as_version=4)
    if nb.metadata.get(SHARED_NOTEBOOK_MARK):
        return False
    private_dir.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(private_dir / path.name))
    nb.metadata.pop("widgets", None)
    pm = nb.metadata.get("papermill")
    if isinstance(pm, dict):
        nb.metadata["papermill"] = {k: v for k, v in pm.items() if k in {"duration", "exception", "start_time", "end_time", "version"}}
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if "injected-parameters" in tags:
            cell["source"] = "# dxanalysis run が渡したパラメータ(パスは共有版から除いています) / parameters injected by dxanalysis run (paths removed from the shared copy)"
        if cell.cell_type != "code":
            cell["source"] = _scrub_paths(cell["source"])
            continue
        cell["source"] = _scrub_paths(cell["source"])
        kept = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                first = str(out.get("evalue", "")).splitlines()[:1]
                kept.append(nbformat.v4.new_output("error", ename=out.get("ename", "Error"), evalue=_scrub_paths(first[0] if first else ""), traceback=[]))
            elif out.get("output_type") == "display_data" and out.get("metadata", {}).get(SHARED_MARK):
                out["data"] = {k: (_scrub_paths(v) if isinstance(v, str) and not k.startswith("image/") else v) for k, v in out.get("data", {}).items()}
                kept.append(out)
        cell["outputs"] = kept
    nb.metadata[SHARED_NOTEBOOK_MARK] = True
    nbformat.write(nb, str(path))
    return True


def share_executed_notebooks(report_dir: Path) -> list[Path]:
    """:func:`share_executed_notebook` for every ``*.ipynb`` of a report folder (full copies → ``private/notebooks/``)."""
    report_dir = Path(report_dir)
    done = []
    for path in sorted(report_dir.glob("*.ipynb")):
        if share_executed_notebook(path, report_dir / "private" / "notebooks"):
            done.append(path)
    return done


def write_index(report_dir: Path, *, cfg, results, footer: str = "", extra_html: str = "") -> Path:
    """Write ``index.html``: summary first, then the reports, then the glossary.

    The runner reduces each executed notebook to its shareable form when the notebook
    finishes; for a folder filled another way, this reduces any full copy still beside
    the HTML (:func:`share_executed_notebooks`; a no-op for copies already shared).
    """
    share_executed_notebooks(report_dir)
    lang = cfg.language
    titles = NOTEBOOK_TITLES.get(lang, NOTEBOOK_TITLES["ja"])
    status = STATUS_LABELS.get(lang, STATUS_LABELS["ja"])
    h = html.escape
    title = f"{cfg.name} DXリテラシー分析レポート" if lang != "en" else f"{cfg.name} DX literacy report"
    parts = [f"<h1>{h(title)}</h1>"]
    intro = ("職員アンケート・ギャップ分析・研修評価の結果です。まず「要点」を読み、詳しくは各レポートの「根拠を見る」から確かめてください。"
             if lang != "en" else "Results of the staff survey, gap analysis and training evaluation. Read the summary first; each point links to its evidence.")
    parts.append(f'<p class="dx-lead">{h(intro)}</p>')
    failed = {r.notebook for r in results if r.status == "failed"}
    findings = [f for f in read_findings(report_dir) if f.get("notebook") not in failed]  # a failed run's findings are not evidence
    parts.append(summary_html(findings, lang))
    parts.append(extra_html)
    parts.append("<h2 id=\"reports\">レポート一覧</h2>" if lang != "en" else "<h2 id=\"reports\">Reports</h2>")
    rows = []
    for r in results:
        name = titles.get(r.notebook, r.notebook)
        link = f'<a href="{h(r.html)}">{h(name)}</a>' if r.html else h(name)
        # a block of its own: an inline span's padding was drawn over the link text above it
        err = f'<span class="dx-warning dx-reason">{h(r.error)}</span>' if r.error else ""
        rows.append(f"<tr><td>{link}{err}</td><td>{h(status.get(r.status, r.status))}</td></tr>")
    head = "<tr><th scope=\"col\">レポート</th><th scope=\"col\">状態</th></tr>" if lang != "en" else "<tr><th scope=\"col\">Report</th><th scope=\"col\">Status</th></tr>"
    parts.append(f'<table class="dx-table"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>')
    xlsx = Path(report_dir) / "tables.xlsx"
    if xlsx.exists():
        parts.append('<p>表はすべて <a href="tables.xlsx">tables.xlsx</a>(シートごと)と tables/ フォルダの CSV、図は figures/ フォルダ(PNG・SVG)にあります。スライドにそのまま貼れます。</p>' if lang != "en" else '<p>All tables: <a href="tables.xlsx">tables.xlsx</a>; figures in figures/ (PNG, SVG).</p>')
    rest = split_findings(findings, lang)[1]
    if rest:
        parts.append(("<h2 id=\"more\">その他の要点</h2>" if lang != "en" else "<h2 id=\"more\">More findings</h2>") + f"<ul>{_finding_items(rest, lang)}</ul>")
    parts.append(glossary_html(lang))
    body, toc = _toc_and_ids("\n".join(p for p in parts if p), lang)
    out = Path(report_dir) / "index.html"
    atomic_write_text(out, page(title, body, language=lang, footer=footer, toc=toc))  # never half a page, even if the run is killed
    return out


_XLSX_CT = "application/vnd.openxmlformats-officedocument."
_XLSX_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
#: cellXfs 0 plain, 1 header (bold, light blue), 2 percent "0.0%" (as openpyxl writes them)
_XLSX_STYLES = ('<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts count="1"><numFmt numFmtId="164" formatCode="0.0%" /></numFmts>'
                '<fonts count="2"><font><name val="Calibri" /><family val="2" /><color theme="1" /><sz val="11" /><scheme val="minor" /></font><font><b val="1" /></font></fonts>'
                '<fills count="3"><fill><patternFill /></fill><fill><patternFill patternType="gray125" /></fill><fill><patternFill patternType="solid"><fgColor rgb="00DDEBF7" /></patternFill></fill></fills>'
                '<borders count="1"><border><left /><right /><top /><bottom /><diagonal /></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" /></cellStyleXfs>'
                '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" /><xf numFmtId="0" fontId="1" fillId="2" borderId="0" applyFont="1" applyFill="1" xfId="0" />'
                '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" applyNumberFormat="1" xfId="0" /></cellXfs>'
                '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0" /></cellStyles></styleSheet>')
_XLSX_ERRORS = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A")
_XLSX_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


def _xml_text(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _column_letter(i: int) -> str:
    """1 → A, 27 → AA."""
    out = ""
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out


def _xlsx_cell(ref: str, value, style: int) -> str:
    """One ``<c>`` element, typed as openpyxl types a Python value (bool, number, text; None is left out unless styled)."""
    s = f' s="{style}"' if style else ""
    if value is None:
        return f'<c r="{ref}"{s} t="n" />' if style else ""
    if isinstance(value, bool | int | float):
        text = "" if isinstance(value, float) and (math.isnan(value) or math.isinf(value)) else f"{value:.16g}"
        return f'<c r="{ref}"{s} t="{"b" if isinstance(value, bool) else "n"}"><v>{text}</v></c>'
    value = str(value)[:32767]
    if _XLSX_ILLEGAL.search(value):
        from openpyxl.utils.exceptions import IllegalCharacterError

        raise IllegalCharacterError(f"{value} cannot be used in worksheets.")
    if value == "":
        return f'<c r="{ref}"{s} t="inlineStr" />'
    if len(value) > 1 and value.startswith("="):  # never after neutralise_formula; kept as openpyxl would write it
        return f'<c r="{ref}"{s}><f>{_xml_text(value[1:])}</f><v /></c>'
    if value in _XLSX_ERRORS:
        return f'<c r="{ref}"{s} t="e"><v>{value}</v></c>'
    space = ' xml:space="preserve"' if value.strip() and value.strip() != value else ""
    return f'<c r="{ref}"{s} t="inlineStr"><is><t{space}>{_xml_text(value)}</t></is></c>'


def _xlsx_sheet(header: list[str], rows, widths: list[float], percent: list[bool]) -> str:
    """A worksheet: bold header row frozen at the top, column widths, percent columns as 0.0%."""
    letters = [_column_letter(i) for i in range(1, len(header) + 1)]
    out = [f'<row r="1">{"".join(_xlsx_cell(f"{c}1", v, 1) for c, v in zip(letters, header))}</row>']
    n = 1
    for n, row in enumerate(rows, start=2):
        out.append(f'<row r="{n}">{"".join(_xlsx_cell(f"{c}{n}", v, 2 if p else 0) for c, v, p in zip(letters, row, percent))}</row>')
    cols = "".join(f'<col width="{w:.16g}" customWidth="1" min="{i}" max="{i}" />' for i, w in enumerate(widths, start=1))
    return ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetPr><outlinePr summaryBelow="1" summaryRight="1" /><pageSetUpPr /></sheetPr>'
            f'<dimension ref="A1:{letters[-1] if letters else "A"}{n}" /><sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen" />'
            '<selection pane="bottomLeft" activeCell="A1" sqref="A1" /></sheetView></sheetViews><sheetFormatPr baseColWidth="8" defaultRowHeight="15" />'
            f'{f"<cols>{cols}</cols>" if cols else ""}<sheetData>{"".join(out)}</sheetData>'
            '<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5" /></worksheet>')


def sheet_titles(stems: Sequence[str]) -> list[str]:
    """The sheet titles of ``tables.xlsx`` for these table names, in order: Excel's 31
    characters, a ``_<n>`` suffix (inside the 31) where two names share their first 31."""
    used: list[str] = []
    for stem in stems:
        sheet, n = stem[:31], len(used)
        while sheet in used:
            suffix = f"_{n}"
            sheet, n = stem[:31 - len(suffix)] + suffix, n + 1
        used.append(sheet)
    return used


def write_tables_xlsx(report_dir: Path, *, language: str = "ja", labels: Mapping[str, str] | None = None) -> Path | None:
    """Every ``tables/*.csv`` as one sheet of ``tables.xlsx`` with Japanese headers.

    Written directly as SpreadsheetML, cell for cell the XML openpyxl writes for the
    same values (inline strings, bold light-blue header frozen at the top, percent
    columns as ``0.0%``), in a quarter of openpyxl's time (0.5 instead of 2 CPU-s for the
    sample's 66 tables, most of it now reading the CSVs); tests/test_audit.py reads it
    back with openpyxl against a workbook built with openpyxl.
    """
    import time
    import zipfile

    from openpyxl.writer.theme import theme_xml

    csvs = sorted((Path(report_dir) / "tables").glob("*.csv"))
    if not csvs:
        return None
    names = {**COLUMN_LABELS.get(language, {}), **(labels or {})}
    used = sheet_titles([path.stem for path in csvs])
    parts = []
    for path in csvs:
        df = pd.read_csv(path, encoding="utf-8-sig")
        meta_path = Path(report_dir) / "meta" / f"{path.stem}.json"
        table_names = {**names, **(json.loads(meta_path.read_text(encoding="utf-8"))["labels"] if meta_path.exists() else {})}
        df = df.drop(columns=[c for c in ("suppression_reason",) if c in df.columns])
        header = [neutralise_formula(str(table_names.get(c, c))) for c in df.columns]
        # a text cell starting with "=" would become a live formula in a spreadsheet
        rows = ([None if (isinstance(v, float) and pd.isna(v)) else neutralise_formula(v.item() if hasattr(v, "item") else v) for v in row] for row in df.itertuples(index=False))
        widths = [min(max((max([len(str(table_names.get(col, col)))] + [len(str(v)) for v in df[col].head(200)]) + 2) * 1.2, 8), 60) for col in df.columns]
        parts.append(_xlsx_sheet(header, rows, widths, [col in PERCENT_COLUMNS for col in df.columns]))
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    ws_ct = _XLSX_CT + "spreadsheetml.worksheet+xml"
    files = {
        "[Content_Types].xml": ('<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml" />'
                                f'<Default Extension="xml" ContentType="application/xml" /><Override PartName="/xl/workbook.xml" ContentType="{_XLSX_CT}spreadsheetml.sheet.main+xml" />'
                                f'<Override PartName="/xl/styles.xml" ContentType="{_XLSX_CT}spreadsheetml.styles+xml" /><Override PartName="/xl/theme/theme1.xml" ContentType="{_XLSX_CT}theme+xml" />'
                                '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml" />'
                                f'<Override PartName="/docProps/app.xml" ContentType="{_XLSX_CT}extended-properties+xml" />'
                                + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{ws_ct}" />' for i in range(1, len(parts) + 1)) + "</Types>"),
        "_rels/.rels": ('<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                        f'<Relationship Type="{_XLSX_REL}/officeDocument" Target="xl/workbook.xml" Id="rId1" />'
                        '<Relationship Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml" Id="rId2" />'
                        f'<Relationship Type="{_XLSX_REL}/extended-properties" Target="docProps/app.xml" Id="rId3" /></Relationships>'),
        "docProps/app.xml": f'<Properties xmlns="{_XLSX_REL.replace("relationships", "extended-properties")}"><Application>dxanalysis {__version__}</Application></Properties>',
        "docProps/core.xml": ('<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
                              'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:creator>dxanalysis</dc:creator>'
                              f'<dcterms:created xsi:type="dcterms:W3CDTF">{now}</dcterms:created><dcterms:modified xsi:type="dcterms:W3CDTF">{now}</dcterms:modified></cp:coreProperties>'),
        "xl/workbook.xml": (f'<workbook xmlns:r="{_XLSX_REL}" xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><workbookPr /><bookViews><workbookView activeTab="0" /></bookViews><sheets>'
                            + "".join(f'<sheet name="{html.escape(name)}" sheetId="{i}" state="visible" r:id="rId{i}" />' for i, name in enumerate(used, start=1))
                            + '</sheets><calcPr calcId="124519" fullCalcOnLoad="1" /></workbook>'),
        "xl/_rels/workbook.xml.rels": ('<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                                       + "".join(f'<Relationship Type="{_XLSX_REL}/worksheet" Target="/xl/worksheets/sheet{i}.xml" Id="rId{i}" />' for i in range(1, len(parts) + 1))
                                       + f'<Relationship Type="{_XLSX_REL}/styles" Target="styles.xml" Id="rId{len(parts) + 1}" />'
                                       f'<Relationship Type="{_XLSX_REL}/theme" Target="theme/theme1.xml" Id="rId{len(parts) + 2}" /></Relationships>'),
        "xl/styles.xml": _XLSX_STYLES,
        "xl/theme/theme1.xml": theme_xml,
        **{f"xl/worksheets/sheet{i}.xml": xml for i, xml in enumerate(parts, start=1)},
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in files.items():
            z.writestr(name, text)
    out = Path(report_dir) / "tables.xlsx"
    atomic_write_bytes(out, buf.getvalue())  # the previous workbook stays whole until the new one is complete
    return out


def find_chromium() -> str | None:
    """Path of a headless-capable Chromium, or None."""
    import shutil

    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"]


def write_pdf(html_path: Path, pdf_path: Path | None = None, *, timeout: int = 120) -> Path:
    """Print a report to A4 PDF with headless Chromium (Debian package ``chromium``).

    Raises RuntimeError with what to install when Chromium is not available.
    """
    import subprocess
    import tempfile

    chromium = find_chromium()
    if chromium is None:
        raise RuntimeError("PDF には Chromium が必要です: sudo apt-get install chromium / PDF needs Chromium (apt-get install chromium)")
    html_path = Path(html_path).resolve()
    pdf_path = Path(pdf_path or html_path.with_suffix(".pdf")).resolve()
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--no-pdf-header-footer", f"--print-to-pdf={pdf_path}", html_path.as_uri()],
                       check=True, capture_output=True, timeout=timeout)
    return pdf_path
