"""Free-text answers (自由記述), computed: redaction, offline Japanese tokenising, terms, KWIC.

This module computes and returns tidy frames; it draws nothing, writes nothing and knows
no Publisher. :mod:`dxanalysis.text` publishes what it computes (tables, charts, alt
text) and re-exports every name defined here, so ``text.redact`` etc. keep working.

Steps, in the order :func:`comment_analysis` runs them (→ :class:`CommentReport`):

1. **Redaction** (:func:`redact`, :func:`redact_series`). E-mail addresses, phone and
   extension numbers, staff numbers, names of small sections and person names are
   replaced by placeholders ([メール] [電話番号] [職員番号] [所属] [氏名]) before any other
   step sees the text. Names are found offline: a list of common surnames, a list of
   honorifics and job titles (さん・様・課長 …) and the person-name tags of the IPA
   dictionary that ships inside the ``janome`` wheel.
2. **Tokenising** (:func:`tokenize`, :func:`document_terms`) with janome: NFKC, nouns
   (consecutive nouns joined into compounds such as 電子申請), verbs and adjectives in
   base form, a stop-word list tuned for survey answers
   (``resources/stopwords_ja.txt``). Nothing is downloaded at run time.
3. **What people talk about**: :func:`term_frequencies`, :func:`term_frequencies_by_group`
   with weighted log-odds (:func:`log_odds_dirichlet`, Monroe, Colaresi & Quinn 2008),
   :func:`cooccurrence` with :func:`term_clusters` and :func:`network_layout`, and
   keyword-in-context examples (:func:`kwic`).
4. **Privacy** (:func:`comment_analysis`): terms of a group are kept only when the group
   has at least ``min_group_size`` commenters (``comment_min_group_size``, default 10);
   a term is kept only when it occurs in at least ``min_docs`` (3) comments; every
   kept text is redacted; the unredacted text is never stored in the result.

See docs/text.md for the method, the thresholds and every output column.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .textnorm import nfkc_text as nfkc  # free text is not stripped (see textnorm); text.nfkc stays importable
from .privacy import PLACEHOLDERS

RESOURCES = Path(__file__).resolve().parent / "resources"

#: Placeholder kinds in the order they are searched (earlier kinds win an overlap).
KINDS = ("email", "staff_no", "phone", "section", "name")

#: A term must occur in at least this many comments to be shown (a rare word can
#: identify its writer); applied overall and within each group.
MIN_DOCS = 3

#: Answers that carry no content ("nothing in particular"); not counted as comments.
NON_SUBSTANTIVE = re.compile(r"^(?:特に|とくに)?(?:なし|無し|ない|無い|ありません|ございません|ないです|ありませんでした|特記事項なし)?$")


def _read_list(path: Path) -> list[str]:
    """One entry per line; ``#`` starts a comment; NFKC-normalised; order kept."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            out.append(unicodedata.normalize("NFKC", line))
    return list(dict.fromkeys(out))


@functools.cache
def load_stopwords() -> frozenset[str]:
    """The packaged stop-word list (``resources/stopwords_ja.txt``)."""
    return frozenset(_read_list(RESOURCES / "stopwords_ja.txt"))


@functools.cache
def _name_lists() -> tuple[frozenset[str], tuple[str, ...], frozenset[str]]:
    surnames = frozenset(_read_list(RESOURCES / "text" / "surnames_ja.txt"))
    honorifics = tuple(sorted(_read_list(RESOURCES / "text" / "honorifics_ja.txt"), key=len, reverse=True))
    not_names = frozenset(_read_list(RESOURCES / "text" / "not_names_ja.txt"))
    return surnames, honorifics, not_names


@functools.cache
def _honorific_re() -> re.Pattern:
    _, honorifics, _ = _name_lists()
    return re.compile(r"[ \t]?(?:副|前|元|新|旧)?(?:" + "|".join(map(re.escape, honorifics)) + ")")


@functools.lru_cache(maxsize=1)
def get_tokenizer():
    """A shared janome Tokenizer (its IPA dictionary ships inside the wheel: no network)."""
    from janome.tokenizer import Tokenizer

    return Tokenizer()


@functools.lru_cache(maxsize=20000)
def _tokens(text: str) -> tuple:
    """janome's tokens of ``text`` (a tuple, so it can be cached).

    Redaction (:func:`_find_names`, on the comment as written) and term analysis
    (:func:`_analyse`, on the redacted comment) tokenise the same text whenever a comment
    holds no personal data, which is most comments: each distinct text is tokenised once
    per process. A pure cache (its value depends only on ``text``): like
    :func:`get_tokenizer`, it is kept across the notebooks of a warm kernel on purpose.
    """
    return tuple(get_tokenizer().tokenize(text))


def is_substantive(text) -> bool:
    """False for empty answers and "特になし"-type answers."""
    t = re.sub(r"[\s、。,.!?!?・ー\-ー~〜]+", "", nfkc(text))
    return bool(t) and not NON_SUBSTANTIVE.match(t)


# --------------------------------------------------------------------------- redaction
# Patterns run on NFKC text (full-width digits, ＠ and － are already half-width).
_SEP = r"[ \-‐‑‒–—―ー−]"
EMAIL_RE = re.compile(r"[A-Za-z0-9._%+\-]+ ?(?:@|\(at\)|\[at\]) ?[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
STAFF_NO_RE = re.compile(
    r"(?:職員番号|職員No\.?|職員ID|職員コード|社員番号|職番)[ \t]*(?:は|:|=)?[ \t]*[A-Za-z]?\d{3,8}"
    r"|(?<![A-Za-z0-9])[A-Z]\d{5,7}(?![0-9])"
)
#: Japanese numbers: 0 + area/mobile code, then two blocks; optional (…) around the code.
PHONE_RE = re.compile(
    rf"(?<![\d.])(?:\+81{_SEP}?(?:\(0\))?{_SEP}?\d{{1,4}}|\(0\d{{1,4}}\)|0\d{{1,4}}){_SEP}?\d{{1,4}}{_SEP}?\d{{3,4}}(?![\d])"
)
#: Local numbers and extensions are only taken after a telephone word (内線・TEL・電話).
PHONE_KEYWORD_RE = re.compile(r"(?:内線|ext\.?|Ext\.?|TEL|Tel|tel|電話|携帯|PHS)(?:番号)?[ \t]*(?:は|:)?[ \t]*(\d{2,4}(?:-\d{2,4}){0,2})(?![\d])")


def _phone_ok(s: str) -> bool:
    digits = re.sub(r"\D", "", s)
    if s.lstrip("( ").startswith("+81"):
        return 11 <= len(digits) <= 12
    return 10 <= len(digits) <= 11


@dataclass(frozen=True)
class Span:
    """One piece of personal data found in a (NFKC) text: ``text[start:end]`` is ``kind``."""

    start: int
    end: int
    kind: str
    text: str


def _section_re(small_sections: Sequence[str]) -> re.Pattern | None:
    return _section_re_cached(tuple(small_sections))


@functools.lru_cache(maxsize=64)
def _section_re_cached(small_sections: tuple[str, ...]) -> re.Pattern | None:
    # compiled once per list of sections, not once per comment
    names = sorted({nfkc(s).strip() for s in small_sections if nfkc(s).strip()}, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, names))) if names else None


_NOT_PLACEHOLDER_RE = re.compile(r"[^\0]+")
_KATAKANA_RE = re.compile(r"[ァ-ヶー]+")


def _pos(tok) -> list[str]:
    return tok.part_of_speech.split(",")


def _is_ascii_word(s: str) -> bool:
    return all(ord(c) < 128 for c in s)


_NAME_BREAK = {"接尾", "非自立", "代名詞", "数", "副詞可能", "特殊", "接続詞的", "動詞非自立的", "引用文字列"}


def _find_names(segment: str, offset: int) -> list[Span]:
    """Person names in a text segment that holds no other placeholder.

    A run of nouns is a name when
    * it is followed by an honorific or title (さん, 様, 課長 …) and contains a surname
      from the list, a token the dictionary tags as a person name, a katakana proper
      noun or a word unknown to the dictionary, and it is not a common noun such as
      業者 or お客 (``not_names_ja.txt``); or
    * without a title: it is a surname followed by a given name (both tagged as person
      names), or a listed surname of two or more characters that the dictionary also
      tags as a person name, at the end of the noun run (so 佐藤工業 and 田中町 stay).
    """
    if not segment.strip():
        return []
    surnames, _, not_names = _name_lists()
    hon_re = _honorific_re()
    toks = []
    cursor = 0
    for t in _tokens(segment):
        start = segment.find(t.surface, cursor)
        if start < 0:  # janome keeps every character; this is only a safety net
            start = cursor
        end = start + len(t.surface)
        cursor = end
        toks.append((t.surface, _pos(t), t.node_type, start, end))

    def is_honorific_at(pos: int) -> bool:
        m = hon_re.match(segment, pos)
        if not m:
            return False
        # "様々", "さんま", "君たち" are not honorifics; the match must end a word
        rest = segment[m.end() : m.end() + 1]
        return not (m.group(0).strip() in {"様", "さん"} and rest in {"々", "ま"})

    def is_candidate(tok) -> bool:
        surface, pos, _, start, _ = tok
        if surface in surnames:
            return True
        if pos[0] != "名詞" or pos[1] in _NAME_BREAK or _is_ascii_word(surface):
            return False
        return not is_honorific_at(start)

    def strong(tok) -> bool:
        surface, pos, _, _, _ = tok
        return surface in surnames or (len(pos) > 2 and pos[1] == "固有名詞" and pos[2] == "人名")

    def weak(tok) -> bool:
        surface, pos, node_type, _, _ = tok
        if surface in not_names or _is_ascii_word(surface):
            return False
        katakana_proper = pos[1] == "固有名詞" and _KATAKANA_RE.fullmatch(surface) is not None
        return node_type == "UNKNOWN" or katakana_proper

    spans: list[Span] = []
    i, n = 0, len(toks)
    while i < n:
        if not is_candidate(toks[i]):
            i += 1
            continue
        j = i + 1
        while j < n:
            if is_candidate(toks[j]):
                j += 1
            elif toks[j][1][1] == "空白" and j + 1 < n and strong(toks[j - 1]) and strong(toks[j + 1]):
                j += 2  # 山田 太郎: one space inside a full name
            else:
                break
        run = toks[i:j]
        run_end = run[-1][4]
        if is_honorific_at(run_end):
            k = next((x for x, t in enumerate(run) if strong(t)), None)
            if k is None:
                k = next((x for x, t in enumerate(run) if weak(t)), None)
                if k is not None and k > 0 and run[k - 1][0] not in not_names:
                    k -= 1  # unknown names are split: 小鳥 + 遊 → keep both
            if k is not None:
                part = run[k:]
                word = "".join(t[0] for t in part).strip()
                if word and word not in not_names and part[-1][0] not in not_names:
                    spans.append(Span(offset + part[0][3], offset + part[-1][4], "name", word))
        else:
            x = 0
            while x < len(run):
                t = run[x]
                pos = t[1]
                is_sei = len(pos) > 3 and pos[2] == "人名" and pos[3] == "姓"
                g = x + 1
                if g < len(run) and run[g][1][1] == "空白":
                    g += 1  # 井上 美咲
                given = run[g] if g < len(run) else None
                has_given = given is not None and len(given[1]) > 3 and given[1][2] == "人名" and given[1][3] == "名"
                if (is_sei or t[0] in surnames) and has_given:
                    spans.append(Span(offset + t[3], offset + given[4], "name", segment[t[3] : given[4]]))
                    x = g + 1
                    continue
                after = toks[j] if j < n else None
                place_suffix = after is not None and after[1][0] == "名詞" and after[1][1] == "接尾" and len(after[1]) > 2 and after[1][2] in {"地域", "組織"}
                if x == len(run) - 1 and t[0] in surnames and len(t[0]) >= 2 and len(pos) > 2 and pos[2] == "人名" and not place_suffix:
                    spans.append(Span(offset + t[3], offset + t[4], "name", t[0]))
                x += 1
        i = j
    return spans


def find_personal_data(text, *, small_sections: Sequence[str] = ()) -> tuple[str, list[Span]]:
    """Locate personal data in a comment.

    Parameters
    ----------
    text
        One comment (any value; missing → '').
    small_sections
        Names of sections (課・係・部署) with fewer staff or respondents than the
        comment threshold; each mention becomes [所属].

    Returns
    -------
    (str, list of Span)
        The NFKC-normalised text the spans refer to, and the spans sorted by position
        (``start``, ``end``, ``kind`` in :data:`KINDS`, ``text``). Spans never overlap:
        e-mail first, then staff numbers, phone numbers, sections, person names.
    """
    norm = nfkc(text)
    masked = list(norm)
    spans: list[Span] = []

    def add(kind: str, start: int, end: int) -> None:
        if start >= end or any(c == "\0" for c in masked[start:end]):
            return
        spans.append(Span(start, end, kind, norm[start:end]))
        masked[start:end] = ["\0"] * (end - start)

    for m in EMAIL_RE.finditer(norm):
        add("email", *m.span())
    for m in STAFF_NO_RE.finditer("".join(masked)):
        add("staff_no", *m.span())
    for m in PHONE_RE.finditer("".join(masked)):
        if _phone_ok(m.group(0)):
            add("phone", *m.span())
    for m in PHONE_KEYWORD_RE.finditer("".join(masked)):
        add("phone", *m.span(1))
    sec_re = _section_re(small_sections)
    if sec_re is not None:
        for m in sec_re.finditer("".join(masked)):
            add("section", *m.span())
    current = "".join(masked)
    for m in _NOT_PLACEHOLDER_RE.finditer(current):
        for s in _find_names(m.group(0), m.start()):
            add("name", s.start, s.end)
    return norm, sorted(spans, key=lambda s: s.start)


def redact(text, *, small_sections: Sequence[str] = (), language: str = "ja") -> tuple[str, dict[str, int]]:
    """Replace personal data in one comment by placeholders.

    Parameters
    ----------
    text
        One comment. Missing values give ``''``.
    small_sections
        Section names to hide (see :func:`small_sections`).
    language
        ``ja`` ([氏名] [メール] [電話番号] [職員番号] [所属]) or ``en`` ([NAME] …).

    Returns
    -------
    (str, dict)
        The redacted, NFKC-normalised text and the number of replacements per kind
        (keys ``name``, ``email``, ``phone``, ``staff_no``, ``section``; all present).
        Honorifics and titles stay ("[氏名]さん", "[氏名]課長") so the sentence reads.

    Examples
    --------
    >>> redact("佐藤課長の携帯(090-1234-5678)へ")[0]
    '[氏名]課長の携帯([電話番号])へ'
    """
    norm, spans = find_personal_data(text, small_sections=small_sections)
    counts = {k: 0 for k in ("name", "email", "phone", "staff_no", "section")}
    out, last = [], 0
    for s in spans:
        out.append(norm[last : s.start])
        out.append(PLACEHOLDERS[s.kind][language])
        counts[s.kind] += 1
        last = s.end
    out.append(norm[last:])
    return "".join(out), counts


REDACTION_LABELS = {
    "ja": {"name": "氏名", "email": "メールアドレス", "phone": "電話番号(内線を含む)", "staff_no": "職員番号", "section": "少人数の所属名"},
    "en": {"name": "person name", "email": "e-mail address", "phone": "phone number (incl. extension)", "staff_no": "staff number", "section": "small section name"},
}


def redact_series(texts: pd.Series, *, small_sections: Sequence[str] = (), language: str = "ja") -> tuple[pd.Series, pd.DataFrame]:
    """Redact every comment of a column.

    Returns
    -------
    (Series, DataFrame)
        The redacted texts (same index; missing stays missing) and the redaction
        summary, one row per kind: ``kind``, ``placeholder``, ``description``, ``count``
        (replacements) and ``n_comments`` (comments with at least one).
    """
    if not isinstance(texts, pd.Series):
        raise TypeError("redact_series: texts must be a pandas Series")
    small_sections = tuple(small_sections)
    kinds = ("name", "email", "phone", "staff_no", "section")
    # each distinct comment is redacted once (janome is the cost); the counts are summed by codes
    codes, distinct = _distinct_texts(texts)
    done = [redact(v, small_sections=small_sections, language=language) for v in distinct]
    per_text = np.array([[c[k] for k in kinds] for _, c in done], dtype=np.int64).reshape(len(done), len(kinds))
    uses = np.bincount(codes[codes >= 0], minlength=len(done))
    totals = dict(zip(kinds, (uses @ per_text).tolist()))
    touched = dict(zip(kinds, (uses @ (per_text > 0)).tolist()))
    red = np.array([r for r, _ in done] + [np.nan], dtype=object)[codes]
    labels = REDACTION_LABELS.get(language, REDACTION_LABELS["ja"])
    summary = pd.DataFrame(
        [{"kind": k, "placeholder": PLACEHOLDERS[k][language], "description": labels[k], "count": int(totals[k]), "n_comments": int(touched[k])} for k in ("name", "email", "phone", "staff_no", "section")]
    )
    return pd.Series(red, index=texts.index, name=texts.name, dtype=object), summary


def _distinct_texts(texts: pd.Series) -> tuple[np.ndarray, list]:
    """(codes, distinct answers): ``distinct[codes[i]]`` is answer ``i`` (as written; a non-text
    answer by its ``str``), code -1 for a missing one (None, NaN, pd.NA)."""
    values = texts.to_numpy(dtype=object)
    missing = pd.isna(values)
    codes = np.full(len(values), -1, dtype=np.int64)
    present = values[~missing]
    if len(present):
        keys = np.array([v if isinstance(v, str) else str(v) for v in present], dtype=object)
        inner, uniques = pd.factorize(keys)
        codes[~missing] = inner
        return codes, list(uniques)  # str(v) reads as v does: nfkc_text(5) == nfkc_text("5")
    return codes, []


def redaction_scores(cases: Sequence[dict], *, small_sections: Sequence[str] = ()) -> pd.DataFrame:
    """Precision and recall of :func:`find_personal_data` on comments with known answers.

    Parameters
    ----------
    cases
        ``[{"text": ..., "entities": [{"kind": "name", "text": "山田"}, ...]}, ...]``;
        each entity is one occurrence of personal data, listed in order of appearance.

    Returns
    -------
    DataFrame
        One row per kind: ``kind``, ``expected`` (entities), ``found`` (spans the
        redaction made), ``true_positive`` (entities entirely covered by a span of the
        same kind), ``precision`` (spans of that kind covering at least one expected
        entity / found), ``recall`` (true_positive / expected).

    Notes
    -----
    Coverage, not exact boundaries, counts: removing 「職員番号 A12345」 for the entity
    「A12345」 is a hit. A partial cover (「た[氏名]さん」 for たなか) is a miss.
    """
    rows = {k: {"expected": 0, "found": 0, "true_positive": 0, "useful": 0} for k in ("name", "email", "phone", "staff_no", "section")}
    for case in cases:
        norm, spans = find_personal_data(case["text"], small_sections=small_sections)
        expected = []
        cursor: dict[str, int] = {}
        for ent in case.get("entities") or []:
            t = nfkc(ent["text"])
            start = norm.find(t, cursor.get(t, 0))
            if start < 0:
                raise ValueError(f"entity {t!r} not in text {norm!r}")
            cursor[t] = start + len(t)
            expected.append((ent["kind"], start, start + len(t)))
        for kind, s, e in expected:
            rows[kind]["expected"] += 1
            if any(sp.kind == kind and sp.start <= s and sp.end >= e for sp in spans):
                rows[kind]["true_positive"] += 1
        for sp in spans:
            rows[sp.kind]["found"] += 1
            if any(kind == sp.kind and sp.start < e and sp.end > s for kind, s, e in expected):
                rows[sp.kind]["useful"] += 1
    out = pd.DataFrame([{"kind": k, **v} for k, v in rows.items()])
    out["precision"] = np.where(out["found"] > 0, out["useful"] / out["found"].where(out["found"] > 0, 1), np.nan)
    out["recall"] = np.where(out["expected"] > 0, out["true_positive"] / out["expected"].where(out["expected"] > 0, 1), np.nan)
    return out.drop(columns="useful")


def small_sections(groups: pd.DataFrame | pd.Series | None, *, min_size: int, attribute: str = "department", roster: pd.DataFrame | None = None) -> list[str]:
    """Section names with fewer than ``min_size`` respondents (or staff in the roster).

    Parameters
    ----------
    groups
        One row per respondent with an ``attribute`` column (or that column itself).
    min_size
        The comment threshold (``comment_min_group_size``).
    roster
        Optional staff counts (``Municipality.roster``): sections with fewer staff
        than ``min_size`` are added as well, even when nobody from them answered.

    Returns
    -------
    list of str
        Names to pass as ``small_sections``, sorted.
    """
    names: set[str] = set()
    if groups is not None:
        col = groups if isinstance(groups, pd.Series) else groups[attribute] if attribute in groups.columns else None
        if col is not None:
            counts = col.dropna().astype(str).value_counts()
            cats = col.cat.categories.astype(str) if isinstance(col.dtype, pd.CategoricalDtype) else counts.index
            names |= {c for c in cats if counts.get(c, 0) < min_size}
    if roster is not None and attribute in roster.columns:
        staff = roster.groupby(roster[attribute].astype(str), observed=True)["staff"].sum()
        names |= set(staff[staff < min_size].index)
    return sorted(names)


_find_small_sections = small_sections  # comment_analysis has a parameter of the same name


# --------------------------------------------------------------------------- tokenising
#: Orthographic variants folded to one form (base forms as janome returns them).
VARIANTS = {"わかる": "分かる", "解る": "分かる", "判る": "分かる", "良い": "よい", "いい": "よい", "出来る": "できる", "パソコン": "PC", "ぺーぱーれす": "ペーパーレス"}
_NOUN_CONTENT = {"一般", "サ変接続", "固有名詞", "形容動詞語幹", "ナイ形容詞語幹"}
_PLACEHOLDER_RE = re.compile(r"\[(?:氏名|メール|電話番号|職員番号|所属|NAME|EMAIL|PHONE|STAFF_NO|SECTION)\]")


def _normalise_term(term: str) -> str:
    term = VARIANTS.get(term, term)
    if _is_ascii_word(term) and term.isalnum():
        return term.upper() if len(term) <= 4 else term[0].upper() + term[1:]
    return term


def analyse(text, *, stopwords: Iterable[str] | None = None, compounds: bool = True) -> list[tuple[str, int, int]]:
    """Terms of one text with their position: ``[(term, start, end), ...]``.

    Positions refer to the NFKC-normalised text. Placeholders ([氏名] …) and person
    names tagged by the dictionary never become terms.

    Parameters
    ----------
    text
        One comment (ideally already redacted).
    stopwords
        Terms to drop; default :func:`load_stopwords`.
    compounds
        Join consecutive nouns (電子 + 申請 → 電子申請; 申請 + 書 → 申請書), as KH Coder
        does for Japanese; ``False`` keeps single words.
    """
    stop = load_stopwords() if stopwords is None else stopwords if isinstance(stopwords, frozenset) else frozenset(nfkc(s) for s in stopwords)
    norm = nfkc(text)
    if not norm.strip():
        return []
    return list(_analyse(norm, stop, compounds))


@functools.lru_cache(maxsize=20000)
def _analyse(norm: str, stop: frozenset, compounds: bool) -> tuple[tuple[str, int, int], ...]:
    """Cached core of :func:`analyse` (KWIC and term counts tokenise the same texts)."""
    # keep offsets: a placeholder becomes the same number of 、 (punctuation, never a term)
    work = _PLACEHOLDER_RE.sub(lambda m: "、" * len(m.group(0)), norm)
    out: list[tuple[str, int, int]] = []
    cursor = 0
    buf: list[tuple[str, int, int, bool]] = []  # (surface, start, end, is_content)
    prefix: tuple[str, int] | None = None

    def flush():
        nonlocal buf
        if buf and any(c for *_, c in buf):
            term = "".join(s for s, *_ in buf)
            out.append((term, buf[0][1], buf[-1][2]))
        buf = []

    for t in _tokens(work):
        start = work.find(t.surface, cursor)
        start = cursor if start < 0 else start
        end = start + len(t.surface)
        cursor = end
        pos = _pos(t)
        surface = t.surface
        if pos[0] == "名詞" and pos[1] in _NOUN_CONTENT and not (pos[1] == "固有名詞" and pos[2] == "人名") and not re.fullmatch(r"[\d.,]+", surface):
            if prefix is not None and compounds:
                buf.append((prefix[0], prefix[1], prefix[1] + len(prefix[0]), False))
            prefix = None
            if not compounds:
                flush()
            buf.append((surface, start, end, True))
            if not compounds:
                flush()
            continue
        if compounds and pos[0] == "名詞" and pos[1] == "接尾" and len(pos) > 2 and pos[2] in {"一般", "サ変接続", "形容動詞語幹"} and buf:
            buf.append((surface, start, end, False))
            continue
        flush()
        prefix = (surface, start) if compounds and pos[0] == "接頭詞" and pos[1] == "名詞接続" else None
        if pos[0] in {"動詞", "形容詞"} and pos[1] == "自立":
            base = t.base_form if t.base_form != "*" else surface
            out.append((base, start, end))
    flush()
    terms = []
    for term, s, e in out:
        term = _normalise_term(term)
        if term in stop or len(term) < 1:
            continue
        if len(term) == 1 and not re.fullmatch(r"[\u4e00-\u9fff]", term):
            continue  # single kana or letters carry no meaning; 紙 does
        terms.append((term, s, e))
    return tuple(terms)


def tokenize(text, *, stopwords: Iterable[str] | None = None, compounds: bool = True) -> list[str]:
    """Content terms of one text in order (nouns/compounds, verbs, adjectives in base form).

    Examples
    --------
    >>> tokenize("紙の申請書を電子申請に切り替えました")
    ['紙', '申請書', '電子申請', '切り替える']
    """
    return [t for t, _, _ in analyse(text, stopwords=stopwords, compounds=compounds)]


def document_terms(texts: pd.Series, *, stopwords: Iterable[str] | None = None, compounds: bool = True) -> pd.DataFrame:
    """Term counts per comment (the document-term table in long form).

    Returns
    -------
    DataFrame
        ``doc`` (index label of ``texts``), ``term``, ``count`` (occurrences in that
        comment); one row per comment × term, comments in input order, terms in order
        of first occurrence. Empty and "特になし" answers give no rows.
    """
    codes, distinct = _distinct_texts(texts)
    counted = [Counter(tokenize(t, stopwords=stopwords, compounds=compounds)) if is_substantive(t) else Counter() for t in distinct]  # each distinct comment once
    lengths = np.array([len(c) for c in counted] + [0], dtype=np.int64)
    n_terms = lengths[codes]  # rows per comment, in comment order (0 for empty and "特になし")
    if not n_terms.sum():
        return pd.DataFrame([], columns=["doc", "term", "count"])
    flat_terms = np.array([t for c in counted for t in c], dtype=object)
    flat_counts = np.array([k for c in counted for k in c.values()], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths[:-1])])
    used = n_terms > 0
    reps = n_terms[used]
    take = np.repeat(starts[codes[used]], reps) + np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
    return pd.DataFrame({"doc": texts.index[used].repeat(reps).tolist(), "term": flat_terms[take].tolist(), "count": flat_counts[take].tolist()}, columns=["doc", "term", "count"])


# --------------------------------------------------------------------------- frequencies
def term_frequencies(doc_terms: pd.DataFrame, *, n_docs: int | None = None, min_docs: int = MIN_DOCS) -> pd.DataFrame:
    """How often each term is used, over all comments.

    Parameters
    ----------
    doc_terms
        :func:`document_terms` output.
    n_docs
        Number of (substantive) comments; default: comments with at least one term.
    min_docs
        Terms found in fewer comments are dropped (a rare word can identify its writer).

    Returns
    -------
    DataFrame
        ``term``, ``n_docs`` (comments using it), ``doc_share`` (n_docs / comments),
        ``count`` (occurrences), ``rank`` (1 = most comments; ties share the lower
        rank), sorted by ``n_docs`` then ``count`` descending, then term.
    """
    total = int(n_docs) if n_docs is not None else int(doc_terms["doc"].nunique())
    g = doc_terms.groupby("term", sort=False).agg(n_docs=("doc", "nunique"), count=("count", "sum")).reset_index()
    g = g[g["n_docs"] >= min_docs]
    g["doc_share"] = g["n_docs"] / total if total else np.nan
    g = g.sort_values(["n_docs", "count", "term"], ascending=[False, False, True], kind="stable").reset_index(drop=True)
    g["rank"] = g["n_docs"].rank(method="min", ascending=False).astype(int)
    return g[["term", "n_docs", "doc_share", "count", "rank"]]


def log_odds_dirichlet(counts: pd.DataFrame, *, group: str = "group", term: str = "term", count: str = "count", prior_scale: float = 1.0) -> pd.DataFrame:
    """Weighted log-odds ratio with an informative Dirichlet prior, each group vs the rest.

    Monroe, Colaresi & Quinn (2008), "Fightin' Words", section 3.5 (informative
    Dirichlet prior; point estimate, approximate variance and z-score):

    .. math::

        \\hat\\delta_w^{(i-j)} = \\log\\frac{y_{wi}+\\alpha_w}{n_i+\\alpha_0-y_{wi}-\\alpha_w}
                           - \\log\\frac{y_{wj}+\\alpha_w}{n_j+\\alpha_0-y_{wj}-\\alpha_w},\\qquad
        \\sigma^2 \\approx \\frac{1}{y_{wi}+\\alpha_w} + \\frac{1}{y_{wj}+\\alpha_w},\\qquad
        z = \\hat\\delta / \\sigma

    where ``j`` is every other group, ``y`` are term counts, ``n`` the total count of
    each side, and the informative prior is ``α_w = prior_scale × y_w`` (the term's
    count over all groups; ``α_0 = Σ α_w``), the empirical-Bayes choice of R tidylo.

    Parameters
    ----------
    counts
        One row per group × term with a count column (missing combinations count 0).
    prior_scale
        Strength of the prior relative to the data (1 = as many pseudo-counts as words).

    Returns
    -------
    DataFrame
        ``group``, ``term``, ``count`` (in the group), ``count_rest`` (other groups),
        ``log_odds`` (δ), ``se`` (σ), ``z`` (δ/σ; |z| > 1.96 is the paper's rule of thumb
        for a distinctive word), sorted by group then ``z`` descending.

    Notes
    -----
    Hand-computed check (tests/test_text.py): groups A: x=3, y=1; B: x=1, y=2, z=4.
    y_w = (4, 3, 4), α_0 = 11, n_A = 4, n_B = 7. For A and x:
    δ = log(7 / (4+11−7)) − log(5 / (7+11−5)) = log(0.875) − log(0.384615) = 0.821980,
    σ² = 1/7 + 1/5 = 0.342857, z = 0.821980 / 0.585540 = 1.403798.
    """
    if prior_scale <= 0:
        raise ValueError("prior_scale must be positive")
    wide = counts.pivot_table(index=term, columns=group, values=count, aggfunc="sum", fill_value=0, observed=True)
    y = wide.to_numpy(dtype=float)  # terms × groups
    y_w = y.sum(axis=1, keepdims=True)
    alpha = prior_scale * y_w
    alpha0 = alpha.sum()
    n_i = y.sum(axis=0, keepdims=True)
    n = y.sum()
    y_j = y_w - y
    n_j = n - n_i
    delta = np.log((y + alpha) / (n_i + alpha0 - y - alpha)) - np.log((y_j + alpha) / (n_j + alpha0 - y_j - alpha))
    se = np.sqrt(1.0 / (y + alpha) + 1.0 / (y_j + alpha))
    out = pd.DataFrame(
        {
            "group": np.repeat(wide.columns.to_numpy()[None, :], len(wide), axis=0).ravel(),
            "term": np.repeat(wide.index.to_numpy(), wide.shape[1]),
            "count": y.ravel().astype(int),
            "count_rest": y_j.ravel().astype(int),
            "log_odds": delta.ravel(),
            "se": se.ravel(),
        }
    )
    out["z"] = out["log_odds"] / out["se"]
    return out.sort_values(["group", "z", "term"], ascending=[True, False, True], kind="stable").reset_index(drop=True)


def _group_visibility(sizes: pd.Series, min_group_size: int) -> pd.Series:
    """True for groups that may show terms: n ≥ threshold, with complementary hiding.

    When the commenters of hidden groups add up to fewer than the threshold (but more
    than zero), the next-smallest shown groups are hidden too, so that subtracting the
    shown groups from the overall table never isolates a small group.
    """
    shown = sizes >= min_group_size
    hidden_total = int(sizes[~shown].sum())
    order = sizes[shown].sort_values(kind="stable").index.tolist()
    while 0 < hidden_total < min_group_size and order:
        g = order.pop(0)
        shown[g] = False
        hidden_total += int(sizes[g])
    return shown


def term_frequencies_by_group(
    doc_terms: pd.DataFrame,
    groups: pd.DataFrame,
    *,
    min_group_size: int = 10,
    min_docs: int = MIN_DOCS,
    prior_scale: float = 1.0,
    docs: Sequence | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Term use per group of every attribute column, with characteristic-term scores.

    Parameters
    ----------
    doc_terms
        :func:`document_terms` output (``doc`` = index label of the comment).
    groups
        One row per respondent (index = ``doc`` labels); each column is an attribute
        (department, grade, segment …). Missing values are left out of that attribute.
    min_group_size
        Groups with fewer commenters are not shown (comment threshold, default 10);
        complementary hiding as in :func:`_group_visibility`.
    min_docs
        A term is listed for a group only when at least this many of the group's
        comments use it and at least this many comments overall do.
    docs
        Labels of the substantive comments (default: the docs in ``doc_terms``), so
        commenters whose words were all stop words still count in ``n``.

    Returns
    -------
    (terms, sizes)
        ``terms``: ``attribute``, ``group``, ``n`` (commenters in the group), ``term``,
        ``n_docs`` (the group's comments using the term), ``doc_share`` (n_docs / n),
        ``count`` (occurrences), ``log_odds``, ``z`` (:func:`log_odds_dirichlet`, group
        vs the other groups of the attribute, computed on all groups before hiding),
        only for shown groups; sorted by attribute, group order, ``z`` descending.
        ``sizes``: ``attribute``, ``group``, ``n``, ``shown`` (bool), one row per group
        in category order.
    """
    docs = pd.Index(doc_terms["doc"].unique() if docs is None else list(docs))
    overall_docs = doc_terms.groupby("term")["doc"].nunique()
    frequent = set(overall_docs[overall_docs >= min_docs].index)
    blocks, size_rows = [], []
    for attr in groups.columns:
        col = groups[attr].reindex(docs)
        cats = list(col.cat.categories) if isinstance(col.dtype, pd.CategoricalDtype) else sorted(col.dropna().unique(), key=str)
        sizes = col.value_counts().reindex(cats, fill_value=0).astype(int)
        shown = _group_visibility(sizes, min_group_size)
        size_rows += [{"attribute": attr, "group": str(g), "n": int(sizes[g]), "shown": bool(shown[g])} for g in cats]
        dt = doc_terms.assign(group=doc_terms["doc"].map(col)).dropna(subset=["group"])
        if dt.empty:
            continue
        agg = dt.groupby(["group", "term"], observed=True).agg(n_docs=("doc", "nunique"), count=("count", "sum")).reset_index()
        lo = log_odds_dirichlet(agg, prior_scale=prior_scale)
        agg = agg.merge(lo[["group", "term", "log_odds", "z"]], on=["group", "term"], how="left")
        agg = agg[agg["group"].map(shown).fillna(False).astype(bool) & (agg["n_docs"] >= min_docs) & agg["term"].isin(frequent)]
        agg["n"] = agg["group"].map(sizes).astype(int)
        agg["doc_share"] = agg["n_docs"] / agg["n"]
        agg["attribute"] = attr
        agg["_order"] = agg["group"].map({g: k for k, g in enumerate(cats)})
        agg["group"] = agg["group"].astype(str)
        blocks.append(agg)
    cols = ["attribute", "group", "n", "term", "n_docs", "doc_share", "count", "log_odds", "z"]
    if blocks:
        terms = pd.concat(blocks, ignore_index=True).sort_values(["attribute", "_order", "z", "term"], ascending=[True, True, False, True], kind="stable")
        attr_order = {a: k for k, a in enumerate(groups.columns)}
        terms = terms.sort_values("attribute", key=lambda s: s.map(attr_order), kind="stable")[cols].reset_index(drop=True)
    else:
        terms = pd.DataFrame(columns=cols)
    return terms, pd.DataFrame(size_rows, columns=["attribute", "group", "n", "shown"])


def characteristic_terms(terms_by_group: pd.DataFrame, *, top_n: int = 5, min_z: float = 1.96, language: str = "ja") -> pd.DataFrame:
    """The most distinctive terms of each shown group, one row per group.

    Returns
    -------
    DataFrame
        ``attribute``, ``group``, ``n``, ``terms`` (up to ``top_n`` terms with z ≥
        ``min_z``, joined with 「、」, each with its z in brackets; "—" when none).
    """
    rows = []
    sep = "、" if language != "en" else ", "
    for (attr, grp), d in terms_by_group.groupby(["attribute", "group"], sort=False):
        top = d[d["z"] >= min_z].nlargest(top_n, "z")
        txt = sep.join(f"{t}({z:.1f})" for t, z in zip(top["term"], top["z"])) or "—"
        rows.append({"attribute": attr, "group": grp, "n": int(d["n"].iloc[0]), "terms": txt})
    return pd.DataFrame(rows, columns=["attribute", "group", "n", "terms"])


# --------------------------------------------------------------------------- co-occurrence
def cooccurrence(doc_terms: pd.DataFrame, *, min_docs: int = MIN_DOCS, top_n: int = 40) -> pd.DataFrame:
    """Pairs of terms used in the same comment.

    Parameters
    ----------
    doc_terms
        :func:`document_terms` output.
    min_docs
        Only terms in at least ``min_docs`` comments, and pairs found together in at
        least ``min_docs`` comments, are kept.
    top_n
        Terms considered: the ``top_n`` most used (by comments).

    Returns
    -------
    DataFrame
        ``term_a``, ``term_b`` (a before b in frequency order), ``n_docs`` (comments
        with both), ``jaccard`` (n_docs / comments with either), sorted by ``jaccard``
        then ``n_docs`` descending.
    """
    freq = term_frequencies(doc_terms, min_docs=min_docs).head(top_n)
    terms = freq["term"].tolist()
    cols = ["term_a", "term_b", "n_docs", "jaccard"]
    if len(terms) < 2:
        return pd.DataFrame(columns=cols)
    sub = doc_terms[doc_terms["term"].isin(terms)]
    docs = pd.Index(sub["doc"].unique())
    # 0/1 as float64: the product runs in BLAS (integer matmul does not; 100,000 comments took ~1 s);
    # counts stay exact (whole numbers far below 2**53), so n_docs and jaccard are the same numbers
    x = np.zeros((len(docs), len(terms)), dtype=np.float64)
    x[docs.get_indexer(sub["doc"]), pd.Index(terms).get_indexer(sub["term"])] = 1.0
    co = x.T @ x
    df = np.diag(co)
    rows = []
    for a in range(len(terms)):
        for b in range(a + 1, len(terms)):
            if co[a, b] >= min_docs:
                rows.append({"term_a": terms[a], "term_b": terms[b], "n_docs": int(co[a, b]), "jaccard": co[a, b] / (df[a] + df[b] - co[a, b])})
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(["jaccard", "n_docs", "term_a", "term_b"], ascending=[False, False, True, True], kind="stable").reset_index(drop=True)


def term_clusters(edges: pd.DataFrame, terms: pd.DataFrame, *, max_edges: int = 40) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Group terms that are used together: connected components of the strongest pairs.

    Parameters
    ----------
    edges
        :func:`cooccurrence` output (sorted strongest first).
    terms
        :func:`term_frequencies` output (for ``n_docs``).
    max_edges
        Keep the ``max_edges`` pairs with the highest Jaccard coefficient.

    Returns
    -------
    (nodes, edges)
        ``nodes``: ``term``, ``n_docs``, ``cluster`` (1 = largest group of terms);
        ``edges``: the kept pairs. Like KH Coder's co-occurrence network, a group
        is a set of words that tend to appear in the same comments (a "topic").
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    kept = edges.head(max_edges).reset_index(drop=True)
    names = list(dict.fromkeys(list(kept["term_a"]) + list(kept["term_b"])))
    if not names:
        return pd.DataFrame(columns=["term", "n_docs", "cluster"]), kept
    idx = {t: k for k, t in enumerate(names)}
    a = kept["term_a"].map(idx).to_numpy()
    b = kept["term_b"].map(idx).to_numpy()
    graph = coo_matrix((np.ones(len(kept)), (a, b)), shape=(len(names), len(names)))
    _, labels = connected_components(graph, directed=False)
    n_docs = terms.set_index("term")["n_docs"]
    nodes = pd.DataFrame({"term": names, "n_docs": [int(n_docs.get(t, 0)) for t in names], "label": labels})
    size = nodes.groupby("label")["n_docs"].agg(["size", "sum"])
    order = size.sort_values(["size", "sum"], ascending=False, kind="stable").index
    nodes["cluster"] = nodes["label"].map({lab: k + 1 for k, lab in enumerate(order)})
    nodes = nodes.drop(columns="label").sort_values(["cluster", "n_docs", "term"], ascending=[True, False, True], kind="stable").reset_index(drop=True)
    return nodes, kept


def _force_layout(n: int, ea: np.ndarray, eb: np.ndarray, ew: np.ndarray, *, iterations: int, gravity: float, rng: np.random.Generator) -> np.ndarray:
    """Fruchterman–Reingold positions of ``n`` nodes (edges ``ea``–``eb`` of weight ``ew``)."""
    pos = rng.random((n, 2))
    if n == 1:
        return pos
    k = 1.5 * np.sqrt(1.0 / n)
    temp = 0.1
    for it in range(iterations):
        delta = pos[:, None, :] - pos[None, :, :]
        dist = np.sqrt((delta**2).sum(-1)) + 1e-9
        rep = (k**2 / dist**2)[..., None] * delta
        disp = rep.sum(axis=1)
        if len(ea):
            d = pos[ea] - pos[eb]
            dd = np.sqrt((d**2).sum(-1, keepdims=True)) + 1e-9
            f = (dd**2 / k) * (0.5 + ew[:, None]) * d / dd  # attraction along each line
            np.add.at(disp, ea, -f)
            np.add.at(disp, eb, f)
        disp -= gravity * (pos - pos.mean(axis=0)) * n  # keeps loosely linked terms in view
        length = np.sqrt((disp**2).sum(-1)) + 1e-9
        pos += disp / length[:, None] * np.minimum(length, temp)[:, None]
        temp = 0.1 * (1 - it / iterations) + 0.002
    return pos


def _grid(n: int, aspect: float) -> tuple[int, int]:
    """Columns and rows for ``n`` cells in a ``aspect`` (width / height) chart: cells close
    to square, few empty cells (cost = empty cells + |log(cell width / cell height)|)."""
    best = None
    for ncols in range(1, n + 1):
        nrows = int(np.ceil(n / ncols))
        cost = (ncols * nrows - n) + abs(np.log((aspect / ncols) / (1 / nrows)))
        if best is None or cost < best[0] - 1e-12:
            best = (cost, ncols, nrows)
    return best[1], best[2]


def network_layout(nodes: pd.DataFrame, edges: pd.DataFrame, *, iterations: int = 300, gravity: float = 0.05, random_state: int = 0,
                   aspect: float = 4 / 3) -> pd.DataFrame:
    """Positions for a network chart: each group of terms laid out on its own, groups in a grid.

    Parameters
    ----------
    nodes
        :func:`term_clusters` ``nodes`` (``term``, ``n_docs``, ``cluster``). Without a
        ``cluster`` column all terms are laid out together.
    edges
        The kept pairs (``term_a``, ``term_b``, ``jaccard``).
    iterations, gravity, random_state
        Force-directed layout settings; the same seed gives the same layout.
    aspect
        Width / height of the chart the grid of groups is made for.

    Returns
    -------
    DataFrame
        ``nodes`` with ``x`` and ``y`` in [0, 1].

    Notes
    -----
    Within a group, the Fruchterman & Reingold (1991) force-directed layout. Laying out
    the whole network at once packs each group's terms tightly and leaves the space
    between groups empty, so the labels overlap. Here every group (connected component)
    gets a cell of a grid (largest group first, row by row; cells close to square with
    few left empty) and is stretched to fill a
    share of its cell that grows with the square root of its number of terms; a pair of
    terms takes about half a cell. This is the component packing of graph-drawing tools
    (e.g. Graphviz ``pack``), in its simplest form.
    """
    n = len(nodes)
    out = nodes.copy()
    if n == 0:
        out["x"], out["y"] = [], []
        return out
    rng = np.random.default_rng(random_state)
    idx = {t: k for k, t in enumerate(nodes["term"])}
    pairs = [(idx[a], idx[b], w) for a, b, w in zip(edges["term_a"], edges["term_b"], edges["jaccard"]) if a in idx and b in idx]
    groups = nodes["cluster"].to_numpy() if "cluster" in nodes.columns else np.ones(n, dtype=int)
    order = list(dict.fromkeys(sorted(groups, key=lambda g: (-int((groups == g).sum()), g))))
    n_groups = len(order)
    ncols, nrows = _grid(n_groups, aspect)
    largest = max(int((groups == g).sum()) for g in order)
    pos = np.zeros((n, 2))
    for j, g in enumerate(order):
        members = np.flatnonzero(groups == g)
        local = {m: k for k, m in enumerate(members)}
        sub = [(local[a], local[b], w) for a, b, w in pairs if a in local and b in local]
        ea = np.array([p[0] for p in sub], dtype=int)
        eb = np.array([p[1] for p in sub], dtype=int)
        ew = np.array([p[2] for p in sub], dtype=float)
        p = _force_layout(len(members), ea, eb, ew, iterations=iterations, gravity=gravity, rng=rng)
        p = p - (p.max(axis=0) + p.min(axis=0)) / 2
        half = np.abs(p).max()
        p = p / half if half > 0 else p  # within [-1, 1], shape kept
        row, col = divmod(j, ncols)
        share = 0.4 + 0.35 * np.sqrt((len(members) - 1) / max(largest - 1, 1))
        centre = np.array([(col + 0.5) / ncols, 1 - (row + 0.5) / nrows])
        # half the cell, in chart heights; a group may be stretched at most 1.5 times more
        # one way than the other (more room for labels, shape still recognisable)
        w, h = aspect / ncols, 1 / nrows
        half = 0.5 * share * np.array([min(w, 1.5 * h) / aspect, min(h, 1.5 * w)])
        pos[members] = centre + p * half
    out["x"], out["y"] = np.clip(pos[:, 0], 0, 1), np.clip(pos[:, 1], 0, 1)
    return out


# --------------------------------------------------------------------------- KWIC
def kwic(texts: pd.Series, term: str, *, width: int = 25, max_examples: int | None = 5, random_state: int = 0, stopwords: Iterable[str] | None = None) -> pd.DataFrame:
    """Keyword in context: where a term is used, with the words around it.

    Pass **redacted** texts (:func:`redact_series`); the function does not redact.

    Parameters
    ----------
    texts
        Comments (index = comment labels).
    term
        A term as returned by :func:`tokenize` (base form / compound).
    width
        Characters shown on each side (cut at the comment's start or end).
    max_examples
        How many comments to show (a fixed-seed random choice among those using the
        term, so examples do not always come from the first respondents); ``None``: all.

    Returns
    -------
    DataFrame
        ``doc``, ``term``, ``left``, ``keyword`` (the text as written), ``right``; one
        row per chosen comment (its first use of the term), in comment order.
    """
    rows = []
    # each distinct comment once, with the label of its first writer: a repeated comment gives the
    # same excerpt, which the drop_duplicates below removes anyway (keeping the first)
    codes, distinct = _distinct_texts(texts)
    first = pd.Series(np.arange(len(codes)))[codes >= 0].groupby(codes[codes >= 0], sort=True).first().to_numpy()
    for k, text in enumerate(distinct):
        if not is_substantive(text):
            continue
        norm = nfkc(text)
        for t, s, e in analyse(norm, stopwords=stopwords):
            if t == term:
                left = norm[max(0, s - width) : s]
                right = norm[e : e + width]
                rows.append({"doc": texts.index[first[k]], "term": term, "left": ("…" if s > width else "") + left.replace("\n", " "), "keyword": norm[s:e], "right": right.replace("\n", " ") + ("…" if e + width < len(norm) else "")})
                break
    out = pd.DataFrame(rows, columns=["doc", "term", "left", "keyword", "right"])
    # identical excerpts (the same sentence written by several people) are shown once
    out = out.drop_duplicates(subset=["left", "keyword", "right"]).reset_index(drop=True)
    if max_examples is not None and len(out) > max_examples:
        rng = np.random.default_rng(random_state)
        keep = np.sort(rng.choice(len(out), size=max_examples, replace=False))
        out = out.iloc[keep].reset_index(drop=True)
    return out


# --------------------------------------------------------------------------- one question, computed
@dataclass
class CommentReport:
    """Everything computed for one free-text question (:func:`comment_analysis`), as tidy frames.

    Nothing here is drawn, written or shown; :func:`dxanalysis.text.render_comments` publishes
    it. All text is redacted. Attributes are ids (``department``), not display labels.

    Attributes
    ----------
    name
        Prefix of the output files (``comment`` → ``tables/comment_terms.csv``).
    n_answers, n_comments
        Non-empty answers; substantive comments (without "特になし"-type answers).
    min_group_size, min_docs, top_n, language
        The thresholds and settings the frames were computed with.
    shown
        ``False`` when there are fewer than ``min_group_size`` comments: then only
        ``redacted`` and ``redaction`` are filled and nothing else may be published.
    redacted
        **Private** (respondent level, never shared): ``doc`` (index label of the comment),
        the ``groups`` columns, ``redacted_text``; substantive comments only.
    redaction
        Redactions by kind: ``kind``, ``placeholder``, ``description``, ``count``
        (replacements), ``n_comments`` (comments with at least one).
    terms
        Term counts over all comments (:func:`term_frequencies`): ``term``, ``n_docs``,
        ``doc_share``, ``count``, ``rank``, ``n`` (comments).
    terms_by_group
        Term use and log-odds by group (:func:`term_frequencies_by_group`, shown groups
        only): ``attribute``, ``group``, ``n``, ``term``, ``n_docs``, ``doc_share``,
        ``count``, ``log_odds``, ``z``.
    group_sizes
        Commenters per group and which groups are suppressed: ``attribute``, ``group``,
        ``n``, ``shown`` (``False`` = suppressed: small, or hidden as a complement).
    characteristic
        :func:`characteristic_terms`: ``attribute``, ``group``, ``n``, ``terms``.
    cooccurrence
        Co-occurrence edges kept for the network (:func:`term_clusters`): ``term_a``,
        ``term_b``, ``n_docs``, ``jaccard``; empty when fewer than two pairs qualify.
    nodes
        Terms of the network with their layout (:func:`network_layout`): ``term``,
        ``n_docs``, ``cluster``, ``x``, ``y``.
    kwic
        Keyword-in-context excerpts of the most used terms: ``term``, ``left``,
        ``keyword``, ``right``.
    attributes
        The ``groups`` columns, in order.
    """

    name: str
    n_answers: int
    n_comments: int
    redaction: pd.DataFrame
    terms: pd.DataFrame
    terms_by_group: pd.DataFrame = field(default_factory=pd.DataFrame)
    group_sizes: pd.DataFrame = field(default_factory=pd.DataFrame)
    characteristic: pd.DataFrame = field(default_factory=pd.DataFrame)
    cooccurrence: pd.DataFrame = field(default_factory=pd.DataFrame)
    nodes: pd.DataFrame = field(default_factory=pd.DataFrame)
    kwic: pd.DataFrame = field(default_factory=pd.DataFrame)
    shown: bool = True
    redacted: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    attributes: list[str] = field(default_factory=list)
    min_group_size: int = 10
    min_docs: int = MIN_DOCS
    top_n: int = 20
    language: str = "ja"

    def __repr__(self) -> str:  # short: a notebook cell ending with it stays readable
        return f"CommentReport({self.name!r}, comments={self.n_comments}, terms={len(self.terms)}, shown={self.shown})"


def comment_analysis(
    texts: pd.Series,
    groups: pd.DataFrame | None = None,
    *,
    min_group_size: int,
    small_sections: Sequence[str] = (),
    name: str | None = None,
    section_attribute: str = "department",
    min_docs: int = MIN_DOCS,
    top_n: int = 20,
    kwic_terms: int = 3,
    kwic_examples: int = 3,
    extra_stopwords: Iterable[str] = (),
    language: str = "ja",
    random_state: int = 0,
) -> CommentReport:
    """Redact, count, score and lay out one free-text question (no Publisher, no chart, no file).

    Parameters
    ----------
    texts
        The free-text column (``m.survey["comment"]``).
    groups
        Attributes of the same respondents (same index), or ``None`` for overall only.
    min_group_size
        The comment threshold: fewer comments → nothing but the redaction is computed;
        groups with fewer commenters are suppressed.
    small_sections
        Section names to redact; values of ``groups[section_attribute]`` with fewer than
        ``min_group_size`` respondents are added.
    name
        Output prefix; default ``texts.name`` or ``comment``.
    min_docs
        A term must occur in at least this many comments (overall and per group).
    top_n
        Terms in the chart; the excerpts are taken for the first ``kwic_terms`` of them.
    kwic_terms, kwic_examples
        Excerpts: for the ``kwic_terms`` most used terms, up to ``kwic_examples`` each.
    extra_stopwords
        Words to drop for this question only.
    language
        Placeholders and redaction descriptions (``ja`` / ``en``).
    random_state
        Seed of the excerpt choice and of the network layout.

    Returns
    -------
    CommentReport
        See its attributes for every frame and column.
    """
    if not isinstance(texts, pd.Series):
        raise TypeError("publish_comments: texts must be a pandas Series (a free-text column)")
    if groups is not None:
        if isinstance(groups, pd.Series):
            groups = groups.to_frame()
        if not groups.index.equals(texts.index):
            raise ValueError("publish_comments: groups must have the same index as texts (rows of the same respondents)")
    min_group_size = int(min_group_size)
    name = name or (str(texts.name) if texts.name else "comment")

    sections = set(small_sections)
    if groups is not None and section_attribute in groups.columns:
        sections |= set(_find_small_sections(groups, min_size=min_group_size, attribute=section_attribute))
    redacted, summary = redact_series(texts, small_sections=sorted(sections), language=language)
    codes, distinct = _distinct_texts(texts)
    answered = np.array([t.strip() != "" for t in distinct] + [False], dtype=bool)[codes]  # not missing, not blank
    codes, distinct = _distinct_texts(redacted)
    substantive = pd.Series(np.array([is_substantive(t) for t in distinct] + [False], dtype=bool)[codes], index=redacted.index)  # each distinct comment once
    n_answers, n_comments = int(answered.sum()), int(substantive.sum())

    private = pd.DataFrame({"doc": texts.index})
    if groups is not None:
        private = pd.concat([private, groups.reset_index(drop=True)], axis=1)
    private["redacted_text"] = redacted.to_numpy()

    report = CommentReport(name=name, n_answers=n_answers, n_comments=n_comments, redaction=summary, terms=pd.DataFrame(),
                           redacted=private[substantive.to_numpy()], attributes=[] if groups is None else list(groups.columns),
                           min_group_size=min_group_size, min_docs=min_docs, top_n=top_n, language=language)
    if n_comments < min_group_size:
        report.shown = False
        return report

    stop = load_stopwords() | frozenset(nfkc(w) for w in extra_stopwords)
    docs_text = redacted[substantive]
    dt = document_terms(docs_text, stopwords=stop)
    terms = term_frequencies(dt, n_docs=n_comments, min_docs=min_docs)
    terms["n"] = n_comments
    report.terms = terms
    if terms.empty:
        return report

    if groups is not None and len(groups.columns):
        by_group, sizes = term_frequencies_by_group(dt, groups, min_group_size=min_group_size, min_docs=min_docs, docs=docs_text.index)
        report.terms_by_group, report.group_sizes = by_group, sizes
        report.characteristic = characteristic_terms(by_group, language=language)

    edges = cooccurrence(dt, min_docs=min_docs, top_n=40)
    if len(edges) >= 2:
        nodes, kept = term_clusters(edges, terms)
        report.nodes = network_layout(nodes, kept, random_state=random_state)
        report.cooccurrence = kept

    examples = [kwic(docs_text, t, max_examples=kwic_examples, random_state=random_state, stopwords=stop) for t in terms.head(top_n)["term"].head(kwic_terms)]
    if examples:
        report.kwic = pd.concat(examples, ignore_index=True).drop(columns="doc")
    return report
