"""The survey explorer: its callback runs without a browser; hidden groups stay hidden."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dxanalysis import explore
from dxanalysis import survey as sv

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


@pytest.fixture(scope="module")
def sample(sample_municipality):
    return sample_municipality


def _texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts] + [t.get_text() for ax in fig.axes for t in ax.get_yticklabels()]


def test_construct_view_hides_small_department(sample):
    view = explore.explorer_view(sample, measure="use", attribute="department")
    t = view.table.set_index("group")
    assert view.kind == "construct"
    assert t.loc["全体", "n"] == len(sample.survey)
    # 会計課 has 3 respondents (< 5): hidden, and one more department hidden so it cannot be recovered
    assert t.loc["会計課", "suppressed"] and np.isnan(t.loc["会計課", "mean"])
    assert t["suppressed"].sum() == 2
    assert "非表示(少人数)" in _texts(view.figure)
    visible = t[~t["suppressed"]].drop(index="全体")
    scores = sv.construct_scores(sample.survey, sample.codebook)["use"]
    for g, row in visible.iterrows():  # the mean shown is the group's mean score
        assert row["mean"] == pytest.approx(scores[sample.survey["department"] == g].mean())
    assert "データ・技術の利活用" in view.alt and "所属部署" in view.alt


def test_item_and_tool_views(sample):
    item = explore.explorer_view(sample, measure="tech_01", attribute="age_band")
    assert item.kind == "item" and item.distribution is not None
    shares = item.distribution.groupby("group")["share"].sum()
    np.testing.assert_allclose(shares, 1.0)
    assert len(item.figure.axes[0].patches) == 5 * 5  # 全体 + 4 age bands, 5 answers each
    assert {"share_negative", "share_neutral", "share_positive"} <= set(item.table.columns)
    hidden = explore.explorer_view(sample, measure="tech_01", attribute="department")
    assert hidden.table["suppressed"].sum() == 2
    assert len(hidden.figure.axes[0].patches) == (10 - 2) * 5  # 全体 + 9 departments, 2 hidden
    assert [t.get_text() for t in hidden.figure.axes[0].texts].count("非表示(少人数)") == 2
    tool = explore.explorer_view(sample, measure="tool_chat", attribute="employment")
    row = tool.table.set_index("group").loc["全体"]
    assert row["mean"] == pytest.approx(sample.survey["tool_chat"].mean())
    assert row["ci_low"] < row["mean"] < row["ci_high"]
    with pytest.raises(KeyError):
        explore.explorer_view(sample, measure="nope", attribute="employment")


def test_widget_callback_updates_view_without_browser(sample):
    ex = explore.Explorer(sample)
    box = ex.build()
    assert box is ex.widgets["box"] and ex.view.measure == "mind"
    first = ex.view
    ex.widgets["attribute"].value = "grade"  # what a user's click does: traitlets fires the callback
    assert ex.view is not first and ex.view.attribute == "grade"
    assert list(ex.view.table["group"]) == ["全体", "一般職員", "係長級", "課長補佐級", "課長級以上"]
    ex.widgets["measure"].value = "tool_genai"
    assert ex.view.kind == "tool" and ex.view.measure == "tool_genai" and ex.view.attribute == "grade"
    labels = dict((v, k) for k, v in ex.widgets["measure"].options)
    assert labels["mind"].startswith("構成概念") and labels["tool_genai"].startswith("ツール")


# --------------------------------------------------------------------------- real JupyterLab
def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_explorer_in_real_jupyterlab(sample, tmp_path):
    """Open notebook 01's explorer in JupyterLab (Japanese, widget state saved, as `make lab`),
    change the attribute and two filters, save the view, check that no output shows a
    traceback, a path, a font warning or an English column id; reopen the saved notebook
    without running it and see the last view; run a cell with a wrong data_dir and see the
    short Japanese box. Screenshots go to ``tmp_path`` (lab_run_all.png, lab_filters.png,
    lab_reopened.png, lab_input_error.png).

    The notebook copy keeps the parameters, setup and explorer cells only (the other
    sections are covered by the notebook run).
    """
    import os
    import subprocess
    import sys
    import time
    import urllib.request

    import nbformat

    from dxanalysis.config import RESOURCES_DIR
    from dxanalysis.report import find_chromium

    chromium = find_chromium()
    jupyter = Path(sys.executable).with_name("jupyter")
    if chromium is None or not jupyter.exists():
        pytest.skip("Chromium or JupyterLab not installed")
    pytest.importorskip("playwright")
    from playwright.sync_api import sync_playwright

    nb = nbformat.read(Path(__file__).resolve().parents[1] / "notebooks" / "01_current_state.ipynb", as_version=4)
    keep = []
    for cell in nb.cells:
        if "parameters" in cell.metadata.get("tags", []):
            cell.source = f'data_dir: str = "{SAMPLE}"\nreport_dir: str = "{tmp_path / "reports"}"'
            keep.append(cell)
        elif cell.cell_type == "code" and ("load_municipality" in cell.source or "show_explorer" in cell.source):
            keep.append(cell)
    assert len(keep) == 3, "notebook 01 must keep its parameters, setup and explorer cells"
    nb.cells = keep
    nbformat.write(nb, tmp_path / "explore.ipynb")
    bad = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(f'from dxanalysis import io\nm = io.load_municipality("{tmp_path / "no_such_town"}")')],
                                   metadata=nb.metadata)  # same kernelspec: no kernel-choice dialog
    nbformat.write(bad, tmp_path / "error.ipynb")

    port = _free_port()
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt"), "JUPYTER_PLATFORM_DIRS": "1",
           "JUPYTER_CONFIG_PATH": str(RESOURCES_DIR / "jupyter"), "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "ws")}
    log = open(tmp_path / "lab.log", "w")
    server = subprocess.Popen(
        [str(jupyter), "lab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=t", "--allow-root",
         f"--ServerApp.root_dir={tmp_path}", "--LabApp.news_url=", "--LabApp.expose_app_in_browser=True"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    kernel_ready = ("() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
                    " return w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel; }")
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token=t", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.skip("JupyterLab did not start within 30 s: " + (tmp_path / "lab.log").read_text()[-300:])
                time.sleep(0.25)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(f"http://127.0.0.1:{port}/lab/tree/explore.ipynb?token=t")
                page.wait_for_function(kernel_ready, timeout=60000)
                page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
                page.wait_for_selector(".widget-dropdown select", timeout=90000)
                chart = page.locator(".widget-output section.dx-chart").first
                chart.wait_for(timeout=30000)
                assert "所属部署別" in chart.get_attribute("aria-label")
                bar = page.locator(".widget-output .dx-bar").first.bounding_box()
                assert bar and bar["width"] > 5 and bar["height"] > 5  # the bars' inline widths and the style survive JupyterLab
                selects = page.locator(".widget-dropdown select")
                selects.nth(1).select_option(label="職層")
                page.wait_for_function("() => { const i = document.querySelector('.widget-output section.dx-chart'); return i && i.getAttribute('aria-label').includes('職層別'); }", timeout=30000)
                table = page.locator(".widget-output table").last.inner_text()
                assert "課長級以上" in table and "会計課" not in table
                page.screenshot(path=str(tmp_path / "lab_run_all.png"))
                selects.nth(3).select_option(label="福祉部")  # filter 1: department
                page.wait_for_function("() => { const i = document.querySelector('.widget-output section.dx-chart'); return i && i.getAttribute('aria-label').includes('福祉部'); }", timeout=30000)
                selects.nth(6).select_option(label="正規職員")  # filter 2: employment
                page.wait_for_function("() => { const i = document.querySelector('.widget-output section.dx-chart'); return i && i.getAttribute('aria-label').includes('福祉部 × 正規職員'); }", timeout=30000)
                page.locator(".widget-output section.dx-chart").first.scroll_into_view_if_needed()
                page.screenshot(path=str(tmp_path / "lab_filters.png"))
                page.get_by_role("button", name="この表示を保存(CSV・PNG)").click()
                page.wait_for_function("() => document.body.innerText.includes('保存しました')", timeout=30000)
                saved = sorted(p.name for p in (tmp_path / "reports" / "explore").iterdir())
                assert saved == ["mind_grade_department-福祉部_employment-正規職員.csv", "mind_grade_department-福祉部_employment-正規職員.png"], saved
                outputs = " ".join(page.locator(".jp-OutputArea-output").all_inner_texts())
                for word in ("Traceback", "PosixPath", "findfont", "ci_low", "ci_high", "share_positive", "suppression_reason", "n_group", "q_value", "Municipality("):
                    assert word not in outputs, word
                # save (widget state included, as make lab sets), reopen without running: the last view, not "model not found"
                page.evaluate("window.jupyterapp.commands.execute('docmanager:save')")
                page.wait_for_timeout(1500)
                page.evaluate("window.jupyterapp.commands.execute('application:close-all')")
                page.wait_for_timeout(500)
                saved_nb = nbformat.read(tmp_path / "explore.ipynb", as_version=4)
                assert "widgets" in saved_nb.metadata, "widget state was not saved"
                page.goto(f"http://127.0.0.1:{port}/lab/tree/explore.ipynb?token=t")
                page.wait_for_selector(".jp-Notebook", timeout=60000)
                page.wait_for_selector(".widget-output section.dx-chart", timeout=30000)
                assert "model not found" not in page.locator(".jp-Notebook").inner_text()
                page.screenshot(path=str(tmp_path / "lab_reopened.png"))
                # an input error: one short Japanese box, no traceback, naming the folder
                page.goto(f"http://127.0.0.1:{port}/lab/tree/error.ipynb?token=t")
                page.wait_for_function("() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget; return w && w.context && w.context.path === 'error.ipynb'"
                                       " && w.sessionContext.session && w.sessionContext.session.kernel; }", timeout=60000)
                page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
                page.wait_for_function("() => [...document.querySelectorAll('.jp-OutputArea-output')].some(o => o.innerText.includes('no_such_town'))", timeout=60000)
                text = next(t for t in page.locator(".jp-OutputArea-output").all_inner_texts() if "no_such_town" in t)
                assert "no_such_town" in text and "Traceback" not in text and len(text.splitlines()) <= 6, text
                page.screenshot(path=str(tmp_path / "lab_input_error.png"))
            finally:
                browser.close()
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def test_view_table_shows_score_intervals_as_points_and_tool_shares_as_percent(sample):
    view = explore.explorer_view(sample, measure="mind", attribute="employment")
    html = explore.view_table_html(view)
    overall = view.table.set_index("group").loc["全体"]
    # a mean score's 95% interval (t interval around about 3.3) printed as points, not as 3xx.x%
    assert f"{overall['ci_low']:,.2f}" in html and f"{overall['ci_low'] * 100:.1f}%" not in html
    # two employment types: "A vs the rest" and "B vs the rest" are one test, both rows carry its q (= p)
    groups = view.table[view.table["attribute"] == "employment"]
    assert groups["q_value"].tolist() == pytest.approx(groups["p_value"].tolist())
    tool = explore.explorer_view(sample, measure="tool_chat", attribute="employment")
    share = tool.table.set_index("group").loc["全体", "mean"]
    assert f"{share * 100:.1f}%" in explore.view_table_html(tool)


# --------------------------------------------------------------------------- filters, offline explorer
@pytest.fixture(scope="module")
def offline(sample):
    from dxanalysis.privacy import suppression_plan

    plan = suppression_plan(sample.survey, sample.codebook, min_size=sample.min_group_size)
    return plan, explore.offline_data(sample, plan=plan)


def test_filtered_groups_are_cross_classifications_with_the_plan_forced(sample):
    from dxanalysis.privacy import suppression_plan

    plan = suppression_plan(sample.survey, sample.codebook, min_size=sample.min_group_size)
    t = explore.group_table(sample, measure="use", attribute="age_band", plan=plan, filters={"department": ["福祉部"]})
    s = sample.survey
    sub = s[s["department"] == "福祉部"]
    assert t.set_index("group").loc["全体", "n"] == len(sub)  # the filtered staff
    counts = sub["age_band"].value_counts()
    shown = t[(t["attribute"] == "age_band") & ~t["suppressed"]]
    assert (shown["n"] >= sample.min_group_size).all()
    small = [g for g, n in counts.items() if n < sample.min_group_size]
    hidden = t[(t["attribute"] == "age_band") & t["suppressed"]]
    assert set(small) <= set(hidden["group"]) and hidden["mean"].isna().all()
    if small:  # complementary: never exactly one hidden cell under a published total
        assert len(hidden) >= 2
    # a filter on a group the plan hides (会計課) hides the whole view, however large its rows
    hid = explore.group_table(sample, measure="use", attribute="grade", plan=plan, filters={"department": ["会計課"]})
    assert hid["suppressed"].all() and hid["mean"].isna().all()
    # filters combine: 福祉部 × 20代以下 by grade
    both = explore.group_table(sample, measure="mind", attribute="grade", plan=plan, filters={"department": ["福祉部"], "age_band": ["20代以下"]})
    n_both = ((s["department"] == "福祉部") & (s["age_band"] == "20代以下")).sum()
    row = both.set_index("group").loc["全体"]
    assert (row["n"] == n_both) if n_both >= sample.min_group_size else bool(row["suppressed"])


def test_offline_data_has_no_number_of_a_hidden_group(sample, offline):
    plan, data = offline
    ids = [m[0] for m in data["measures"]]
    assert len(data["views"]) == len(ids) * len(data["attributes"])
    assert ids[:2] == ["mind", "mind_01"]  # grouped by construct: the score, then its items
    assert any(label.endswith("(逆)") for _, label, kind, _ in data["measures"] if kind == "item")
    assert {"tool", "item", "construct"} <= {m[2] for m in data["measures"]}
    hidden_pairs = set(zip(plan.hidden()["attribute"], plan.hidden()["group"].astype(str)))
    assert ("department", "会計課") in hidden_pairs
    for key, rows in data["views"].items():
        attribute = key.split("|")[1]
        for r in rows:
            if (attribute, r[0]) in hidden_pairs:
                assert r == [r[0]], (key, r)  # the group's name only: no n, mean or interval
            if len(r) > 1:
                assert r[1] >= sample.min_group_size, (key, r)


def _plain_pandas_summary(survey, codebook, measure, attribute, scores):
    """The explorer's numbers of one measure by one attribute with plain pandas, scipy and statsmodels (the reference)."""
    from scipy import stats
    from statsmodels.stats.proportion import proportion_confint

    y = (scores[measure] if measure in codebook.constructs else survey[measure]).astype(float)
    frame = pd.DataFrame({"y": y, "g": survey[attribute]}).dropna(subset=["y"])
    blocks = [("overall", "全体", frame["y"])] + [(attribute, str(g), part["y"]) for g, part in frame.dropna(subset=["g"]).groupby("g", observed=True, sort=True)]
    rows = []
    for attr, group, a in blocks:
        n, mean = len(a), a.sum() / len(a)  # the mean with all weights 1: Σ w·x / Σ w
        if measure in codebook.tool_ids:
            low, high = proportion_confint(a.sum(), n, alpha=0.05, method="wilson")
        else:
            half = stats.t.ppf(0.975, n - 1) * a.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan  # mean ± t(0.975, n − 1) · s / √n
            low, high = mean - half, mean + half
        row = {"attribute": attr, "group": group, "n": n, "mean": mean, "ci_low": low, "ci_high": high}
        if measure in codebook.item_ids:
            neutral = codebook.scales[codebook.item(measure).scale].neutral
            row.update(share_negative=(a < neutral).sum() / n, share_neutral=(a == neutral).sum() / n, share_positive=(a > neutral).sum() / n)
        rows.append(row)
    return pd.DataFrame(rows)


@pytest.mark.parametrize("variant", ["sample", "object_attribute_with_gaps"])
def test_group_summaries_match_plain_pandas(sample, variant):
    survey, cb = sample.survey, sample.codebook
    if variant != "sample":  # an attribute that is not categorical, with unknown values, and a category nobody is in
        survey = survey.copy()
        survey["grade"] = survey["grade"].astype(object)
        survey.loc[survey.index[::37], "grade"] = None
        survey["age_band"] = survey["age_band"].cat.add_categories(["空のグループ"])
    scores = sv.construct_scores(survey, cb)
    measures = [*cb.constructs, *cb.item_ids, *cb.tool_ids]
    for attribute in cb.attributes:
        table = sv.group_summaries(survey, cb, measures=measures, attribute=attribute, scores=scores)
        assert table["measure"].unique().tolist() == measures
        assert "空のグループ" not in set(table["group"])  # a group without answers has no row
        for measure, got in table.groupby("measure", sort=False):
            want = _plain_pandas_summary(survey, cb, measure, attribute, scores)
            got = got.drop(columns="measure").reset_index(drop=True)[list(want.columns)]
            assert got[["attribute", "group"]].values.tolist() == want[["attribute", "group"]].values.tolist(), (measure, attribute)
            assert got["n"].tolist() == want["n"].tolist()
            np.testing.assert_allclose(got.drop(columns=["attribute", "group", "n"]).to_numpy(dtype=float), want.drop(columns=["attribute", "group", "n"]).to_numpy(dtype=float),
                                       rtol=1e-12, atol=1e-12, err_msg=f"{measure} by {attribute}")
            if measure not in cb.item_ids:
                assert got.columns.tolist()[-1] == "ci_high" and table.loc[table["measure"] == measure, "share_positive"].isna().all()
    # measure_by_group shares these columns; its effect sizes and q-values are still per group
    mbg = sv.measure_by_group(survey, cb, measure="tech_01", attribute="grade", scores=scores)
    first = sv.group_summaries(survey, cb, measures=["tech_01"], attribute="grade", scores=scores).drop(columns="measure")
    pd.testing.assert_frame_equal(mbg[first.columns], first, check_exact=True)
    g = mbg.set_index("group").loc["係長級"]
    known = survey["grade"].notna() & survey["tech_01"].notna()
    a, rest = survey.loc[known & (survey["grade"] == "係長級"), "tech_01"], survey.loc[known & (survey["grade"] != "係長級"), "tech_01"]
    from scipy import stats

    u = stats.mannwhitneyu(a, rest, alternative="two-sided")
    assert g["p_value"] == pytest.approx(u.pvalue) and g["effect_size"] == pytest.approx(2 * u.statistic / (len(a) * len(rest)) - 1)


@pytest.mark.parametrize("min_size", [5, 40])
def test_offline_data_equals_group_table_view_by_view(sample, min_size):
    """The all-at-once offline tables are group_table's, view by view: the same groups hidden (plan, small
    cells, their complements: at 40 many partitions suppress several cells) and the same rounded numbers."""
    from types import SimpleNamespace

    from dxanalysis.privacy import suppression_plan

    m = SimpleNamespace(survey=sample.survey, codebook=sample.codebook, min_group_size=min_size, language="ja")
    plan = suppression_plan(m.survey, m.codebook, min_size=min_size)
    scores = sv.construct_scores(m.survey, m.codebook)
    data = explore.offline_data(m, scores=scores, plan=plan)
    kinds = {mid: kind for mid, _, kind, _ in data["measures"]}
    assert len(data["views"]) == len(kinds) * len(data["attributes"])
    checked = set(list(kinds)[::4]) | {next(mid for mid, k in kinds.items() if k == kind) for kind in ("construct", "item", "tool")}  # group_table is slow
    hidden_rows = 0
    for key, rows in data["views"].items():
        measure, attribute = key.split("|")
        hidden_rows += sum(len(r) == 1 for r in rows)
        assert all(r[1] >= min_size for r in rows if len(r) > 1), key
        if measure not in checked:
            continue
        t = explore.group_table(m, measure=measure, attribute=attribute, scores=scores, plan=plan, min_group_size=min_size)
        want = []
        for r in t.itertuples(index=False):
            if r.suppressed:
                want.append([r.group])
                continue
            row = [r.group, int(r.n), *(None if pd.isna(v) else round(float(v), 3) for v in (r.mean, r.ci_low, r.ci_high))]
            if kinds[measure] == "item":
                row += [round(float(v), 3) for v in (r.share_negative, r.share_neutral, r.share_positive)]
            want.append(row)
        assert rows == want, key
    assert hidden_rows > (len(data["views"]) if min_size == 40 else 0)


def test_offline_explorer_html_is_self_contained_and_small(offline):
    from dxanalysis.report import external_references

    data = offline[1]
    page = explore.offline_explorer_html(data)
    assert external_references(page) == []
    assert len(page.encode("utf-8")) < 300_000
    assert '<script type="application/json"' in page and "<noscript>" in page
    assert "<caption>" in page and 'th scope="row"' in page and 'th scope="col"' in page
    assert "<optgroup" in page and "非表示(少人数)" in page
    first = page.split("<tbody>")[1].split("</tbody>")[0]
    assert "会計課" in first and "会計課</th><td>非表示(少人数)" in first


@pytest.mark.slow
def test_offline_explorer_switches_in_chromium_with_network_blocked(offline, tmp_path):
    from dxanalysis.report import find_chromium, page as html_page

    chromium = find_chromium()
    if chromium is None:
        pytest.skip("Chromium not installed")
    pytest.importorskip("playwright")
    from playwright.sync_api import sync_playwright

    path = tmp_path / "explore.html"
    path.write_text(html_page("探索", explore.offline_explorer_html(offline[1])), encoding="utf-8")
    errors, remote = [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_context(offline=True).new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: remote.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
            page.goto(path.as_uri())
            assert page.locator("#dx-explore .dx-controls").is_visible()
            before = page.locator("#dx-explore tbody").inner_text()
            page.select_option("#dx-explore-a", "grade")
            after = page.locator("#dx-explore tbody").inner_text()
            assert after != before and "課長級以上" in after and "会計課" not in after
            page.select_option("#dx-explore-m", "tool_genai")
            page.select_option("#dx-explore-s", "desc")
            shares = [float(x.rstrip("%")) for x in page.locator("#dx-explore tbody tr td:nth-child(3)").all_inner_texts() if x.endswith("%")]
            assert shares[1:] == sorted(shares[1:], reverse=True)  # 全体 first, then highest first
            assert "生成AI" in page.locator("#dx-explore caption").inner_text()
        finally:
            browser.close()
    assert errors == [] and remote == []


def test_widget_filters_compare_sort_and_save(sample, tmp_path):
    ex = explore.Explorer(sample, report_dir=tmp_path)
    ex.build()
    wg = ex.widgets
    wg["measure"].value = "tool_genai"
    wg["attribute"].value = "age_band"
    wg["filters"]["department"].value = "福祉部"  # 福祉部 × each age band
    assert ex.filters == {"department": ["福祉部"]}
    t = ex.view.table
    s = sample.survey
    assert t.set_index("group").loc["全体", "n"] == ((s["department"] == "福祉部") & s["tool_genai"].notna()).sum()
    assert (t.loc[~t["suppressed"], "n"] >= sample.min_group_size).all()
    assert "福祉部" in ex.view.alt or "福祉部" in ex.view.figure.axes[0].get_title(loc="left")
    wg["filters"]["grade"].value = "一般職員"  # a second filter combines with the first
    assert ex.filters == {"department": ["福祉部"], "grade": ["一般職員"]}
    wg["filters"]["grade"].value = ""
    wg["sort"].value = "desc"
    vals = ex.view.table.loc[ex.view.table["attribute"] != "overall", "mean"].dropna().tolist()
    assert vals == sorted(vals, reverse=True)
    shown = [g for g, hid in zip(ex.view.table["group"], ex.view.table["suppressed"]) if not hid and g != "全体"]
    wg["compare_a"].value, wg["compare_b"].value = shown[0], shown[1]
    c = ex.comparison
    assert c is not None and c["ci_low"] < c["diff"] < c["ci_high"] and c["diff"] == pytest.approx(c["value_a"] - c["value_b"])
    hidden = [g for g, hid in zip(ex.view.table["group"], ex.view.table["suppressed"]) if hid]
    if hidden:  # a hidden group is never compared
        wg["compare_b"].value = hidden[0]
        assert ex.comparison is None
    csv, png = ex.save()
    assert csv.parent == tmp_path / "explore" and csv.exists() and png.read_bytes()[:4] == b"\x89PNG"
    text = csv.read_text(encoding="utf-8-sig")
    assert "suppression_reason" not in text and "回答者数" in text
    for g in hidden:
        row = next(line for line in text.splitlines() if f",{g}," in line)
        assert not any(ch.isdigit() for ch in row.split(f",{g},")[1]), row  # no number of a hidden group


def test_compare_groups_matches_welch_and_newcombe(sample):
    from scipy import stats

    s = sample.survey
    c = explore.compare_groups(sample, measure="mind_01", attribute="employment", a="正規職員", b="会計年度任用職員")
    ya, yb = s.loc[s["employment"] == "正規職員", "mind_01"].dropna(), s.loc[s["employment"] == "会計年度任用職員", "mind_01"].dropna()
    ci = stats.ttest_ind(ya, yb, equal_var=False).confidence_interval(0.95)  # scipy Welch interval
    assert (c["ci_low"], c["ci_high"]) == pytest.approx((ci.low, ci.high))
    tool = explore.compare_groups(sample, measure="tool_chat", attribute="employment", a="正規職員", b="会計年度任用職員")
    assert tool["ci_low"] < tool["diff"] < tool["ci_high"] and -1 <= tool["ci_low"] and tool["ci_high"] <= 1
    assert explore.compare_groups(sample, measure="use", attribute="department", a="会計課", b="総務部") is None  # hidden by the plan


def test_item_chart_title_clears_the_legend(sample):
    view = explore.explorer_view(sample, measure="tech_01", attribute="age_band")
    fig = view.figure
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    title = fig.axes[0].title if fig.axes[0].get_title() else fig.axes[0]._left_title
    legend = fig.axes[0].get_legend()
    assert not title.get_window_extent(r).overlaps(legend.get_window_extent(r))


def test_figure_png_is_the_tight_savefig(sample):
    """The explorer's PNG (one layout pass fewer) is byte for byte savefig(bbox_inches="tight")."""
    import io

    import matplotlib.pyplot as plt

    for measure, attribute, filters in [("tech_01", "department", None), ("use", "grade", {"department": ["福祉部"]}), ("tool_chat", "employment", None)]:
        fig = explore.explorer_view(sample, measure=measure, attribute=attribute, filters=filters).figure
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
        dpi = fig.dpi
        assert explore.figure_png(fig) == buf.getvalue(), measure
        assert fig.dpi == dpi
        plt.close(fig)


def test_explorer_keeps_recent_views_and_they_stay_filtered(sample):
    import contextlib
    import io

    ex = explore.Explorer(sample)
    with contextlib.redirect_stdout(io.StringIO()):
        ex.build()
        wg = ex.widgets
        wg["measure"].value = "use"
        wg["attribute"].value = "grade"
        wg["filters"]["department"].value = "会計課"  # a group the plan hides: every row hidden
        first, shown = ex.view, ex._html
        assert first.table["suppressed"].all() and first.table["mean"].isna().all()
        wg["filters"]["department"].value = ""
        assert not ex.view.table["suppressed"].all()
        wg["sort"].value = "desc"
        wg["filters"]["department"].value = "会計課"  # back to a kept view: the same table and chart, still hidden
    assert ex._html == shown and ex.view is not first
    pd.testing.assert_frame_equal(ex.view.table, first.table)
    assert ex.view.table["suppressed"].all() and ex.view.table["mean"].isna().all()
    assert len(ex._cache) <= explore.CACHED_VIEWS


def test_redraw_shows_html_bars_of_the_filtered_table_and_draws_no_chart(sample):
    import contextlib
    import io
    import re

    import matplotlib.pyplot as plt

    ex = explore.Explorer(sample)
    with contextlib.redirect_stdout(io.StringIO()):
        ex.build()
        before = set(plt.get_fignums())
        for measure, attribute in [("tech_01", "department"), ("use", "grade"), ("tool_chat", "department")]:
            ex.widgets["measure"].value, ex.widgets["attribute"].value = measure, attribute
            assert set(plt.get_fignums()) == before  # no matplotlib figure for a redraw
            table, html = ex.view.table, ex._html
            rows = re.findall(r'<tr( class="dx-hidden")?><th scope="row">([^<]*)</th>(.*?)</tr>', html)
            assert [g for _, g, _ in rows] == [str(g) for g in table["group"]]  # the table's groups, in its order
            for (hid, _g, cells), (_, r) in zip(rows, table.iterrows()):
                widths = [float(x) for x in re.findall(r"width:([\d.]+)%", cells)]
                if r["suppressed"]:
                    assert hid and not widths and not re.search(r"\d", cells.replace("(少人数)", ""))  # nothing of a hidden group
                elif explore._kind(sample.codebook, measure) == "item":
                    assert widths == pytest.approx([100 * r[c] for c in ("share_negative", "share_neutral", "share_positive")], abs=0.051)
                elif measure.startswith("tool"):
                    assert widths == pytest.approx([100 * r["mean"]], abs=0.051)
                else:
                    assert widths == pytest.approx([100 * (r["mean"] - 1) / 4], abs=0.051)
            assert f'aria-label="{ex.view.alt}"' in html
        ex.widgets["sort"].value = "desc"
        shown = [g for g, hid in zip(ex.view.table["group"], ex.view.table["suppressed"]) if not hid]
        assert re.findall(r'<tr><th scope="row">([^<]*)</th>', ex._html) == [str(g) for g in shown]  # sorted bars


def test_a_sorted_view_draws_its_chart_in_its_order(sample):
    from dataclasses import replace

    view = explore.explorer_view(sample, measure="use", attribute="department")
    ordered = replace(view, table=explore.sort_table(view.table, "asc"))
    labels = [t.get_text() for t in ordered.figure.axes[0].get_yticklabels()]
    groups = [str(g) for g, a in zip(ordered.table["group"], ordered.table["attribute"]) if a != "overall"]  # 全体 is the dashed line
    assert labels == groups and groups != [str(g) for g, a in zip(view.table["group"], view.table["attribute"]) if a != "overall"]
