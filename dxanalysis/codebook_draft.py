"""``dxanalysis init``: a new municipality folder with a drafted codebook.yaml.

From a raw survey export (Microsoft Forms, Google Forms, LoGoフォーム; CSV or XLSX) this
module guesses what each column is — respondent number, tool metadata, attribute, Likert
item, yes/no tool question, multi-select question, free text — and writes
``municipality.yaml`` and a draft ``codebook.yaml`` in which every guess carries a comment
saying what was inferred and why. Items whose header matches a statement of the bundled
item bank (:mod:`dxanalysis.questionnaire`) get its construct, reverse flag and short
label; the others have ``construct:`` left empty, and ``dxanalysis check`` lists each of
them with the line to edit (:func:`explain_unset_constructs`).

The guesses run in this order, first match wins (see :func:`classify_column`):
metadata name → respondent id → empty → known Likert label set → yes/no → attribute
named in the header → numbers 1..k → multi-select list → free text → few distinct short
values (attribute) → unknown (ignored, with a comment).
"""

from __future__ import annotations

import datetime as _dt
import json
import re
import shutil
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

import pandas as pd

from .io import nfkc, read_table
from .validate import InputError, Problem

# --------------------------------------------------------------------------- vocabularies
#: Metadata columns written by Microsoft Forms, Google Forms and LoGoフォーム (compared after
#: NFKC, case-insensitive). They are put under ``ignore``; ID-like ones may become the respondent id.
METADATA_HEADERS = {
    # Microsoft Forms (ja / en)
    "id", "開始時刻", "完了時刻", "メール", "名前", "最終変更時刻", "合計点", "クイズのフィードバック", "ポイント",
    "start time", "completion time", "email", "name", "last modified time", "total points", "quiz feedback",
    # Google Forms (ja / en)
    "タイムスタンプ", "メールアドレス", "スコア", "timestamp", "email address", "score",
    # LoGoフォーム and other Japanese form tools
    "回答id", "回答日時", "回答開始日時", "回答終了日時", "送信日時", "受付日時", "受付番号", "申込日時", "申請日時",
    "更新日時", "作成日時", "登録日時", "回答者", "回答者名", "氏名", "ipアドレス", "ユーザーエージェント", "no", "no.", "#",
}
#: Headers that hold an anonymous respondent number (first unique one wins).
ID_HEADERS = ("id", "回答者番号", "回答番号", "回答id", "回答者id", "受付番号", "整理番号", "通し番号", "no", "no.", "#", "respondent id", "response id")
#: Metadata headers that may serve as the respondent id when nothing better is there (Google Forms has no ID).
FALLBACK_ID_HEADERS = ("タイムスタンプ", "timestamp", "回答日時", "送信日時", "受付日時")

#: Known answer label sets, value 1 first. Scale ids are the family plus the number of points.
LABEL_SETS: list[tuple[str, str, tuple[str, ...]]] = [
    ("agree", "賛否(5段階)", ("まったくそう思わない", "あまりそう思わない", "どちらともいえない", "ややそう思う", "とてもそう思う")),
    ("agree", "賛否(5段階)", ("全くそう思わない", "あまりそう思わない", "どちらともいえない", "ややそう思う", "とてもそう思う")),
    ("agree", "賛否(5段階)", ("そう思わない", "あまりそう思わない", "どちらともいえない", "ややそう思う", "そう思う")),
    ("agree", "賛否(5段階)", ("そう思わない", "どちらかといえばそう思わない", "どちらともいえない", "どちらかといえばそう思う", "そう思う")),
    ("agree", "賛否(5段階)", ("まったくそう思わない", "そう思わない", "どちらともいえない", "そう思う", "とてもそう思う")),
    ("agree", "賛否(5段階)", ("全くそう思わない", "そう思わない", "どちらともいえない", "そう思う", "非常にそう思う")),
    ("agree", "賛否(5段階)", ("まったくそう思わない", "そう思わない", "どちらともいえない", "そう思う", "非常にそう思う")),
    ("agree", "賛否(4段階)", ("そう思わない", "あまりそう思わない", "ややそう思う", "そう思う")),
    ("agree", "賛否(4段階)", ("そう思わない", "どちらかといえばそう思わない", "どちらかといえばそう思う", "そう思う")),
    ("agree", "賛否(4段階)", ("まったくそう思わない", "あまりそう思わない", "ややそう思う", "とてもそう思う")),
    ("fit", "あてはまり(5段階)", ("あてはまらない", "あまりあてはまらない", "どちらともいえない", "ややあてはまる", "あてはまる")),
    ("fit", "あてはまり(5段階)", ("当てはまらない", "あまり当てはまらない", "どちらともいえない", "やや当てはまる", "当てはまる")),
    ("fit", "あてはまり(5段階)", ("まったくあてはまらない", "あまりあてはまらない", "どちらともいえない", "ややあてはまる", "よくあてはまる")),
    ("fit", "あてはまり(4段階)", ("あてはまらない", "あまりあてはまらない", "ややあてはまる", "あてはまる")),
    ("fit", "あてはまり(4段階)", ("当てはまらない", "あまり当てはまらない", "やや当てはまる", "当てはまる")),
    ("sat", "満足度(5段階)", ("不満", "やや不満", "どちらともいえない", "やや満足", "満足")),
    ("sat", "満足度(5段階)", ("とても不満", "やや不満", "どちらともいえない", "やや満足", "とても満足")),
    ("sat", "満足度(5段階)", ("満足していない", "あまり満足していない", "どちらともいえない", "やや満足している", "満足している")),
    ("sat", "満足度(4段階)", ("不満", "やや不満", "やや満足", "満足")),
    ("sat", "満足度(4段階)", ("不満", "やや不満", "まあ満足", "満足")),
    ("freq", "頻度(5段階)", ("まったくない", "ほとんどない", "ときどきある", "よくある", "いつもある")),
    ("freq", "頻度(4段階)", ("まったくない", "ほとんどない", "ときどきある", "よくある")),
]
#: Non-substantive answers: missing, counted, not an error.
MISSING_TEXTS = ("わからない", "分からない", "無回答", "該当しない", "該当なし", "答えたくない", "回答しない")
MISSING_NUMBERS = ("9", "99")
YES_WORDS = ("はい", "使っている", "利用している", "ある", "あり", "yes", "Yes", "YES")
NO_WORDS = ("いいえ", "使っていない", "利用していない", "ない", "なし", "no", "No", "NO")

#: Header words that name an attribute, with the id they get (the first hit wins).
ATTRIBUTE_WORDS = [
    ("年代", "age_band"), ("年齢", "age"), ("勤続", "tenure"), ("職層", "grade"), ("職位", "grade"), ("役職", "grade"),
    ("雇用", "employment"), ("職種", "job_type"), ("性別", "gender"), ("所属", "department"), ("部署", "department"),
    ("部局", "department"), ("課", "department"),
]
#: Attributes whose values are ordered by the number they contain (20代以下 < 30代 …).
NUMBER_ORDERED = ("年代", "年齢", "勤続")
FREE_TEXT_WORDS = ("自由", "意見", "感想", "コメント", "ご記入", "記述", "要望")

MAX_ATTRIBUTE_VALUES = 15
MAX_ATTRIBUTE_HEADER = 20
MATCH_RATIO = 0.85  # bank statements at least this similar give their construct
NEAR_RATIO = 0.6  # below MATCH_RATIO but at least this: named in the comment only

_QUESTION_NUMBER = re.compile(
    r"^\s*(?:【[^】]*】|\[[^\]]*\]|[(][^)]{0,6}[)]|(?:問|設問|質問|Q|q|No\.?)\s*\d+(?:[-._]\d+)*|\d+(?:[-.]\d+)+|\d+\s*[.:)、]|[①-⑳])\s*[.:)、]?\s*"
)
_REQUIRED_MARK = re.compile(r"\s*(?:[(\[]\s*必須\s*[)\]]|\*|※必須)\s*$")
_PUNCT = re.compile(r"[\s、。,.・「」『』()\[\]{}【】?!:;“”\"'〜~ー\-―]+")


# --------------------------------------------------------------------------- text helpers
def strip_question_number(header: str) -> str:
    """Header without a leading question number (``Q3.``, ``問3``, ``1-2``, ``【問5】``) or a trailing (必須)."""
    text = nfkc(str(header))
    for _ in range(2):  # "【必須】Q3. …"
        text = _QUESTION_NUMBER.sub("", text, count=1)
    return _REQUIRED_MARK.sub("", text).strip() or nfkc(str(header))


def normalise_statement(text: str) -> str:
    """Statement text for matching: NFKC, question number and punctuation removed, lower case."""
    return _PUNCT.sub("", strip_question_number(text)).lower()


def _first_number(text: str) -> float:
    m = re.search(r"\d+(?:\.\d+)?", str(text))
    return float(m.group()) if m else float("inf")


def _number_order(text: str) -> tuple:
    """Sort key of a banded value: its first number, then "under" before a range before "or more"
    (3年未満 < 3〜9年 < 10年以上; 20代以下 < 30代)."""
    t = str(text)
    rank = 0 if re.search(r"未満|以下|まで", t) else 2 if re.search(r"以上|超", t) else 1
    return (_first_number(t), rank, t)


def _is_integer_text(value: str) -> bool:
    return re.fullmatch(r"[+-]?\d+(?:\.0+)?", str(value)) is not None


def _slug(text: str) -> str:
    """ASCII id from a label (``Microsoft Teams`` → ``microsoft_teams``), or "" when it has no ASCII word."""
    words = re.findall(r"[A-Za-z][A-Za-z0-9]*", nfkc(text))
    return "_".join(w.lower() for w in words)[:30]


def short_label(header: str, limit: int = 16) -> str:
    """A short display label from a header: the whole stripped header, its first clause, or a cut."""
    text = strip_question_number(header)
    grid = re.findall(r"\[([^\]]+)\]\s*$", text)  # Google Forms grid row: 設問 [文]
    text = grid[0].strip() if grid else text
    if len(text) <= limit:
        return text
    first = re.split(r"[、,。]", text)[0]
    if 4 <= len(first) <= limit and not first.endswith(tuple("をがはにでとのや")):  # "窓口の混雑状況を" is no label
        return first
    return text[: limit - 1] + "…"


def multi_label(header: str) -> str:
    """``日常的に使うツール(あてはまるものすべて)`` → ``日常的に使うツール``; ``…をすべて選択してください`` cut too."""
    text = strip_question_number(header)
    text = re.sub(r"\s*\([^)]*(?:すべて|全て|複数|いくつでも)[^)]*\)\s*$", "", text)
    text = re.sub(r"(?:を|は)?(?:すべて|全て|いくつでも)?(?:選択|選ん|お選び|チェック).*$", "", text) or text
    return short_label(text, limit=20)


def tool_label(header: str) -> str:
    """``業務でビジネスチャットを使っていますか`` → ``ビジネスチャット``."""
    text = strip_question_number(header)
    m = re.match(r"^(?:業務で|仕事で|職場で)?(.+?)(?:を|は)(?:業務で)?(?:使って|利用して|活用して|使用して)(?:い)?ますか[?]?$", text)
    return m.group(1) if m else short_label(text)


# --------------------------------------------------------------------------- item bank
_NEGATION = re.compile(r"ない|ません|なかった|ず[、。]?$|苦手")


def _negations(text: str) -> int:
    return len(_NEGATION.findall(text))


@dataclass
class BankMatch:
    """A header matched to an item bank entry: the entry, the kind and the difflib ratio."""

    entry: dict
    kind: str  # "statement", "tool", "attribute", "free_text", "multi_select"
    ratio: float


class BankIndex:
    """The item bank's texts, normalised once, for fuzzy matching of headers."""

    def __init__(self, bank: dict):
        self.bank = bank
        self.entries: list[tuple[str, str, dict]] = []
        for kind, entries in (("statement", bank.get("statements", [])), ("tool", bank.get("tools", {}).get("items", [])),
                              ("attribute", bank.get("attributes", [])), ("free_text", bank.get("free_text", [])),
                              ("multi_select", bank.get("multi_select", []))):
            for e in entries:
                self.entries.append((normalise_statement(e["text"]), kind, e))

    def match(self, header: str, kinds: tuple[str, ...]) -> BankMatch | None:
        """Best entry of the given kinds with ratio ≥ NEAR_RATIO (exact normalised text = 1.0).

        A Google Forms grid row, ``設問 [文]``, is matched on the statement in brackets too.
        """
        texts = [normalise_statement(header)] + [normalise_statement(m) for m in re.findall(r"\[([^\]]+)\]\s*$", nfkc(header))]
        best: BankMatch | None = None
        for text in texts:
            for norm, kind, entry in self.entries:
                if kind not in kinds:
                    continue
                sm = SequenceMatcher(None, text, norm, autojunk=False)
                if sm.real_quick_ratio() < NEAR_RATIO or sm.quick_ratio() < NEAR_RATIO:
                    continue
                ratio = 1.0 if text == norm else sm.ratio()
                if ratio >= MATCH_RATIO and _negations(text) != _negations(norm):
                    ratio = min(ratio, MATCH_RATIO - 0.01)  # 「理解していない」 is not 「理解している」: never take its construct and reverse flag
                if ratio >= NEAR_RATIO and (best is None or ratio > best.ratio):
                    best = BankMatch(entry, kind, ratio)
        return best


# --------------------------------------------------------------------------- column guesses
@dataclass
class Guess:
    """What one exported column was taken to be, and why (the comment written next to it)."""

    header: str
    kind: str  # metadata, respondent_id, empty, likert, tool, attribute, multi_select, free_text, unknown
    why: str
    id: str | None = None
    label_set: tuple[str, ...] | None = None  # likert with labels
    numeric_max: int | None = None  # likert with numbers
    missing: list[str] = field(default_factory=list)
    values: list[str] = field(default_factory=list)  # attribute values in display order; yes/no words
    separator: str | None = None
    options: list[dict] = field(default_factory=list)
    match: BankMatch | None = None
    scale: str | None = None
    label: str | None = None  # attribute label when it must differ from the header (the roster's column name)
    numbered: dict[int, str] | None = None  # likert options written with their number: {1: "1. まったくそう思わない", …}


def _distinct(col: pd.Series) -> list[str]:
    return [str(v) for v in col.dropna().unique()]


def _label_set_candidates(values: set[str]) -> list[int]:
    """Indices of LABEL_SETS that hold every substantive value (at least one)."""
    subst = values - set(MISSING_TEXTS)
    if not subst:
        return []
    return [i for i, (_, _, labels) in enumerate(LABEL_SETS) if subst <= set(labels)]


_NUMBERED_OPTION = re.compile(r"^(\d{1,2})\s*[.:)、]?\s*(\D.*)$")


def _numbered_likert(values: set[str]) -> tuple[set[str], dict[int, str], list[str]] | None:
    """Options written with their number (``1. まったくそう思わない``, ``5:とてもそう思う``).

    Returns (label texts without numbers, {number: cell text}, missing cells) when every
    answer is a known label whose number is its position in a known set; else None.
    """
    texts: dict[int, str] = {}
    plain: set[str] = set()
    missing: list[str] = []
    for v in values:
        m = _NUMBERED_OPTION.match(v)
        if v in MISSING_TEXTS or (m and m.group(2).strip() in MISSING_TEXTS):
            missing.append(v)
        elif m:
            n, text = int(m.group(1)), m.group(2).strip()
            if texts.get(n, v) != v:
                return None
            texts[n] = v
            plain.add(text)
        else:
            return None
    if not texts:
        return None
    probe = Guess("", "likert", "", values=sorted(plain), numbered=texts)
    return (plain, texts, sorted(missing)) if _candidates(probe) else None


def _numbered_labels(labels: tuple[str, ...], seen: dict[int, str]) -> list[str]:
    """Label texts as the cells write them: the seen ones as they are, the others in the same style."""
    n0, example = next(iter(sorted(seen.items())))
    prefix = example[: len(example) - len(_NUMBERED_OPTION.match(example).group(2))]
    return [seen.get(n, prefix.replace(str(n0), str(n), 1) + label) for n, label in enumerate(labels, start=1)]


def _yes_no(values: set[str]) -> bool:
    return bool(values) and values <= set(YES_WORDS) | set(NO_WORDS)


def _asks_about_respondent(text: str) -> bool:
    """「あなたの職種を選んでください」: a question about the respondent, not a statement to rate."""
    return len(text) <= 2 * MAX_ATTRIBUTE_HEADER and ("あなた" in text or text.endswith(("ください", "?")))


def _attribute_word(header: str) -> str | None:
    text = strip_question_number(header)
    if len(text) > MAX_ATTRIBUTE_HEADER and not _asks_about_respondent(text):
        return None
    return next((w for w, _ in ATTRIBUTE_WORDS if w in text), None)


def _numeric_values(values: list[str]) -> tuple[list[int], list[str]] | None:
    """(substantive integers, missing codes) when every value is an integer in 1..10 or 9/99; else None."""
    if not values or not all(_is_integer_text(v) for v in values):
        return None
    nums = sorted({int(float(v)) for v in values})
    missing = [str(n) for n in nums if str(n) in MISSING_NUMBERS]
    subst = [n for n in nums if str(n) not in missing]
    if missing and subst and max(subst) >= min(int(m) for m in missing):
        missing, subst = [], nums  # 9 is an answer on a 1..10 scale, not a code
    if not subst or min(subst) < 1 or max(subst) > 10:
        return None
    return subst, missing


def _split_multi(col: pd.Series, sep: str) -> list[list[str]]:
    return [[t.strip() for t in str(v).split(sep.strip() if sep == ", " else sep) if t.strip()] for v in col.dropna()]


def _multi_select(col: pd.Series) -> tuple[str, Counter] | None:
    """(separator, token counts) when the cells are lists of a few recurring options."""
    cells = [str(v) for v in col.dropna()]
    for sep in (";", ", "):
        with_sep = [c for c in cells if sep in c or (sep == ";" and c.endswith(";"))]
        if len(with_sep) < 2:
            continue
        tokens = Counter(t for row in _split_multi(col, sep) for t in row)
        frequent = {t for t, n in tokens.items() if n >= 2}
        if not frequent or len(frequent) > 30 or max(len(t) for t in frequent) > 40:
            continue
        covered = sum(all(t in frequent for t in row) for row in _split_multi(col, sep))
        if covered >= 0.7 * len(cells):
            return sep, tokens
    return None


def _free_text(col: pd.Series, header: str) -> bool:
    values = [str(v) for v in col.dropna()]
    distinct = len(set(values)) / len(values)
    mean_len = sum(map(len, values)) / len(values)
    worded = any(w in header for w in FREE_TEXT_WORDS)
    return worded or distinct >= 0.5 and mean_len >= 12  # a header asking for comments is free text even when answers are short (特になし)


def classify_column(header: str, col: pd.Series) -> Guess:
    """Guess what one column is; see the module docstring for the order of the tests."""
    values = _distinct(col)
    vset = set(values)
    if not values:
        if any(w in header for w in FREE_TEXT_WORDS):
            return Guess(header, "free_text", "自由記述の設問名(回答はまだ 0 件)")
        return Guess(header, "empty", "回答が 1 件もない列")
    cands = _label_set_candidates(vset)
    if cands:
        missing = sorted(vset & set(MISSING_TEXTS), key=MISSING_TEXTS.index)
        return Guess(header, "likert", "選択肢が既知の回答尺度の文言", missing=missing, values=values)
    numbered = _numbered_likert(vset)
    if numbered:
        plain, texts, missing = numbered
        return Guess(header, "likert", "選択肢が番号つきの既知の回答尺度の文言(例: " + next(iter(texts.values())) + ")",
                     missing=missing, values=sorted(plain), numbered=texts)
    if _yes_no(vset):
        return Guess(header, "tool", "回答が はい/いいえ 型(" + "・".join(sorted(vset)) + ")", values=values)
    word = _attribute_word(header)
    if word and len(vset) <= 60:
        return Guess(header, "attribute", f"列名に「{word}」、値 {len(vset)} 種類", values=values)
    numeric = _numeric_values(values)
    if numeric:
        subst, missing = numeric
        return Guess(header, "likert", f"値が {min(subst)}〜{max(subst)} の整数", numeric_max=max(subst), missing=missing, values=values)
    multi = _multi_select(col)
    if multi:
        sep, tokens = multi
        return Guess(header, "multi_select", f"「{sep.strip()}」区切りの選択肢の並び({len([t for t, n in tokens.items() if n >= 2])} 種類)", separator=sep,
                     options=[{"label": t, "count": n} for t, n in tokens.most_common()])
    if _free_text(col, header):
        return Guess(header, "free_text", f"長く、ほとんど重複しない文({len(vset)} 種類 / {int(col.notna().sum())} 件)")
    longest = max(len(v) for v in values)
    few = len(vset) <= MAX_ATTRIBUTE_VALUES and longest <= 20 and len(vset) < max(2, col.notna().sum() / 3)
    text = strip_question_number(header)
    if few and (len(text) <= MAX_ATTRIBUTE_HEADER or _asks_about_respondent(text)):
        return Guess(header, "attribute", f"短い値が {len(vset)} 種類だけ", values=values)
    if few:  # a rated statement on a scale this tool does not know, or an attribute with a long name
        shown = "・".join(sorted(vset)[:7])
        return Guess(header, "unknown", f"選択肢が少数({shown})ですが、既知の回答尺度でも属性の設問でもありません。"
                                        "属性なら attributes に、評定の設問なら scales に選択肢の順を書いて items に移してください")
    return Guess(header, "unknown", f"何の設問か判断できませんでした(値 {len(vset)} 種類)。分析に使うなら items・attributes などに移してください")


def _candidates(g: Guess) -> list[int]:
    """Known label sets a Likert column fits; numbered options must sit at their number."""
    cands = _label_set_candidates(set(g.values))
    if g.numbered:
        pos = {_NUMBERED_OPTION.match(v).group(2).strip(): n for n, v in g.numbered.items()}
        cands = [i for i in cands if all(LABEL_SETS[i][2].index(t) + 1 == n for t, n in pos.items())]
    return cands


def _choose_label_sets(guesses: list[Guess]) -> None:
    """Give every text Likert column one known label set: the set that the columns together
    cover best (a 5-point item that drew only 3 answers still gets the 5-point set)."""
    likert = [g for g in guesses if g.kind == "likert" and g.numeric_max is None]
    union: dict[int, set[str]] = {}
    support: Counter = Counter()
    for g in likert:
        for i in _candidates(g):
            union.setdefault(i, set()).update(set(g.values) & set(LABEL_SETS[i][2]))
            support[i] += 1
    for g in likert:
        cands = _candidates(g)
        best = max(cands, key=lambda i: (len(union[i]) / len(LABEL_SETS[i][2]), support[i], len(LABEL_SETS[i][2]), -i))
        g.label_set = LABEL_SETS[best][2]


# --------------------------------------------------------------------------- the draft
@dataclass
class Draft:
    """Everything ``init`` guessed about one export, ready to be written as codebook.yaml."""

    source: str
    n_rows: int
    respondent_id: Guess | None
    guesses: list[Guess]
    scales: dict[str, dict]
    constructs: dict[str, dict]
    yes: list[str]
    no: list[str]
    #: how many respondents chose each multi-select option, in comments (not for the questionnaire's codebook)
    show_counts: bool = True

    def of(self, kind: str) -> list[Guess]:
        return [g for g in self.guesses if g.kind == kind]

    @property
    def unset_constructs(self) -> list[Guess]:
        return [g for g in self.of("likert") if not (g.match and g.match.ratio >= MATCH_RATIO)]


def _find_respondent_id(raw: pd.DataFrame) -> tuple[str, str] | None:
    """(header, why) of the respondent number column: a known name whose values are all present and unique."""
    def unique(c):
        return raw[c].notna().all() and raw[c].is_unique
    by_name = {c.casefold(): c for c in raw.columns}
    for name in ID_HEADERS:
        c = by_name.get(name)
        if c is not None and unique(c):
            return c, f"列名が「{c}」で、{len(raw)} 行すべての値が異なる"
    for name in FALLBACK_ID_HEADERS:
        c = by_name.get(name)
        if c is not None and unique(c):
            return c, f"回答者番号の列がないため、値が重複しない「{c}」を回答者の識別に使う(共有レポートには出ません)"
    for name in ID_HEADERS:  # a numbered column with repeats: keep it, check then names each duplicated row
        c = by_name.get(name)
        if c is not None:
            dup = int(raw[c].duplicated(keep="first").sum() + raw[c].isna().sum())
            return c, f"列名が「{c}」。ただし {dup} 行で値が空か重複しています(二重送信など)。dxanalysis check が行を示すので、その回答を削除してください"
    return None


def _roster_column(g: Guess, observed: list[str], roster: pd.DataFrame) -> tuple[str | None, str]:
    """The roster column of an attribute: same name as the header or its label, else the column
    holding most of the answered values (then the attribute's label becomes that column's name,
    so the roster is read without renaming)."""
    label = strip_question_number(g.header)
    names = (g.header, label, *([g.match.entry["label"], g.match.entry["id"]] if g.match and g.match.ratio >= MATCH_RATIO else []))
    rcol = next((c for c in roster.columns if c in names), None)
    if rcol is not None:
        return rcol, ""
    overlap = {c: len(set(observed) & set(roster[c].dropna().astype(str))) / len(observed) for c in roster.columns}
    best = max(overlap, key=overlap.get, default=None)
    if best is not None and overlap[best] >= 0.5:
        return best, f"。名簿の列「{best}」と値が一致するため、label を名簿の列名にした"
    return None, ""


def _attribute_order(g: Guess, col: pd.Series, roster: pd.DataFrame | None) -> tuple[list[str], str]:
    """Attribute values in display order, and how the order was chosen: the roster's order, the
    item bank's (職層 一般職員 → 課長級以上), by number (年代, 勤続年数, codes), else by frequency.
    Sets ``g.label`` when the roster names the attribute differently."""
    counts = col.value_counts()
    observed = [str(v) for v in counts.index]
    label = strip_question_number(g.header)
    rcol, why = _roster_column(g, observed, roster) if roster is not None else (None, "")
    if rcol is not None:
        if why:
            g.label = rcol
        order = [str(v) for v in pd.unique(roster[rcol].dropna())]
        values = order + [v for v in observed if v not in order]
        if any(w in label for w in NUMBER_ORDERED):  # 年代・勤続年数: by number even when the roster lists them otherwise
            return sorted(values, key=_number_order), "数字の順(名簿の値も含む)" + why
        return values, "名簿の順" + why
    bank_values = g.match.entry.get("values") if g.match and g.match.ratio >= MATCH_RATIO else None
    if bank_values and set(observed) <= {nfkc(v) for v in bank_values}:
        return [nfkc(v) for v in bank_values], "設問バンクの順"
    if any(w in label for w in NUMBER_ORDERED) or all(_is_integer_text(v) for v in counts.index):
        return sorted(counts.index, key=_number_order), "数字の順"
    return list(counts.index), "回答の多い順"


def _assign_ids(draft_guesses: list[Guess], bank: BankIndex) -> None:
    """Readable, stable ids: bank ids for matched headers, words for attributes, else kind + number."""
    used: set[str] = set()

    def take(base: str) -> str:
        new, n = base, 2
        while new in used:
            new, n = f"{base}_{n}", n + 1
        used.add(new)
        return new

    counters: Counter = Counter()
    for g in draft_guesses:
        base = None
        if g.match and g.match.ratio >= MATCH_RATIO:
            base = g.match.entry["id"]
        elif g.kind == "attribute":
            word = _attribute_word(g.header)
            base = dict(ATTRIBUTE_WORDS).get(word) if word else None
            if base is None:
                counters["attr"] += 1
                base = f"attr_{counters['attr']:02d}"
        elif g.kind == "likert":
            counters["item"] += 1
            base = f"item_{counters['item']:02d}"
        elif g.kind == "tool":
            slug = _slug(tool_label(g.header))
            counters["tool"] += 1
            base = f"tool_{slug}" if slug else f"tool_{counters['tool']:02d}"
        elif g.kind == "free_text":
            base = "comment"
        elif g.kind == "multi_select":
            counters["multi"] += 1
            base = f"multi_{counters['multi']:02d}"
        if base is not None:
            g.id = take(base)


def _option_entries(g: Guess, bank_options: list[dict]) -> tuple[list[dict], list[str]]:
    """Options of a multi-select question: frequent tokens (bank ids when the label is known);
    tokens given by one respondent only are taken as その他 answers. Returns (options, rare tokens)."""
    known = {nfkc(o["label"]): o for o in bank_options}
    bank_order = list(known)
    # the bank's options in the bank's order, then the others by frequency
    frequent = sorted((o["label"] for o in g.options if o["count"] >= 2), key=lambda t: bank_order.index(t) if t in known else len(bank_order))
    rare = [o["label"] for o in g.options if o["count"] < 2]
    out, used = [], set()
    for n, label in enumerate(frequent, start=1):
        if label in known:
            oid, other = known[label]["id"], bool(known[label].get("other"))
        elif label in ("その他", "other", "Other"):
            oid, other = "other", True
        else:
            oid, other = _slug(label) or f"opt_{n:02d}", False
        while oid in used:
            oid += "_2"
        used.add(oid)
        out.append({"id": oid, "label": label, "other": other, "count": next(o["count"] for o in g.options if o["label"] == label)})
    out.sort(key=lambda o: o["other"])  # その他 last
    if rare and not any(o["other"] for o in out):
        out.append({"id": "other" if "other" not in used else "other_2", "label": "その他", "other": True, "count": 0})
    return out, rare


def draft_codebook(raw: pd.DataFrame, *, source: str = "survey.csv", roster: pd.DataFrame | None = None, bank: dict | None = None) -> Draft:
    """Guess the codebook of an exported survey table (as read by :func:`dxanalysis.io.read_table`).

    Parameters
    ----------
    raw
        The export, headers and cells NFKC-normalised, empty cells NaN.
    source
        File name shown in the comments.
    roster
        The staff roster (optional): attribute values are ordered as it lists them.
    bank
        The item bank (default: the bundled ``resources/item_bank.yaml``).

    Returns
    -------
    Draft
        One :class:`Guess` per column, the scales, constructs and yes/no words.
    """
    from .config import load_item_bank

    bank = bank or load_item_bank()
    index = BankIndex(bank)
    rid = _find_respondent_id(raw)
    guesses: list[Guess] = []
    rid_guess = None
    for header in raw.columns:
        if rid and header == rid[0]:
            rid_guess = Guess(header, "respondent_id", rid[1])
            continue
        if header.casefold() in METADATA_HEADERS:
            guesses.append(Guess(header, "metadata", "フォームが自動で付ける列(分析に使わない)"))
            continue
        guesses.append(classify_column(header, raw[header]))
    _choose_label_sets(guesses)
    numeric = [g.numeric_max for g in guesses if g.kind == "likert" and g.numeric_max is not None]
    common_max = Counter(numeric).most_common(1)[0][0] if numeric else None
    for g in guesses:
        kinds = {"likert": ("statement",), "tool": ("tool",), "attribute": ("attribute",), "free_text": ("free_text",), "multi_select": ("multi_select",)}.get(g.kind)
        if kinds:
            g.match = index.match(g.header, kinds)
        if g.kind == "attribute":
            g.values, order = _attribute_order(g, raw[g.header].dropna(), roster)
            g.why += f"。値は{order}"
            if all(_is_integer_text(v) for v in g.values):
                g.why += "。値は数字のコードです(意味は調査票で確かめ、label や名簿の列名をそろえてください)"
        if g.kind == "likert" and g.numeric_max is not None and common_max and g.numeric_max < common_max:
            g.why += f"(ほかの数値の設問に合わせて 1〜{common_max} とみなす)"
            g.numeric_max = common_max
    scales = _scales(guesses, bank)
    _assign_ids(guesses, index)
    tools = [g for g in guesses if g.kind == "tool"]
    seen_words = {v for g in tools for v in g.values}
    yes = [w for w in YES_WORDS if w in seen_words] or list(bank["tools"]["yes"])
    no = [w for w in NO_WORDS if w in seen_words] or list(bank["tools"]["no"])
    return Draft(source=source, n_rows=len(raw), respondent_id=rid_guess, guesses=guesses, scales=scales, constructs=bank["constructs"], yes=yes, no=no)


def _missing_order(code: str) -> tuple:
    """わからない, 無回答 … in MISSING_TEXTS order, then numbers (9, 99), then anything else."""
    if code in MISSING_TEXTS:
        return (0, MISSING_TEXTS.index(code), code)
    return (1, int(code), code) if _is_integer_text(code) else (2, 0, code)


def _scales(guesses: list[Guess], bank: dict) -> dict[str, dict]:
    """One scale per distinct label set (or number range); sets ``Guess.scale``."""
    scales: dict[str, dict] = {}
    by_key: dict[tuple, str] = {}
    bank_scales = {tuple(s["labels"][k] for k in sorted(s["labels"])): sid for sid, s in bank.get("scales", {}).items()}
    for g in guesses:
        if g.kind != "likert":
            continue
        if g.label_set is not None:
            key = ("labels", g.label_set, bool(g.numbered))
            family, title, _ = next(x for x in LABEL_SETS if x[2] == g.label_set)
            base = f"{family}{len(g.label_set)}"
            why = f"既知の選択肢セット「{title}」" + ("(番号つき)" if g.numbered else "")
            labels = _numbered_labels(g.label_set, g.numbered) if g.numbered else list(g.label_set)
        else:
            key = ("numbers", g.numeric_max)
            base = f"num{g.numeric_max}"
            why = f"数値 1〜{g.numeric_max} の設問。数値の意味は書き出しから分からないため"
            agree = [x[2] for x in LABEL_SETS if x[0] == "agree" and len(x[2]) == g.numeric_max]
            labels = list(agree[0]) if agree else [str(n) for n in range(1, g.numeric_max + 1)]
            why += "、labels は仮の文言です。調査票の選択肢に合わせて直してください" if agree else "、labels は数字のままです"
        if key not in by_key:
            sid = bank_scales.get(tuple(labels), base) if g.label_set is not None else base
            while sid in scales:
                sid += "b"
            by_key[key] = sid
            # a bank scale brings its own non-substantive codes (無回答 …) even when nobody used them yet
            missing = list(bank["scales"][sid].get("missing", [])) if sid in bank.get("scales", {}) and g.label_set is not None else []
            scales[sid] = {"min": 1, "max": len(labels), "labels": labels, "missing": missing, "why": why}
        sid = by_key[key]
        g.scale = sid
        for n, text in (g.numbered or {}).items():  # what any column wrote wins over the generated style
            scales[sid]["labels"][n - 1] = text
        for m in g.missing:
            if m not in scales[sid]["missing"]:
                scales[sid]["missing"].append(m)
    for s in scales.values():
        s["missing"].sort(key=_missing_order)
    return scales


# --------------------------------------------------------------------------- YAML text
def q(text) -> str:
    """A YAML double-quoted scalar (JSON string syntax is valid YAML)."""
    return json.dumps(str(text), ensure_ascii=False)


_YAML_WORDS = {"yes", "no", "true", "false", "on", "off", "y", "n", "null", "~"}


def ident(text: str) -> str:
    """An id as YAML text: bare when safe, quoted when YAML would read it as a bool/null/number (``no``, ``on``, ``1``)."""
    text = str(text)
    return text if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_\-]*", text) and text.lower() not in _YAML_WORDS else q(text)


def _comment(text: str) -> str:
    return "  # " + re.sub(r"\s+", " ", str(text)).strip()


def multi_select_supported() -> bool:
    """Whether this version's codebook model knows the ``multi_select`` section."""
    from .config import Codebook

    return "multi_select" in Codebook.model_fields


def codebook_text(draft: Draft, *, today: _dt.date | None = None) -> str:
    """The draft as commented YAML text (every guess with its reason)."""
    today = today or _dt.date.today()
    multi_live = multi_select_supported()
    out: list[str] = [
        f"# codebook.yaml の下書き: dxanalysis init が {today.isoformat()} に {draft.source}({draft.n_rows} 行)から作成",
        "# 「推定:」のコメントは、何をどう推定したかです。確かめて、違っていれば直してください。",
        "# 構成概念(construct)が空の設問は dxanalysis check が行番号つきで一覧にします。",
        "# 書式は docs/data-contract.md の codebook.yaml を見てください。",
    ]
    rid = draft.respondent_id
    if rid is not None:
        out.append(f"respondent_id: {q(rid.header)}" + _comment("推定: " + rid.why))
    else:
        out.append('respondent_id: ""' + _comment("回答者番号の列が見つかりません。書き出しに回答者ごとに異なる番号の列を加え、その列名を書いてください"))
    ignored = draft.of("metadata") + draft.of("empty") + draft.of("unknown") + ([] if multi_live else draft.of("multi_select"))
    out.append("ignore:" + ("" if ignored else " []"))
    for g in ignored:
        why = g.why if g.kind != "multi_select" else "複数選択の設問。このバージョンは multi_select に未対応のため、いまは読みません(下のコメントを参照)"
        out.append(f"  - {q(g.header)}" + _comment("推定: " + why))
    attrs = draft.of("attribute")
    out.append("attributes:" + ("" if attrs else " {}"))
    for g in attrs:
        label = g.label or (g.match.entry["label"] if g.match and g.match.ratio >= MATCH_RATIO else strip_question_number(g.header))
        out += [f"  {ident(g.id)}:" + _comment("推定: 属性。" + g.why), f"    header: {q(g.header)}", f"    label: {q(label)}", "    values:"]
        out += [f"      - {q(v)}" for v in g.values]
    out.append("scales:" + ("" if draft.scales else " {}"))
    for sid, s in draft.scales.items():
        out += [f"  {ident(sid)}:" + _comment("推定: " + s["why"]), f"    min: {s['min']}", f"    max: {s['max']}", "    labels:"]
        out += [f"      {n}: {q(lab)}" for n, lab in enumerate(s["labels"], start=1)]
        miss = ", ".join(q(m) for m in s["missing"])
        out.append(f"    missing: [{miss}]" + (_comment("推定: 内容のない回答(欠測として数える)") if s["missing"] else ""))
    out.append("constructs:" + _comment("DXリテラシー標準の領域(設問バンクと同じ id)。items の construct にはこの id を書きます"))
    for cid, c in draft.constructs.items():
        parts = [f"label: {q(c['label'])}", f"area: {q(c['area'])}"] + ([f"label_en: {q(c['label_en'])}"] if c.get("label_en") else [])
        out.append(f"  {cid}: {{{', '.join(parts)}}}")
    items = draft.of("likert")
    out.append("items:" + ("" if items else " []"))
    known = ", ".join(draft.constructs)
    for g in items:
        m = g.match
        if m and m.ratio >= MATCH_RATIO:
            e = m.entry
            out += [f"  - id: {ident(g.id)}" + _comment(f"推定: 設問バンクの {e['id']} と一致(一致率 {m.ratio:.2f})。{g.why}"),
                    f"    header: {q(g.header)}", f"    construct: {ident(e['construct'])}", f"    scale: {ident(g.scale)}",
                    f"    reverse: {'true' if e.get('reverse') else 'false'}", f"    short: {q(e['short'])}"]
        else:
            near = f"近い文は設問バンクの {m.entry['id']}「{m.entry['text']}」(一致率 {m.ratio:.2f}、{m.entry['construct']})" if m else "設問バンクに近い文はありません"
            out += [f"  - id: {ident(g.id)}" + _comment(f"推定: リッカート項目({g.why})。{near}"),
                    f"    header: {q(g.header)}", "    construct:" + _comment(f"要記入: {known} のどれかを書いてください"),
                    f"    scale: {ident(g.scale)}", "    reverse: false" + _comment("否定的な文(そう思うほど低い)なら true"),
                    f"    short: {q(short_label(g.header))}" + _comment("推定: 図表の短い名前")]
    tools = draft.of("tool")
    out.append("tools:" + _comment("はい/いいえ で答える設問"))
    out.append(f"  'yes': [{', '.join(q(w) for w in draft.yes)}]")
    out.append(f"  'no': [{', '.join(q(w) for w in draft.no)}]")
    out.append("  items:" + ("" if tools else " []"))
    for g in tools:
        label = g.match.entry["label"] if g.match and g.match.ratio >= MATCH_RATIO else tool_label(g.header)
        src = f"設問バンクの {g.match.entry['id']} と一致(一致率 {g.match.ratio:.2f})" if g.match and g.match.ratio >= MATCH_RATIO else "名前は列名から"
        out += [f"    - id: {ident(g.id)}" + _comment(f"推定: {g.why}。{src}"), f"      header: {q(g.header)}", f"      label: {q(label)}"]
    texts = draft.of("free_text")
    out.append("free_text:" + ("" if texts else " []"))
    for g in texts:
        label = g.match.entry["label"] if g.match and g.match.ratio >= MATCH_RATIO else short_label(g.header)
        out += [f"  - id: {ident(g.id)}" + _comment("推定: 自由記述。" + g.why), f"    header: {q(g.header)}", f"    label: {q(label)}"]
    multis = draft.of("multi_select")
    if multis:
        out += _multi_select_lines(multis, live=multi_live, counts=draft.show_counts)
    return "\n".join(out) + "\n"


def _multi_select_lines(multis: list[Guess], *, live: bool, counts: bool = True) -> list[str]:
    """The ``multi_select`` section (commented out while the codebook model lacks it)."""
    lines = ["multi_select:" + _comment("複数選択の設問。測定値の id は <id>__<選択肢の id>")]
    for g in multis:
        bank_opts = g.match.entry.get("options", []) if g.match and g.match.ratio >= MATCH_RATIO else []
        label = g.match.entry["label"] if bank_opts else multi_label(g.header)
        options, rare = _option_entries(g, bank_opts)
        lines += [f"  - id: {ident(g.id)}" + _comment("推定: 複数選択。" + g.why), f"    header: {q(g.header)}", f"    label: {q(label)}",
                  f"    separator: {q(g.separator)}", "    options:"]
        for o in options:
            extra = ", other: true" if o["other"] else ""
            note = _comment(f"{o['count']} 人が選択") if o["count"] and counts else ""
            if o["other"] and rare:
                shown = "、".join(rare[:3]) + (" など" if len(rare) > 3 else "")
                note = _comment(f"推定: 1 人だけの回答 {len(rare)} 種類(例: {shown})は「その他」の記入とみなす")
            lines.append(f"      - {{id: {ident(o['id'])}, label: {q(o['label'])}{extra}}}" + note)
    if live:
        return lines
    head = ["# 複数選択の設問(multi_select)は、このバージョンの dxanalysis ではまだ読めません。",
            "# いまは列を ignore に入れてあります。対応したら、下の行の先頭の「# 」を外し、ignore からその列を消してください。"]
    return head + ["# " + x for x in lines]


def municipality_text(*, mid: str, name: str, fiscal_year: int, survey: str, roster: str | None, source_survey: str,
                      source_roster: str | None, fiscal_year_guessed: str | None, name_guessed: bool = False, id_guessed: bool = False) -> str:
    """municipality.yaml for a new folder, with comments on what was assumed."""
    fy = f"fiscal_year: {fiscal_year}" + (_comment(f"推定: {fiscal_year_guessed}の年度(令和{fiscal_year - 2018}年度)。調査の年度が違えば直してください") if fiscal_year_guessed else "")
    lines = [
        f"# dxanalysis init が作成。調査の書き出し: {source_survey}" + (f"、名簿: {source_roster}" if source_roster else ""),
        f"id: {mid}" + _comment("レポートのフォルダ名 reports/<id>/" + ("。フォルダ名が半角英数字でないため仮の id です。半角英小文字・数字・「_」「-」で書き直してください" if id_guessed else "")),
        f"name: {q(name)}" + (_comment("推定: フォルダ名。レポートに出る自治体名(例: 〇〇市)に直してください") if name_guessed else ""),
        fy,
        "min_group_size: 5" + _comment("これより少ない集団は数値を出しません(3 以上)"),
        "language: ja",
        "inputs:",
        f"  survey: {q(survey)}",
        "  codebook: codebook.yaml",
        f"  roster: {q(roster or 'roster.csv')}" + ("" if roster else _comment("要準備: 名簿(属性ごとの職員数)を roster.csv として置いてください(docs/data-contract.md)")),
    ]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- folder
@dataclass
class InitResult:
    """What ``init`` wrote: the folder, the draft and the items left for the user."""

    folder: Path
    draft: Draft
    codebook: Path
    municipality: Path


def _fiscal_year(today: _dt.date) -> int:
    return today.year if today.month >= 4 else today.year - 1


TIME_HEADERS = ("開始時刻", "完了時刻", "タイムスタンプ", "回答日時", "送信日時", "受付日時", "start time", "completion time", "timestamp")


def survey_fiscal_year(raw: pd.DataFrame) -> tuple[int, str] | None:
    """(fiscal year, header) from the answers' time stamps (median date; April–March), or None."""
    for c in raw.columns:
        if c.casefold() in TIME_HEADERS:
            dates = pd.to_datetime(raw[c], errors="coerce", format="mixed")
            if dates.notna().mean() >= 0.8:
                return _fiscal_year(dates.dropna().sort_values().iloc[len(dates.dropna()) // 2].date()), c
    return None


def _municipality_id(folder: Path) -> str:
    mid = folder.name.lower()
    if re.fullmatch(r"[a-z0-9_\-]+", mid):
        return mid
    return re.sub(r"[^a-z0-9_\-]+", "-", unicodedata.normalize("NFKC", mid).encode("ascii", "ignore").decode().lower()).strip("-") or "city"


def init_municipality(folder: Path | str, survey: Path | str, *, roster: Path | str | None = None, name: str | None = None,
                      fiscal_year: int | None = None, force: bool = False, today: _dt.date | None = None) -> InitResult:
    """Create ``folder`` with the exports copied unchanged, municipality.yaml and a draft codebook.yaml.

    Raises
    ------
    InputError
        The export is missing, unreadable or has no answers, the folder already has a codebook (without
        ``force``), or no column can serve as the respondent number.
    """
    folder, survey = Path(folder), Path(survey)
    roster = Path(roster) if roster is not None else None
    today = today or _dt.date.today()
    raw = read_table(survey)
    if raw.empty:
        raise InputError([Problem(file=survey.name, code="empty_file")])
    roster_frame = read_table(roster) if roster is not None else None
    if (folder / "codebook.yaml").exists() and not force:
        raise InputError([Problem(file=str(folder / "codebook.yaml"), code="init_folder_exists", params={"folder": str(folder)})])
    draft = draft_codebook(raw, source=survey.name, roster=roster_frame)
    folder.mkdir(parents=True, exist_ok=True)
    survey_name = "survey" + survey.suffix.lower()
    if survey.resolve() != (folder / survey_name).resolve():
        shutil.copyfile(survey, folder / survey_name)
    roster_name = None
    if roster is not None:
        roster_name = "roster" + roster.suffix.lower()
        if roster.resolve() != (folder / roster_name).resolve():
            shutil.copyfile(roster, folder / roster_name)
    cb_path = folder / "codebook.yaml"
    cb_path.write_text(codebook_text(draft, today=today), encoding="utf-8")
    mun_path = folder / "municipality.yaml"
    mid = _municipality_id(folder)
    fy_source = None
    if fiscal_year is None:
        found = survey_fiscal_year(raw)
        fiscal_year, fy_source = (found[0], f"回答の日時「{found[1]}」") if found else (_fiscal_year(today), "今日の日付")
    mun_path.write_text(municipality_text(mid=mid, name=name or folder.name, fiscal_year=fiscal_year,
                                          survey=survey_name, roster=roster_name, source_survey=survey.name,
                                          source_roster=roster.name if roster else None, fiscal_year_guessed=fy_source,
                                          name_guessed=name is None, id_guessed=mid != folder.name), encoding="utf-8")
    return InitResult(folder=folder, draft=draft, codebook=cb_path, municipality=mun_path)


def summary_lines(result: InitResult) -> list[str]:
    """What init found, in a few lines for the terminal."""
    d = result.draft
    counts = Counter(g.kind for g in d.guesses)
    matched = len(d.of("likert")) - len(d.unset_constructs)
    lines = [
        f"{result.folder}: municipality.yaml と codebook.yaml(下書き)を作りました。",
        f"  回答 {d.n_rows} 行 / 回答者番号: {d.respondent_id.header if d.respondent_id else '見つかりません'}",
        (f"  属性 {counts['attribute']}・リッカート項目 {counts['likert']}(尺度 {len(d.scales)}、設問バンクと一致 {matched})・"
         f"はい/いいえ {counts['tool']}・複数選択 {counts['multi_select']}・自由記述 {counts['free_text']}・"
         f"読まない列 {counts['metadata'] + counts['empty'] + counts['unknown']}"),
    ]
    for g in d.of("unknown"):
        lines.append(f"  判断できず ignore に入れた列: 「{g.header}」(codebook.yaml のコメントを見てください)")
    if d.unset_constructs:
        lines.append(f"  構成概念が未設定の設問 {len(d.unset_constructs)} 件: codebook.yaml の construct を書いてください。")
    lines.append(f"次に: dxanalysis check {result.folder}")
    return lines


# --------------------------------------------------------------------------- check
_CONSTRUCT_KEY = re.compile(r"^items\[(\d+)\]\.construct$")


def explain_unset_constructs(problems: list[Problem], codebook_path: Path) -> list[Problem]:
    """Replace "items[N].construct is empty/missing" with a message naming the item and the construct ids to choose from.

    ``dxanalysis check`` on a fresh draft thus lists exactly the items whose construct is
    still to be written, each with its line in codebook.yaml.
    """
    from .config import read_yaml

    try:
        raw = read_yaml(codebook_path) or {}
    except InputError:
        return problems
    items = raw.get("items") if isinstance(raw, dict) else None
    constructs = raw.get("constructs") if isinstance(raw, dict) else None
    known = ", ".join(map(str, constructs)) if isinstance(constructs, dict) else "-"
    out = []
    for p in problems:
        m = _CONSTRUCT_KEY.match(str(p.column or ""))
        if p.code in ("config_empty", "config_missing") and m and isinstance(items, list):
            n = int(m.group(1))
            item = items[n - 1] if n - 1 < len(items) and isinstance(items[n - 1], dict) else {}
            p = Problem(file=p.file, code="codebook_construct_unset", row=p.row, column=p.column, row_kind=p.row_kind,
                        params={"item": item.get("id", "?"), "header": item.get("header", ""), "known": known})
        out.append(p)
    return out
