"""Compare two report folders of the same municipality, file by file (a refactoring check).

    python tests/compare_reports.py reports_before/sample reports_after/sample [--only comment --only training_comment]

Used for issue #18 (text.publish_comments split into compute + render): run notebooks 01 and
04 on data/sample with the old and the new code into two folders, then compare. Every file
present in either folder is compared:

* CSV, JSON, TXT, YAML: byte for byte;
* PNG: decoded pixels (equal arrays), so PNG metadata does not count;
* SVG: text with matplotlib's date and the hashed clip-path / glyph ids removed;
* HTML: the alt texts and figure captions (listed, must be equal), the images inside (decoded
  pixels) and the remaining text with the images taken out;
* ipynb, xlsx and manifest.json: reported as not compared (they hold run times, zip dates,
  package hashes).

``--only PREFIX`` limits the per-file comparison to tables/figures/private files whose name
starts with ``PREFIX_`` (the HTML pages are always compared). Exit status 1 when something
differs.
"""

from __future__ import annotations

import argparse
import base64
import difflib
import html
import io
import re
import sys
from pathlib import Path

import numpy as np

NOT_COMPARED = {".ipynb", ".xlsx", ".lock"}
_IMG = re.compile(r'<img src="data:image/png;base64,([^"]+)" alt="([^"]*)"')
_CAPTION = re.compile(r"<figcaption>(.*?)</figcaption>", re.S)


def _pixels(data: bytes) -> np.ndarray:
    """RGBA pixels (0–1), so an RGB file and an RGBA file of the same opaque picture compare equal."""
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"), dtype=float) / 255.0


def _svg_text(data: bytes) -> str:
    text = data.decode("utf-8")
    text = re.sub(r"<dc:date>.*?</dc:date>", "", text, flags=re.S)
    text = re.sub(r"url\(#[^)]*\)", "url(#)", text)  # hatch patterns and clip paths referenced by matplotlib's random/hashed ids
    return re.sub(r'(id|href|clip-path)="[^"]*"', r'\1=""', text)


def _html_parts(data: bytes) -> tuple[list[str], list[str], list[np.ndarray], str]:
    text = data.decode("utf-8")
    imgs = _IMG.findall(text)
    alts = [html.unescape(a) for _, a in imgs]
    captions = [html.unescape(c) for c in _CAPTION.findall(text)]
    pixels = [_pixels(base64.b64decode(b)) for b, _ in imgs]
    rest = _IMG.sub('<img alt="\\2"', text)
    return alts, captions, pixels, rest


def compare_file(a: Path, b: Path) -> str | None:
    """None when equal, else a short description of the difference."""
    da, db = a.read_bytes(), b.read_bytes()
    suffix = a.suffix.lower()
    if da == db:
        return None
    if suffix == ".png":
        pa, pb = _pixels(da), _pixels(db)
        if pa.shape != pb.shape:
            return f"PNG size {pa.shape} vs {pb.shape}"
        diff = np.abs(pa - pb).max()
        return None if diff == 0 else f"PNG pixels differ (max {diff:.3f}, {(np.abs(pa - pb).max(axis=-1) > 0).mean():.2%} of pixels)"
    if suffix == ".svg":
        return None if _svg_text(da) == _svg_text(db) else "SVG differs (beyond date and hashed ids)"
    if suffix == ".html":
        alts_a, caps_a, pix_a, rest_a = _html_parts(da)
        alts_b, caps_b, pix_b, rest_b = _html_parts(db)
        out = []
        if alts_a != alts_b:
            out.append("alt texts differ: " + "; ".join(difflib.unified_diff(alts_a, alts_b, lineterm="", n=0)))
        if caps_a != caps_b:
            out.append("captions differ")
        if len(pix_a) != len(pix_b) or any(x.shape != y.shape or np.abs(x - y).max() > 0 for x, y in zip(pix_a, pix_b)):
            bad = [k for k, (x, y) in enumerate(zip(pix_a, pix_b)) if x.shape != y.shape or np.abs(x - y).max() > 0]
            out.append(f"inline images differ ({len(pix_a)} vs {len(pix_b)}; differing: {bad} = alts {[alts_a[k] [:40] for k in bad]})")
        if rest_a != rest_b:
            lines = [x for x in difflib.unified_diff(rest_a.splitlines(), rest_b.splitlines(), lineterm="", n=0) if x[:1] in "+-" and x[:3] not in ("+++", "---")]
            out.append(f"text differs in {len(lines)} lines: " + " | ".join(x[:160] for x in lines[:6]))
        return "; ".join(out) or None
    return f"{suffix or 'file'} differs ({len(da)} vs {len(db)} bytes)"


def compare(before: Path, after: Path, only: list[str] | None = None) -> tuple[list[str], list[str], int]:
    """(differences, not compared, files equal)."""
    files = sorted({p.relative_to(before) for p in before.rglob("*") if p.is_file()} | {p.relative_to(after) for p in after.rglob("*") if p.is_file()})
    diffs, skipped, same = [], [], 0
    for rel in files:
        if "cache" in rel.parts:
            continue
        if only and rel.suffix != ".html" and not any(rel.name.startswith(p + "_") for p in only):
            continue
        if rel.suffix in NOT_COMPARED or rel.name == "manifest.json":
            skipped.append(str(rel))
            continue
        a, b = before / rel, after / rel
        if not a.exists() or not b.exists():
            diffs.append(f"{rel}: only in {'after' if b.exists() else 'before'}")
            continue
        d = compare_file(a, b)
        if d:
            diffs.append(f"{rel}: {d}")
        else:
            same += 1
    return diffs, skipped, same


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    ap.add_argument("--only", action="append", help="compare only files named PREFIX_* (and the HTML pages)")
    args = ap.parse_args(argv)
    diffs, skipped, same = compare(args.before, args.after, args.only)
    print(f"{same} files equal; {len(diffs)} differ; not compared: {', '.join(skipped) or 'none'}")
    for d in diffs:
        print("DIFF", d)
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
