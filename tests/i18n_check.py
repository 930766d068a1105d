"""Count Japanese words left in an English report folder (issue #18, "words in one place").

Usage: ``python tests/i18n_check.py <report_dir> <data_dir>`` prints every reader-facing
element (heading, caption, table header, finding, note, glossary, figure alt text,
prose paragraph) of every HTML page that still holds Japanese once data values are
removed. Data values are every Japanese string of the municipality's input files
(codebook labels, department names, hypotheses, opportunities, measures, …): an English
run may keep those, as the issue says.
"""

from __future__ import annotations

import csv
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import yaml

JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]")

#: element → category; text inside these is counted
KINDS = {"h1": "heading", "h2": "heading", "h3": "heading", "h4": "heading", "caption": "caption", "figcaption": "caption",
         "th": "table header", "dt": "glossary", "dd": "glossary", "li": "list/finding", "p": "prose/finding/note", "strong": None}


def data_values(data_dir: Path) -> list[str]:
    """Every Japanese string in the municipality's inputs, longest first."""
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

    data_dir = Path(data_dir)
    for path in data_dir.rglob("*"):
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


def leftovers(report_dir: Path, data_dir: Path) -> list[tuple[str, str, str]]:
    """(page, kind, text) of every reader-facing element with Japanese beyond data values."""
    values = data_values(data_dir)
    out = []
    for page in sorted(Path(report_dir).glob("*.html")):
        p = _Collector()
        p.feed(page.read_text(encoding="utf-8"))
        for kind, text in p.items:
            rest = text
            for v in values:
                if v in rest:
                    rest = rest.replace(v, " ")
            if JAPANESE.search(rest):
                out.append((page.name, kind, text))
    return out


if __name__ == "__main__":
    report_dir, data_dir = Path(sys.argv[1]), Path(sys.argv[2])
    rows = leftovers(report_dir, data_dir)
    by_kind: dict[str, int] = {}
    for page, kind, text in rows:
        by_kind[kind] = by_kind.get(kind, 0) + 1
        print(f"{page}\t{kind}\t{text[:160]}")
    print(f"TOTAL {len(rows)}", by_kind, file=sys.stderr)
