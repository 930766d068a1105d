"""Shared HTML: self-contained, code hidden, alt text, tables privacy-filtered."""


import matplotlib.pyplot as plt
import nbformat
import pandas as pd
import pytest

from dxanalysis.report import SHARED_MARK, Publisher, external_references, render_html


def test_external_reference_detector():
    assert external_references('<script src="https://cdn.example/require.js"></script>')
    assert external_references('<link rel="stylesheet" href="https://x/y.css">')
    assert external_references('<img src="//cdn/x.png">')
    assert external_references("<style>@font-face{src:url(https://f/x.woff)}</style>")
    assert not external_references('<a href="01_current_state.html#sec-1">x</a><img src="data:image/png;base64,AAA" alt="a">')


def test_publisher_suppresses_and_writes_bom_csv(tmp_path):
    pub = Publisher(tmp_path, min_group_size=5, display=False)
    df = pd.DataFrame({"group": ["A", "B", "C"], "n": [3, 20, 30], "share": [0.1, 0.2, 0.3]})
    out = pub.table(df, "t")
    raw = (tmp_path / "tables" / "t.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert out["suppressed"].tolist() == [True, True, False]
    with pytest.raises(ValueError):
        pub.table(pd.DataFrame({"respondent_id": ["1"], "n": [9]}), "leak")


def test_figure_needs_alt_and_writes_png_svg(tmp_path):
    import warnings

    from dxanalysis.plots import setup_style

    setup_style()
    pub = Publisher(tmp_path, display=False)
    fig, ax = plt.subplots()
    ax.bar(["総務部"], [1])
    with pytest.raises(ValueError):
        pub.figure(fig, "x", alt=" ")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph (tofu) warning fails the test
        pub.figure(fig, "bars", alt="総務部の棒が1")
    assert (tmp_path / "figures" / "bars.png").exists() and (tmp_path / "figures" / "bars.svg").exists()


def test_figure_crops_as_savefig_tight_does(tmp_path):
    """The box computed once for a chart's three images is the one ``bbox_inches="tight"`` finds."""
    import io

    from PIL import Image

    from dxanalysis.plots import setup_style

    setup_style()
    pub = Publisher(tmp_path, display=False)
    fig, ax = plt.subplots(figsize=(6, 3), layout="constrained")
    ax.barh(["とても長い部署の名前が入る行", "総務部"], [3, 1])
    ax.set_title("題名", loc="left")
    fig.legend(["凡例"], loc="outside upper right")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=200, bbox_inches="tight")
    want = Image.open(buf).size
    pub.figure(fig, "long", alt="長い名前の部署が3")
    got = Image.open(tmp_path / "figures" / "long.png").size
    assert abs(got[0] - want[0]) <= 2 and abs(got[1] - want[1]) <= 2, (got, want)


def test_render_hides_code_and_is_self_contained(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# タイトル\n\n## 節1\n本文"),
        nbformat.v4.new_code_cell("secret_code = 1", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("print('x')", outputs=[nbformat.v4.new_output("stream", name="stdout", text="printed-text\n"), nbformat.v4.new_output("stream", name="stderr", text="stderr-noise\n")]),
        nbformat.v4.new_code_cell("pub.table(...)", outputs=[nbformat.v4.new_output("display_data", data={"text/html": "<p>visible</p>"}, metadata={SHARED_MARK: True})]),
        nbformat.v4.new_code_cell("df", outputs=[nbformat.v4.new_output("execute_result", data={"text/html": "<table>raw-unsuppressed</table>"}, execution_count=1),
                                                 nbformat.v4.new_output("display_data", data={"text/html": "<p>unmarked-display</p>"})]),
        nbformat.v4.new_code_cell("w", outputs=[nbformat.v4.new_output("display_data", data={"application/vnd.jupyter.widget-view+json": {"model_id": "x"}, "text/plain": "Widget"})]),
    ]
    html = render_html(nb, title="テスト")
    assert "secret_code" not in html and "print(" not in html
    assert "visible" in html and "stderr-noise" not in html and "printed-text" not in html
    assert "raw-unsuppressed" not in html and "unmarked-display" not in html  # only Publisher output is shared and "Widget" not in html
    assert '<html lang="ja">' in html and "<title>テスト</title>" in html
    assert 'href="#' in html  # table of contents
    assert external_references(html) == []


def test_a_kept_exporter_renders_what_a_new_one_renders():
    """render_html keeps its nbconvert exporter for the next page: pages rendered one after
    another equal pages each rendered by a new exporter (in either order)."""
    from dxanalysis import report

    def notebook(title, text, language, widgets):
        nb = nbformat.v4.new_notebook()
        nb.metadata["language_info"] = {"name": language, "pygments_lexer": language}
        if widgets:  # widget state the exporter's data-type filter reads per notebook
            nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {"m1": {"model_name": "IntSliderModel", "model_module": "@jupyter-widgets/controls",
                                                                                                   "model_module_version": "2.0.0", "state": {}}}, "version_major": 2, "version_minor": 0}}
        nb.cells = [nbformat.v4.new_markdown_cell(f"# {title}\n\n## 節\n{text}\n\n```\nprint('{text}')\n```"),
                    nbformat.v4.new_code_cell("x", outputs=[nbformat.v4.new_output("display_data", data={"text/html": f"<p>{text}</p>"}, metadata={SHARED_MARK: True})])]
        return nb

    nbs = [notebook("一", "あ", "python", True), notebook("二", "い", "r", False)]
    kept = [render_html(nb, title=str(i)) for i, nb in enumerate(nbs)]
    fresh = []
    for i, nb in enumerate(nbs):
        report._EXPORTERS.html = None
        fresh.append(render_html(nb, title=str(i)))
    assert kept == fresh and render_html(nbs[0], title="0") == kept[0]


def test_finding_recorded(tmp_path):
    from dxanalysis.report import read_findings

    for _ in range(2):  # a re-run replaces the notebook's findings instead of appending
        pub = Publisher(tmp_path, display=False, notebook="01_current_state")
        pub.finding("仮説H1は反証された")
    Publisher(tmp_path, display=False, notebook="02_segments").finding("セグメント2が研修対象")
    found = read_findings(tmp_path)
    assert [f["text"] for f in found] == ["仮説H1は反証された", "セグメント2が研修対象"]
    assert found[0]["section"] == "01_current_state.html"


def test_tables_xlsx_has_a_sheet_per_table_with_japanese_headers(tmp_path):
    from openpyxl import load_workbook

    from dxanalysis.report import write_tables_xlsx

    pub = Publisher(tmp_path, display=False)
    pub.table(pd.DataFrame({"group": ["A", "B"], "n": [10, 20], "share": [0.25, 0.5]}), "response_rates", labels={"group": "所属部署"})
    pub.table(pd.DataFrame({"construct": ["mind"], "n": [30], "alpha": [0.81]}), "reliability")
    wb = load_workbook(write_tables_xlsx(tmp_path))
    assert wb.sheetnames == ["reliability", "response_rates"]
    ws = wb["response_rates"]
    assert [c.value for c in ws[1]][:3] == ["所属部署", "回答者数", "割合"]
    assert ws["C2"].value == 0.25 and ws["C2"].number_format == "0.0%"


def test_summary_first_keeps_a_few_per_kind():
    from dxanalysis.report import split_findings, summary_html

    findings = [{"text": f"仮説{i}", "kind": "surprise", "section": "01_current_state.html"} for i in range(5)]
    findings += [{"text": "研修満足 93%(41/44人、95%信頼区間 81.8–97.7%)", "kind": "training", "section": "04_training.html"}, {"text": "その他", "kind": "finding"}]
    blocks, rest = split_findings(findings)
    assert [h for h, _ in blocks] == ["事前の想定と違ったこと", "研修の成果"]
    assert len(blocks[0][1]) == 3 and [f["text"] for f in rest] == ["仮説3", "仮説4", "その他"]
    html = summary_html(findings)
    assert html.count("<li>") == 4 and 'href="04_training.html"' in html


def test_table_display_columns_and_view_leave_csv_whole(tmp_path, monkeypatch):
    shown_html = []
    pub = Publisher(tmp_path, min_group_size=5)
    monkeypatch.setattr(pub, "_show_html", shown_html.append)
    df = pd.DataFrame({"group": ["A", "B", "C"], "n": [3, 20, 30], "share_improved": [0.5, 0.25, 0.125], "internal_id": ["x1", "x2", "x3"]})
    pub.table(df, "t", columns=["group", "n", "share_improved"], view=lambda f: f.assign(group=f["group"] + "組"))
    html = shown_html[0]
    assert "internal_id" not in html and "x3" not in html and "C組" in html
    assert "12.5%" in html and "50.0%" not in html and "25.0%" not in html  # share_* as percent; A hidden, B hidden as its complement
    assert "internal_id" in (tmp_path / "tables" / "t.csv").read_text(encoding="utf-8-sig")


def test_finding_and_note_take_one_many_or_none(tmp_path, monkeypatch):
    from dxanalysis.report import read_findings

    pub = Publisher(tmp_path, notebook="03_roadmap")
    shown = []
    monkeypatch.setattr(pub, "_show_html", shown.append)
    pub.finding(["M06 は前提より先に始まる", "", None], kind="gap")
    pub.finding(None)
    pub.note(("注1", "注2"))
    pub.note(None)
    assert [f["text"] for f in read_findings(tmp_path)] == ["M06 は前提より先に始まる"]
    assert len(shown) == 3


def test_saved_chart_is_matplotlibs_tight_png_and_shown_at_110_dpi_size(tmp_path):
    """figures/<name>.png holds the pixels matplotlib's own PNG writer saves for the chart's
    box at 200 dpi (an RGB file, same picture, same dpi), the size of ``savefig(dpi=200,
    bbox_inches="tight")`` (±3 px: our box comes from one layout pass shared with the SVG); the
    notebook/HTML shows those very bytes with width/height of ``savefig(dpi=110,
    bbox_inches="tight")`` (±2 px)."""
    import base64
    import io
    import re

    import numpy as np
    from PIL import Image

    from dxanalysis.plots import setup_style

    setup_style()
    shown = []
    pub = Publisher(tmp_path, display=True)
    pub._show_html = shown.append
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.barh(["総務課", "企画課"], [3, 1], color="#1f77b4")
    ax.set_title("部署別の回答者数(人)")
    from dxanalysis.report import _tight_bbox

    ref200, tight200, ref110 = io.BytesIO(), io.BytesIO(), io.BytesIO()
    fig.savefig(ref200, format="png", dpi=200, bbox_inches=_tight_bbox(fig, dpi=200))
    fig.savefig(tight200, format="png", dpi=200, bbox_inches="tight")
    fig.savefig(ref110, format="png", dpi=110, bbox_inches="tight")
    want = Image.open(ref200)
    assert all(abs(a - b) <= 3 for a, b in zip(want.size, Image.open(tight200).size))
    pub.figure(fig, "bars", alt="総務課が3")
    saved = (tmp_path / "figures" / "bars.png").read_bytes()
    got = Image.open(io.BytesIO(saved))
    assert got.mode == "RGB" and got.size == want.size
    assert got.info.get("dpi", (0, 0))[0] == pytest.approx(200, abs=1)
    assert np.array_equal(np.asarray(got), np.asarray(want.convert("RGB"))), "not the chart matplotlib saves"
    assert np.asarray(want)[..., 3].min() == 255  # nothing lost by dropping alpha
    img = re.search(r'<img src="data:image/png;base64,([^"]+)" alt="総務課が3" width="(\d+)" height="(\d+)">', shown[0])
    assert img, shown[0][:200]
    assert base64.b64decode(img.group(1)) == saved
    w110, h110 = Image.open(ref110).size
    assert abs(int(img.group(2)) - w110) <= 2 and abs(int(img.group(3)) - h110) <= 2, (img.group(2), img.group(3), w110, h110)


def test_long_labels_are_not_cut_at_the_edge(tmp_path):
    """A chart whose labels reach far past the figure: the PNG's box is the one matplotlib's own
    ``savefig(dpi=200, bbox_inches="tight")`` measures (±2 px), and no ink touches the outer
    columns or rows (the box was measured at the figure's 110 dpi before, where text is narrower,
    and the first glyph of a long label was cut)."""
    import io

    import numpy as np
    from PIL import Image

    from dxanalysis.plots import setup_style

    setup_style()
    fig, ax = plt.subplots(figsize=(6, 3))
    long = "企画政策部デジタル推進課情報システム担当(庁内ネットワークと基幹系システムの標準化・共通化)" * 2
    ax.barh([long, "総務課"], [3, 1])
    tight = io.BytesIO()
    fig.savefig(tight, format="png", dpi=200, bbox_inches="tight")
    Publisher(tmp_path, display=False).figure(fig, "long", alt="長い部署名が3")
    got = np.asarray(Image.open(tmp_path / "figures" / "long.png").convert("L"), dtype=int)
    want_w, want_h = Image.open(tight).size
    assert abs(got.shape[1] - want_w) <= 2 and abs(got.shape[0] - want_h) <= 2, (got.shape, (want_h, want_w))
    edges = np.concatenate([got[:, :3].ravel(), got[:, -3:].ravel(), got[:3, :].ravel(), got[-3:, :].ravel()])
    assert edges.min() >= 250, "something is drawn at the picture's edge: cut off"


@pytest.mark.parametrize("how", ["face", "rc"])
def test_a_transparent_chart_keeps_its_alpha(tmp_path, how):
    """A transparent face, or rcParams savefig.transparent, gives the RGBA pixels of matplotlib's own savefig."""
    import io

    import matplotlib
    import numpy as np
    from PIL import Image

    from dxanalysis.report import _tight_bbox

    with matplotlib.rc_context({"savefig.transparent": how == "rc"}):
        fig, ax = plt.subplots(figsize=(3, 2))
        if how == "face":
            fig.patch.set_alpha(0.0)
        ax.plot([0, 1], [1, 0])
        want = io.BytesIO()
        fig.savefig(want, format="png", dpi=200, bbox_inches=_tight_bbox(fig, dpi=200))
        Publisher(tmp_path, display=False).figure(fig, "line", alt="右下がり")
    saved = Image.open(tmp_path / "figures" / "line.png")
    assert saved.mode == "RGBA" and np.asarray(saved)[..., 3].min() < 255
    assert np.array_equal(np.asarray(saved), np.asarray(Image.open(want).convert("RGBA")))
