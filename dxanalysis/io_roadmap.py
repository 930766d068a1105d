"""Roadmap inputs (steps 1 and 3): parsing and checking ``assessment.csv`` and ``measures.csv``.

Part of the input boundary with :mod:`dxanalysis.io` (which calls
:func:`check_roadmap_inputs` when loading a municipality); :mod:`dxanalysis.roadmap`
computes on what :func:`load_roadmap_inputs` returns. Every problem is reported together,
with file, row, column, value and what to do (message code ``bad_value``). Moved here from
roadmap.py so that reading inputs does not depend on the analysis (no import cycle).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .validate import Problem, raise_if_errors, spreadsheet_row

#: The maturity scale of the IPA DX推進指標: 0 (no action) … 5 (leading).
LEVEL_MIN, LEVEL_MAX = 0.0, 5.0
#: Importance and feasibility are rated 1 (low / hard) … 5 (high / easy).
RATING_MIN, RATING_MAX = 1.0, 5.0
#: Segment numbers accepted when notebook 02's segments are not available.
DEFAULT_SEGMENT_IDS = tuple(range(1, 9))

ASSESSMENT_REQUIRED = ["item_id", "domain", "item", "target", "importance", "feasibility"]
ASSESSMENT_OPTIONAL = ["current", "owner", "evidence", "survey_construct"]
MEASURES_REQUIRED = ["measure_id", "measure", "items", "start_fy", "end_fy"]
MEASURES_OPTIONAL = ["segments", "depends_on", "kpi"]
TARGET_PREFIX = "target_"


_WESTERN_RE = re.compile(r"^(?:FY)?\s*(\d{4})\s*(?:年度)?$", re.I)


_ERA_RE = re.compile(r"^(令和|平成|R|H)\s*(元|\d{1,2})\s*(?:年度)?$", re.I)


def parse_fiscal_year(value) -> int:
    """A fiscal year cell as a western year: ``2026``, ``"2026"``, ``"FY2026"``,
    ``"2026年度"``, ``"令和8年度"``, ``"令和元年度"``, ``"R8"`` or ``"H30"``.

    Raises ValueError for anything else or a year outside 1989–2100.
    """
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        fy = int(value)
    elif isinstance(value, (float, np.floating)):
        if math.isnan(value) or value != int(value):
            raise ValueError(f"not a fiscal year: {value!r}")
        fy = int(value)
    else:
        text = str(value).strip()
        m = _WESTERN_RE.match(text)
        if m:
            fy = int(m.group(1))
        else:
            m = _ERA_RE.match(text)
            if not m:
                raise ValueError(f"not a fiscal year: {value!r}")
            era = {"令和": 2019, "r": 2019, "平成": 1989, "h": 1989}[m.group(1).lower()]
            n = 1 if m.group(2) == "元" else int(m.group(2))
            if n < 1:
                raise ValueError(f"not a fiscal year: {value!r}")
            fy = era + n - 1
    if not 1989 <= fy <= 2100:
        raise ValueError(f"fiscal year out of range: {value!r}")
    return fy


def _blank(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip()) or v is pd.NA


def _number(v) -> float | None:
    """A numeric cell as float; None when blank; ValueError when it is not a number."""
    if _blank(v):
        return None
    if isinstance(v, bool):
        raise ValueError(v)
    return float(str(v).strip()) if isinstance(v, str) else float(v)


def split_ids(v) -> list[str]:
    """A ``;``-separated list cell (``,`` and ``、`` also accepted) as a list of strings."""
    if _blank(v):
        return []
    if isinstance(v, (int, np.integer)):
        return [str(v)]
    if isinstance(v, float) and v == int(v):
        return [str(int(v))]
    return [p.strip() for p in re.split(r"[;,、]", str(v)) if p.strip()]


def _id_list(ids, k: int = 8) -> str:
    ids = sorted(ids)
    return "、".join(ids[:k]) + ("…" if len(ids) > k else "")


def _text(v) -> str | None:
    return None if _blank(v) else str(v).strip()


class _Collector:
    """Collects ``bad_value`` problems with a Japanese or English explanation."""

    def __init__(self, file: str, language: str, yaml: bool):
        self.file, self.language, self.yaml = file, language, yaml
        self.problems: list[Problem] = []

    def row(self, index) -> int:
        # YAML lists have no spreadsheet rows: report the entry number (1 = first entry)
        return int(index) + 1 if self.yaml else spreadsheet_row(index)

    def add(self, index, column, value, ja: str, en: str) -> None:
        row = None if index is None else (1 if index == "header" else self.row(index))
        self.problems.append(Problem(file=self.file, code="bad_value", row=row, column=column, value=value, params={"detail": en if self.language == "en" else ja}))


def _check_columns(raw: pd.DataFrame, required: Sequence[str], col: _Collector) -> bool:
    missing = [c for c in required if c not in raw.columns]
    for c in missing:
        col.add("header" if not col.yaml else None, c, None, f"必須の列「{c}」がありません。1行目に列名 {c} を追加してください(列名は docs/data-contract.md のとおり)。", f"Required column '{c}' is missing. Add it to the header row (names as in docs/data-contract.md).")
    return not missing


def _check_duplicates(ids: pd.Series, column: str, col: _Collector) -> None:
    first: dict[str, int] = {}
    for idx, v in ids.items():
        if v is None:
            continue
        if v in first:
            col.add(idx, column, v, f"{column} が重複しています(最初の出現: {first[v]} 行目)。id を一意にしてください。", f"Duplicate {column} (first seen on row {first[v]}). Make each id unique.")
        else:
            first[v] = col.row(idx)


def _rating(raw, idx, column, lo, hi, col: _Collector, *, required: bool, what_ja: str, what_en: str) -> float | None:
    v = raw.at[idx, column] if column in raw.columns else None
    try:
        x = _number(v)
    except (TypeError, ValueError):
        col.add(idx, column, v, f"数値ではありません。{what_ja}を {lo:g}〜{hi:g} の数値で入力してください。", f"Not a number. Enter {what_en} as a number {lo:g}-{hi:g}.")
        return None
    if x is None:
        if required:
            col.add(idx, column, None, f"空欄です。{what_ja}を {lo:g}〜{hi:g} の数値で入力してください。", f"Empty. Enter {what_en} as a number {lo:g}-{hi:g}.")
        return None
    if not lo <= x <= hi:
        col.add(idx, column, v, f"{lo:g}〜{hi:g} の範囲外です。{what_ja}を {lo:g}〜{hi:g} で入力してください。", f"Outside {lo:g}-{hi:g}. Enter {what_en} between {lo:g} and {hi:g}.")
        return None
    return x


def parse_assessment(raw: pd.DataFrame, *, file: str = "assessment.csv", constructs: Sequence[str] | None = None, language: str = "ja", yaml: bool = False) -> tuple[pd.DataFrame, list[Problem]]:
    """Check the assessment file (data contract, "assessment") and type its columns.

    Parameters
    ----------
    raw
        The file as read by :func:`dxanalysis.io.read_tabular_or_yaml` (``Municipality.assessment``).
    file
        File name used in problem messages.
    constructs
        Construct ids allowed in ``survey_construct`` (codebook order); ``None`` skips the check.
    yaml
        The file is a YAML list: rows are reported as entry numbers (1 = first entry).

    Returns
    -------
    (DataFrame, list of Problem)
        One row per item: ``item_id``, ``domain``, ``item``, ``current`` (float, NaN when
        taken from the survey), ``target``, ``importance``, ``feasibility`` (float),
        ``owner``, ``evidence`` (str or None), ``survey_construct`` (str or None), ``row``
        (the row number used in messages). Problems: a level outside 0–5, a target below
        the current level, importance or feasibility outside 1–5, a duplicate or empty
        ``item_id``, an unknown ``survey_construct``, ``current`` both given and taken from
        the survey, or neither.
    """
    col = _Collector(file, language, yaml)
    if not _check_columns(raw, ASSESSMENT_REQUIRED, col):
        return pd.DataFrame(), col.problems
    if raw.empty:
        col.add(None, None, None, "評価項目が1行もありません。", "The file has no items.")
        return pd.DataFrame(), col.problems
    rows = []
    ids = raw["item_id"].map(_text)
    for idx in ids.index[ids.isna()]:
        col.add(idx, "item_id", None, "item_id が空です。A01 のような一意の id を入力してください。", "item_id is empty. Enter a unique id such as A01.")
    _check_duplicates(ids, "item_id", col)
    known = None if constructs is None else list(constructs)
    for idx in raw.index:
        rec = {"item_id": ids[idx]}
        for c in ("domain", "item"):
            rec[c] = _text(raw.at[idx, c])
            if rec[c] is None:
                col.add(idx, c, None, f"{c} が空です。{'領域名' if c == 'domain' else '評価項目の名称'}を入力してください。", f"{c} is empty. Enter it.")
        for c in ("owner", "evidence"):
            rec[c] = _text(raw.at[idx, c]) if c in raw.columns else None
        sc = _text(raw.at[idx, "survey_construct"]) if "survey_construct" in raw.columns else None
        if sc is not None and known is not None and sc not in known:
            col.add(idx, "survey_construct", sc, f"codebook.yaml の constructs にない構成概念です。{', '.join(known)} のどれかにするか、空欄にして current を入力してください。", f"Unknown construct. Use one of {', '.join(known)}, or leave it empty and enter current.")
        rec["survey_construct"] = sc
        cur_raw = raw.at[idx, "current"] if "current" in raw.columns else None
        cur = None
        if sc is not None and not _blank(cur_raw):
            col.add(idx, "current", cur_raw, "survey_construct があるので現状レベルはアンケートから求めます。current を空欄にするか、survey_construct を消してください。", "survey_construct is set, so the current level comes from the survey. Leave current empty or remove survey_construct.")
        elif sc is None and _blank(cur_raw):
            col.add(idx, "current", None, "現状レベルが空です。0〜5 で入力するか、アンケートから求める場合は survey_construct に構成概念の id を書いてください。", "current is empty. Enter 0-5, or name a construct in survey_construct to take it from the survey.")
        elif sc is None:
            cur = _rating(raw, idx, "current", LEVEL_MIN, LEVEL_MAX, col, required=True, what_ja="現状レベル", what_en="the current level")
        rec["current"] = np.nan if cur is None else cur
        tgt = _rating(raw, idx, "target", LEVEL_MIN, LEVEL_MAX, col, required=True, what_ja="3年後の目標レベル", what_en="the 3-year target level")
        if tgt is not None and cur is not None and tgt < cur:
            col.add(idx, "target", raw.at[idx, "target"], f"目標レベル({tgt:g})が現状レベル({cur:g})より低くなっています。目標を現状以上にしてください。", f"The target ({tgt:g}) is below the current level ({cur:g}). Set a target at or above the current level.")
        rec["target"] = np.nan if tgt is None else tgt
        for c, ja, en in (("importance", "重要度", "importance"), ("feasibility", "実現容易性(5=容易)", "feasibility (5 = easy)")):
            v = _rating(raw, idx, c, RATING_MIN, RATING_MAX, col, required=True, what_ja=ja, what_en=en)
            rec[c] = np.nan if v is None else v
        rec["row"] = col.row(idx)
        rows.append(rec)
    cols = ["item_id", "domain", "item", "current", "target", "importance", "feasibility", "owner", "evidence", "survey_construct", "row"]
    return pd.DataFrame(rows, columns=cols), col.problems


def parse_measures(raw: pd.DataFrame, *, file: str = "measures.csv", item_ids: Sequence[str] | None = (), segment_ids: Sequence[int] | None = None, language: str = "ja", yaml: bool = False) -> tuple[pd.DataFrame, list[Problem]]:
    """Check the measures file (data contract, "measures") and type its columns.

    Parameters
    ----------
    raw
        ``Municipality.measures``.
    item_ids
        The assessment's item ids (a measure naming another id is an error); ``None``
        skips the check (no usable assessment).
    segment_ids
        Valid segment numbers (notebook 02); ``None`` accepts 1–8.

    Returns
    -------
    (DataFrame, list of Problem)
        One row per measure: ``measure_id``, ``measure``, ``items`` (list of item ids),
        ``segments`` (list of int), ``start_fy``, ``end_fy`` (int, western year),
        ``depends_on`` (list of measure ids), ``kpi`` (str or None), one ``target_<FY>``
        column per KPI year (float when numeric, else the text as given, None when
        empty; columns in year order) and ``row``. Problems: missing or duplicate ids, an
        unknown item or segment, a fiscal year that cannot be read, ``start_fy`` after
        ``end_fy``, an unknown dependency, a measure depending on itself, a dependency
        cycle, a ``target_`` column whose year cannot be read.
    """
    col = _Collector(file, language, yaml)
    if not _check_columns(raw, MEASURES_REQUIRED, col):
        return pd.DataFrame(), col.problems
    valid_items = None if item_ids is None else set(item_ids)
    valid_segments = set(DEFAULT_SEGMENT_IDS if segment_ids is None else (int(s) for s in segment_ids))
    seg_text = "1〜8" if segment_ids is None else "、".join(str(s) for s in sorted(valid_segments))
    target_cols: dict[str, int] = {}
    for c in raw.columns:
        if str(c).startswith(TARGET_PREFIX):
            try:
                target_cols[c] = parse_fiscal_year(str(c)[len(TARGET_PREFIX):])
            except ValueError:
                col.add("header" if not yaml else None, c, None, "KPI 目標の列名から年度が読めません。target_2026 のように target_ と西暦の年度にしてください。", "Cannot read a fiscal year from this KPI target column. Name it like target_2026.")
    ids = raw["measure_id"].map(_text)
    for idx in ids.index[ids.isna()]:
        col.add(idx, "measure_id", None, "measure_id が空です。M01 のような一意の id を入力してください。", "measure_id is empty. Enter a unique id such as M01.")
    _check_duplicates(ids, "measure_id", col)
    known_measures = set(ids.dropna())
    rows = []
    for idx in raw.index:
        rec = {"measure_id": ids[idx], "measure": _text(raw.at[idx, "measure"])}
        if rec["measure"] is None:
            col.add(idx, "measure", None, "打ち手の名称が空です。入力してください。", "The measure name is empty. Enter it.")
        items = split_ids(raw.at[idx, "items"])
        if not items:
            col.add(idx, "items", None, "対象の評価項目がありません。assessment の item_id を ; 区切りで入力してください。", "No assessment item. Enter item_id values separated by ;.")
        for it in items:
            if valid_items is not None and it not in valid_items:
                col.add(idx, "items", it, f"評価項目 {it} は assessment にありません。assessment の item_id({_id_list(valid_items)})から選ぶか、assessment に項目を追加してください。", f"Item {it} is not in the assessment. Use an item_id from the assessment or add the item there.")
        rec["items"] = items
        segs = []
        for s in split_ids(raw.at[idx, "segments"]) if "segments" in raw.columns else []:
            try:
                x = float(s)
                if x != int(x):
                    raise ValueError
                x = int(x)
            except ValueError:
                col.add(idx, "segments", s, f"セグメント番号は整数で入力してください(使える番号: {seg_text})。", f"Segment numbers must be whole numbers ({seg_text}).")
                continue
            if x not in valid_segments:
                col.add(idx, "segments", s, f"セグメント {x} はありません。ノートブック02のセグメント番号({seg_text})にしてください。", f"There is no segment {x}. Use a segment number from notebook 02 ({seg_text}).")
                continue
            segs.append(x)
        rec["segments"] = segs
        for c in ("start_fy", "end_fy"):
            v = raw.at[idx, c]
            try:
                rec[c] = parse_fiscal_year(v) if not _blank(v) else None
                if rec[c] is None:
                    col.add(idx, c, None, "年度が空です。2026 のように西暦の年度で入力してください。", "Empty fiscal year. Enter a western year such as 2026.")
            except ValueError:
                rec[c] = None
                col.add(idx, c, v, "年度として読めません。2026 のように西暦の年度(または 令和8年度)で入力してください。", "Cannot read this as a fiscal year. Enter a western year such as 2026.")
        if rec["start_fy"] is not None and rec["end_fy"] is not None and rec["start_fy"] > rec["end_fy"]:
            col.add(idx, "end_fy", raw.at[idx, "end_fy"], f"終了年度({rec['end_fy']})が開始年度({rec['start_fy']})より前です。start_fy ≤ end_fy にしてください。", f"end_fy ({rec['end_fy']}) is before start_fy ({rec['start_fy']}). Make start_fy <= end_fy.")
        deps = split_ids(raw.at[idx, "depends_on"]) if "depends_on" in raw.columns else []
        for d in deps:
            if d == rec["measure_id"]:
                col.add(idx, "depends_on", d, "自分自身を前提にしています。depends_on から削除してください。", "A measure cannot depend on itself. Remove it from depends_on.")
            elif d not in known_measures:
                col.add(idx, "depends_on", d, f"前提の打ち手 {d} は measures にありません。measure_id を確認してください。", f"Dependency {d} is not a measure_id in this file. Check the id.")
        rec["depends_on"] = [d for d in deps if d in known_measures and d != rec["measure_id"]]
        rec["kpi"] = _text(raw.at[idx, "kpi"]) if "kpi" in raw.columns else None
        for c, fy in target_cols.items():
            v = raw.at[idx, c]
            try:
                rec[f"{TARGET_PREFIX}{fy}"] = _number(v)
            except (TypeError, ValueError):
                rec[f"{TARGET_PREFIX}{fy}"] = _text(v)  # a KPI target may be text such as 「策定」
        rec["row"] = col.row(idx)
        rows.append(rec)
    out = pd.DataFrame(rows)
    tcols = [f"{TARGET_PREFIX}{fy}" for fy in sorted(set(target_cols.values()))]
    out = out.reindex(columns=["measure_id", "measure", "items", "segments", "start_fy", "end_fy", "depends_on", "kpi", *tcols, "row"])
    # cycles among otherwise valid dependencies
    for cycle in _dependency_cycles(out):
        idx = out.index[out["measure_id"] == cycle[0]][0]
        path = " → ".join(cycle + [cycle[0]])
        col.add(idx, "depends_on", ";".join(out.at[idx, "depends_on"]), f"前提関係が循環しています({path})。どれかの depends_on を外してください。", f"Dependencies form a cycle ({path}). Remove one of them.")
    return out, col.problems


def _dependency_cycles(measures: pd.DataFrame) -> list[list[str]]:
    """Each dependency cycle once (as the list of its measure ids, starting at the smallest)."""
    graph = {r.measure_id: list(r.depends_on) for r in measures.itertuples() if r.measure_id is not None}
    cycles, seen = [], set()
    state: dict[str, int] = {}

    def visit(node, stack):
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                cyc = stack[stack.index(nxt):]
                k = cyc.index(min(cyc))
                cyc = cyc[k:] + cyc[:k]
                if tuple(cyc) not in seen:
                    seen.add(tuple(cyc))
                    cycles.append(cyc)
            elif state.get(nxt) is None and nxt in graph:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if state.get(node) is None:
            visit(node, [])
    return cycles


@dataclass
class RoadmapInputs:
    """The checked assessment and measures (see :func:`parse_assessment`, :func:`parse_measures`)."""

    assessment: pd.DataFrame
    measures: pd.DataFrame
    segment_names: dict[int, str] | None = None


def _parse_inputs(m, segment_names, require: bool) -> tuple[pd.DataFrame | None, pd.DataFrame | None, list[Problem]]:
    problems: list[Problem] = []
    if require:
        for key, default in (("assessment", "assessment.csv"), ("measures", "measures.csv")):
            if getattr(m, key) is None:
                problems.append(Problem(file=default, code="file_missing"))
        if problems:
            return None, None, problems

    def _name(key, default):
        path = m.config.input_path(key) if m.config.folder is not None else None
        return (path.name, path.suffix.lower() in {".yaml", ".yml"}) if path is not None else (default, False)

    lang = m.language
    assessment = measures = None
    item_ids = None
    if m.assessment is not None:
        a_file, a_yaml = _name("assessment", "assessment.csv")
        assessment, p = parse_assessment(m.assessment, file=a_file, constructs=list(m.codebook.constructs), language=lang, yaml=a_yaml)
        problems += p
        if not assessment.empty:  # a file without its columns says nothing about item ids
            item_ids = assessment["item_id"].dropna().tolist()
    if m.measures is not None:
        m_file, m_yaml = _name("measures", "measures.csv")
        seg_ids = None if segment_names is None else sorted(int(k) for k in segment_names)
        measures, p = parse_measures(m.measures, file=m_file, item_ids=item_ids, segment_ids=seg_ids, language=lang, yaml=m_yaml)
        problems += p
    return assessment, measures, problems


def check_roadmap_inputs(m, *, segment_names: Mapping[int, str] | None = None) -> list[Problem]:
    """Every problem of ``m.assessment`` and ``m.measures`` (either may be absent).

    For validating a municipality up front (``dxanalysis check`` / before any notebook
    runs); segment numbers are checked against ``segment_names`` or 1–8.
    """
    return _parse_inputs(m, segment_names, require=False)[2]


def load_roadmap_inputs(m, *, segment_names: Mapping[int, str] | None = None) -> RoadmapInputs:
    """Check ``m.assessment`` and ``m.measures`` together; raise every problem at once.

    Parameters
    ----------
    m
        A loaded :class:`~dxanalysis.io.Municipality`.
    segment_names
        Segment number → name from notebook 02 (:func:`segment_names`); its keys are the
        valid segment numbers. ``None``: numbers 1–8 are accepted.

    Raises
    ------
    InputError
        Listing every problem of both files (file, row, column, value, what to do), or
        naming the missing file when either is absent.
    """
    assessment, measures, problems = _parse_inputs(m, segment_names, require=True)
    raise_if_errors(problems, m.language)
    return RoadmapInputs(assessment, measures, None if segment_names is None else {int(k): str(v) for k, v in segment_names.items()})
