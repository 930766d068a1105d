"""Count Japanese words left in an English report folder (issue #18, "words in one place").

Usage: ``python tests/i18n_check.py <report_dir> <data_dir>`` prints every reader-facing
element (heading, caption, table header, table cell, finding, note, glossary, figure alt
text, prose paragraph) of every HTML page, every cell of the shared tables
(``tables/*.csv``) and every text of the figures (axis labels, ticks, legends, titles:
the comments matplotlib writes into ``figures/*.svg``) that still holds Japanese once
data values are removed. ``<report_dir>`` is a municipality's report folder (or a
folder of them). Data values are every Japanese string of the municipality's input files
(codebook labels, department names, hypotheses, opportunities, measures, …): an English
run may keep those, as the issue says.
"""

from __future__ import annotations

import csv
import re
import sys
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import yaml

JAPANESE = re.compile(r"[\u3001-\u303f\u3040-\u30ff\u3400-\u9fff\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65\uff66-\uff9f]")  # kana, kanji, Japanese punctuation (、。「」〜) and full-width symbols

#: element → category; text inside these is counted
KINDS = {"h1": "heading", "h2": "heading", "h3": "heading", "h4": "heading", "caption": "caption", "figcaption": "caption",
         "th": "table header", "td": "table cell", "dt": "glossary", "dd": "glossary", "li": "list/finding", "p": "prose/finding/note", "strong": None}


def data_values(data_dir: Path, *, answers_only: bool = False) -> list[str]:
    """Every Japanese string in the municipality's inputs (only the answers, ``survey*.csv`` and
    ``training_*.csv``, with ``answers_only``), longest first."""
    found: set[str] = set()

    def walk(v):
        if isinstance(v, dict):
            for k, x in v.items():
                walk(k)
                walk(x)
        elif isinstance(v, (list, tuple)):
            for x in v:
                walk(x)
        elif isinstance(v, str) and JAPANESE.search(v):
            found.add(v.strip())
            found.add(unicodedata.normalize("NFKC", v).strip())  # the reports show the inputs after NFKC

    data_dir = Path(data_dir)
    for path in data_dir.rglob("*"):
        if "truth" in path.relative_to(data_dir).parts:
            continue  # the sample's planted truths are not an input
        if answers_only and not (path.suffix == ".csv" and path.name.startswith(("survey", "training_"))):
            continue
        if path.suffix in {".yaml", ".yml"}:
            walk(yaml.safe_load(path.read_text(encoding="utf-8")))
        elif path.suffix == ".csv":
            for enc in ("utf-8-sig", "cp932"):
                try:
                    with path.open(encoding=enc, newline="") as f:
                        for row in csv.reader(f):
                            walk(row)
                    break
                except UnicodeDecodeError:
                    continue
    # also the pieces of "a/b" or "a、b" values (e.g. headers that embed a department name)
    return sorted(found, key=len, reverse=True)


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, list[str]]] = []
        self.items: list[tuple[str, str]] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in {"style", "script", "footer"}:
            self.skip += 1
        if tag == "img" and a.get("alt"):
            self.items.append(("figure alt", a["alt"]))
        if tag in KINDS and KINDS[tag]:
            self.stack.append((tag, []))

    def handle_endtag(self, tag):
        if tag in {"style", "script", "footer"}:
            self.skip -= 1
        if tag in KINDS and KINDS[tag] and self.stack and self.stack[-1][0] == tag:
            t, parts = self.stack.pop()
            text = " ".join("".join(parts).split())
            if text:
                self.items.append((KINDS[t], text))

    def handle_data(self, data):
        if self.skip:
            return
        if self.stack:
            self.stack[-1][1].append(data)


#: kinds listed but not counted: words of the staff's own comments, pieces of a data value a chart wrapped
DATA_KINDS = {"comment words (data)", "wrapped data label"}
SVG_TEXT = re.compile(r'<g id="text_\d+">\s*<!--(.*?)-->', re.S)


def items(report_dir: Path) -> list[tuple[str, str, str]]:
    """(file, kind, text) of every reader-facing string of a report folder (or of a folder of them)."""
    report_dir = Path(report_dir)
    out: list[tuple[str, str, str]] = []
    for page in sorted(report_dir.rglob("*.html")):
        p = _Collector()
        p.feed(page.read_text(encoding="utf-8"))
        out += [(str(page.relative_to(report_dir)), kind, text) for kind, text in p.items]
    for table in sorted(report_dir.rglob("tables/*.csv")):
        # the free-text tables (comment_*, training_comment_*) hold words of the staff's comments: data
        kind = "comment words (data)" if re.match(r"(training_)?comment_", table.name) else "csv cell"
        with table.open(encoding="utf-8-sig", newline="") as f:
            for row in list(csv.reader(f))[1:]:
                out += [(str(table.relative_to(report_dir)), kind, cell) for cell in row if cell.strip()]
    for svg in sorted(report_dir.rglob("figures/*.svg")):
        for m in SVG_TEXT.finditer(svg.read_text(encoding="utf-8")):
            text = " ".join(m.group(1).split())
            if text:
                out.append((str(svg.relative_to(report_dir)), "figure text", text))
    return out


#: a run of Japanese (with the long-vowel mark), for matching words of free comments
JAPANESE_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]+")
#: kinds whose text may quote words of the staff's free comments (KWIC cells, terms in charts and sentences)
COMMENT_KINDS = {"table cell", "figure text", "figure alt", "prose/finding/note", "list/finding", "csv cell"}


def _comment_words(text: str, corpus: str) -> bool:
    """Whether every Japanese run of ``text`` (two characters or more) is part of a free comment."""
    runs = JAPANESE_RUN.findall(text)
    return bool(runs) and all(len(r) >= 2 and r in corpus for r in runs)


def leftovers(report_dir: Path, data_dir: Path, *, values: list[str] | None = None) -> list[tuple[str, str, str]]:
    """(file, kind, text) of every reader-facing string with Japanese beyond data values.

    Words cut out of the staff's free comments (a table cell or figure text whose every
    Japanese run is part of a long input value) are listed as ``comment words (data)``.
    """
    values = data_values(data_dir) if values is None else values
    # words cut out of comments: a figure's wrapped item label, a KWIC cell, a term
    corpus = "\n".join(v for v in data_values(data_dir, answers_only=True) if len(v) >= 12)
    labels = "\n".join(values)  # a chart wraps a long label over lines: each line is a piece of a data value
    out = []
    for name, kind, text in items(report_dir):
        rest = text
        if JAPANESE.search(rest):
            for v in values:
                if v in rest:
                    rest = rest.replace(v, " ")
        if JAPANESE.search(rest):
            if kind in COMMENT_KINDS and (_comment_words(text, corpus) or _comment_words(rest, corpus)):
                kind = "comment words (data)"
            elif kind == "figure text" and _comment_words(rest, labels):
                kind = "wrapped data label"
            out.append((name, kind, text))
    return out


if __name__ == "__main__":
    report_dir, data_dir = Path(sys.argv[1]), Path(sys.argv[2])
    rows = leftovers(report_dir, data_dir)
    by_kind: dict[str, int] = {}
    for page, kind, text in rows:
        by_kind[kind] = by_kind.get(kind, 0) + 1
        print(f"{page}\t{kind}\t{text[:160]}")
    counted = [r for r in rows if r[1] not in DATA_KINDS]
    print(f"TOTAL {len(counted)} (besides {len(rows) - len(counted)} {', '.join(sorted(DATA_KINDS))})", by_kind, file=sys.stderr)
