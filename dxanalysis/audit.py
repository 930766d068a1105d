"""An attacker's audit of a finished report folder: what do the shared files give away?

:func:`audit_report` plays an outsider who holds only the shared outputs of one
municipality (``reports/<id>/`` without ``private/``): every ``tables/*.csv``, every sheet
of every ``*.xlsx``, ``index.html`` and the executed notebooks. It shares no code with
:mod:`dxanalysis.privacy` (it must not inherit a blind spot of the suppression it
checks) and knows only what a reader could: the file formats, the column names and the
rule printed in the footer ("5人未満の集団は非表示").

What it derives
---------------
Every count of respondents in a table is a cell ``(population, dimensions)``: for
example ``respondents / department=会計課`` (``response_rates.csv``) or
``respondents / segment=2, department=会計課`` (``segment_composition.csv``). A shown
count fixes the cell; a hidden one is only known to be ≥ 0, or < the threshold when the
file says so (a published ``suppression_reason`` of ``primary``, a status such as
"非表示(10人未満)"). A share with its count gives the denominator (``n / share``, as an
interval because the share is rounded). The footer gives the number of respondents. In a
population, a cell equals the sum of its children over any further dimension
(a segment's size is the sum of its department cells; a department is the sum of its
segment cells), so rows, columns and tables are linked.

For every hidden cell, two linear programmes (``scipy.optimize.linprog``, HiGHS) find
the smallest and largest value consistent with all of that; the bounds are rounded
inward to whole people. A population whose constraints contradict each other (the
attacker's assumption that the margins add up was wrong) is solved again with "a parent
is at least the sum of its children".

Findings
--------
``pinned``
    a hidden cell whose lower bound is under ``min_group_size`` and that is determined
    exactly or to fewer than 3 possible values (high − low < 2);
``sized_elsewhere``
    a cell hidden in one table and shown in another;
``statistic_of_hidden_row``
    a hidden row that still shows a number (a mean, a share);
``formula_text`` / ``formula_cell``
    a CSV or sheet cell that a spreadsheet would run as a formula;
``absolute_path`` / ``traceback`` / ``unpublished_output``
    an executed notebook in the shared folder with a server path, a traceback, or an
    output that the HTML would not show.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

FINDING_COLUMNS = ["table", "population", "cell", "derived_low", "derived_high", "reason", "detail"]

#: Headers of tables.xlsx back to the CSV names (the reader sees Japanese headers).
SHEET_HEADERS = {"回答者数": "n", "属性": "attribute", "グループ": "group", "セグメント": "segment", "割合": "share", "職員数": "staff", "非表示": "suppressed",
                 "所属部署": "group", "名称": "name"}

#: Columns whose values tell which sub-population a count belongs to (respondents who answered that item, ...).
CONTEXT_COLUMNS = ["item_id", "tool_id", "construct", "measure_id", "hypothesis_id", "item", "comparison", "wave", "grouping", "metric"]

#: Tables whose counts are respondents of the whole survey (a reader sees them agree with the footer's total).
RESPONDENT_TABLES = {"response_rates", "response_rates_view"}
#: Tables of segmented respondents: merged with the respondents unless the shown segment sizes add up to another total.
SEGMENT_TABLES = {"segments", "segment_names", "segment_opportunities", "segment_composition"}
#: Tables of respondents who wrote a comment.
COMMENT_TABLES = {"comment_groups", "comment_characteristic", "comment_terms_by_group"}

#: Numeric columns that identify a row or are public figures, not statistics of the group.
IDENTIFIER_COLUMNS = {"segment", "value", "rank", "k", "staff", "n_items", "base_rank", "fiscal_year", "start_fy", "end_fy", "fy_from", "fy_to", "reverse", "suppressed", "margin", "testable"}

OVERALL = {"overall", "全体", "all"}
#: Order of findings in the result (what reveals a person first).
REASON_ORDER = ["pinned", "sized_elsewhere", "statistic_of_hidden_row", "inconsistent", "formula_cell", "formula_text", "traceback", "absolute_path", "unpublished_output"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_DATA_URI = re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=]+")
_ABS_PATH = re.compile(r"(?<![\w.:/])(?:/(?:home|root|tmp|work|Users|var|opt|srv|mnt|usr|data)/[^\s\"'<>]*|[A-Za-z]:\\[^\s\"'<>]+)")


@dataclass
class AuditResult:
    """What :func:`audit_report` found.

    Attributes
    ----------
    findings
        One row per problem: ``table`` (file or sheet), ``population``, ``cell``
        (``segment=2 / department=会計課``), ``derived_low``, ``derived_high`` (what the
        attacker derived; NaN when not a count), ``reason`` (see the module docstring),
        ``detail``.
    tables_read
        CSV files and xlsx sheets read.
    hidden_cells_checked
        Distinct hidden cells whose range was derived.
    cells_pinned
        Findings of reason ``pinned`` or ``sized_elsewhere``.
    """

    report_dir: Path
    min_group_size: int
    findings: pd.DataFrame
    tables_read: int = 0
    hidden_cells_checked: int = 0
    cells_pinned: int = 0
    ranges: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def ok(self) -> bool:
        return self.findings.empty

    def summary(self, language: str = "ja") -> str:
        if language == "en":
            head = f"audit of {self.report_dir}: {self.tables_read} tables read, {self.hidden_cells_checked} hidden cells checked, {self.cells_pinned} pinned, {len(self.findings)} findings"
        else:
            head = (f"監査 {self.report_dir}: 表 {self.tables_read} 件を読み、隠したセル {self.hidden_cells_checked} 件を検査、"
                    f"特定できたセル {self.cells_pinned} 件、問題 {len(self.findings)} 件")
        lines = [head]
        for r in self.findings.head(20).itertuples(index=False):
            rng = "" if pd.isna(r.derived_low) else f" [{r.derived_low:g}, {r.derived_high:g}]"
            lines.append(f"  - {r.reason}: {r.table} {r.cell}{rng} {r.detail}".rstrip())
        if len(self.findings) > 20:
            lines.append(f"  … ほか {len(self.findings) - 20} 件" if language != "en" else f"  … {len(self.findings) - 20} more")
        return "\n".join(lines)


# ----------------------------------------------------------------------------- reading
def _read_tables(report_dir: Path) -> list[tuple[str, pd.DataFrame]]:
    tables = []
    for path in sorted((report_dir / "tables").glob("*.csv")) if (report_dir / "tables").exists() else []:
        tables.append((path.stem, pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)))
    return tables


def _read_sheets(report_dir: Path, findings: list[dict]) -> list[tuple[str, pd.DataFrame]]:
    sheets = []
    for path in sorted(p for p in report_dir.glob("*.xlsx")):
        book = _xlsx_rows(path)
        if book is None:  # something the plain reader below does not cover: openpyxl reads it
            book = _openpyxl_rows(path)
        for title, rows in book:
            for r, row in enumerate(rows, start=1):
                for text, formula in row:
                    if formula:
                        findings.append(_finding(f"{path.name}:{title}", "", f"row {r}", reason="formula_cell", detail=text[:60]))
            rows = [[text for text, _ in row] for row in rows]
            if not rows:
                continue
            width = max(len(r) for r in rows)
            rows = [r + [""] * (width - len(r)) for r in rows]
            head = [SHEET_HEADERS.get(h, h) for h in rows[0]]
            df = pd.DataFrame(rows[1:], columns=head) if len(set(head)) == len(head) else pd.DataFrame(rows[1:])
            sheets.append((f"{path.name}:{title}", df))
    return sheets


def _csv_headers(df: pd.DataFrame, name: str, tables: list[tuple[str, pd.DataFrame]]) -> tuple[str, pd.DataFrame]:
    """A sheet of ``tables.xlsx`` as the CSV it was written from: ``(book:<csv name>, frame with the CSV's columns)``.

    The workbook shows translated headers (構成概念, 平均, ...) that ``SHEET_HEADERS``
    cannot all know, and titles cut to Excel's 31 characters (``report.sheet_titles``).
    A sheet whose title is its CSV's title and that has as many columns as the CSV
    without ``suppression_reason`` is that CSV, column for column, so its counts keep
    their context (a count per construct is not a count of the whole population) and its
    table name (a long comment table stays one of the comment tables). Any other sheet
    keeps its name and headers.
    """
    from .report import sheet_titles

    book, title = name.rsplit(":", 1)
    stems = [stem for stem, _ in tables]
    for stem, sheet in zip(stems, sheet_titles(stems)):
        if sheet == title:
            csv = dict(tables)[stem]
            cols = [c for c in csv.columns if c != "suppression_reason"]
            if len(cols) == df.shape[1]:
                return f"{book}:{stem}", df.set_axis(cols, axis=1)
    return name, df


def _openpyxl_rows(path: Path) -> list[tuple[str, list[list[tuple[str, bool]]]]]:
    """Every sheet as rows of (text, is a formula), read by openpyxl (formulas as written, not cached values)."""
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    try:
        return [(ws.title, [[("" if c.value is None else str(c.value), getattr(c, "data_type", None) == "f") for c in row] for row in ws.iter_rows()]) for ws in wb.worksheets]
    finally:
        wb.close()


_XL = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_XL_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_CELL_REF = re.compile(r"^([A-Z]{1,3})(\d+)$")


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _inline_text(node) -> str:
    """Text of a string item: its own ``t`` and the ``t`` of each rich-text run (phonetic runs left out, as openpyxl does)."""
    t = node.find(_XL + "t")
    return (t.text or "" if t is not None else "") + "".join(r.findtext(_XL + "t") or "" for r in node.findall(_XL + "r"))


def _xlsx_rows(path: Path) -> list[tuple[str, list[list[tuple[str, bool]]]]] | None:
    """The same as :func:`_openpyxl_rows`, with the standard library's XML parser (about ten times faster).

    Covers what spreadsheet writers put in a table: shared and inline strings, numbers,
    booleans, errors and plain formulas, in a sheet with a ``dimension``. Returns None
    (read it with openpyxl) for anything else: date or time number formats, shared or
    array formulas, cells without a reference, a sheet that is not a worksheet.
    tests/test_audit.py checks both readers agree.
    """
    import zipfile
    from xml.etree import ElementTree as ET

    from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format

    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
            rels = {r.get("Id"): r.get("Target", "") for r in ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))}
            shared = []
            if "xl/sharedStrings.xml" in names:
                shared = [_inline_text(si).replace("x005F_", "") for si in ET.fromstring(z.read("xl/sharedStrings.xml")).iter(_XL + "si")]
            date_styles: set[str] = set()
            if "xl/styles.xml" in names:
                styles = ET.fromstring(z.read("xl/styles.xml"))
                custom = {f.get("numFmtId"): f.get("formatCode", "") for f in styles.iter(_XL + "numFmt")}
                xfs = styles.find(_XL + "cellXfs")
                for i, xf in enumerate(xfs if xfs is not None else []):
                    fid = xf.get("numFmtId", "0")
                    code = custom.get(fid, BUILTIN_FORMATS.get(int(fid), "") if fid.isdigit() else "")
                    if is_date_format(code) or code.startswith("[h") or code.startswith("[m") or code.startswith("[s"):
                        date_styles.add(str(i))
            book = []
            for sheet in ET.fromstring(z.read("xl/workbook.xml")).iter(_XL + "sheet"):
                target = rels.get(sheet.get(_XL_REL + "id"), "")
                target = target.lstrip("/") if target.startswith("/") else "xl/" + target
                if "/worksheets/" not in target:
                    return None
                root = ET.fromstring(z.read(target))
                dim = root.find(_XL + "dimension")
                m = _CELL_REF.match((dim.get("ref", "") if dim is not None else "").split(":")[-1])
                if m is None:
                    return None
                max_col, max_row = _column_number(m.group(1)), int(m.group(2))
                rows: list[list[tuple[str, bool]]] = []
                data = root.find(_XL + "sheetData")
                for row in data if data is not None else []:
                    if row.get("r") is None:
                        return None
                    r = int(row.get("r"))
                    if r > max_row:  # (openpyxl then fills the rows missing up to the dimension)
                        rows += [[("", False)] * max_col for _ in range(len(rows), max_row)]
                        break
                    if r <= len(rows):  # a row out of order: openpyxl skips it
                        continue
                    while len(rows) < r - 1:
                        rows.append([("", False)] * max_col)
                    out = [("", False)] * max_col
                    for c in row.iter(_XL + "c"):
                        ref = _CELL_REF.match(c.get("r", ""))
                        if ref is None:
                            return None
                        col = _column_number(ref.group(1))
                        kind = c.get("t", "n")
                        f = c.find(_XL + "f")
                        if f is not None:
                            if f.get("t"):
                                return None
                            text, formula = "=" + (f.text or ""), True
                        elif kind == "inlineStr":
                            node = c.find(_XL + "is")
                            text, formula = (_inline_text(node) if node is not None else ""), False
                        else:
                            v = c.findtext(_XL + "v") or None
                            formula = False
                            if v is None:
                                text = ""
                            elif kind == "n":
                                if c.get("s", "0") in date_styles:
                                    return None
                                text = str(float(v)) if ("." in v or "E" in v or "e" in v) else str(int(v))
                            elif kind == "s":
                                text = shared[int(v)]
                            elif kind == "b":
                                text = str(bool(int(v)))
                            elif kind in {"str", "e"}:
                                text = v
                            else:
                                return None
                        if col <= max_col:
                            out[col - 1] = (text, formula)
                    rows.append(out)
                book.append((sheet.get("name", ""), rows))
            return book
    except (KeyError, ValueError, IndexError, zipfile.BadZipFile, ET.ParseError):
        return None


def _finding(table, population, cell, *, low=np.nan, high=np.nan, reason, detail="") -> dict:
    return {"table": table, "population": population, "cell": cell, "derived_low": low, "derived_high": high, "reason": reason, "detail": detail}


def _num(v) -> float:
    if v is None:
        return math.nan
    s = str(v).strip().replace(",", "")
    if s in {"", "—", "-", "nan", "NaN", "None"}:
        return math.nan
    try:
        return float(s)
    except ValueError:
        return math.nan


def _truthy(v) -> bool:
    return str(v).strip() in {"True", "true", "1", "○", "TRUE"}


def _footer(report_dir: Path) -> tuple[int | None, int | None]:
    """(respondents, min_group_size) as printed in index.html's footer."""
    index = report_dir / "index.html"
    if not index.exists():
        return None, None
    text = index.read_text(encoding="utf-8")
    m_n = re.search(r"回答者\s*([\d,]+)\s*人|([\d,]+) respondents", text)
    m_k = re.search(r"(\d+)\s*人未満の集団は非表示|groups under (\d+) hidden", text)
    n = int((m_n.group(1) or m_n.group(2)).replace(",", "")) if m_n else None
    k = int(m_k.group(1) or m_k.group(2)) if m_k else None
    return n, k


# ----------------------------------------------------------------------------- cells
class _Cells:
    """Observations of counts: population → {key (frozenset of (dim, value)) → list of (low, high, table, hidden)}."""

    def __init__(self):
        self.obs: dict[str, dict[frozenset, list[tuple[float, float, str, bool]]]] = {}

    def add(self, pop: str, key: frozenset, low: float, high: float, table: str, hidden: bool) -> None:
        self.obs.setdefault(pop, {}).setdefault(key, []).append((low, high, table, hidden))


def _attribute_names(tables) -> dict[str, str]:
    """group → attribute id, learned from tables whose attribute column holds ids (ASCII)."""
    out = {}
    for _, df in tables:
        if {"attribute", "group"} <= set(df.columns):
            for a, g in zip(df["attribute"], df["group"]):
                if re.fullmatch(r"[A-Za-z_][\w]*", str(a)) and str(a) not in OVERALL:
                    out.setdefault(str(g), str(a))
    return out


def _row_key(row: dict, cols: set[str], group_attr: dict[str, str]) -> frozenset:
    dims = []
    if "segment" in cols and str(row["segment"]).strip() not in {"", "nan"}:
        seg = _num(row["segment"])
        dims.append(("segment", str(int(seg)) if not math.isnan(seg) else str(row["segment"])))
    if "group" in cols:
        g = str(row["group"])
        a = str(row["attribute"]) if "attribute" in cols else str(row.get("attribute_label", ""))
        if g not in OVERALL and a not in OVERALL:
            if not re.fullmatch(r"[A-Za-z_][\w]*", a):
                a = group_attr.get(g, a)
            dims.append((f"attr:{a}", g))
    return frozenset(dims)


def _extract(name: str, df: pd.DataFrame, cells: _Cells, group_attr: dict[str, str], min_size: int, findings: list[dict], pop_of) -> int:
    """Record the count cells of one table; returns the number of hidden rows."""
    cols = set(df.columns)
    count = "n_group" if "n_group" in cols else "n" if "n" in cols else "respondents" if "respondents" in cols else "n_pairs" if "n_pairs" in cols else None
    if count is None:
        return 0
    if not ({"group", "segment"} & cols) and "suppressed" not in cols:
        return 0
    stem = name.split(":")[-1]
    context = [c for c in CONTEXT_COLUMNS if c in cols]
    if not context and "label" in cols and "group" in cols:
        context = ["label"]
    ratio_ok = count == "n" and not ({"n_using", "numerator", "count", "n_docs", "value"} & cols)
    hidden_rows = 0
    for row in df.to_dict("records"):  # (a dict per row: iterrows builds a Series each, the audit's slowest line)
        key = _row_key(row, cols, group_attr)
        ctx = "|".join(f"{c}={row[c]}" for c in context)
        pop = pop_of(stem, ctx)
        v = _num(row[count])
        hidden = math.isnan(v) and (_truthy(row.get("suppressed", "")) or "非表示" in " ".join(map(str, row.values())) or str(row[count]).strip() in {"", "—"})
        if not math.isnan(v):
            cells.add(pop, key, v, v, name, False)
        elif hidden:
            hidden_rows += 1
            high = math.inf
            if str(row.get("suppression_reason", "")).strip() == "primary":
                high = min_size - 1
            m = re.search(r"(\d+)\s*人未満", str(row.get("status", "")))
            if m:
                high = int(m.group(1)) - 1
            cells.add(pop, key, 0.0, high, name, True)
            shown = [c for c in df.columns if c not in IDENTIFIER_COLUMNS and c != count and not c.startswith("rank") and not math.isnan(_num(row[c])) and not _truthy(row[c]) and str(row[c]) not in {"False", "false"}]
            if shown:
                findings.append(_finding(name, pop, _cell_name(key), reason="statistic_of_hidden_row", detail=", ".join(shown[:5])))
        if not math.isnan(v) and v > 0 and ratio_ok:
            for col in ("share", "group_share"):
                s = _num(row.get(col, ""))
                if col in cols and not math.isnan(s) and s > 0:
                    parent = _parent(key, col)
                    if parent is not None:
                        lo, hi = v / (s + 5e-5), v / max(s - 5e-5, 1e-9)
                        cells.add(pop, parent, math.ceil(lo - 1e-9), math.floor(hi + 1e-9), name + f"({col})", False)
    return hidden_rows


def _parent(key: frozenset, col: str) -> frozenset | None:
    dims = dict(key)
    seg = {k: v for k, v in dims.items() if k == "segment"}
    attr = {k: v for k, v in dims.items() if k.startswith("attr:")}
    if col == "group_share":
        return frozenset(attr.items()) if attr and seg else None
    if seg and attr:
        return frozenset(seg.items())
    return frozenset()


def _cell_name(key: frozenset) -> str:
    parts = sorted(key, key=lambda kv: (kv[0] != "segment", kv[0]))
    return " / ".join(f"{k.removeprefix('attr:')}={v}" for k, v in parts) or "合計"


# ----------------------------------------------------------------------------- inference
def _bounds(pop_obs: dict[frozenset, list], *, equality: bool):
    """Variables, bounds and linear constraints of one population."""
    from scipy.sparse import lil_matrix

    keys = list(pop_obs)
    cats: dict[str, set[str]] = {}
    for k in keys:
        for d, v in k:
            cats.setdefault(d, set()).add(v)
    index = {k: i for i, k in enumerate(keys)}
    rels = []
    for k in list(keys):
        kd = {d for d, _ in k}
        for d in cats:
            if d in kd:
                continue
            children = [k | {(d, v)} for v in sorted(cats[d])]
            if not any(c in index for c in children):
                continue
            for c in children:
                if c not in index:
                    index[c] = len(keys)
                    keys.append(c)
            rels.append((index[k], [index[c] for c in children]))
    n = len(keys)
    lo = np.zeros(n)
    hi = np.full(n, np.inf)
    for k, obs in pop_obs.items():
        i = index[k]
        for low, high, _, _ in obs:
            lo[i] = max(lo[i], low)
            hi[i] = min(hi[i], high)
    A = lil_matrix((len(rels), n))
    for r, (p, ch) in enumerate(rels):
        A[r, p] = 1.0
        for c in ch:
            A[r, c] -= 1.0
    return keys, lo, hi, A.tocsr(), equality


def _solve(keys, lo, hi, A, equality, targets):
    """``{target: (low, high)}`` for one population, or None when its constraints contradict each other.

    One HiGHS model per population, loaded once: a feasibility probe, then for each
    target a minimisation and a maximisation that change only the objective, so each
    solve starts from the previous basis (warm start, presolve off). The result is the
    exact optimum of the same linear programmes as :func:`_solve_linprog` (one
    ``scipy.optimize.linprog`` per bound, the straightforward method it replaced and
    the fallback when scipy's HiGHS bindings are not importable or a solve ends in an
    unexpected status); tests/test_audit.py checks the two agree.
    """
    if np.any(lo > hi + 1e-9):
        return None
    try:
        from scipy.optimize._highspy import _core as highs  # the bindings linprog itself uses (scipy ≥ 1.15)
    except ImportError:  # pragma: no cover - depends on the scipy version
        return _solve_linprog(keys, lo, hi, A, equality, targets)
    status = highs.HighsModelStatus
    n, m = len(keys), A.shape[0]
    inf = highs.kHighsInf
    A = A.tocsc()
    lp = highs.HighsLp()
    lp.num_col_, lp.num_row_ = n, m
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n, m
    lp.a_matrix_.format_ = highs.MatrixFormat.kColwise
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data.astype(float)
    lp.col_cost_ = np.zeros(n)
    lp.col_lower_ = lo.astype(float)
    lp.col_upper_ = np.where(np.isinf(hi), inf, hi).astype(float)
    lp.row_lower_ = np.zeros(m)
    lp.row_upper_ = np.zeros(m) if equality else np.full(m, inf)  # parent − children = 0, or ≥ 0
    solver = highs._Highs()
    solver.setOptionValue("output_flag", False)
    solver.setOptionValue("presolve", "off")  # re-solves start from the last basis
    if solver.passModel(lp) == highs.HighsStatus.kError:  # pragma: no cover
        return _solve_linprog(keys, lo, hi, A, equality, targets)
    solver.run()
    probe = solver.getModelStatus()
    if probe in {status.kInfeasible, status.kUnboundedOrInfeasible}:
        return None
    if probe not in {status.kOptimal, status.kModelEmpty}:  # pragma: no cover - numerical trouble: the plain way
        return _solve_linprog(keys, lo, hi, A, equality, targets)

    def optimum(sense):
        solver.changeObjectiveSense(sense)
        solver.run()
        st = solver.getModelStatus()
        if st == status.kOptimal:
            return solver.getInfo().objective_function_value
        if st in {status.kUnbounded, status.kUnboundedOrInfeasible}:  # feasible (the probe says so), so unbounded
            return None
        raise ArithmeticError(solver.modelStatusToString(st))

    out = {}
    previous = None
    for i in targets:
        if previous is not None:
            solver.changeColCost(previous, 0.0)
        solver.changeColCost(i, 1.0)
        previous = i
        try:
            v_min, v_max = optimum(highs.ObjSense.kMinimize), optimum(highs.ObjSense.kMaximize)
        except ArithmeticError:  # pragma: no cover - numerical trouble: this cell the plain way
            out.update(_solve_linprog(keys, lo, hi, A, equality, [i]) or {})
            continue
        low = math.ceil(v_min - 1e-6) if v_min is not None else lo[i]
        high = math.floor(v_max + 1e-6) if v_max is not None else math.inf
        out[i] = (low, high)
    return out


def _solve_linprog(keys, lo, hi, A, equality, targets):
    """The same bounds with one ``scipy.optimize.linprog`` call per bound (slow: two model set-ups per cell)."""
    from scipy.optimize import linprog

    n = len(keys)
    if np.any(lo > hi + 1e-9):
        return None
    bounds = list(zip(lo, [None if math.isinf(h) else h for h in hi]))
    kw = {"A_eq": A, "b_eq": np.zeros(A.shape[0])} if equality else {"A_ub": -A, "b_ub": np.zeros(A.shape[0])}
    if A.shape[0] == 0:
        kw = {}
    probe = linprog(np.zeros(n), bounds=bounds, method="highs", **kw)
    if probe.status == 2:
        return None
    out = {}
    for i in targets:
        c = np.zeros(n)
        c[i] = 1.0
        r_min = linprog(c, bounds=bounds, method="highs", **kw)
        r_max = linprog(-c, bounds=bounds, method="highs", **kw)
        low = math.ceil(r_min.fun - 1e-6) if r_min.status == 0 else lo[i]
        high = math.floor(-r_max.fun + 1e-6) if r_max.status == 0 else math.inf
        out[i] = (low, high)
    return out


# ----------------------------------------------------------------------------- other checks
def _formula_cells(name: str, df: pd.DataFrame, findings: list[dict]) -> None:
    for c in df.columns:
        for v in df[c]:
            s = str(v)
            if s.startswith(FORMULA_START) and not _NUMBER.match(s.strip()):
                findings.append(_finding(name, "", f"{c}", reason="formula_text", detail=s[:60]))
    for c in df.columns:
        s = str(c)
        if s.startswith(FORMULA_START) and not _NUMBER.match(s.strip()):
            findings.append(_finding(name, "", "(header)", reason="formula_text", detail=s[:60]))


def _notebooks(report_dir: Path, findings: list[dict]) -> None:
    for path in sorted(report_dir.glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        pm = nb.get("metadata", {}).get("papermill", {})
        for k in ("input_path", "output_path", "cwd", "parameters"):
            if pm.get(k):
                findings.append(_finding(path.name, "", f"metadata.papermill.{k}", reason="absolute_path", detail="papermill metadata"))
        for i, cell in enumerate(nb.get("cells", [])):
            src = "".join(cell.get("source", ""))
            for m in _ABS_PATH.finditer(_DATA_URI.sub("", src)):
                findings.append(_finding(path.name, "", f"cell {i}", reason="absolute_path", detail=m.group(0)[:80]))
            for out in cell.get("outputs", []):
                if out.get("traceback"):
                    findings.append(_finding(path.name, "", f"cell {i}", reason="traceback", detail=str(out.get("ename", ""))))
                shared = out.get("metadata", {}).get("dxanalysis_shared")
                if out.get("output_type") in {"stream", "execute_result"} or (out.get("output_type") == "display_data" and not shared):
                    findings.append(_finding(path.name, "", f"cell {i}", reason="unpublished_output", detail=out.get("output_type", "")))
                texts = [out.get("text", "")] + [v for k, v in out.get("data", {}).items() if not k.startswith("image/")]
                for t in texts:
                    t = "".join(t) if isinstance(t, list) else str(t)
                    for m in _ABS_PATH.finditer(_DATA_URI.sub("", t)):
                        findings.append(_finding(path.name, "", f"cell {i}", reason="absolute_path", detail=m.group(0)[:80]))
                        break


# ----------------------------------------------------------------------------- entry point
def audit_report(report_dir: Path | str, *, min_group_size: int | None = None) -> AuditResult:
    """Attack one finished report folder with nothing but its shared files.

    Parameters
    ----------
    report_dir
        ``reports/<id>/``. ``private/`` is never read.
    min_group_size
        The threshold; default: the one printed in ``index.html``'s footer, else 5.

    Returns
    -------
    AuditResult
        ``findings`` (tidy, one row per problem; empty when the folder is safe),
        ``tables_read``, ``hidden_cells_checked``, ``cells_pinned``, and ``ranges``
        (one row per hidden cell: ``population``, ``cell``, ``derived_low``,
        ``derived_high``, ``tables``).

    Notes
    -----
    Method: interval bounds from shown counts, ``n / share`` and the footer's total,
    linked by "a cell is the sum of its children" within each population, then a pair of
    linear programmes per hidden cell (min and max). This finds everything that sums,
    differences and the "< threshold" bound imply together (the row-and-column attack
    of two primary cells of at most 4 that sum to 8), which one-line-at-a-time
    subtraction would miss. It is a relaxation (bounds rounded inward to whole people),
    so it can miss what only integrality gives away; it never reports a cell that is
    not derivable.
    """
    report_dir = Path(report_dir)
    total, footer_k = _footer(report_dir)
    k = int(min_group_size or footer_k or 5)
    findings: list[dict] = []
    tables = _read_tables(report_dir)
    sheets = _read_sheets(report_dir, findings)
    for name, df in tables + sheets:
        _formula_cells(name, df, findings)
    _notebooks(report_dir, findings)

    group_attr = _attribute_names(tables)
    # segmented respondents = all respondents when the visible segment sizes add up to the footer's total
    seg_total = None
    for name, df in tables:
        if name == "segments" and "n" in df.columns:
            vals = [_num(v) for v in df["n"]]
            seg_total = sum(vals) if not any(math.isnan(v) for v in vals) else None
    # (a strong attacker assumes so unless the shown sizes say otherwise)
    segmented_is_all = total is None or seg_total is None or int(seg_total) == int(total)

    def pop_of(stem: str, ctx: str) -> str:
        if stem in RESPONDENT_TABLES and not ctx:
            return "respondents"
        if stem in SEGMENT_TABLES and not ctx:
            return "respondents" if segmented_is_all else "segmented"
        if stem in COMMENT_TABLES:
            return "commenters"
        return f"{stem}|{ctx}" if ctx else stem

    cells = _Cells()
    if total is not None:
        cells.add("respondents", frozenset(), total, total, "index.html", False)
    sheets = [_csv_headers(df, name, tables) for name, df in sheets]
    for name, df in tables + sheets:
        _extract(name, df, cells, group_attr, k, findings, pop_of)

    ranges = []
    for pop, pop_obs in cells.obs.items():
        targets = [key for key, obs in pop_obs.items() if any(h for *_, h in obs)]
        if not targets:
            continue
        solved = None
        for equality in (True, False):
            keys, lo, hi, A, eq = _bounds(pop_obs, equality=equality)
            index = {key: i for i, key in enumerate(keys)}
            solved = _solve(keys, lo, hi, A, eq, [index[t] for t in targets])
            if solved is not None:
                break
        if solved is None:
            findings.append(_finding("", pop, "", reason="inconsistent", detail="表どうしの数が矛盾しています"))
            continue
        for key in targets:
            low, high = solved[index[key]]
            obs = pop_obs[key]
            hidden_in = sorted({t for _, _, t, h in obs if h})
            shown_in = sorted({t for _, _, t, h in obs if not h and "(" not in t and t != "index.html"})
            ranges.append({"population": pop, "cell": _cell_name(key), "derived_low": low, "derived_high": high, "tables": ", ".join(hidden_in)})
            if shown_in:
                findings.append(_finding(hidden_in[0], pop, _cell_name(key), low=low, high=high, reason="sized_elsewhere", detail="表示: " + ", ".join(shown_in[:3])))
            elif low < k and high - low < 2:
                findings.append(_finding(hidden_in[0], pop, _cell_name(key), low=low, high=high, reason="pinned", detail=", ".join(hidden_in[:3])))
    out = pd.DataFrame(findings, columns=FINDING_COLUMNS)
    out = out.iloc[out["reason"].map(lambda r: REASON_ORDER.index(r) if r in REASON_ORDER else len(REASON_ORDER)).argsort(kind="stable")].reset_index(drop=True)
    pinned = int(out["reason"].isin(["pinned", "sized_elsewhere"]).sum())
    return AuditResult(report_dir=report_dir, min_group_size=k, findings=out, tables_read=len(tables) + len(sheets),
                       hidden_cells_checked=len(ranges), cells_pinned=pinned,
                       ranges=pd.DataFrame(ranges, columns=["population", "cell", "derived_low", "derived_high", "tables"]))
