"""Read a municipality folder once, check it against the data contract, return tidy frames.

Every notebook starts with ``m = load_municipality(folder)``: a :class:`Municipality`
holding the config, codebook, tidy survey responses, roster, optional inputs and the
exclusion log. Problems are collected and raised together as
:class:`~dxanalysis.validate.InputError`.
"""

from __future__ import annotations

import io as _io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .config import OPTIONAL_INPUTS, Codebook, MunicipalityConfig, load_codebook, load_config, read_yaml, read_yaml_located, yaml_line
from .io_roadmap import check_roadmap_inputs, parse_fiscal_year
from .textnorm import nfkc  # moved to textnorm; io.nfkc stays importable
from .validate import InputError, Problem, close_match, raise_if_errors, spreadsheet_row  # spreadsheet_row: moved to validate, re-exported

ROSTER_COUNT_NAMES = ("職員数", "staff", "count", "n_staff")
#: Cells that mark a total or subtotal row of a staff table (compared after NFKC, lower case).
ROSTER_TOTAL_WORDS = {"合計", "計", "総計", "小計", "総数", "全体", "total", "subtotal", "grand total", "sum"}


# --------------------------------------------------------------------------- low level
def detect_encoding(raw: bytes) -> str:
    """Encoding of a CSV export: BOM → utf-8-sig, valid UTF-8 → utf-8, else cp932.

    Japanese survey tools export either UTF-8 (with or without BOM) or Shift_JIS; cp932 is
    Microsoft's superset of Shift_JIS that Excel writes. A file that is neither raises.
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    raw.decode("cp932")  # raises UnicodeDecodeError when it is not cp932 either
    return "cp932"


def decode_break_line(raw: bytes) -> int:
    """Line (1-based, as a text editor counts) where a file stops being valid text.

    Both UTF-8 and cp932 are tried; the one that reads further is taken as the file's
    encoding, so the line is where that encoding breaks (e.g. a cp932 file cut in the
    middle of a two-byte character breaks on its last line).
    """
    pos = 0
    for enc in ("utf-8", "cp932"):
        try:
            raw.decode(enc)
            return 0
        except UnicodeDecodeError as exc:
            pos = max(pos, exc.start)
    return raw[:pos].count(b"\n") + 1


def read_table(path: Path | str) -> pd.DataFrame:
    """Read a CSV (encoding detected) or XLSX file as strings, NFKC-normalised.

    Headers and cells are normalised; empty cells are NaN. Raises InputError naming the
    file when it is missing or cannot be decoded.
    """
    path = Path(path)
    if not path.exists():
        raise InputError([Problem(file=path.name, code="file_missing")])
    try:
        if path.suffix.lower() in {".xlsx", ".xlsm"}:
            df = pd.read_excel(path, dtype=str, engine="openpyxl")
        else:
            raw = path.read_bytes()
            if raw.startswith(b"PK\x03\x04"):  # a zip container: an Excel workbook saved under a .csv name
                raise InputError([Problem(file=path.name, code="file_is_excel")])
            try:
                enc = detect_encoding(raw)
            except UnicodeDecodeError:
                raise InputError([Problem(file=path.name, code="file_decode_line", row=decode_break_line(raw), params={"line": decode_break_line(raw)})]) from None
            # bytes + encoding: the C parser decodes itself (a StringIO is re-encoded chunk by chunk, 8x slower)
            df = pd.read_csv(_io.BytesIO(raw), encoding=enc, dtype=str, keep_default_na=False, na_values=[""])
    except InputError:
        raise
    except UnicodeDecodeError:
        raise InputError([Problem(file=path.name, code="file_unreadable", params={"detail": "文字コードを判別できません / unknown encoding"})]) from None
    except Exception as exc:  # noqa: BLE001 - any parser failure is a user-facing file problem
        raise InputError([Problem(file=path.name, code="file_unreadable", params={"detail": type(exc).__name__ + ": " + str(exc).splitlines()[0][:200]})]) from None
    return _normalise_frame(df)


def _normalise_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Headers and cells NFKC-normalised (stripped), cells empty after that NaN."""
    df.columns = [nfkc(str(c)) for c in df.columns]
    return pd.DataFrame({i: _nfkc_column(df.iloc[:, i]) for i in range(df.shape[1])}, index=df.index).set_axis(df.columns, axis=1)


def _nfkc_column(col: pd.Series) -> pd.Series:
    """NFKC every distinct value once: answers repeat (100,000 rows hold a few dozen values).

    Vectorised: the column is factorised (codes + distinct values, in C), each distinct
    value is normalised once and the codes index the normalised values; a value empty
    after stripping becomes NaN. A column that needs no change is returned as it is.
    """
    codes, uniques = pd.factorize(col.to_numpy(), use_na_sentinel=True)
    if not len(uniques):  # nothing but empty cells: float NaN, as Series.map gives
        return col.map({})
    normed = np.array([nfkc(u) for u in uniques], dtype=object)
    normed[normed == ""] = np.nan
    same = pd.isna(normed) == pd.isna(uniques)
    if same.all() and (normed[~pd.isna(normed)] == uniques[~pd.isna(uniques)]).all():
        return col
    out = normed[codes]
    out[codes < 0] = np.nan
    return pd.Series(out, index=col.index, name=col.name, dtype=col.dtype if col.dtype != object else None)


# --------------------------------------------------------------------------- containers
@dataclass
class TrainingData:
    """Training waves as tidy frames: key, group ('participant'/'non_participant'), item ids.

    ``problems`` lists matching issues (duplicates, unmatched keys) as warnings; they are
    reported in notebook 04, never dropped silently.
    """

    pre: pd.DataFrame
    post: pd.DataFrame
    followup: pd.DataFrame | None = None
    problems: list[Problem] = field(default_factory=list)


@dataclass
class Municipality:
    """One loaded municipality. See docs/data-contract.md for each frame's columns."""

    config: MunicipalityConfig
    codebook: Codebook
    survey: pd.DataFrame
    roster: pd.DataFrame
    hypotheses: list[dict] = field(default_factory=list)
    opportunities: list[dict] = field(default_factory=list)
    assessment: pd.DataFrame | None = None
    measures: pd.DataFrame | None = None
    training: TrainingData | None = None
    waves: list[Wave] = field(default_factory=list)  # earlier survey waves, oldest first (notebook 06)
    actuals: pd.DataFrame | None = None  # KPI actuals (actuals.csv; notebook 06)
    exclusions: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["file", "row", "column", "value", "reason"]))
    warnings: list[Problem] = field(default_factory=list)

    @property
    def language(self) -> str:
        return self.config.language

    @property
    def min_group_size(self) -> int:
        return self.config.min_group_size

    def __repr__(self) -> str:  # short, so a notebook cell showing it stays readable
        return f"Municipality({self.config.id!r}, {self.config.name}, respondents={len(self.survey)}, staff={int(self.roster['staff'].sum())})"


# --------------------------------------------------------------------------- survey
def _parse_scale_column(series: pd.Series, scale, scale_id: str, file: str, header: str, problems: list[Problem]) -> tuple[pd.Series, pd.Series]:
    """Map label text or numbers to floats; returns (values, non_substantive_mask)."""
    label_to_value = {nfkc(v): k for k, v in scale.labels.items()}
    missing_codes = {nfkc(m) for m in scale.missing}
    # vectorised: factorise the column (codes + distinct values, in C), decide each distinct value once
    cells = series.to_numpy()
    codes, uniques = pd.factorize(cells, use_na_sentinel=True)
    value = np.full(len(uniques) + 1, np.nan)  # the last slot is for empty cells (code -1)
    is_missing = np.zeros(len(uniques) + 1, dtype=bool)
    is_bad = np.zeros(len(uniques) + 1, dtype=bool)
    for j, u in enumerate(uniques):
        is_missing[j] = u in missing_codes
        if u in label_to_value:
            value[j] = float(label_to_value[u])
        elif not is_missing[j]:
            num = _number(u)
            if num is None or not scale.min <= num <= scale.max or num != int(num):
                is_bad[j] = True
            else:
                value[j] = num
    out = pd.Series(value[codes], index=series.index, dtype=float)
    non_sub = pd.Series(is_missing[codes], index=series.index)
    bad_rows = is_bad[codes]
    if bad_rows.any():
        for idx, val in zip(series.index[bad_rows], cells[bad_rows]):
            num = _number(val)
            if num is None:
                code = "unknown_label"
            elif not scale.min <= num <= scale.max:
                code = "out_of_range"
            else:
                code = "not_whole_number"  # 3.5 on a 1-5 scale: in range, but not an answer option
            problems.append(Problem(file=file, code=code, row=spreadsheet_row(idx), column=header, value=val, params={"min": scale.min, "max": scale.max, "scale": scale_id}))
    return out, non_sub


def _number(text) -> float | None:
    """A finite number written in a cell, or None ("nan", "inf" and words are not numbers)."""
    try:
        num = float(text)
    except (TypeError, ValueError):
        return None
    return num if math.isfinite(num) else None


def _header_problems(columns, known: set[str], needed: list[str], file: str, unknown_code: str = "unknown_header") -> list[Problem]:
    """Unknown and missing headers, each pointing at its likely counterpart.

    A header changed in the export shows up twice (unknown + missing); a close match
    (difflib) links the two messages so the user sees it is one change.
    """
    unknown = [c for c in columns if c not in known]
    missing = list(dict.fromkeys(h for h in needed if nfkc(h) not in set(columns)))
    out = []
    for col in unknown:
        hint = close_match(col, [nfkc(h) for h in missing], digits_matter=False)
        out.append(Problem(file=file, code=unknown_code, row=1, column=col, params={"hint": "similar_header", "suggest": hint} if hint else {}))
    for h in missing:
        hint = close_match(nfkc(h), unknown, digits_matter=False)
        out.append(Problem(file=file, code="missing_header", row=1, column=h, params={"hint": "similar_column", "suggest": hint} if hint else {}))
    return out


def parse_survey(raw: pd.DataFrame, codebook: Codebook, file: str) -> tuple[pd.DataFrame, pd.DataFrame, list[Problem]]:
    """Apply the codebook to an exported survey table.

    Returns (survey, exclusions, problems). ``survey`` has the columns described in
    docs/data-contract.md; ``exclusions`` lists each excluded row or answer with its reason.
    """
    problems: list[Problem] = []
    cb = codebook
    known = {nfkc(cb.respondent_id)} | {nfkc(h) for h in cb.ignore}
    known |= {nfkc(a.header) for a in cb.attributes.values()}
    known |= {nfkc(i.header) for i in cb.items} | {nfkc(t.header) for t in cb.tools.items} | {nfkc(f.header) for f in cb.free_text}
    known |= {nfkc(q.header) for q in cb.multi_select}
    needed = [cb.respondent_id] + [a.header for a in cb.attributes.values()] + [i.header for i in cb.items] + [t.header for t in cb.tools.items] + [f.header for f in cb.free_text]
    needed += [q.header for q in cb.multi_select]
    missing = [h for h in needed if nfkc(h) not in raw.columns]
    problems += _header_problems(raw.columns, known, needed, file)
    if nfkc(cb.respondent_id) in map(nfkc, missing):
        return pd.DataFrame(), pd.DataFrame(), problems
    # keep checking the values of the columns that are there, so every problem shows at once
    raw = raw.copy()
    for h in missing:
        raw[nfkc(h)] = np.nan
    if raw.empty:
        return pd.DataFrame(), pd.DataFrame(), [Problem(file=file, code="empty_file")]

    out = pd.DataFrame(index=raw.index)
    rid_col = nfkc(cb.respondent_id)
    rid = raw[rid_col]
    for idx in rid[rid.isna()].index:
        problems.append(Problem(file=file, code="missing_id", row=spreadsheet_row(idx), column=rid_col))
    dup = rid.dropna()[rid.dropna().duplicated(keep=False)]
    first_row = {}
    for idx, val in dup.items():
        if val in first_row:
            problems.append(Problem(file=file, code="duplicate_id", row=spreadsheet_row(idx), column=rid_col, value=val, params={"first_row": first_row[val]}))
        else:
            first_row[val] = spreadsheet_row(idx)
    out["respondent_id"] = rid.astype("string")
    out["source_row"] = raw.index.to_numpy().astype(np.int64) + 2  # where the answer is in the file (spreadsheet_row, vectorised)

    for aid, attr in cb.attributes.items():
        col = raw[nfkc(attr.header)]
        allowed = [nfkc(v) for v in attr.values]
        bad = col.notna() & ~col.isin(allowed)
        for idx, val in col[bad].items():
            hint = close_match(val, allowed)
            problems.append(Problem(file=file, code="unknown_attribute_value", row=spreadsheet_row(idx), column=attr.header, value=val,
                                    params={"attribute": attr.label, "attribute_id": aid, **({"hint": "did_you_mean", "suggest": hint} if hint else {})}))
        out[aid] = pd.Categorical(col.where(~bad), categories=list(dict.fromkeys(allowed)), ordered=True)

    exclusions = []
    for item in cb.items:
        header = nfkc(item.header)
        vals, non_sub = _parse_scale_column(raw[header], cb.scales[item.scale], item.scale, file, item.header, problems)
        out[item.id] = vals
        n_ns = int(non_sub.sum())
        if n_ns:
            exclusions.append({"file": file, "row": None, "column": item.header, "value": f"{n_ns}", "reason": "non_substantive"})

    yes = {nfkc(v) for v in cb.tools.yes}
    no = {nfkc(v) for v in cb.tools.no}
    for tool in cb.tools.items:
        col = raw[nfkc(tool.header)]
        vals = pd.Series(np.where(col.isin(yes), 1.0, np.where(col.isin(no), 0.0, np.nan)), index=col.index)
        bad = col.notna() & ~col.isin(yes | no)
        for idx, val in col[bad].items():
            problems.append(Problem(file=file, code="unknown_yesno", row=spreadsheet_row(idx), column=tool.header, value=val))
        out[tool.id] = vals

    for q in cb.multi_select:
        for col_id, vals in parse_multi_select(raw[nfkc(q.header)], q, file, problems).items():
            out[col_id] = vals

    for ft in cb.free_text:
        out[ft.id] = raw[nfkc(ft.header)].astype("string")

    # rows with no substantive Likert answer are excluded, counted, never silently
    empty = out[cb.item_ids].isna().all(axis=1)
    for idx in out.index[empty]:
        exclusions.append({"file": file, "row": spreadsheet_row(idx), "column": None, "value": None, "reason": "no_answers"})
    out = out.loc[~empty].reset_index(drop=True)
    # a blank attribute keeps the respondent (their answers count overall) but leaves them out
    # of that attribute's breakdowns and, for a roster attribute, of the weighted estimates
    for aid, attr in cb.attributes.items():
        n_blank = int(out[aid].isna().sum())
        if n_blank:
            exclusions.append({"file": file, "row": None, "column": attr.header, "value": f"{n_blank}", "reason": "attribute_missing"})
    excl = pd.DataFrame(exclusions, columns=["file", "row", "column", "value", "reason"])
    return out, excl, problems


#: Separators written after 「その他」 before the free text (after NFKC: ：→:, （→().
_OTHER_TAIL = (":", "(", "-", " ", "・", "「", "/")


def split_multi_select(cell: str, separator: str) -> list[str]:
    """The parts of one multi-select cell: split on ``separator``, stripped, empties dropped
    (Forms ends the list with a trailing ``;``). The separator is compared after NFKC."""
    sep = nfkc(separator) or separator
    return [p.strip() for p in str(cell).split(sep) if p.strip()]


def parse_multi_select(column: pd.Series, question, file: str, problems: list[Problem]) -> dict[str, pd.Series]:
    """One multi-select column as 0/1 columns, one per option (``<id>__<option>``).

    Each part of a cell is matched to an option's label or id (after NFKC). A part
    starting with the 「その他」 option's label followed by free text (「その他: …」,
    「その他(…)」) counts as that option. Microsoft and Google Forms write the typed-in
    text of their "Other" choice on its own (``Teams;独自の集計システム;``), so when the
    question has an ``other: true`` option, a part that resembles no option counts as
    「その他」 too. An empty cell is NaN in every option (the question was not answered).
    Any other part — every unknown part without an ``other`` option, or one close to an
    option's label (a typo or a renamed choice) — is a problem naming it, with a
    did-you-mean hint.
    """
    by_text: dict[str, str] = {}
    for o in question.options:
        by_text[nfkc(o.label)] = o.id
        by_text.setdefault(nfkc(o.id), o.id)
    others = [(nfkc(o.label), o.id) for o in question.options if o.other]
    cache: dict[str, tuple[set[str], list[str]]] = {}
    cells = column.to_numpy()
    codes, uniques = pd.factorize(cells, use_na_sentinel=True)
    for cell in uniques:  # answers repeat: parse each distinct cell once
        hit, bad = set(), []
        for part in split_multi_select(cell, question.separator):
            oid = by_text.get(part)
            if oid is None:
                oid = next((o for lab, o in others if part.startswith(lab) and (len(part) == len(lab) or part[len(lab)] in _OTHER_TAIL)), None)
            if oid is None and others and not close_match(part, list(by_text)):
                oid = others[0][1]  # Forms' typed-in "Other" answer
            if oid is None:
                bad.append(part)
            else:
                hit.add(oid)
        cache[cell] = (hit, bad)
    has_bad = np.array([bool(cache[cell][1]) for cell in uniques] + [False])[codes]
    for idx, cell in zip(column.index[has_bad], cells[has_bad]):
        for part in cache[cell][1]:
            hint = close_match(part, list(by_text))
            problems.append(Problem(file=file, code="unknown_multi_option", row=spreadsheet_row(idx), column=question.header, value=part,
                                    params={"question": question.label, "separator": question.separator, "known": ", ".join(nfkc(o.label) for o in question.options),
                                            **({"hint": "did_you_mean", "suggest": hint} if hint else {})}))
    chosen = {o.id: pd.Series(np.array([float(o.id in cache[cell][0]) for cell in uniques] + [np.nan])[codes], index=column.index, name=column.name, dtype=float)
              for o in question.options}
    return {question.measure_id(oid): vals for oid, vals in chosen.items()}


# --------------------------------------------------------------------------- roster
def _roster_count(value) -> float:
    """A staff count as written: thousands separators (1,008) and a trailing 人 are accepted."""
    if not isinstance(value, str):
        return np.nan
    text = value.replace(",", "").replace(" ", "").removesuffix("人")
    num = _number(text)
    return np.nan if num is None else num


def parse_roster(raw: pd.DataFrame, codebook: Codebook, file: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Roster as a tidy frame: one column per attribute id present, plus ``staff`` (int).

    A total or subtotal row (合計, 計, 総計, 小計 … in an attribute cell) or a row with an
    empty attribute cell gets one problem ("delete total or blank rows"), not one per cell.
    """
    problems: list[Problem] = []
    rename = {}
    names = {nfkc(n): aid for aid, a in codebook.attributes.items() for n in (aid, a.label, a.header)}
    for col in raw.columns:
        if col in ROSTER_COUNT_NAMES:
            rename[col] = "staff"
            continue
        if col in names:
            rename[col] = names[col]
        else:
            hint = close_match(col, [*names, *ROSTER_COUNT_NAMES])
            problems.append(Problem(file=file, code="roster_unknown_column", row=1, column=col, params={"hint": "did_you_mean", "suggest": hint} if hint else {}))
    if "staff" not in rename.values():
        problems.append(Problem(file=file, code="missing_header", row=1, column="職員数"))
    if problems:
        return pd.DataFrame(), problems
    df = raw.rename(columns=rename)
    attrs = [c for c in df.columns if c != "staff"]
    allowed = {aid: [nfkc(v) for v in codebook.attributes[aid].values] for aid in attrs}
    total_rows = set()
    # column by column (vectorised), then one problem per flagged row, in row order
    blank_mask = {a: df[a].isna().to_numpy() for a in attrs}
    total_mask = {a: np.array([isinstance(v, str) and v not in allowed[a] and (v.lower() in ROSTER_TOTAL_WORDS or v.endswith(("合計", "小計", "総計")))
                               for v in df[a].to_numpy()], dtype=bool) for a in attrs}
    flagged = np.zeros(len(df), dtype=bool)
    for a in attrs:
        flagged |= blank_mask[a] | total_mask[a]
    for pos in np.flatnonzero(flagged):
        idx = df.index[pos]
        blank = [codebook.attributes[a].label for a in attrs if blank_mask[a][pos]]
        total = [df[a].iat[pos] for a in attrs if total_mask[a][pos]]
        if total or blank:
            total_rows.add(idx)
            detail = f"「{total[0]}」" if total else ("空欄: " + "・".join(blank))
            problems.append(Problem(file=file, code="roster_total_row", row=spreadsheet_row(idx), value=total[0] if total else None, params={"detail": detail}))
    keep = df.index.difference(sorted(total_rows))
    counts = df["staff"].map(_roster_count)
    for idx in keep[(counts[keep].isna() | (counts[keep] < 0) | (counts[keep].fillna(0) % 1 != 0)).to_numpy()]:
        problems.append(Problem(file=file, code="roster_bad_count", row=spreadsheet_row(idx), column="職員数", value=df.loc[idx, "staff"]))
    for aid in attrs:
        attr = codebook.attributes[aid]
        col = df.loc[keep, aid]
        for idx, val in col[~col.isin(allowed[aid])].items():
            hint = close_match(val, allowed[aid])
            problems.append(Problem(file=file, code="unknown_attribute_value", row=spreadsheet_row(idx), column=attr.label, value=val,
                                    params={"attribute": attr.label, "attribute_id": aid, **({"hint": "did_you_mean", "suggest": hint} if hint else {})}))
    if problems:
        # the readable rows still go back (staff NaN where the count is bad), so the survey can be
        # checked against them in the same run: every problem is reported at once, not one per run
        part = df.loc[keep].copy()
        part["staff"] = counts[keep].where(counts[keep] >= 0)
        for aid in attrs:
            part = part[part[aid].isin(allowed[aid])]
            part[aid] = pd.Categorical(part[aid], categories=list(dict.fromkeys(allowed[aid])), ordered=True)
        return part[attrs + ["staff"]].reset_index(drop=True), problems
    df["staff"] = counts.astype(int)
    for aid in attrs:
        df[aid] = pd.Categorical(df[aid], categories=list(dict.fromkeys(allowed[aid])), ordered=True)
    return df[attrs + ["staff"]].reset_index(drop=True), problems


def check_survey_in_roster(survey: pd.DataFrame, roster: pd.DataFrame, codebook: Codebook, survey_file: str, roster_file: str = "roster.csv") -> list[Problem]:
    """Every attribute value seen in the survey must have staff in the roster, and no more respondents than staff."""
    problems = []
    for aid in [c for c in roster.columns if c != "staff"]:
        # a row whose count could not be read (NaN, reported already) still names its group
        staffed = set(roster.loc[(roster["staff"] > 0) | roster["staff"].isna(), aid].astype(str))
        seen = survey[aid].dropna().astype(str)
        for val in sorted(set(seen.unique()) - staffed):
            first = int(survey.loc[seen.index[seen == val][0], "source_row"]) if "source_row" in survey else None
            problems.append(Problem(file=survey_file, code="department_not_in_roster", row=first, column=codebook.attributes[aid].header, value=val, params={"attribute": codebook.attributes[aid].label, "first": first}))
        counts = survey[aid].dropna().astype(str).value_counts()
        staff = roster.groupby(aid, observed=True)["staff"].sum(min_count=1)
        staff = staff[~roster["staff"].isna().groupby(roster[aid], observed=True).any()]  # unknown total: no comparison
        staff.index = staff.index.astype(str)
        for val, n in counts.items():
            if val in staff.index and n > staff[val]:
                problems.append(Problem(file=roster_file, code="more_respondents_than_staff", column=codebook.attributes[aid].label, value=val,
                                        params={"n": int(n), "staff": int(staff[val])}))
    return problems


# --------------------------------------------------------------------------- training
def parse_training_wave(raw: pd.DataFrame, codebook: Codebook, wave: str, file: str) -> tuple[pd.DataFrame, list[Problem]]:
    """One training wave as a tidy frame: key, group, wave, item ids (float / str)."""
    tc = codebook.training
    problems: list[Problem] = []
    if tc is None:
        return pd.DataFrame(), [Problem(file="codebook.yaml", code="bad_value", params={"detail": "training section missing / training セクションがありません"})]
    items = [it for it in tc.items if it.waves is None or wave in it.waves]
    # training exports carry the same Forms columns as the survey (開始時刻 …): both ignore lists apply
    known = {nfkc(tc.key)} | ({nfkc(tc.group)} if tc.group else set()) | {nfkc(it.header) for it in tc.items}
    known |= {nfkc(h) for h in [*tc.ignore, *codebook.ignore]}
    needed = [tc.key] + ([tc.group] if tc.group else []) + [it.header for it in items]
    problems += _header_problems(raw.columns, known, needed, file, unknown_code="unknown_training_header")
    if problems:
        return pd.DataFrame(), problems
    out = pd.DataFrame(index=raw.index)
    out["key"] = raw[nfkc(tc.key)].astype("string")
    for idx in out.index[out["key"].isna()]:
        problems.append(Problem(file=file, code="missing_id", row=spreadsheet_row(idx), column=tc.key))
    if tc.group:
        g = raw[nfkc(tc.group)]
        part = {nfkc(v) for v in tc.participant}
        nonp = {nfkc(v) for v in tc.non_participant}
        for idx in g[g.isna()].index:
            problems.append(Problem(file=file, code="blank_training_group", row=spreadsheet_row(idx), column=tc.group))
        for idx, val in g[g.notna() & ~g.isin(part | nonp)].items():
            # no "did you mean" here: 未受講 is closest to 受講者 but means the opposite
            problems.append(Problem(file=file, code="unknown_training_group", row=spreadsheet_row(idx), column=tc.group, value=val))
        out["group"] = np.where(g.isin(nonp), "non_participant", "participant")
    else:
        out["group"] = "participant"
    out["wave"] = wave
    out["row"] = [spreadsheet_row(i) for i in raw.index]
    yes = {nfkc(v) for v in tc.yes}
    no = {nfkc(v) for v in tc.no}
    for it in items:
        col = raw[nfkc(it.header)]
        if it.kind == "likert":
            vals, _ = _parse_scale_column(col, codebook.scales[it.scale], it.scale, file, it.header, problems)
            out[it.id] = vals
        elif it.kind == "yesno":
            bad = col.notna() & ~col.isin(yes | no)
            for idx, val in col[bad].items():
                problems.append(Problem(file=file, code="unknown_training_yesno", row=spreadsheet_row(idx), column=it.header, value=val))
            out[it.id] = np.where(col.isin(yes), 1.0, np.where(col.isin(no), 0.0, np.nan))
        else:
            out[it.id] = col.astype("string")
    return out.reset_index(drop=True), problems


def matching_problems(training: TrainingData) -> list[Problem]:
    """Duplicate keys within a wave and keys present in only one of pre/post, as warnings."""
    out = []
    for _wave, df, name in [("pre", training.pre, "training_pre"), ("post", training.post, "training_post")]:
        dups = df[df["key"].duplicated(keep="first")]
        for _, r in dups.iterrows():
            out.append(Problem(file=name, code="duplicate_id", row=int(r["row"]), column="key", value=r["key"], severity="warning", params={"first_row": int(df.loc[df["key"] == r["key"], "row"].iloc[0])}))
    return out


# --------------------------------------------------------------------------- hypotheses, opportunities
HYPOTHESIS_KEYS = ("id", "statement", "measure", "attribute", "group", "versus", "expected")
HYPOTHESIS_REQUIRED = ("id", "measure", "attribute", "group", "expected")


def _yaml_entries(path: Path) -> tuple[list, list[Problem]]:
    """The entries of a YAML list file (hypotheses.yaml, opportunities.yaml)."""
    data = read_yaml(path)
    if data is None:
        return [], []
    if not isinstance(data, list):
        return [], [Problem(file=path.name, code="yaml_not_list")]
    return data, []


def _as_text_list(value) -> list[str]:
    """A YAML scalar or list as a list of NFKC-normalised strings (None → [])."""
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    return [nfkc(str(v)) for v in values]


def _checked_entries(entries: list, bad, *, required: Sequence[str], allowed: Sequence[str] | None = None):
    """The checks every YAML list of entries shares; yields ``(n, entry, id)`` for mappings.

    Reports, through ``bad(n, code, key, value, **params)``: an entry that is not a mapping,
    keys outside ``allowed`` (with a did-you-mean hint), missing ``required`` keys, and
    ``id`` values seen before. ``n`` is the entry number (1-based); ``id`` is NFKC text or "".
    """
    seen: dict[str, int] = {}
    for n, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            bad(n, "yaml_entry_not_mapping", value=entry if not isinstance(entry, list) else None)
            continue
        for key in entry if allowed is not None else ():
            if key not in allowed:
                hint = close_match(str(key), allowed)
                bad(n, "entry_unknown_key", str(key), allowed=", ".join(allowed), **({"hint": "did_you_mean", "suggest": hint} if hint else {}))
        for key in required:
            if entry.get(key) in (None, "", []):
                bad(n, "entry_missing_key", key)
        eid = nfkc(str(entry["id"])) if entry.get("id") not in (None, "") else ""
        if eid:
            if eid in seen:
                bad(n, "entry_duplicate_id", "id", eid, first=seen[eid])
            seen.setdefault(eid, n)
        yield n, entry, eid


def check_hypotheses(entries: list, codebook: Codebook, file: str = "hypotheses.yaml") -> tuple[list[dict], list[Problem]]:
    """Check ``hypotheses.yaml`` against the codebook and normalise it.

    Every problem names the entry number (``row``, 1 = first entry), the key and the value:
    an id that is missing or repeated, a ``measure`` that is not a construct, item or tool
    id, an ``attribute`` that is not an attribute id, a ``group``/``versus`` value that is
    not one of that attribute's values (compared after NFKC, like survey cells), the same
    value in both groups, ``expected`` other than higher/lower, and unknown keys.

    Returns
    -------
    (hypotheses, problems)
        Each hypothesis as a dict with the keys of :data:`HYPOTHESIS_KEYS` (text NFKC-
        normalised; ``group`` and ``versus`` lists; ``statement`` "" when absent).
    """
    problems: list[Problem] = []
    out: list[dict] = []
    constructs = [c for c in codebook.constructs if codebook.items_of(c)]
    measures = [*constructs, *codebook.item_ids, *codebook.tool_ids]

    def bad(n, code, key=None, value=None, **params):
        problems.append(Problem(file=file, code=code, row=n, column=key, value=value, params={"key": key, **params}, row_kind="entry"))

    for n, h, hid in _checked_entries(entries, bad, required=HYPOTHESIS_REQUIRED, allowed=HYPOTHESIS_KEYS):
        measure = nfkc(str(h["measure"])) if h.get("measure") not in (None, "") else None
        if measure is not None and measure not in measures:
            hint = close_match(measure, measures)
            bad(n, "hypothesis_bad_measure", "measure", measure, **({"hint": "did_you_mean", "suggest": hint} if hint else {}))
        attr = nfkc(str(h["attribute"])) if h.get("attribute") not in (None, "") else None
        group, versus = _as_text_list(h.get("group")), _as_text_list(h.get("versus"))
        if attr is not None and attr not in codebook.attributes:
            hint = close_match(attr, codebook.attribute_ids)
            bad(n, "hypothesis_bad_attribute", "attribute", attr, known=", ".join(codebook.attribute_ids), **({"hint": "did_you_mean", "suggest": hint} if hint else {}))
        elif attr is not None:
            a = codebook.attributes[attr]
            for key, values in (("group", group), ("versus", versus)):
                for v in values:
                    if v not in a.values:
                        hint = close_match(v, a.values)
                        bad(n, "hypothesis_bad_value", key, v, label=a.label, attribute=attr, known=", ".join(a.values), **({"hint": "did_you_mean", "suggest": hint} if hint else {}))
            for v in sorted(set(group) & set(versus), key=group.index):
                bad(n, "hypothesis_overlap", "versus", v)
        expected = nfkc(str(h["expected"])).lower() if h.get("expected") not in (None, "") else None
        if expected is not None and expected not in ("higher", "lower"):
            bad(n, "hypothesis_bad_expected", "expected", h["expected"])
        entry = {"id": hid, "statement": nfkc(str(h.get("statement") or "")), "measure": measure, "attribute": attr, "group": group, "expected": expected}
        if versus:
            entry["versus"] = versus
        out.append(entry)
    return out, problems


def check_opportunities(entries: list, codebook: Codebook, file: str = "opportunities.yaml", *, default: bool = False) -> tuple[list[dict], list[Problem]]:
    """Check the opportunity catalogue: ``id`` and ``name`` present, ids unique, ``addresses``
    a non-empty list of construct ids of the codebook.

    A mistyped construct id would silently keep an opportunity out of every
    recommendation, so it is an error. For the package's default catalogue
    (``default=True``, the folder has none) construct ids the codebook lacks are warnings
    that advise adding an ``opportunities.yaml`` to the folder.

    Returns
    -------
    (opportunities, problems)
        Entries as given, with ``id``/``name`` as text and ``addresses`` as a list of ids.
    """
    problems: list[Problem] = []
    out: list[dict] = []
    known = list(codebook.constructs)

    def bad(n, code, key=None, value=None, severity="error", **params):
        problems.append(Problem(file=file, code=code, row=n, column=key, value=value, params={"key": key, **params}, severity=severity, row_kind="entry"))

    for n, o, oid in _checked_entries(entries, bad, required=("id", "name", "addresses")):
        addresses = _as_text_list(o.get("addresses"))
        for a in addresses:
            if a not in known:
                if default:
                    bad(n, "opportunity_default_mismatch", "addresses", a, severity="warning")
                else:
                    hint = close_match(a, known)
                    bad(n, "opportunity_bad_address", "addresses", a, known=", ".join(known), **({"hint": "did_you_mean", "suggest": hint} if hint else {}))
        out.append({**o, "id": oid, "name": str(o.get("name") or oid), "addresses": addresses})
    return out, problems


# --------------------------------------------------------------------------- earlier waves
@dataclass
class Wave:
    """An earlier survey wave (``waves:`` in municipality.yaml), read like this year's survey.

    ``survey`` and ``roster`` keep that year's attribute values (weights are raked to that
    year's roster); ``renames`` ({attribute id: {old value: this year's value}}) maps them
    for comparisons (:func:`dxanalysis.waves.wave_data`). ``files`` holds the relative paths.
    """

    fiscal_year: int
    codebook: Codebook
    survey: pd.DataFrame
    roster: pd.DataFrame
    renames: dict
    exclusions: pd.DataFrame
    files: dict


def _wave_problem(file: str, column: str | None, value, ja: str, en: str, language: str, *, row=None, row_kind: str = "row") -> Problem:
    return Problem(file=file, code="wave_input", row=row, column=column, value=value, params={"detail": en if language == "en" else ja}, row_kind=row_kind)


def load_waves(cfg: MunicipalityConfig, codebook: Codebook) -> tuple[list[Wave], list[Problem]]:
    """Read and check every earlier wave listed under ``waves`` (see docs/data-contract.md).

    Each wave's survey, codebook and roster are checked exactly like this year's
    (:func:`parse_survey`, :func:`parse_roster`, :func:`check_survey_in_roster`), with
    problems naming the wave's files (``2024/survey.csv``). Also checked: the fiscal year
    is before this year's and not repeated; an item id in both years uses a scale with the
    same range; ``renames`` name existing attributes and values; and every attribute value
    answered in that year is a value of this year's codebook after ``renames`` (else:
    "add it to renames").
    """
    lang = cfg.language
    problems: list[Problem] = []
    out: list[Wave] = []
    node = read_yaml_located(cfg.folder / "municipality.yaml")[1] if cfg.waves else None
    seen: set[int] = set()
    for i, w in enumerate(cfg.waves):
        def where(key, i=i):
            return {"file": "municipality.yaml", "row": yaml_line(node, ("waves", i, key)), "row_kind": "line"}
        if w.fiscal_year >= cfg.fiscal_year or w.fiscal_year in seen:
            problems.append(_wave_problem(column=f"waves[{i + 1}].fiscal_year", value=w.fiscal_year, language=lang,
                                          ja=f"前回以前の調査の年度は、今回({cfg.fiscal_year}年度)より前で、重複しないように書いてください。",
                                          en=f"An earlier wave's fiscal year must be before this survey's ({cfg.fiscal_year}) and not repeated.", **where("fiscal_year")))
        seen.add(w.fiscal_year)
        paths = {key: cfg.folder / getattr(w, key) for key in ("survey", "codebook", "roster")}
        # inside the folder: the run's input hashes (incremental re-runs) cover only the folder
        outside = [k for k, p in paths.items() if not p.resolve().is_relative_to(cfg.folder.resolve())]
        for k in outside:
            problems.append(_wave_problem(column=f"waves[{i + 1}].{k}", value=getattr(w, k), language=lang,
                                          ja="前回の調査のファイルは自治体フォルダの中に置き、フォルダからの相対パス(例: 2024/survey.csv)を書いてください。",
                                          en="Put the earlier wave's files inside the municipality folder and write paths relative to it (e.g. 2024/survey.csv).", **where(k)))
        missing = [k for k, p in paths.items() if k not in outside and not p.exists()]
        for k in missing:
            problems.append(_wave_problem(column=f"waves[{i + 1}].{k}", value=getattr(w, k), language=lang,
                                          ja=f"{w.fiscal_year}年度の {k} のファイルがありません。自治体フォルダからの相対パス(例: {w.fiscal_year}/{k}.csv)を書くか、ファイルを置いてください。",
                                          en=f"The {k} file of FY{w.fiscal_year} does not exist. Write its path relative to the municipality folder or put the file there.", **where(k)))
        if missing or outside:
            continue
        rel = {k: getattr(w, k) for k in paths}
        found: list[Problem] = []
        try:
            wcb = load_codebook(paths["codebook"], lang)
        except InputError as e:
            problems += [_refile(p, paths["codebook"].name, rel["codebook"]) for p in e.problems]
            continue
        survey = roster = pd.DataFrame()
        excl = pd.DataFrame(columns=["file", "row", "column", "value", "reason"])
        try:
            survey, excl, p = parse_survey(read_table(paths["survey"]), wcb, rel["survey"])
            found += p
        except InputError as e:
            found += [_refile(p, paths["survey"].name, rel["survey"]) for p in e.problems]
        try:
            roster, p = parse_roster(read_table(paths["roster"]), wcb, rel["roster"])
            found += p
        except InputError as e:
            found += [_refile(p, paths["roster"].name, rel["roster"]) for p in e.problems]
        if not survey.empty and not roster.empty and not any(p.severity == "error" for p in found):
            found += check_survey_in_roster(survey, roster, wcb, rel["survey"], rel["roster"])
        for item in wcb.items:
            if item.id in {x.id for x in codebook.items}:
                a, b = wcb.scales[item.scale], codebook.scales[codebook.item(item.id).scale]
                if (a.min, a.max) != (b.min, b.max):
                    found.append(_wave_problem(rel["codebook"], "items", item.id, language=lang,
                                               ja=f"設問 {item.id} の尺度の範囲({a.min:g}〜{a.max:g})が今回({b.min:g}〜{b.max:g})と違うため比べられません。別の設問として別の id を付けてください。",
                                               en=f"Item {item.id} uses a scale {a.min:g}-{a.max:g} but {b.min:g}-{b.max:g} this year; give it another id."))
        for aid, mapping in w.renames.items():
            if aid not in codebook.attributes or aid not in wcb.attributes:
                hint = close_match(aid, list(codebook.attributes))
                found.append(_wave_problem(column=f"waves[{i + 1}].renames", value=aid, language=lang,
                                           ja="renames の属性 id が、両方の年度の codebook.yaml の attributes にありません。" + (f"「{hint}」の書き間違いではありませんか。" if hint else ""),
                                           en="This renames attribute id is not an attribute of both years' codebook.yaml." + (f" Did you mean '{hint}'?" if hint else ""), **where("renames")))
                continue
            old_values = [nfkc(v) for v in wcb.attributes[aid].values]
            new_values = [nfkc(v) for v in codebook.attributes[aid].values]
            for old, new in mapping.items():
                if old not in old_values:
                    found.append(_wave_problem(column=f"waves[{i + 1}].renames.{aid}", value=old, language=lang,
                                               ja=f"{w.fiscal_year}年度の codebook.yaml の {wcb.attributes[aid].label} の values にない値です(左側には当時の名前を書きます)。",
                                               en=f"Not a value of {aid} in the FY{w.fiscal_year} codebook.yaml (the left side is that year's name).", **where("renames")))
                if new not in new_values:
                    hint = close_match(new, new_values)
                    found.append(_wave_problem(column=f"waves[{i + 1}].renames.{aid}", value=new, language=lang,
                                               ja=f"今回の codebook.yaml の {codebook.attributes[aid].label} の values にない値です(右側には今の名前を書きます)。" + (f"「{hint}」の書き間違いではありませんか。" if hint else ""),
                                               en=f"Not a value of {aid} in this year's codebook.yaml (the right side is today's name)." + (f" Did you mean '{hint}'?" if hint else ""), **where("renames")))
        if not survey.empty:
            for aid in [a for a in wcb.attributes if a in codebook.attributes]:
                now = {nfkc(v) for v in codebook.attributes[aid].values}
                mapping = w.renames.get(aid, {})
                for val in sorted(set(survey[aid].dropna().astype(str))):
                    if mapping.get(val, val) not in now:
                        first = int(survey.loc[survey[aid].astype(str) == val, "source_row"].iloc[0])
                        found.append(_wave_problem(rel["survey"], wcb.attributes[aid].header, val, language=lang, row=first,
                                                   ja=f"今回の調査にない{wcb.attributes[aid].label}です。組織改編で名前が変わった・統合された場合は、municipality.yaml の waves の renames に「{aid}: {{{val}: 今の名前}}」を書いてください。",
                                                   en=f"This {aid} does not exist this year. If it was renamed or merged, map it under renames of this wave in municipality.yaml ({aid}: {{{val}: today's name}})."))
        problems += found
        out.append(Wave(fiscal_year=w.fiscal_year, codebook=wcb, survey=survey, roster=roster, renames=w.renames, exclusions=excl, files=rel))
    return sorted(out, key=lambda x: x.fiscal_year), problems


def _refile(p: Problem, name: str, rel: str) -> Problem:
    """The same problem, naming the wave's file by its relative path (2024/codebook.yaml)."""
    from dataclasses import replace

    return replace(p, file=rel) if p.file == name else p


# --------------------------------------------------------------------------- entry point
def missing_optional_inputs(cfg: MunicipalityConfig) -> list[Problem]:
    """Optional inputs listed under ``inputs`` in municipality.yaml whose file is absent.

    Each problem points at the line of municipality.yaml and says the input is optional,
    so the line can simply be removed (e.g. a city without training data).
    """
    out = []
    node = None
    for key, name in cfg.inputs.items():
        if key in OPTIONAL_INPUTS and not (cfg.folder / name).exists():
            if node is None:
                node = read_yaml_located(cfg.folder / "municipality.yaml")[1]
            out.append(Problem(file="municipality.yaml", code="optional_file_missing", row=yaml_line(node, ("inputs", key), key=True), column=f"inputs.{key}", value=name,
                               params={"key": key, "name": name}, row_kind="line"))
    return out


def read_tabular_or_yaml(path: Path) -> pd.DataFrame:
    """Assessment-style input: CSV/XLSX via :func:`read_table`, or a YAML list of rows."""
    if path.suffix.lower() in {".yaml", ".yml"}:
        data = read_yaml(path) or []
        return pd.DataFrame(data).map(nfkc)
    return read_table(path)


# --------------------------------------------------------------------------- wave inputs (notebook 06)
ACTUALS_REQUIRED = ["measure_id", "fiscal_year", "actual"]


def _measure_kinds(codebook) -> dict[str, str]:
    out = {c: "construct" for c in codebook.constructs if codebook.items_of(c)}
    out.update({i: "item" for i in codebook.item_ids})
    out.update({t: "tool" for t in codebook.tool_ids})
    return out


def read_actuals(m) -> pd.DataFrame | None:
    """``actuals.csv`` as read (text cells, NFKC), or None when the municipality has none."""
    path = m.config.input_path("actuals")
    if path is None or not path.exists():
        return None
    return read_table(path)


def check_wave_inputs(m) -> list[Problem]:
    """Problems of the KPI inputs of notebook 06 (called by ``io.load_municipality``).

    * ``measures.csv`` column ``kpi_survey`` (optional): a construct id, item id or tool id
      of this year's codebook — the KPI's actual value is that survey estimate.
    * ``actuals.csv`` (optional): columns ``measure_id``, ``fiscal_year``, ``actual``; the
      measure exists in measures.csv and has no ``kpi_survey``; the year is readable
      (2025, FY2025, 令和7年度); the actual is a number; one row per measure and year.

    Also sets ``m.actuals`` (typed: ``measure_id``, ``fiscal_year`` int, ``actual`` float, ``row``).
    """
    en = m.language == "en"
    problems: list[Problem] = []

    def bad(file, row, column, value, ja, en_text):
        problems.append(Problem(file=file, code="wave_input", row=row, column=column, value=value, params={"detail": en_text if en else ja}))

    kinds = _measure_kinds(m.codebook)
    survey_kpi: dict[str, str] = {}
    ids: set[str] = set()
    mfile = m.config.input_path("measures").name if m.config.input_path("measures") is not None else "measures.csv"
    if m.measures is not None and "measure_id" in m.measures.columns:
        ids = {str(v) for v in m.measures["measure_id"].dropna()}
        if "kpi_survey" in m.measures.columns:
            for idx, r in m.measures.iterrows():
                v = r["kpi_survey"]
                if isinstance(v, str) and v.strip():
                    if v not in kinds:
                        hint = close_match(v, list(kinds))
                        bad(mfile, int(idx) + 2, "kpi_survey", v, "codebook.yaml の構成概念・設問・ツールの id を書いてください(アンケートから実績を求める KPI のとき)。" + (f"「{hint}」の書き間違いではありませんか。" if hint else ""),
                            "Write a construct, item or tool id of codebook.yaml (for a KPI measured by the survey)." + (f" Did you mean '{hint}'?" if hint else ""))
                    else:
                        survey_kpi[str(r["measure_id"])] = v
    raw = read_actuals(m)
    if raw is None:
        m.actuals = None
        return problems
    afile = m.config.input_path("actuals").name
    missing = [c for c in ACTUALS_REQUIRED if c not in raw.columns]
    for c in missing:
        bad(afile, 1, c, None, f"列「{c}」がありません。actuals.csv には measure_id, fiscal_year, actual の3列が必要です。", f"Column '{c}' is missing: actuals.csv needs measure_id, fiscal_year, actual.")
    if missing:
        return problems
    rows, seen = [], {}
    for idx, r in raw.iterrows():
        row = int(idx) + 2
        mid = r["measure_id"]
        if not isinstance(mid, str) or not mid:
            bad(afile, row, "measure_id", mid, "measure_id が空欄です。measures.csv の打ち手の id を書いてください。", "measure_id is empty; write a measure id of measures.csv.")
            continue
        if m.measures is None:
            bad(afile, row, "measure_id", mid, "actuals.csv は measures.csv の KPI の実績です。measures.csv も置いてください。", "actuals.csv holds actuals of the KPIs in measures.csv; add measures.csv.")
            continue
        if mid not in ids:
            hint = close_match(mid, sorted(ids))
            bad(afile, row, "measure_id", mid, "measures.csv にない打ち手の id です。" + (f"「{hint}」の書き間違いではありませんか。" if hint else ""), "Not a measure id of measures.csv." + (f" Did you mean '{hint}'?" if hint else ""))
            continue
        if mid in survey_kpi:
            bad(afile, row, "measure_id", mid, f"この KPI は measures.csv の kpi_survey({survey_kpi[mid]})でアンケートから求めます。actuals.csv のこの行を削除するか、kpi_survey を空欄にしてください。",
                f"This KPI is taken from the survey (kpi_survey = {survey_kpi[mid]}); delete this row or empty kpi_survey.")
            continue
        try:
            fy = parse_fiscal_year(r["fiscal_year"])
        except ValueError:
            bad(afile, row, "fiscal_year", r["fiscal_year"], "年度を読めません。2025、FY2025、令和7年度 のように書いてください。", "Cannot read the fiscal year; write e.g. 2025, FY2025 or 令和7年度.")
            continue
        text = str(r["actual"]).replace(",", "").removesuffix("%") if isinstance(r["actual"], str) else r["actual"]
        try:
            value = float(text)
            if not np.isfinite(value):
                raise ValueError
        except (TypeError, ValueError):
            bad(afile, row, "actual", r["actual"], "実績は数値で書いてください(割合は % の数字、例: 35)。", "The actual must be a number (a percentage as its number, e.g. 35).")
            continue
        if (mid, fy) in seen:
            bad(afile, row, "fiscal_year", r["fiscal_year"], f"同じ打ち手・年度の行が {seen[(mid, fy)]} 行目にもあります。1行にしてください。", f"Row {seen[(mid, fy)]} has the same measure and year; keep one.")
            continue
        seen[(mid, fy)] = row
        rows.append({"measure_id": mid, "fiscal_year": fy, "actual": value, "row": row})
    m.actuals = pd.DataFrame(rows, columns=["measure_id", "fiscal_year", "actual", "row"])
    return problems


def load_municipality(folder: Path | str, *, cache: Path | str | None = None) -> Municipality:
    """Read and validate every input of one municipality folder.

    Parameters
    ----------
    folder
        ``data/<municipality>``.
    cache
        The notebook's ``report_dir`` (``""``: ``../reports/<id>``, as
        :func:`dxanalysis.config.resolve_report_dir`), or ``None`` for no cache. The
        validated municipality is kept in ``<report folder>/private/cache/`` under a key
        that hashes the bytes of every file of ``folder`` and of every input it names
        elsewhere, the folder's path and the package (:func:`municipality_key`); the
        notebooks of a run (and the runner's validation, which loads first) then unpickle
        it instead of reading and checking the inputs again (100,000 respondents: 5.8 CPU-s
        → 0.4 s with the hashing). A changed input, setting or package file gives a new
        key, so a stale copy is never used; a folder that belongs to another municipality
        is not written to (``resolve_report_dir`` refuses it afterwards).

    Raises
    ------
    InputError
        With every problem found (file, row, column, value, what to do). Nothing is
        cached then: the next load reads the inputs again.
    """
    if cache is None:
        return _read_municipality(folder)
    from . import cache as _cache
    from .config import report_dir_owner

    folder = Path(folder).resolve()  # the cached copy's config.folder must work from any working directory
    cfg = load_config(folder)
    report = Path(cache) if str(cache).strip() else Path("..") / "reports" / cfg.id
    owner = report_dir_owner(report) if report.exists() else None
    if owner is not None and owner != cfg.id:
        return _read_municipality(folder)
    try:
        key = municipality_key(folder, cfg)
    except OSError:  # a file that vanished or cannot be read while hashing (an editor's lock file): no cache this time
        return _read_municipality(folder)
    where = _cache.cache_dir(report)
    m = _cache.lookup(where, "municipality", key)
    if m is _cache.MISS:
        m = _read_municipality(folder)  # raises on bad inputs before anything is created: no report folder for them
        _cache.store(where, "municipality", key, m, keep=2)
    return m


def municipality_key(folder: Path | str, cfg: MunicipalityConfig | None = None) -> str:
    """What a loaded municipality depends on, hashed: the folder's path, the bytes of every file
    under it and of every input it names outside it, the package, and the versions of pandas,
    numpy, openpyxl and Python."""
    import hashlib

    from .cache import digest
    from .config import package_hash

    folder = Path(folder).resolve()
    cfg = cfg or load_config(folder)
    files = {p for p in folder.rglob("*") if p.is_file()}
    for kind in cfg.inputs:
        path = cfg.input_path(kind)
        if path is not None and path.is_file():
            files.add(path.resolve())
    h = hashlib.sha256()
    for path in sorted(files):
        h.update(str(path).encode("utf-8") + b"\0")
        with open(path, "rb") as f:
            h.update(hashlib.file_digest(f, "sha256").digest() if hasattr(hashlib, "file_digest") else hashlib.sha256(f.read()).digest())
    import sys
    from importlib import metadata

    try:
        openpyxl = metadata.version("openpyxl")  # reads .xlsx inputs
    except metadata.PackageNotFoundError:
        openpyxl = ""
    # Python's version too: unicodedata (NFKC of answers and headers) follows it
    return digest("Municipality", str(folder), h.hexdigest(), package_hash(), pd.__version__, np.__version__, openpyxl, sys.version)


def _read_municipality(folder: Path | str) -> Municipality:
    """:func:`load_municipality` without a cache: read and validate every input."""
    folder = Path(folder)
    cfg = load_config(folder)
    lang = cfg.language
    problems: list[Problem] = missing_optional_inputs(cfg)
    codebook = load_codebook(cfg.input_path("codebook"), lang)

    survey_path = cfg.input_path("survey")
    roster_path = cfg.input_path("roster")
    survey = roster = pd.DataFrame()
    exclusions = pd.DataFrame(columns=["file", "row", "column", "value", "reason"])
    try:
        survey, exclusions, p = parse_survey(read_table(survey_path), codebook, survey_path.name)
        problems += p
    except InputError as e:
        problems += e.problems
    try:
        roster, p = parse_roster(read_table(roster_path), codebook, roster_path.name)
        problems += p
    except InputError as e:
        problems += e.problems
    if not survey.empty and not roster.empty:
        problems += check_survey_in_roster(survey, roster, codebook, survey_path.name, roster_path.name)
    # the optional YAML lists are checked now too, so a typo there is reported with the rest
    hypotheses: list[dict] = []
    hyp_path = cfg.input_path("hypotheses")
    if hyp_path is not None and hyp_path.exists():
        try:
            entries, p = _yaml_entries(hyp_path)
            hypotheses, q = check_hypotheses(entries, codebook, hyp_path.name)
            problems += p + q
        except InputError as e:
            problems += e.problems
    opportunities: list[dict] = []
    notes: list[Problem] = []
    opp_path = cfg.input_path("opportunities")
    default_opp = opp_path is None
    opp_path = opp_path or Path(__file__).parent / "resources" / "opportunities.yaml"
    if opp_path.exists():
        try:
            entries, p = _yaml_entries(opp_path)
            opportunities, q = check_opportunities(entries, codebook, opp_path.name, default=default_opp)
            problems += p + [x for x in q if x.severity == "error"]
            notes += [x for x in q if x.severity != "error"]  # warnings go to m.warnings, not into an InputError
        except InputError as e:
            problems += e.problems
    waves = None
    pre_p, post_p = cfg.input_path("training_pre"), cfg.input_path("training_post")
    if pre_p is not None and post_p is not None:
        waves = {}
        for wave, path in [("pre", pre_p), ("post", post_p), ("followup", cfg.input_path("training_followup"))]:
            if path is None or not path.exists() and path.name in cfg.inputs.values():
                continue  # listed but absent: reported once by missing_optional_inputs
            try:
                df, p = parse_training_wave(read_table(path), codebook, wave, path.name)
                problems += p
                waves[wave] = df
            except InputError as e:
                problems += e.problems
    earlier, p = load_waves(cfg, codebook) if cfg.waves and not survey.empty else ([], [])
    problems += p
    raise_if_errors(problems, lang)

    m = Municipality(config=cfg, codebook=codebook, survey=survey, roster=roster, exclusions=exclusions, hypotheses=hypotheses, opportunities=opportunities, waves=earlier)
    for key in ("assessment", "measures"):
        path = cfg.input_path(key)
        if path is not None:
            try:
                setattr(m, key, read_tabular_or_yaml(path))
            except InputError as e:
                problems += e.problems
    raise_if_errors(problems, lang)
    if m.assessment is not None or m.measures is not None:
        problems += check_roadmap_inputs(m)
        raise_if_errors(problems, lang)
    if cfg.waves or cfg.input_path("actuals") is not None:
        problems += check_wave_inputs(m)
        raise_if_errors(problems, lang)

    if waves is not None:
        m.training = TrainingData(pre=waves["pre"], post=waves["post"], followup=waves.get("followup"))
        m.training.problems = matching_problems(m.training)
    m.warnings = notes + [p for p in problems if p.severity != "error"]
    return m


EXCLUSION_REASONS = {
    "ja": {"no_answers": "選択式の回答がすべて空欄(集計から除外)", "non_substantive": "「わからない」等(その項目のみ欠測扱い)",
           "attribute_missing": "{label}が空欄(単純集計には含めるが、{label}別の集計{weighted}には含めない)", "weighted": "と加重推計"},
    "en": {"no_answers": "no substantive answer (row excluded)", "non_substantive": "non-substantive answer (missing for that item)",
           "attribute_missing": "{label} left blank (in the unweighted totals, but not in the breakdown by {label}{weighted})", "weighted": " or the weighted estimates"},
}


def exclusion_summary(m: Municipality) -> pd.DataFrame:
    """What was excluded and why: ``reason``, ``description``, ``rows`` (rows excluded),
    ``answers`` (answers treated as missing). Nothing is dropped without a line here.

    Besides the two fixed lines (``no_answers``, ``non_substantive``) there is one
    ``attribute_missing`` line per attribute left blank by some respondents: ``rows`` is
    the number of those respondents. They stay in the survey, but are not in that
    attribute's breakdowns and, when the attribute is a roster (weighting) column, not
    in the weighted estimates (their weight is undefined).
    """
    ex = m.exclusions
    labels = EXCLUSION_REASONS.get(m.language, EXCLUSION_REASONS["ja"])
    rows = []
    n_rows = int((ex["reason"] == "no_answers").sum())
    rows.append({"reason": "no_answers", "description": labels["no_answers"], "rows": n_rows, "answers": 0})
    ns = ex[ex["reason"] == "non_substantive"]
    rows.append({"reason": "non_substantive", "description": labels["non_substantive"], "rows": 0, "answers": int(pd.to_numeric(ns["value"]).sum()) if len(ns) else 0})
    by_header = {a.header: (aid, a) for aid, a in m.codebook.attributes.items()}
    roster_cols = set(getattr(m.roster, "columns", []))
    for _, r in ex[ex["reason"] == "attribute_missing"].iterrows():
        aid, attr = by_header.get(r["column"], (None, None))
        label = attr.label if attr is not None else str(r["column"])
        text = labels["attribute_missing"].format(label=label, weighted=labels["weighted"] if aid in roster_cols else "")
        rows.append({"reason": "attribute_missing", "description": text, "rows": int(r["value"]), "answers": 0})
    return pd.DataFrame(rows, columns=["reason", "description", "rows", "answers"])
