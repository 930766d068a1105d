"""Read a municipality folder once, check it against the data contract, return tidy frames.

Every notebook starts with ``m = load_municipality(folder)``: a :class:`Municipality`
holding the config, codebook, tidy survey responses, roster, optional inputs and the
exclusion log. Problems are collected and raised together as
:class:`~dxanalysis.validate.InputError`.
"""

from __future__ import annotations

import io as _io
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .config import Codebook, MunicipalityConfig, load_codebook, load_config, read_yaml
from .validate import InputError, Problem, raise_if_errors

ROSTER_COUNT_NAMES = ("職員数", "staff", "count", "n_staff")


# --------------------------------------------------------------------------- low level
def nfkc(value):
    """NFKC-normalise and strip a text cell; other values are returned unchanged."""
    if isinstance(value, str):
        return unicodedata.normalize("NFKC", value).strip()
    return value


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
            enc = detect_encoding(raw)
            # bytes + encoding: the C parser decodes itself (a StringIO is re-encoded chunk by chunk, 8x slower)
            df = pd.read_csv(_io.BytesIO(raw), encoding=enc, dtype=str, keep_default_na=False, na_values=[""])
    except UnicodeDecodeError:
        raise InputError([Problem(file=path.name, code="file_unreadable", params={"detail": "文字コードを判別できません / unknown encoding"})]) from None
    except Exception as exc:  # noqa: BLE001 - any parser failure is a user-facing file problem
        raise InputError([Problem(file=path.name, code="file_unreadable", params={"detail": type(exc).__name__ + ": " + str(exc).splitlines()[0][:200]})]) from None
    df.columns = [nfkc(str(c)) for c in df.columns]
    df = df.apply(_nfkc_column)
    df = df.replace({"": np.nan})
    return df


def _nfkc_column(col: pd.Series) -> pd.Series:
    """NFKC every distinct value once: answers repeat (100,000 rows hold a few dozen values)."""
    return col.map({v: nfkc(v) for v in pd.unique(col.dropna())})


def spreadsheet_row(index: int) -> int:
    """Row number the user sees in Excel for a 0-based data row (header is row 1)."""
    return int(index) + 2


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
    out = pd.Series(np.nan, index=series.index, dtype=float)
    non_sub = pd.Series(False, index=series.index)
    s = series.dropna()
    # vectorised fast path: map the unique values once
    uniques = s.unique()
    mapping: dict[str, float] = {}
    bad: set[str] = set()
    for u in uniques:
        if u in label_to_value:
            mapping[u] = float(label_to_value[u])
        elif u in missing_codes:
            mapping[u] = np.nan
        else:
            try:
                num = float(u)
            except ValueError:
                bad.add(u)
                continue
            if num != int(num) or not scale.min <= num <= scale.max:
                bad.add(u)
            else:
                mapping[u] = num
    out.loc[s.index] = s.map(mapping).astype(float)
    non_sub.loc[s.index] = s.isin(missing_codes)
    if bad:
        for idx, val in s[s.isin(bad)].items():
            try:
                float(val)
                code = "out_of_range"
            except ValueError:
                code = "unknown_label"
            problems.append(Problem(file=file, code=code, row=spreadsheet_row(idx), column=header, value=val, params={"min": scale.min, "max": scale.max, "scale": scale_id}))
    return out, non_sub


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
    for col in raw.columns:
        if col not in known:
            problems.append(Problem(file=file, code="unknown_header", row=1, column=col))
    needed = [cb.respondent_id] + [a.header for a in cb.attributes.values()] + [i.header for i in cb.items] + [t.header for t in cb.tools.items] + [f.header for f in cb.free_text]
    missing = [h for h in needed if nfkc(h) not in raw.columns]
    for h in missing:
        problems.append(Problem(file=file, code="missing_header", row=1, column=h))
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
    out["source_row"] = [spreadsheet_row(i) for i in raw.index]  # where the answer is in the file

    for aid, attr in cb.attributes.items():
        col = raw[nfkc(attr.header)]
        allowed = [nfkc(v) for v in attr.values]
        bad = col.notna() & ~col.isin(allowed)
        for idx, val in col[bad].items():
            problems.append(Problem(file=file, code="unknown_attribute_value", row=spreadsheet_row(idx), column=attr.header, value=val, params={"attribute": aid}))
        out[aid] = pd.Categorical(col.where(~bad), categories=allowed, ordered=True)

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

    for ft in cb.free_text:
        out[ft.id] = raw[nfkc(ft.header)].astype("string")

    # rows with no substantive Likert answer are excluded, counted, never silently
    empty = out[cb.item_ids].isna().all(axis=1)
    for idx in out.index[empty]:
        exclusions.append({"file": file, "row": spreadsheet_row(idx), "column": None, "value": None, "reason": "no_answers"})
    out = out.loc[~empty].reset_index(drop=True)
    excl = pd.DataFrame(exclusions, columns=["file", "row", "column", "value", "reason"])
    return out, excl, problems


# --------------------------------------------------------------------------- roster
def parse_roster(raw: pd.DataFrame, codebook: Codebook, file: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Roster as a tidy frame: one column per attribute id present, plus ``staff`` (int)."""
    problems: list[Problem] = []
    rename = {}
    for col in raw.columns:
        if col in ROSTER_COUNT_NAMES:
            rename[col] = "staff"
            continue
        match = [aid for aid, a in codebook.attributes.items() if col in (aid, nfkc(a.label), nfkc(a.header))]
        if match:
            rename[col] = match[0]
        else:
            problems.append(Problem(file=file, code="roster_unknown_column", row=1, column=col))
    if "staff" not in rename.values():
        problems.append(Problem(file=file, code="missing_header", row=1, column="職員数"))
    if problems:
        return pd.DataFrame(), problems
    df = raw.rename(columns=rename)
    counts = pd.to_numeric(df["staff"], errors="coerce")
    for idx in df.index[counts.isna() | (counts < 0) | (counts.fillna(0) % 1 != 0)]:
        problems.append(Problem(file=file, code="roster_bad_count", row=spreadsheet_row(idx), column="職員数", value=df.loc[idx, "staff"]))
    attrs = [c for c in df.columns if c != "staff"]
    for aid in attrs:
        allowed = [nfkc(v) for v in codebook.attributes[aid].values]
        bad = ~df[aid].isin(allowed)
        for idx, val in df[aid][bad].items():
            problems.append(Problem(file=file, code="unknown_attribute_value", row=spreadsheet_row(idx), column=codebook.attributes[aid].label, value=val, params={"attribute": aid}))
    if problems:
        return pd.DataFrame(), problems
    df["staff"] = counts.astype(int)
    for aid in attrs:
        df[aid] = pd.Categorical(df[aid], categories=[nfkc(v) for v in codebook.attributes[aid].values], ordered=True)
    return df[attrs + ["staff"]].reset_index(drop=True), problems


def check_survey_in_roster(survey: pd.DataFrame, roster: pd.DataFrame, codebook: Codebook, survey_file: str, roster_file: str = "roster.csv") -> list[Problem]:
    """Every attribute value seen in the survey must have staff in the roster, and no more respondents than staff."""
    problems = []
    for aid in [c for c in roster.columns if c != "staff"]:
        staffed = set(roster.loc[roster["staff"] > 0, aid].astype(str))
        seen = survey[aid].dropna().astype(str)
        for val in sorted(set(seen) - staffed):
            first = int(survey.loc[seen.index[seen == val][0], "source_row"]) if "source_row" in survey else None
            problems.append(Problem(file=survey_file, code="department_not_in_roster", row=first, column=codebook.attributes[aid].header, value=val, params={"attribute": codebook.attributes[aid].label, "first": first}))
        counts = survey[aid].dropna().astype(str).value_counts()
        staff = roster.groupby(aid, observed=True)["staff"].sum()
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
    known = {nfkc(tc.key)} | ({nfkc(tc.group)} if tc.group else set()) | {nfkc(it.header) for it in tc.items}
    for col in raw.columns:
        if col not in known:
            problems.append(Problem(file=file, code="unknown_header", row=1, column=col))
    for h in [tc.key] + [it.header for it in items]:
        if nfkc(h) not in raw.columns:
            problems.append(Problem(file=file, code="missing_header", row=1, column=h))
    if problems:
        return pd.DataFrame(), problems
    out = pd.DataFrame(index=raw.index)
    out["key"] = raw[nfkc(tc.key)].astype("string")
    for idx in out.index[out["key"].isna()]:
        problems.append(Problem(file=file, code="missing_id", row=spreadsheet_row(idx), column=tc.key))
    if tc.group and nfkc(tc.group) in raw.columns:
        g = raw[nfkc(tc.group)]
        part = {nfkc(v) for v in tc.participant}
        nonp = {nfkc(v) for v in tc.non_participant}
        for idx, val in g[~g.isin(part | nonp)].items():
            problems.append(Problem(file=file, code="unknown_attribute_value", row=spreadsheet_row(idx), column=tc.group, value=val, params={"attribute": tc.group}))
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
                problems.append(Problem(file=file, code="unknown_yesno", row=spreadsheet_row(idx), column=it.header, value=val))
            out[it.id] = np.where(col.isin(yes), 1.0, np.where(col.isin(no), 0.0, np.nan))
        else:
            out[it.id] = col.astype("string")
    return out.reset_index(drop=True), problems


def matching_problems(training: TrainingData) -> list[Problem]:
    """Duplicate keys within a wave and keys present in only one of pre/post, as warnings."""
    out = []
    for wave, df, name in [("pre", training.pre, "training_pre"), ("post", training.post, "training_post")]:
        dups = df[df["key"].duplicated(keep="first")]
        for _, r in dups.iterrows():
            out.append(Problem(file=name, code="duplicate_id", row=int(r["row"]), column="key", value=r["key"], severity="warning", params={"first_row": int(df.loc[df["key"] == r["key"], "row"].iloc[0])}))
    return out


# --------------------------------------------------------------------------- entry point
def _optional_yaml_list(path: Path | None) -> list[dict]:
    if path is None or not path.exists():
        return []
    data = read_yaml(path) or []
    if not isinstance(data, list):
        raise InputError([Problem(file=path.name, code="yaml_invalid", params={"detail": "list expected / リスト形式で書いてください"})])
    return data


def read_tabular_or_yaml(path: Path) -> pd.DataFrame:
    """Assessment-style input: CSV/XLSX via :func:`read_table`, or a YAML list of rows."""
    if path.suffix.lower() in {".yaml", ".yml"}:
        data = read_yaml(path) or []
        return pd.DataFrame(data).map(nfkc)
    return read_table(path)


def load_municipality(folder: Path | str) -> Municipality:
    """Read and validate every input of one municipality folder.

    Raises
    ------
    InputError
        With every problem found (file, row, column, value, what to do).
    """
    folder = Path(folder)
    cfg = load_config(folder)
    lang = cfg.language
    problems: list[Problem] = []
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
    if not survey.empty and not roster.empty and not any(p.severity == "error" for p in problems):
        problems += check_survey_in_roster(survey, roster, codebook, survey_path.name, roster_path.name)
    raise_if_errors(problems, lang)

    m = Municipality(config=cfg, codebook=codebook, survey=survey, roster=roster, exclusions=exclusions)
    m.hypotheses = _optional_yaml_list(cfg.input_path("hypotheses"))
    opp_path = cfg.input_path("opportunities")
    m.opportunities = _optional_yaml_list(opp_path) if opp_path else _optional_yaml_list(Path(__file__).parent / "resources" / "opportunities.yaml")
    for key in ("assessment", "measures"):
        path = cfg.input_path(key)
        if path is not None:
            try:
                setattr(m, key, read_tabular_or_yaml(path))
            except InputError as e:
                problems += e.problems
    raise_if_errors(problems, lang)
    if m.assessment is not None or m.measures is not None:
        from .roadmap import check_inputs  # local import: roadmap imports io

        problems += check_inputs(m)
        raise_if_errors(problems, lang)

    pre_p, post_p = cfg.input_path("training_pre"), cfg.input_path("training_post")
    if pre_p is not None and post_p is not None:
        waves = {}
        for wave, path in [("pre", pre_p), ("post", post_p), ("followup", cfg.input_path("training_followup"))]:
            if path is None:
                continue
            try:
                df, p = parse_training_wave(read_table(path), codebook, wave, path.name)
                problems += p
                waves[wave] = df
            except InputError as e:
                problems += e.problems
        raise_if_errors(problems, lang)
        m.training = TrainingData(pre=waves["pre"], post=waves["post"], followup=waves.get("followup"))
        m.training.problems = matching_problems(m.training)
    m.warnings = [p for p in problems if p.severity != "error"]
    return m


EXCLUSION_REASONS = {
    "ja": {"no_answers": "選択式の回答がすべて空欄(集計から除外)", "non_substantive": "「わからない」等(その項目のみ欠測扱い)"},
    "en": {"no_answers": "no substantive answer (row excluded)", "non_substantive": "non-substantive answer (missing for that item)"},
}


def exclusion_summary(m: Municipality) -> pd.DataFrame:
    """What was excluded and why: ``reason``, ``description``, ``rows`` (rows excluded),
    ``answers`` (answers treated as missing). Nothing is dropped without a line here."""
    ex = m.exclusions
    labels = EXCLUSION_REASONS.get(m.language, EXCLUSION_REASONS["ja"])
    rows = []
    n_rows = int((ex["reason"] == "no_answers").sum())
    rows.append({"reason": "no_answers", "description": labels["no_answers"], "rows": n_rows, "answers": 0})
    ns = ex[ex["reason"] == "non_substantive"]
    rows.append({"reason": "non_substantive", "description": labels["non_substantive"], "rows": 0, "answers": int(pd.to_numeric(ns["value"]).sum()) if len(ns) else 0})
    return pd.DataFrame(rows)
