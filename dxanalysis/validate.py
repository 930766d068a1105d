"""The data contract's problems: every one names file, row, column, value and what to do.

Readers in :mod:`dxanalysis.io` collect :class:`Problem` objects instead of raising at the
first one, then raise a single :class:`InputError` so that the user sees every problem at
once. The command line turns that error into a readable list and exit status 2, never a
traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

# Message templates: code -> (Japanese, English). ``{value}`` etc. are filled from Problem.params.
MESSAGES: dict[str, tuple[str, str]] = {
    "file_missing": (
        "ファイルが見つかりません。municipality.yaml の inputs に正しいファイル名を書くか、ファイルを置いてください。",
        "File not found. Put the file in the folder or fix its name under inputs in municipality.yaml.",
    ),
    "file_unreadable": (
        "ファイルを読み込めません({detail})。CSV(UTF-8 または Shift_JIS)か XLSX で保存し直してください。",
        "Cannot read the file ({detail}). Save it again as CSV (UTF-8 or Shift_JIS) or XLSX.",
    ),
    "yaml_invalid": (
        "設定ファイルの書き方に誤りがあります({detail})。",
        "The settings file is not valid ({detail}).",
    ),
    "config_invalid": (
        "設定値が正しくありません({detail})。",
        "A setting is not valid ({detail}).",
    ),
    "unknown_header": (
        "codebook.yaml にない列です。items・attributes・tools・free_text のどれかに追加するか、ignore に加えてください。",
        "The codebook does not know this column. Add it to items, attributes, tools or free_text, or list it under ignore.",
    ),
    "missing_header": (
        "codebook.yaml に書かれた列がファイルにありません。列名が書き出し時と同じか確認してください。",
        "A column named in the codebook is not in the file. Check that the header is exactly as exported.",
    ),
    "out_of_range": (
        "{min}〜{max} の範囲外の値です。回答を確認し、{min}〜{max} の数値または選択肢の文言にしてください。",
        "Value outside {min}-{max}. Check the answer; use a number {min}-{max} or the option text.",
    ),
    "unknown_label": (
        "選択肢にない回答です。codebook.yaml の scales.{scale}.labels か missing に追加するか、回答を直してください。",
        "Answer is not one of the options. Add it to scales.{scale}.labels or missing in codebook.yaml, or fix the answer.",
    ),
    "unknown_attribute_value": (
        "{attribute} の選択肢にない値です。codebook.yaml の attributes.{attribute}.values に追加するか、値を直してください。",
        "Not an allowed value of {attribute}. Add it to attributes.{attribute}.values in codebook.yaml or fix the value.",
    ),
    "unknown_yesno": (
        "はい/いいえ として読めない回答です。codebook.yaml の tools.yes / tools.no に追加するか、値を直してください。",
        "Cannot read this as yes/no. Add it to tools.yes / tools.no in codebook.yaml or fix the value.",
    ),
    "duplicate_id": (
        "回答者番号が重複しています(最初の出現: {first_row} 行目)。重複した回答を削除してください。",
        "Duplicate respondent number (first seen on row {first_row}). Remove the duplicated answer.",
    ),
    "missing_id": (
        "回答者番号が空です。書き出したままのファイルを使ってください。",
        "Respondent number is empty. Use the file as exported.",
    ),
    "department_not_in_roster": (
        "名簿(roster)にない {attribute} です。roster に職員数の行を追加してください。",
        "This {attribute} is not in the roster. Add a row with its staff count to the roster.",
    ),
    "more_respondents_than_staff": (
        "回答者({n}人)が名簿の職員数({staff}人)より多くなっています。名簿が古い可能性があります。roster を回答時点の職員数に更新してください。",
        "More respondents ({n}) than staff in the roster ({staff}). The roster may be out of date; update it to the staff count at survey time.",
    ),
    "roster_bad_count": (
        "職員数は 0 以上の整数にしてください。",
        "Staff count must be a whole number of 0 or more.",
    ),
    "roster_unknown_column": (
        "roster の列名が分かりません。属性の名前(例: 所属部署)または id と 職員数 にしてください。",
        "Unknown roster column. Use attribute labels (e.g. 所属部署) or ids, and 職員数.",
    ),
    "empty_file": (
        "回答がありません。",
        "The file has no answers.",
    ),
    "bad_value": (
        "値が正しくありません: {detail}",
        "Invalid value: {detail}",
    ),
}

#: The Japanese names of the location fields, used when printing.
LABELS = {
    "ja": {"file": "ファイル", "row": "行", "column": "列", "value": "値", "heading": "入力データに問題があります({n} 件)。修正してから再実行してください。"},
    "en": {"file": "file", "row": "row", "column": "column", "value": "value", "heading": "The input data has {n} problem(s). Fix them and run again."},
}


@dataclass(frozen=True)
class Problem:
    """One problem in one input file.

    ``row`` is the spreadsheet row (header = 1, first answer = 2), or ``None`` for a
    problem with the whole file or column.
    """

    file: str
    code: str
    row: int | None = None
    column: str | None = None
    value: Any = None
    params: dict = field(default_factory=dict)
    severity: str = "error"  # "error" stops the run; "warning" is reported only

    def message(self, language: str = "ja") -> str:
        ja, en = MESSAGES.get(self.code, ("{detail}", "{detail}"))
        template = en if language == "en" else ja
        try:
            return template.format(**self.params)
        except (KeyError, IndexError):
            return template

    def format(self, language: str = "ja") -> str:
        lab = LABELS["en" if language == "en" else "ja"]
        parts = [f"{lab['file']}: {self.file}"]
        if self.row is not None:
            parts.append(f"{lab['row']}: {self.row}")
        if self.column is not None:
            parts.append(f"{lab['column']}: 「{self.column}」")
        if self.value is not None and not (isinstance(self.value, float) and pd.isna(self.value)):
            parts.append(f"{lab['value']}: {self.value!s}")
        return " ".join(parts) + " — " + self.message(language)


class InputError(Exception):
    """Raised once, with every problem found, when inputs break the data contract."""

    def __init__(self, problems: list[Problem], language: str = "ja"):
        self.problems = list(problems)
        self.language = language
        super().__init__(self.format())

    def format(self, limit: int = 50) -> str:
        lang = self.language
        errors = [p for p in self.problems if p.severity == "error"]
        lines = [LABELS["en" if lang == "en" else "ja"]["heading"].format(n=len(errors))]
        for p in errors[:limit]:
            lines.append("  - " + p.format(lang))
        if len(errors) > limit:
            more = len(errors) - limit
            lines.append(f"  … ほか {more} 件" if lang != "en" else f"  … and {more} more")
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        return problems_frame(self.problems, self.language)


def problems_frame(problems: list[Problem], language: str = "ja") -> pd.DataFrame:
    """Problems as a tidy table: file, row, column, value, severity, message."""
    return pd.DataFrame(
        [
            {
                "file": p.file,
                "row": p.row,
                "column": p.column,
                "value": None if p.value is None else str(p.value),
                "severity": p.severity,
                "message": p.message(language),
            }
            for p in problems
        ],
        columns=["file", "row", "column", "value", "severity", "message"],
    )


def raise_if_errors(problems: list[Problem], language: str = "ja") -> None:
    """Raise :class:`InputError` when any problem is an error."""
    if any(p.severity == "error" for p in problems):
        raise InputError(problems, language)
