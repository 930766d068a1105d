"""The attacker's audit: it finds what the shared files give away, and the reports give nothing away.

The hand-written folders below are what the code before issue #13 published (one of them
is the exact leak found in the bundled sample); the Publisher tests check that the same
data published today passes the audit.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pandas as pd
import pytest

from dxanalysis.audit import audit_report
from dxanalysis.privacy import suppression_plan
from dxanalysis.report import SHARED_MARK, Publisher, share_executed_notebook, write_tables_xlsx


def _csv(path: Path, header, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def _footer(folder: Path, respondents: int, k: int = 5) -> None:
    (folder / "index.html").write_text(f'<footer class="dx-footer">テスト市 ・ 回答者 {respondents:,}人 ・ {k}人未満の集団は非表示</footer>', encoding="utf-8")


def _pinned(result) -> set[str]:
    return set(result.findings.loc[result.findings["reason"].isin(["pinned", "sized_elsewhere"]), "cell"])


# ----------------------------------------------------------------------------- the auditor
def test_audit_recovers_a_complement_sized_in_another_notebook(tmp_path):
    # the sample's leak before #13: 01 hides 都市整備部 as the complement of 会計課 (3),
    # 02 shows 都市整備部 with n = 9 and group_share 0.2647 (34 respondents)
    _footer(tmp_path, 500)
    depts = [("総務部", 82), ("企画政策部", 56), ("市民部", 78), ("福祉部", 76), ("こども未来部", 67), ("環境部", 46), ("教育委員会", 58)]
    _csv(tmp_path / "tables" / "response_rates.csv", ["attribute", "group", "staff", "n", "response_rate", "suppressed"],
         [("department", g, 200, n, round(n / 200, 4), False) for g, n in depts] + [("department", "都市整備部", 170, "", "", True), ("department", "会計課", 12, "", "", True)])
    _csv(tmp_path / "tables" / "segment_composition.csv", ["segment", "attribute", "group", "n", "share", "group_share", "suppressed"],
         [(1, "department", "都市整備部", 25, "", 0.7353, False), (2, "department", "都市整備部", 9, "", 0.2647, False)])
    result = audit_report(tmp_path)
    found = result.findings.set_index("cell")
    assert found.loc["department=会計課", "derived_low"] == found.loc["department=会計課", "derived_high"] == 3
    assert found.loc["department=会計課", "reason"] == "pinned"
    assert result.cells_pinned >= 1 and not result.ok and result.tables_read == 2


def test_audit_uses_published_primary_markers_and_sums(tmp_path):
    # the town department of 19: two hidden cells marked primary (each ≤ 4) whose sum is 8
    _footer(tmp_path, 19)
    _csv(tmp_path / "tables" / "segment_composition.csv", ["segment", "attribute", "group", "n", "share", "group_share", "suppressed", "suppression_reason"],
         [(1, "department", "教育課", "", "", "", True, "primary"), (2, "department", "教育課", "", "", "", True, "primary"), (3, "department", "教育課", 11, 1.0, 0.5789, False, "")])
    _csv(tmp_path / "tables" / "segments.csv", ["segment", "n", "share", "suppressed"], [(1, "", "", True), (2, "", "", True), (3, 11, 0.5789, False)])
    pinned = audit_report(tmp_path).findings.query("reason == 'pinned'")
    assert {"segment=1 / department=教育課", "segment=2 / department=教育課"} <= set(pinned["cell"])  # (and the segments themselves)
    assert (pinned["derived_low"] == 4).all() and (pinned["derived_high"] == 4).all()
    # the same table without the markers: each cell could be anything from 0 to 8
    _csv(tmp_path / "tables" / "segment_composition.csv", ["segment", "attribute", "group", "n", "share", "group_share", "suppressed"],
         [(1, "department", "教育課", "", "", "", True), (2, "department", "教育課", "", "", "", True), (3, "department", "教育課", 11, 1.0, 0.5789, False)])
    result = audit_report(tmp_path)
    assert result.ok, result.summary()
    assert set(result.ranges["derived_high"]) == {8}


def test_audit_flags_formulas_statistics_of_hidden_rows_and_notebooks(tmp_path):
    _csv(tmp_path / "tables" / "t.csv", ["group", "n", "mean", "note", "suppressed"], [("A", "", 3.2, "=1+1", True), ("B", 30, 3.0, "'+0.8ポイント", False), ("C", 40, 2.0, "-3", False)])
    nb = nbformat.v4.new_notebook()
    nb.metadata["papermill"] = {"input_path": "/home/advisor/notebooks/01.ipynb"}
    nb.cells = [nbformat.v4.new_code_cell("x", outputs=[nbformat.v4.new_output("error", ename="KeyError", evalue="x", traceback=["File /srv/app/x.py"])])]
    nbformat.write(nb, str(tmp_path / "01.ipynb"))
    reasons = set(audit_report(tmp_path).findings["reason"])
    assert {"formula_text", "statistic_of_hidden_row", "absolute_path", "traceback"} <= reasons


# ----------------------------------------------------------------------------- the fixes
def _town(depts: dict[str, int]) -> SimpleNamespace:
    """survey + codebook enough for suppression_plan (one attribute, department)."""
    survey = pd.DataFrame({"department": pd.Categorical([d for d, n in depts.items() for _ in range(n)], categories=list(depts))})
    codebook = SimpleNamespace(attribute_ids=["department"], label_of=lambda a: {"department": "所属部署"}[a])
    return SimpleNamespace(survey=survey, codebook=codebook)


def test_plan_hides_a_complement_in_every_table(tmp_path):
    # leak 1, through the Publisher: 会計課 (3) and its complement 都市整備部 (34) stay hidden in 02 too
    depts = {"総務部": 82, "企画政策部": 56, "市民部": 78, "福祉部": 76, "こども未来部": 67, "環境部": 46, "都市整備部": 34, "教育委員会": 58, "会計課": 3}
    town = _town(depts)
    plan = suppression_plan(town.survey, town.codebook, min_size=5)
    assert set(plan.hidden()["group"]) == {"会計課", "都市整備部"}  # the smallest other department is the complement
    _footer(tmp_path, 500)
    pub = Publisher(tmp_path, display=False, plan=plan)
    pub.table(pd.DataFrame({"attribute": "department", "group": list(depts), "n": list(depts.values())}), "response_rates", by="attribute")
    seg = [1, 2, 3, 4]
    # segment × department as in the sample: 都市整備部 is not the smallest cell of segments 2 and 4
    cells = {"総務部": [20, 25, 19, 18], "企画政策部": [30, 6, 11, 9], "市民部": [16, 19, 23, 20], "福祉部": [20, 20, 19, 17], "こども未来部": [16, 17, 15, 19],
             "環境部": [11, 13, 8, 14], "都市整備部": [7, 9, 2, 16], "教育委員会": [17, 20, 11, 10], "会計課": [1, 0, 2, 0]}
    assert {g: sum(v) for g, v in cells.items()} == depts
    comp = pd.DataFrame([{"segment": s, "attribute": "department", "group": g, "n": v[i]} for g, v in cells.items() for i, s in enumerate(seg)])
    sizes = comp.groupby("segment")["n"].sum()
    comp["share"] = comp["n"] / comp["segment"].map(sizes)
    comp["group_share"] = comp["n"] / comp["group"].map(depts)
    shown = pub.table(comp, "segment_composition", partitions=[["segment", "attribute"], ["attribute", "group"]])
    assert shown.loc[shown["group"] == "都市整備部", "suppressed"].all()
    pub.table(pd.DataFrame({"segment": seg, "n": sizes.to_numpy(), "share": (sizes / 500).to_numpy()}), "segments")
    csv_text = (tmp_path / "tables" / "segment_composition.csv").read_text(encoding="utf-8-sig")
    assert "suppression_reason" not in csv_text and "primary" not in csv_text
    assert (tmp_path / "private" / "suppression" / "segment_composition.csv").exists()
    result = audit_report(tmp_path)
    assert result.ok, result.summary()
    assert result.hidden_cells_checked >= 8


def test_comment_tables_hide_the_same_groups(tmp_path):
    # generated towns (issue #17's 40-municipality run): the plan hid a department with 12
    # commenters and a per-term complement hid another one, while comment_groups showed
    # both sizes (audit: sized_elsewhere). One decision per population of commenters now.
    from dxanalysis import text as T

    depts = {"総務部": 60, "市民部": 50, "福祉部": 40, "環境部": 30, "会計課": 3}
    plan = suppression_plan(_town(depts).survey, _town(depts).codebook, min_size=5)
    assert set(plan.hidden()["group"]) == {"会計課", "環境部"}
    commenters = {"総務部": 20, "市民部": 15, "福祉部": 12, "環境部": 14, "会計課": 3}
    phrases = {"総務部": ["紙の申請が多い", "会議が長い"], "市民部": ["窓口が混む", "紙の申請が多い"], "福祉部": ["研修がほしい", "会議が長い"],
               "環境部": ["現場で端末が使えない", "研修がほしい"], "会計課": ["紙の申請が多い"]}
    texts, groups = [], []
    for g, n in commenters.items():
        for i in range(n):
            texts.append(phrases[g][i % len(phrases[g])])
            groups.append(g)
    _footer(tmp_path, sum(depts.values()))
    pub = Publisher(tmp_path, display=False, plan=plan)
    T.publish_comments(pub, pd.Series(texts, name="comment"), pd.DataFrame({"department": groups}), min_group_size=10, title="自由意見")
    read = {n: pd.read_csv(tmp_path / "tables" / f"comment_{n}.csv", encoding="utf-8-sig") for n in ("groups", "terms_by_group", "characteristic")}
    sizes = read["groups"]
    hidden = set(sizes.loc[sizes["suppressed"], "group"])
    assert hidden >= {"会計課", "環境部"} and len(hidden) >= 2
    assert sizes["n"].isna().eq(sizes["suppressed"]).all()
    assert sizes.loc[sizes["suppressed"], "status"].str.startswith("非表示").all() and sizes.loc[~sizes["suppressed"], "status"].eq("表示").all()
    for name in ("terms_by_group", "characteristic"):
        df = read[name]
        assert not set(df["group"]) & hidden, name  # a hidden group has no row with terms
        assert not df["suppressed"].any(), name  # and no group shown in comment_groups is hidden here
        assert df.groupby("group")["n"].first().to_dict() == sizes.set_index("group")["n"].dropna().loc[sorted(set(df["group"]))].to_dict()
    result = audit_report(tmp_path)
    assert result.ok, result.summary()


def test_tables_xlsx_sheets_keep_the_context_of_their_counts(tmp_path):
    # tables.xlsx shows translated headers (構成概念 for construct): the audit read a count per
    # construct as a count of the whole population and called the folder inconsistent
    _footer(tmp_path, 300)
    pub = Publisher(tmp_path, display=False)
    # one respondent of 総務部 skipped the why items; 会計課 (3) is hidden with a complement
    diffs = pd.DataFrame({"construct": ["mind"] * 4 + ["why"] * 4, "attribute": "department", "group": ["総務部", "市民部", "環境部", "会計課"] * 2,
                          "n": [40, 60, 20, 3, 39, 60, 20, 3], "mean": [3.1, 3.2, 3.3, 3.4, 3.0, 3.3, 3.1, 3.2]})
    pub.table(diffs, "group_differences", by=["construct", "attribute"])
    write_tables_xlsx(tmp_path)
    result = audit_report(tmp_path)
    assert result.ok, result.summary()
    assert result.hidden_cells_checked == 4  # 環境部 and 会計課 for each construct, CSV and sheet the same cells
    assert "inconsistent" not in set(result.findings["reason"])


def _publish_town_of_19(folder: Path, publisher) -> None:
    """The issue's second leak as the notebooks publish it: 教育課 (19) splits 4 / 4 / 11 over three segments."""
    cells = {"総務課": [15, 15, 10], "住民課": [10, 12, 8], "教育課": [4, 4, 11]}
    depts = {g: sum(v) for g, v in cells.items()}
    total = sum(depts.values())
    _footer(folder, total)
    publisher.table(pd.DataFrame({"attribute": "department", "group": list(depts), "n": list(depts.values())}), "response_rates", by="attribute")
    comp = pd.DataFrame([{"segment": s + 1, "attribute": "department", "group": g, "n": v[s]} for g, v in cells.items() for s in range(3)])
    sizes = comp.groupby("segment")["n"].sum()
    comp["share"] = comp["n"] / comp["segment"].map(sizes)
    comp["group_share"] = comp["n"] / comp["group"].map(depts)
    publisher.table(comp, "segment_composition", partitions=[["segment", "attribute"], ["attribute", "group"]])
    publisher.table(pd.DataFrame({"segment": [1, 2, 3], "n": sizes.to_numpy(), "share": (sizes / total).to_numpy()}), "segments")


def test_two_primary_cells_are_not_pinned_by_their_sum(tmp_path):
    # leak 2: before #13 the CSV said both hidden cells were "primary" (so ≤ 4) and the column
    # total (11 / group_share) gave their sum, 8: both were 4. The reason now stays private.
    _publish_town_of_19(tmp_path, Publisher(tmp_path, display=False))
    comp = pd.read_csv(tmp_path / "tables" / "segment_composition.csv", encoding="utf-8-sig")
    assert "suppression_reason" not in comp.columns
    assert comp.loc[comp["group"] == "教育課", "suppressed"].tolist() == [True, True, False]
    private = pd.read_csv(tmp_path / "private" / "suppression" / "segment_composition.csv", encoding="utf-8-sig")
    assert (private.loc[private["group"] == "教育課", "suppression_reason"] == "primary").all()
    result = audit_report(tmp_path)
    assert result.ok, result.summary()


def test_two_small_cells_with_a_small_sum_get_a_third(tmp_path):
    # two hidden cells of 0 and 1 in a line: the published total pins both; a third must go
    from dxanalysis.privacy import suppress_small_groups

    out = suppress_small_groups(pd.DataFrame({"group": list("ABCD"), "n": [0, 1, 12, 30]}), min_size=5)
    assert out["suppressed"].tolist() == [True, True, True, False]


def test_formula_text_is_neutralised_in_csv_and_xlsx(tmp_path):
    from openpyxl import load_workbook

    evil = '=HYPERLINK("http://example.invalid","x")課'
    pub = Publisher(tmp_path, display=False)
    pub.table(pd.DataFrame({"group": [evil, "総務部", "福祉部"], "n": [12, 20, 30], "left": ["@SUM(A1)のコメント", "-0.5", "+0.8ポイント"], "diff": [-0.5, 0.2, 0.1]}), "t", n_col="n")
    text = (tmp_path / "tables" / "t.csv").read_text(encoding="utf-8-sig")
    assert "'=HYPERLINK" in text and "'@SUM" in text and "'+0.8ポイント" in text
    assert "\n-0.5" not in text and ",-0.5," in text  # a real number stays a number
    ws = load_workbook(write_tables_xlsx(tmp_path))["t"]
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    values = [c.value for row in ws.iter_rows(min_row=2) for c in row]
    assert f"'{evil}" in values and "'@SUM(A1)のコメント" in values and -0.5 in values
    result = audit_report(tmp_path)
    assert "formula_text" not in set(result.findings["reason"]) and "formula_cell" not in set(result.findings["reason"])


def test_shared_notebook_keeps_no_path_or_traceback(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.metadata["papermill"] = {"input_path": "/work/x/notebooks/01.ipynb", "output_path": "/work/x/reports/s/01.ipynb", "parameters": {"data_dir": "/work/x/data/s"}, "duration": 3.0}
    nb.cells = [
        nbformat.v4.new_code_cell('data_dir = "/work/x/data/s"', metadata={"tags": ["injected-parameters"]}),
        nbformat.v4.new_code_cell("print(m)", outputs=[nbformat.v4.new_output("stream", name="stdout", text="raw n=3 /work/x/data/s\n")]),
        nbformat.v4.new_code_cell("pub.table()", outputs=[nbformat.v4.new_output("display_data", data={"text/html": "<p>/home/u/file.csv</p>"}, metadata={SHARED_MARK: True})]),
        nbformat.v4.new_code_cell("1/0", outputs=[nbformat.v4.new_output("error", ename="ZeroDivisionError", evalue="division by zero", traceback=["File /work/x/a.py line 1"])]),
    ]
    path = tmp_path / "01.ipynb"
    nbformat.write(nb, str(path))
    assert share_executed_notebook(path, tmp_path / "private" / "notebooks")
    assert not share_executed_notebook(path, tmp_path / "private" / "notebooks")  # a shared copy is left alone
    text = path.read_text(encoding="utf-8")
    assert "/work/x" not in text and "/home/u" not in text and "raw n=3" not in text and "File " not in text
    assert "ZeroDivisionError" in text and "…/file.csv" in text
    assert "/work/x" in (tmp_path / "private" / "notebooks" / "01.ipynb").read_text(encoding="utf-8")
    assert audit_report(tmp_path).ok


def test_cli_audit_exit_status(tmp_path, capsys):
    from dxanalysis.cli import main

    root, tmp_path = tmp_path, tmp_path / "reports" / "town"
    tmp_path.mkdir(parents=True)
    _footer(tmp_path, 10)
    _csv(tmp_path / "tables" / "response_rates.csv", ["attribute", "group", "n", "suppressed"], [("department", "A", 7, False), ("department", "B", "", True)])
    assert main(["audit", str(tmp_path)]) == 1
    assert "特定できたセル 1 件" in capsys.readouterr().out
    _csv(tmp_path / "tables" / "response_rates.csv", ["attribute", "group", "n", "suppressed"], [("department", "A", "", True), ("department", "B", "", True)])
    assert main(["audit", str(tmp_path)]) == 0
    assert main(["audit", str(root / "reports")]) == 0 and "reports/town" in capsys.readouterr().out  # every municipality of reports/
    assert main(["audit", str(tmp_path / "nothing")]) == 2


def test_a_leak_fails_the_run(tmp_path):
    from dxanalysis.runner import BatchResult, audit_failed_rows

    _footer(tmp_path, 10)
    _csv(tmp_path / "tables" / "response_rates.csv", ["attribute", "group", "n", "suppressed"], [("department", "A", 7, False), ("department", "B", "", True)])
    rows = audit_failed_rows(tmp_path, municipality="leaky")
    assert [(r.notebook, r.status) for r in rows] == [("privacy_audit", "failed")]
    assert "プライバシー監査" in rows[0].error and "pinned 1件" in rows[0].error
    assert BatchResult(results=rows).exit_code == 1
    assert (tmp_path / "private" / "audit_findings.csv").exists()
    _csv(tmp_path / "tables" / "response_rates.csv", ["attribute", "group", "n", "suppressed"], [("department", "A", "", True), ("department", "B", "", True)])
    assert audit_failed_rows(tmp_path, municipality="safe") == []


# ----------------------------------------------------------------------------- whole reports
@pytest.mark.slow
def test_sample_report_passes_the_audit(sample_report):
    result = audit_report(sample_report)
    assert result.ok, result.summary()
    assert result.tables_read > 50 and result.hidden_cells_checked > 0
    rates = pd.read_csv(sample_report / "tables" / "response_rates.csv", encoding="utf-8-sig")
    dept = rates[rates["attribute"] == "department"]
    assert dept["suppressed"].sum() == 2 and len(dept) == 9  # 会計課 and one complement; seven departments stay
    comp = pd.read_csv(sample_report / "tables" / "segment_composition.csv", encoding="utf-8-sig")
    hidden = set(dept.loc[dept["suppressed"], "group"])
    assert comp.loc[comp["group"].isin(hidden), "suppressed"].all()
    assert "suppression_reason" not in comp.columns
    assert (sample_report / "private" / "suppression_plan.csv").exists()


@pytest.mark.slow
def test_adversarial_town_passes_the_audit(tmp_path):
    from adversarial import write_adversarial_town

    from dxanalysis.cli import main

    town = write_adversarial_town(tmp_path / "data" / "town")
    code = main(["run", str(town), "--reports", str(tmp_path / "reports"), "--notebook", "01_current_state", "--notebook", "02_segments", "--workers", "1", "--no-progress"])
    report = tmp_path / "reports" / "town"
    result = audit_report(report)
    assert code == 0 and result.ok, result.summary()
    plan = pd.read_csv(report / "private" / "suppression_plan.csv", encoding="utf-8-sig")
    assert set(plan.loc[plan["hidden"], "group"]) == {"会計室", "選挙管理委員会"}
    comp = pd.read_csv(report / "tables" / "segment_composition.csv", encoding="utf-8-sig")
    assert comp.loc[comp["group"].isin({"会計室", "選挙管理委員会"}), "suppressed"].all()
    assert comp["suppressed"].sum() < len(comp)  # the table still says something
    findings = json.dumps([json.loads(p.read_text(encoding="utf-8")) for p in (report / "findings").glob("*.json")], ensure_ascii=False)
    assert "会計室" not in findings and "選挙管理委員会" not in findings


@pytest.mark.slow
def test_generated_towns_pass_the_audit(tmp_path):
    # two of the 40 generated towns of issue #17's Dask run (300 respondents, seeds 2001 and
    # 2014) that failed the audit: tables.xlsx's translated headers made counts per construct
    # look contradictory (2001), and comment tables disagreed on which departments they hide (2014)
    from dxanalysis.cli import main
    from dxanalysis.sample import write_sample

    data = tmp_path / "data"
    for seed in (2001, 2014):
        write_sample(data / f"town{seed}", n_respondents=300, seed=seed, municipality_id=f"town{seed}", name=f"試算町{seed}")
    code = main(["run", str(data), "--reports", str(tmp_path / "reports"), "--notebook", "01_current_state", "--workers", "2", "--no-progress"])
    for seed in (2001, 2014):
        result = audit_report(tmp_path / "reports" / f"town{seed}")
        assert result.ok, result.summary()
        assert result.hidden_cells_checked > 0
    assert code == 0


# ----------------------------------------------------------------------------- the solver against the plain way
def _plain_ranges(total, dept, seg, cell, k=5):
    """Each hidden cell's [min, max] by one scipy linprog per bound, the system written out by hand.

    Variables: the total (when the footer gives it), each department, each segment and each
    segment × department cell. A shown count is fixed, a hidden one lies in [0, ∞) or
    [0, k − 1] when marked primary. A department is the sum of its segment cells, a segment
    the sum of its department cells, the total the sum of the departments and of the segments.
    """
    import math

    import numpy as np
    from scipy.optimize import linprog

    names = ([("total", None)] if total is not None else []) + [("dept", d) for d in dept] + [("seg", s) for s in seg] + [("cell", c) for c in cell]
    index = {v: i for i, v in enumerate(names)}
    shown = {("dept", d): v for d, v in dept.items()} | {("seg", s): v for s, v in seg.items()} | {("cell", c): v for c, v in cell.items()}
    if total is not None:
        shown[("total", None)] = total
    bounds = [(v, v) if isinstance(v, int) else (0, k - 1) if v == "primary" else (0, None) for v in (shown[x] for x in names)]
    rows = []
    for d in dept:
        rows.append({("dept", d): 1} | {("cell", (s, d)): -1 for s in seg})
    for s in seg:
        rows.append({("seg", s): 1} | {("cell", (s, d)): -1 for d in dept})
    if total is not None:
        rows.append({("total", None): 1} | {("dept", d): -1 for d in dept})
        rows.append({("total", None): 1} | {("seg", s): -1 for s in seg})
    A = np.zeros((len(rows), len(names)))
    for r, row in enumerate(rows):
        for v, a in row.items():
            A[r, index[v]] = a
    out = {}
    for x in names:
        if isinstance(shown[x], int):
            continue
        c = np.zeros(len(names))
        c[index[x]] = 1
        lo = linprog(c, A_eq=A, b_eq=np.zeros(len(rows)), bounds=bounds, method="highs")
        hi = linprog(-c, A_eq=A, b_eq=np.zeros(len(rows)), bounds=bounds, method="highs")
        assert lo.status == 0
        name = {"dept": lambda d: f"department={d}", "seg": lambda s: f"segment={s}", "cell": lambda c: f"segment={c[0]} / department={c[1]}"}[x[0]](x[1])
        out[name] = (math.ceil(lo.fun - 1e-6), math.floor(-hi.fun + 1e-6) if hi.status == 0 else math.inf)
    return out


@pytest.mark.parametrize("seed", range(6))
def test_audit_bounds_equal_one_linprog_per_cell(tmp_path, seed):
    import numpy as np

    rng = np.random.default_rng(seed)
    depts, segs = ["総務課", "住民課", "教育課", "会計課"], [1, 2, 3]
    counts = {(s, d): int(v) for (s, d), v in zip([(s, d) for s in segs for d in depts], rng.integers(0, 12, len(segs) * len(depts)))}
    hide = rng.random(len(counts)) < 0.35
    cell = {c: ("primary" if seed % 2 and v < 5 else "hidden") if h else v for (c, v), h in zip(counts.items(), hide)}
    dept = {d: sum(counts[(s, d)] for s in segs) for d in depts}
    seg = {s: sum(counts[(s, d)] for d in depts) for s in segs}
    dept[depts[-1]] = "hidden"  # one department hidden, and with it (sometimes) a segment
    if seed % 3 == 0 or seed == 5:
        seg[segs[0]] = "hidden"
    total = None if seed == 5 else sum(counts.values())  # no footer: a cell hidden with its row and column has no upper bound
    if seed == 5:
        cell[(segs[0], depts[-1])] = "hidden"

    def shown(v):
        return ("", True, "primary" if v == "primary" else "") if isinstance(v, str) else (v, False, "")

    if total is not None:
        _footer(tmp_path, total)
    _csv(tmp_path / "tables" / "response_rates.csv", ["attribute", "group", "n", "suppressed", "suppression_reason"], [("department", d, *shown(v)) for d, v in dept.items()])
    _csv(tmp_path / "tables" / "segments.csv", ["segment", "n", "suppressed", "suppression_reason"], [(s, *shown(v)) for s, v in seg.items()])
    _csv(tmp_path / "tables" / "segment_composition.csv", ["segment", "attribute", "group", "n", "suppressed", "suppression_reason"], [(s, "department", d, *shown(v)) for (s, d), v in cell.items()])
    result = audit_report(tmp_path)
    got = {r.cell: (r.derived_low, r.derived_high) for r in result.ranges.itertuples()}
    want = _plain_ranges(total, dept, seg, cell)
    assert set(result.ranges["population"]) == {"respondents"}
    assert got == want
    assert seed != 5 or any(h == float("inf") for _, h in want.values())


def test_fast_sheet_reader_reads_what_openpyxl_reads(tmp_path):
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from dxanalysis.audit import _openpyxl_rows, _xlsx_rows

    wb = Workbook()
    ws = wb.active
    ws.title = "表"
    ws.append(["グループ", "回答者数", "割合", "非表示", "note"])
    ws.append(["総務部", 12, 0.1234, False, "'=1+1"])
    ws.append(["会計課", None, None, True, "=SUM(B2:B3)"])  # a live formula
    ws.append([])  # an empty row inside the table
    ws.append(["x005F_y", 1e-7, -3, 2.5, "  空白  "])
    ws["F7"] = "離れたセル"
    ws["A3"].font = Font(bold=True)
    ws["C2"].number_format = "0.0%"
    wb.create_sheet("empty")
    wb.save(tmp_path / "a.xlsx")
    pd.DataFrame({"group": ["A", "B"], "n": [3, 4]}).to_excel(tmp_path / "b.xlsx", index=False)  # shared strings (pandas' writer)
    for name in ("a.xlsx", "b.xlsx"):
        fast = _xlsx_rows(tmp_path / name)
        assert fast is not None and fast == _openpyxl_rows(tmp_path / name)
    assert [r[4] for r in _xlsx_rows(tmp_path / "a.xlsx")[0][1][1:3]] == [("'=1+1", False), ("=SUM(B2:B3)", True)]
    ws["B5"].number_format = "yyyy-mm-dd"  # a date: openpyxl's reader turns it into a datetime, the fast one declines
    wb.save(tmp_path / "c.xlsx")
    assert _xlsx_rows(tmp_path / "c.xlsx") is None
    # the audit reads every workbook either way and flags the live formula
    _csv(tmp_path / "tables" / "t.csv", ["group", "n"], [("A", 7)])
    found = audit_report(tmp_path).findings
    assert set(found.loc[found["reason"] == "formula_cell", "table"]) == {"a.xlsx:表", "c.xlsx:表"}


def _openpyxl_tables_xlsx(report_dir: Path, out: Path, language: str = "ja") -> None:
    """tables.xlsx as openpyxl builds it (the writer before session 4 of #17): the reference for the direct writer."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    from dxanalysis.privacy import neutralise_formula
    from dxanalysis.report import COLUMN_LABELS, PERCENT_COLUMNS

    wb = Workbook()
    wb.remove(wb.active)
    used = set()
    for path in sorted((report_dir / "tables").glob("*.csv")):
        df = pd.read_csv(path, encoding="utf-8-sig")
        meta = report_dir / "meta" / f"{path.stem}.json"
        names = {**COLUMN_LABELS.get(language, {}), **(json.loads(meta.read_text(encoding="utf-8"))["labels"] if meta.exists() else {})}
        df = df.drop(columns=[c for c in ("suppression_reason",) if c in df.columns])
        sheet = path.stem[:31]
        while sheet in used:
            sheet = sheet[:29] + f"_{len(used)}"
        used.add(sheet)
        ws = wb.create_sheet(sheet)
        ws.append([neutralise_formula(str(names.get(c, c))) for c in df.columns])
        for row in df.itertuples(index=False):
            ws.append([None if (isinstance(v, float) and pd.isna(v)) else neutralise_formula(v.item() if hasattr(v, "item") else v) for v in row])
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="DDEBF7")
        ws.freeze_panes = "A2"
        for i, col in enumerate(df.columns, start=1):
            ws.column_dimensions[get_column_letter(i)].width = min(max((max([len(str(names.get(col, col)))] + [len(str(v)) for v in df[col].head(200)]) + 2) * 1.2, 8), 60)
            if col in PERCENT_COLUMNS:
                for (c,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                    c.number_format = "0.0%"
    wb.save(out)


def _workbook_as_read(path: Path) -> list:
    from openpyxl import load_workbook

    wb = load_workbook(path)
    return [(ws.title, ws.freeze_panes, ws.dimensions, {k: d.width for k, d in ws.column_dimensions.items()},
             [(c.coordinate, c.value, c.data_type, c.font.b, c.fill.fill_type, c.fill.fgColor.rgb, c.number_format) for row in ws.iter_rows() for c in row]) for ws in wb.worksheets]


def test_direct_xlsx_writer_matches_openpyxl(tmp_path):
    from dxanalysis.audit import _openpyxl_rows, _xlsx_rows

    _csv(tmp_path / "tables" / "response_rates.csv", ["attribute", "group", "staff", "n", "response_rate", "suppressed", "suppression_reason"],
         [("department", "総務部", 200, 82, 0.41, False, ""), ("department", "会計課", 12, "", "", True, "primary"), ("department", "'=1+1課", 30, 10, 0.3333333333333333, False, "")])
    _csv(tmp_path / "tables" / "odd_text.csv", ["group", "note", "value", "empty"],
         [("A&B <c>", "  前後に空白  ", 1e-7, ""), ("#N/A", "-0.5", -3, ""), ("x", "'@SUM(A1)", 2.5, ""), ("長い" * 40, "改行\nあり", 123456789012, "")])
    for name in ("a_very_long_table_name_for_a_sheet_1", "a_very_long_table_name_for_a_sheet_2"):  # same first 31 characters
        _csv(tmp_path / "tables" / f"{name}.csv", ["segment", "share"], [(1, 0.25), (2, "")])
    (tmp_path / "meta").mkdir()
    (tmp_path / "meta" / "odd_text.json").write_text(json.dumps({"labels": {"note": "=注記"}}, ensure_ascii=False), encoding="utf-8")
    _openpyxl_tables_xlsx(tmp_path, tmp_path / "reference.xlsx")
    out = write_tables_xlsx(tmp_path)
    assert _workbook_as_read(out) == _workbook_as_read(tmp_path / "reference.xlsx")
    assert _xlsx_rows(out) == _openpyxl_rows(out)  # and the audit's fast reader reads it as openpyxl does


LEAKY_01 = (
    "import pathlib\np = pathlib.Path(report_dir) / 'tables'\np.mkdir(parents=True, exist_ok=True)\n"
    "(p / 'response_rates.csv').write_text('attribute,group,n,suppressed\\ndepartment,総務部,5,False\\ndepartment,福祉部,,True\\n', encoding='utf-8-sig')\n"
)


@pytest.mark.slow  # end to end (batch runs)
@pytest.mark.parametrize("workers", [1, 2])
def test_a_leak_published_by_a_notebook_fails_the_run(tiny, tmp_path, workers):
    # the footer gives the respondents, the table shows 5 of them: the hidden department is pinned.
    # With a pool the audit runs in a worker; either way the run lists it and fails.
    from test_batch import _notebook

    from dxanalysis import runner

    _notebook(tmp_path / "nbs" / "01_current_state.ipynb", LEAKY_01, "01 テスト")
    batch = runner.run_batch([tiny], reports_root=tmp_path / "reports", notebooks_dir=tmp_path / "nbs", workers=workers, progress=False)
    assert [(r.notebook, r.status) for r in batch.results] == [("01_current_state", "ok"), ("privacy_audit", "failed")]
    assert batch.exit_code == 1 and "pinned 1件" in batch.results[-1].error
    findings = pd.read_csv(tmp_path / "reports" / "tiny" / "private" / "audit_findings.csv", encoding="utf-8-sig")
    assert findings.loc[0, "cell"] == "department=福祉部" and findings.loc[0, "derived_low"] == findings.loc[0, "derived_high"]
    assert not runner.read_manifest(tmp_path / "reports" / "tiny").get("audited")  # a failed audit vouches for nothing


def test_sheet_titles_stay_within_excel_limits_and_the_audit_maps_them_back(tmp_path):
    from dxanalysis.report import sheet_titles

    stems = [f"a_very_long_table_name_for_a_comment_question_{i:02d}" for i in range(12)]
    titles = sheet_titles(stems)
    assert len(set(titles)) == 12 and max(map(len, titles)) <= 31
    assert sheet_titles(["response_rates", "segments"]) == ["response_rates", "segments"]
    # a free-text question with a long name: its sheets stay comment tables of the same population
    _footer(tmp_path, 300)
    pub = Publisher(tmp_path, display=False)
    rows = pd.DataFrame({"attribute": "所属部署", "group": ["総務部", "市民部", "環境部", "会計課"], "n": [40, 60, 20, 3]})
    for stem in ("training_comment_long_name_groups", "training_comment_long_name_groupz"):
        pub.table(rows, stem, by="attribute")
    write_tables_xlsx(tmp_path)
    result = audit_report(tmp_path)
    assert result.ok, result.summary()
    ranges = result.ranges
    assert set(ranges["tables"].str.split(", ").explode()) >= {"tables.xlsx:training_comment_long_name_groupz"}  # the suffixed sheet is its CSV
