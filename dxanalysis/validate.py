"""The data contract's problems: every one names file, row, column, value and what to do.

Readers in :mod:`dxanalysis.io` collect :class:`Problem` objects instead of raising at the
first one, then raise a single :class:`InputError` so that the user sees every problem at
once. The command line turns that error into a readable list and exit status 2, never a
traceback.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas is imported where a frame is built: `dxanalysis run` on unchanged folders never needs it
    import pandas as pd

# Message templates: code -> (Japanese, English). ``{value}`` etc. are filled from Problem.params.
MESSAGES: dict[str, tuple[str, str]] = {
    "file_missing": (
        "ファイルが見つかりません。municipality.yaml の inputs に正しいファイル名を書くか、ファイルを置いてください。",
        "File not found. Put the file in the folder or fix its name under inputs in municipality.yaml.",
    ),
    "folder_missing": (
        "自治体フォルダ {value} が見つかりません。data_dir(コマンドでは最初の引数)に、municipality.yaml のあるフォルダを指定してください(例: ../data/sample)。新しい自治体なら `dxanalysis init {value} --survey 回答.csv` で作れます。",
        "The municipality folder {value} does not exist. Set data_dir (on the command line: the first argument) to the folder that holds municipality.yaml (e.g. ../data/sample). For a new municipality, `dxanalysis init {value} --survey export.csv` creates it.",
    ),
    "report_dir_other_municipality": (
        "出力先 {value} は別の自治体({owner})のレポートフォルダです。{id} の表で上書きしないよう止めました。report_dir を空(\"\")にすると ../reports/{id} に出力します。別の場所に出すときは、その自治体用の新しいフォルダを指定してください。",
        "The output folder {value} belongs to another municipality ({owner}); stopped so {id}'s tables do not overwrite it. Leave report_dir empty (\"\") to write to ../reports/{id}, or give a new folder for this municipality.",
    ),
    "optional_file_missing": (
        "inputs の {key} に書かれたファイル {name} がありません。{key} は任意の入力です。使わない場合は municipality.yaml からこの行(「{key}: {name}」)を削除してください。使う場合はファイルをフォルダに置いてください。",
        "The file {name} listed under inputs as {key} does not exist. {key} is optional: if you do not use it, delete this line ('{key}: {name}') from municipality.yaml; otherwise put the file in the folder.",
    ),
    "file_unreadable": (
        "ファイルを読み込めません({detail})。CSV(UTF-8 または Shift_JIS)か XLSX で保存し直してください。",
        "Cannot read the file ({detail}). Save it again as CSV (UTF-8 or Shift_JIS) or XLSX.",
    ),
    "yaml_unreadable": (
        "設定ファイルの文字コードを判別できません。UTF-8 で保存し直してください。",
        "Cannot tell the encoding of the settings file. Save it again as UTF-8.",
    ),
    "yaml_invalid": (
        "設定ファイルの書き方に誤りがあります({detail})。",
        "The settings file is not valid ({detail}).",
    ),
    # YAML syntax errors (the parser's English is replaced by what to check)
    "yaml_tab": (
        "字下げにタブが使われています。タブではなく半角スペースで字下げしてください。",
        "A tab is used for indentation. Indent with spaces, not tabs.",
    ),
    "yaml_unclosed": (
        "引用符(\" や ')や括弧([ ] や {{ }})が閉じていません。この行から先で、引用符や括弧が閉じているか確認してください。",
        "A quote (\" or ') or bracket ([ ] or {{ }}) is not closed. Check from this line on that every quote and bracket is closed.",
    ),
    "yaml_colon": (
        "「キー: 値」の形になっていません。コロン(:)の後に半角スペースを入れ、値に「: 」を含むときは値を引用符(\")で囲んでください。字下げがずれていないかも確認してください。",
        "Not of the form 'key: value'. Put a space after the colon, quote a value that contains ': ', and check the indentation.",
    ),
    "yaml_indent": (
        "字下げ(行頭の半角スペースの数)がそろっていません。同じ階層の行は同じ数のスペースで始めてください。",
        "The indentation is inconsistent. Start lines of the same level with the same number of spaces.",
    ),
    "yaml_syntax": (
        "設定ファイルの書き方に誤りがあります。この行と前の行の字下げ・コロン・引用符を確認してください(原文: {detail})。",
        "The settings file is not valid YAML: check indentation, colons and quotes on this and the previous line ({detail}).",
    ),
    "yaml_not_mapping": (
        "設定ファイルの形式が違います。「キー: 値」の行を並べる形で書いてください。",
        "Wrong layout: the file must be a set of 'key: value' lines.",
    ),
    "yaml_not_list": (
        "リスト形式で書いてください(各項目を「- id: …」で始めます)。",
        "Write a list: start each entry with '- id: ...'.",
    ),
    "yaml_entry_not_mapping": (
        "この項目は「キー: 値」の組になっていません。「- id: …」の下に同じ字下げで「statement: …」などを並べてください。",
        "This entry is not a set of 'key: value' pairs. Under '- id: ...', list the other keys with the same indentation.",
    ),
    # settings validated by pydantic (config.py turns each error type into one of these)
    "config_missing": (
        "必須の項目 {key} がありません。追加してください。",
        "Required key {key} is missing. Add it.",
    ),
    "config_extra": (
        "{key} という項目は使えません。使える項目: {allowed}。",
        "{key} is not a known key. Known keys: {allowed}.",
    ),
    "config_empty": (
        "{key} が空です。値を書いてください。",
        "{key} is empty. Give a value.",
    ),
    "config_int": (
        "{key} は整数(半角数字)で書いてください。",
        "{key} must be a whole number.",
    ),
    "config_number": (
        "{key} は数値で書いてください。",
        "{key} must be a number.",
    ),
    "config_bool": (
        "{key} は true か false で書いてください。",
        "{key} must be true or false.",
    ),
    "config_text": (
        "{key} は文字列で書いてください。",
        "{key} must be text.",
    ),
    "config_list": (
        "{key} はリストで書いてください(例: [a, b] または各行を「- 」で始める)。",
        "{key} must be a list (e.g. [a, b], or one '- ' line per entry).",
    ),
    "config_mapping": (
        "{key} は「キー: 値」の組で書いてください。",
        "{key} must be a set of 'key: value' pairs.",
    ),
    "config_date": (
        "{key} は日付で書いてください(例: 2025-10-31)。",
        "{key} must be a date such as 2025-10-31.",
    ),
    "config_choice": (
        "{key} は {expected} のどれかにしてください。",
        "{key} must be one of {expected}.",
    ),
    "config_ge": (
        "{key} は {limit} 以上にしてください。",
        "{key} must be {limit} or more.",
    ),
    "config_le": (
        "{key} は {limit} 以下にしてください。",
        "{key} must be {limit} or less.",
    ),
    "config_pattern": (
        "{key} は半角英小文字・数字・「_」「-」だけで書いてください。",
        "{key} may only contain lower-case letters, digits, '_' and '-'.",
    ),
    "config_id_pattern": (
        "id(レポートのフォルダ名になります)は半角英小文字・数字・「_」「-」だけで書いてください(例: id: sample-city)。",
        "id (the report folder name) may only contain lower-case letters, digits, '_' and '-' (e.g. id: sample-city).",
    ),
    "config_id_from_folder": (
        "id を書かないとフォルダ名が id になりますが、フォルダ名「{folder}」は使えません。municipality.yaml に id: sample-city のように半角英小文字・数字・「_」「-」で id を書いてください。",
        "Without an id the folder name is used, but '{folder}' is not a valid id. Add an id to municipality.yaml, e.g. id: sample-city (lower-case letters, digits, '_' and '-').",
    ),
    "config_invalid": (
        "設定値が正しくありません({detail})。",
        "A setting is not valid ({detail}).",
    ),
    "min_group_size_floor": (
        "min_group_size は {floor} 以上にしてください(少人数の集団を個人が特定できないように表示しないための設定です)。",
        "min_group_size must be {floor} or more (groups smaller than this are hidden to protect anonymity).",
    ),
    "comment_min_below_min": (
        "comment_min_group_size({comment})は min_group_size({min})以上にしてください。書かなければ max(10, min_group_size) になります。",
        "comment_min_group_size ({comment}) must be at least min_group_size ({min}). Leave it out to use max(10, min_group_size).",
    ),
    "unknown_input": (
        "inputs に {key} という入力はありません。使える名前: {allowed}。",
        "There is no input called {key}. Known inputs: {allowed}.",
    ),
    "scale_min_max": (
        "尺度の min({min})は max({max})より小さくしてください。",
        "The scale's min ({min}) must be smaller than its max ({max}).",
    ),
    "scale_label_outside": (
        "ラベルの数値 {value} が min〜max({min}〜{max})の範囲外です。",
        "Label value {value} is outside min..max ({min}-{max}).",
    ),
    "codebook_duplicate_id": (
        "id「{value}」が items・tools・free_text・multi_select(選択肢は <id>__<選択肢のid>)で重複しています。別の id にしてください。",
        "The id '{value}' is used twice in items, tools, free_text or multi_select (options as <id>__<option id>). Give each a different id.",
    ),
    "codebook_duplicate_header": (
        "列名「{value}」が codebook.yaml で 2 回使われています({first} と同じ)。1 つの列は 1 か所にだけ書いてください。",
        "The header '{value}' is used twice in codebook.yaml (also at {first}). Map each column once.",
    ),
    "codebook_duplicate_value": (
        "値「{value}」が values に 2 回あります(全角・半角の違いは同じ値とみなします)。1 つにしてください。",
        "The value '{value}' appears twice in values (full- and half-width forms count as the same). Keep one.",
    ),
    "codebook_unknown_ref": (
        "{section} にない id です。codebook.yaml の {section} に追加するか、id を直してください(ある id: {known})。",
        "Not an id of {section}. Add it to {section} in codebook.yaml or fix the id (known: {known}).",
    ),
    "codebook_unknown_role": (
        "training.items の role「{value}」は使えません。使える role: {known}。",
        "'{value}' is not a training item role. Known roles: {known}.",
    ),
    "codebook_role_kind": (
        "role「{value}」は kind: {kinds} の設問にだけ付けられます(この設問は kind: {kind})。",
        "The role '{value}' needs an item of kind {kinds} (this one is {kind}).",
    ),
    "codebook_duplicate_role": (
        "role「{value}」が 2 つの設問に付いています(「{first}」にも付いています)。1 つの設問にだけ付けてください。",
        "The role '{value}' is given to two items (also '{first}'). Give it to one item only.",
    ),
    "codebook_scale_required": (
        "kind: likert の設問には scale(scales の id)が必要です。",
        "An item of kind likert needs a scale (an id of scales).",
    ),
    # dxanalysis init (codebook_draft.py)
    "codebook_construct_unset": (
        "設問 {item}(「{header}」)の構成概念(construct)がまだ書かれていません。この行の construct: の後に {known} のどれかを書いてください。",
        "The construct of item {item} ('{header}') is not set yet. On this line, write one of {known} after construct:.",
    ),
    "init_folder_exists": (
        "{folder} にはもう codebook.yaml があります。上書きしてよければ --force をつけて実行してください。",
        "{folder} already has a codebook.yaml. Run again with --force to overwrite it.",
    ),
    # hypotheses.yaml / opportunities.yaml
    "entry_missing_key": (
        "{key} がありません。追加してください。",
        "{key} is missing. Add it.",
    ),
    "entry_unknown_key": (
        "{key} という項目は使えません。使える項目: {allowed}。",
        "{key} is not a known key. Known keys: {allowed}.",
    ),
    "entry_duplicate_id": (
        "id が重複しています({first} 番目と同じ)。別の id にしてください。",
        "Duplicate id (same as entry {first}). Give each entry its own id.",
    ),
    "hypothesis_bad_measure": (
        "measure は codebook.yaml の構成概念(constructs)・設問(items)・ツール(tools)の id にしてください。",
        "measure must be an id of a construct, item or tool in codebook.yaml.",
    ),
    "hypothesis_bad_attribute": (
        "attribute は codebook.yaml の attributes の id にしてください(ある id: {known})。",
        "attribute must be an id of attributes in codebook.yaml (known: {known}).",
    ),
    "hypothesis_bad_value": (
        "{label}({attribute})の選択肢にない値です。codebook.yaml の attributes.{attribute}.values にある値にしてください(ある値: {known})。",
        "Not a value of {label} ({attribute}). Use one of attributes.{attribute}.values in codebook.yaml (known: {known}).",
    ),
    "hypothesis_overlap": (
        "group と versus の両方に入っています。比べる 2 つの群は重ならないようにしてください。",
        "This value is in both group and versus. The two compared groups must not overlap.",
    ),
    "hypothesis_bad_expected": (
        "expected は higher(高い)か lower(低い)にしてください。",
        "expected must be higher or lower.",
    ),
    "opportunity_bad_address": (
        "addresses は codebook.yaml の構成概念(constructs)の id にしてください(ある id: {known})。このままではこの機会はどの推奨にも出てきません。",
        "addresses must be construct ids of codebook.yaml (known: {known}); otherwise this opportunity is never recommended.",
    ),
    "opportunity_default_mismatch": (
        "既定の機会カタログ(パッケージ内の opportunities.yaml)の構成概念 id「{value}」が codebook.yaml の constructs にありません。この自治体の構成概念に合わせた opportunities.yaml をフォルダに置いてください。",
        "The package's default opportunity catalogue refers to construct '{value}', which codebook.yaml does not have. Put an opportunities.yaml matching your constructs in the folder.",
    ),
    # survey / training / roster cells
    "unknown_header": (
        "codebook.yaml にない列です。items・attributes・tools・free_text のどれかに追加するか、ignore に加えてください。",
        "The codebook does not know this column. Add it to items, attributes, tools or free_text, or list it under ignore.",
    ),
    "unknown_training_header": (
        "codebook.yaml にない列です。training.items に追加するか、training.ignore(またはいちばん上の ignore)に加えてください。",
        "The codebook does not know this column. Add it to training.items, or list it under training.ignore (or the top-level ignore).",
    ),
    "missing_header": (
        "codebook.yaml に書かれた列がファイルにありません。列名が書き出し時と同じか確認してください。",
        "A column named in the codebook is not in the file. Check that the header is exactly as exported.",
    ),
    "out_of_range": (
        "{min}〜{max} の範囲外の値です。回答を確認し、{min}〜{max} の数値または選択肢の文言にしてください。",
        "Value outside {min}-{max}. Check the answer; use a number {min}-{max} or the option text.",
    ),
    "not_whole_number": (
        "整数ではありません。{min}〜{max} の整数(または選択肢の文言)で答える設問です。回答を確認して直してください。",
        "Not a whole number. Answers are whole numbers {min}-{max} (or the option text). Check and fix the answer.",
    ),
    "unknown_label": (
        "選択肢にない回答です。codebook.yaml の scales.{scale}.labels か missing に追加するか、回答を直してください。",
        "Answer is not one of the options. Add it to scales.{scale}.labels or missing in codebook.yaml, or fix the answer.",
    ),
    "unknown_attribute_value": (
        "{attribute}の選択肢にない値です。codebook.yaml の attributes.{attribute_id}.values に追加するか、値を直してください。",
        "Not an allowed value of {attribute}. Add it to attributes.{attribute_id}.values in codebook.yaml or fix the value.",
    ),
    "unknown_multi_option": (
        "「{value}」は選択肢にありません。codebook.yaml の multi_select「{question}」の options に追加するか、区切り文字(separator: 「{separator}」)を確認してください(ある選択肢: {known})。",
        "'{value}' is not an option. Add it to the options of multi_select '{question}' in codebook.yaml, or check the separator ('{separator}') (options: {known}).",
    ),
    "file_is_excel": (
        "このファイルは CSV ではなく Excel ブック(XLSX)です。ファイル名の拡張子を .xlsx に変えて municipality.yaml の inputs を合わせるか、Excel で「CSV」として保存し直してください。",
        "This file is an Excel workbook (XLSX), not a CSV. Rename it to .xlsx (and change inputs in municipality.yaml), or save it from Excel as CSV.",
    ),
    "file_decode_line": (
        "{line} 行目で文字コードの読み取りが壊れています(UTF-8 としても Shift_JIS としても読めません)。ファイルが途中で切れているか、文字コードの違うファイルをつなげた可能性があります。元のツールから書き出し直してください。",
        "Decoding breaks on line {line} (neither UTF-8 nor Shift_JIS). The file may be cut short or joined from files of different encodings; export it again.",
    ),
    "unknown_yesno": (
        "はい/いいえ として読めない回答です。codebook.yaml の tools.yes / tools.no に追加するか、値を直してください。",
        "Cannot read this as yes/no. Add it to tools.yes / tools.no in codebook.yaml or fix the value.",
    ),
    "unknown_training_yesno": (
        "はい/いいえ として読めない回答です。codebook.yaml の training.yes / training.no に追加するか、値を直してください。",
        "Cannot read this as yes/no. Add it to training.yes / training.no in codebook.yaml or fix the value.",
    ),
    "unknown_training_group": (
        "受講者か非受講者か分からない値です。codebook.yaml の training.participant(受講者)か training.non_participant(非受講者)に追加するか、値を直してください。",
        "Neither a participant nor a non-participant value. Add it to training.participant or training.non_participant in codebook.yaml, or fix the value.",
    ),
    "blank_training_group": (
        "受講者か非受講者かの欄が空です。値を入れるか、この回答を削除してください。",
        "The participant / non-participant cell is empty. Fill it in or remove the answer sheet.",
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
    "roster_total_row": (
        "合計行か空行のようです({detail})。名簿には部署などの組み合わせごとの行だけを残し、合計・小計の行や空行は削除してください(合計はこのツールが計算します)。",
        "This looks like a total or blank row ({detail}). Keep only one row per combination of attributes; delete total, subtotal and blank rows (totals are computed here).",
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

#: Optional hints appended to a message: ``params={"hint": "did_you_mean", "suggest": "mind"}``.
HINTS: dict[str, tuple[str, str]] = {
    "did_you_mean": ("「{suggest}」の書き間違いではありませんか。", "Did you mean '{suggest}'?"),
    "similar_header": (
        "codebook.yaml の「{suggest}」と似ています。同じ設問で列名が変わったのなら、codebook.yaml の header を書き出したままの列名に合わせてください。",
        "It resembles '{suggest}' in codebook.yaml. If the question's wording changed, set that header in codebook.yaml to the exported name.",
    ),
    "similar_column": (
        "ファイルの「{suggest}」列がこの列ではありませんか。同じ設問なら、codebook.yaml の header を書き出したままの列名に合わせてください。",
        "Is it the column '{suggest}' in the file? If so, set the header in codebook.yaml to the exported name.",
    ),
    "fullwidth_colon": (
        "全角のコロン「：」が使われています。半角の「:」にしてください。",
        "A full-width colon '：' is used. Use ':'.",
    ),
    "fullwidth_indent": (
        "行頭に全角スペースがあります。字下げは半角スペースにしてください。",
        "The line starts with a full-width space. Indent with ordinary spaces.",
    ),
}

#: The Japanese names of the location fields, used when printing. In a YAML file the
#: "column" is a key (項目) and the "row" a line of the file, or the entry number of a list
#: file such as hypotheses.yaml (``row_kind="entry"``).
LABELS = {
    "ja": {"file": "ファイル", "row": "行", "line": "行", "entry": "番号", "column": "列", "key": "項目", "value": "値",
           "heading": "入力データに問題があります({n} 件)。修正してから再実行してください。"},
    "en": {"file": "file", "row": "row", "line": "line", "entry": "entry", "column": "column", "key": "key", "value": "value",
           "heading": "The input data has {n} problem(s). Fix them and run again."},
}

YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Problem:
    """One problem in one input file.

    ``row`` is the spreadsheet row (header = 1, first answer = 2), or ``None`` for a
    problem with the whole file or column. In a YAML file ``column`` holds the key
    (printed as 項目 / key) and ``row`` the line of the file (``row_kind="line"``) or the
    entry number of a list file (``row_kind="entry"``, 1 = first entry).
    ``params["hint"]`` names an optional hint of :data:`HINTS` appended to the message.
    """

    file: str
    code: str
    row: int | None = None
    column: str | None = None
    value: Any = None
    params: dict = field(default_factory=dict)
    severity: str = "error"  # "error" stops the run; "warning" is reported only
    row_kind: str = "row"  # "row" (spreadsheet), "line" (YAML line) or "entry" (YAML list entry)

    def message(self, language: str = "ja") -> str:
        i = 1 if language == "en" else 0
        template = MESSAGES.get(self.code, ("{detail}", "{detail}"))[i]
        text = _fill(template, {"value": self.value, **self.params})
        hint = self.params.get("hint")
        if hint in HINTS:
            text += (" " if i else "") + _fill(HINTS[hint][i], self.params)
        return text

    @property
    def is_yaml(self) -> bool:
        return str(self.file).lower().endswith(YAML_SUFFIXES)

    def format(self, language: str = "ja") -> str:
        lab = LABELS["en" if language == "en" else "ja"]
        parts = [f"{lab['file']}: {self.file}"]
        if self.row is not None:
            parts.append(f"{lab.get(self.row_kind, lab['row'])}: {self.row}")
        if self.column is not None:
            parts.append(f"{lab['key' if self.is_yaml else 'column']}: 「{self.column}」")
        if self.value is not None and not (isinstance(self.value, float) and self.value != self.value):  # NaN
            parts.append(f"{lab['value']}: {self.value!s}")
        return " ".join(parts) + " — " + self.message(language)


def _fill(template: str, params: dict) -> str:
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return template


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
    import pandas as pd

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


def spreadsheet_row(index: int) -> int:
    """Row number the user sees in Excel for a 0-based data row (header is row 1)."""
    return int(index) + 2


def close_match(word, candidates, cutoff: float = 0.6, *, digits_matter: bool = True) -> str | None:
    """The candidate most similar to ``word`` (difflib ratio ≥ ``cutoff``), or None.

    Used for "did you mean …" hints on mistyped ids, keys and changed headers. Two texts
    that differ only in their digits (50代以上 / 40代以上, mind_03 / mind_02) are different
    things, not typos, so no hint is given for them (``digits_matter=False`` for headers,
    where "問1 …" → "問2 …" is a renumbered question).
    """
    cands = [str(c) for c in candidates if c is not None]
    found = difflib.get_close_matches(str(word), cands, n=1, cutoff=cutoff)
    if not found or digits_matter and re.sub(r"\d", "", found[0]) == re.sub(r"\d", "", str(word)):
        return None
    return found[0]
