"""End to end on the sample: what staff receive is self-contained, accessible and printable."""

from __future__ import annotations

import json
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from dxanalysis.report import CHROMIUM_FLAGS, external_references, find_chromium, write_pdf

pytestmark = pytest.mark.slow
chromium = find_chromium()
needs_chromium = pytest.mark.skipif(chromium is None, reason="Debian chromium not installed")


class _Imgs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.imgs, self.lang, self.h1 = [], None, 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.imgs.append(a)
        if tag == "html":
            self.lang = a.get("lang")
        if tag == "h1":
            self.h1 += 1


def pages(report: Path) -> list[Path]:
    return sorted(report.glob("*.html"))


def test_every_notebook_ran(sample_report):
    manifest = json.loads((sample_report / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["notebooks"], "no notebook ran"
    assert all(n["status"] in {"ok", "skipped"} for n in manifest["notebooks"]), manifest["notebooks"]
    assert (sample_report / "index.html").exists()


def test_no_external_reference_in_any_page(sample_report):
    for p in pages(sample_report):
        assert external_references(p.read_text(encoding="utf-8")) == [], p.name


def test_images_embedded_with_meaningful_alt(sample_report):
    for p in pages(sample_report):
        parser = _Imgs()
        parser.feed(p.read_text(encoding="utf-8"))
        assert parser.lang == "ja" and parser.h1 >= 1, p.name
        for img in parser.imgs:
            assert img.get("src", "").startswith("data:image/"), p.name
            alt = (img.get("alt") or "").strip()
            assert alt and alt.lower() not in {"image", "png", "figure", "no description has been provided for this image"}, (p.name, alt)


def test_no_respondent_ids_or_code_in_shared_html(sample_report):
    for p in pages(sample_report):
        text = p.read_text(encoding="utf-8")
        assert "load_municipality" not in text and "respondent_id" not in text, p.name


@needs_chromium
def test_index_renders_offline_without_failed_requests(sample_report):
    """Open index.html in headless Chromium with the network off; every request must be local."""
    from playwright.sync_api import sync_playwright

    failed, remote = [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS[1:])
        context = browser.new_context(offline=True)
        page = context.new_page()
        page.on("requestfailed", lambda r: failed.append(r.url))
        page.on("request", lambda r: remote.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
        for p in pages(sample_report):
            page.goto(p.as_uri())
            page.wait_for_load_state("load")
            assert page.title(), p.name
        browser.close()
    assert failed == [] and remote == []


@needs_chromium
def test_axe_no_serious_or_critical_violations(sample_report):
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    axe = Axe()
    problems = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS[1:])
        page = browser.new_page()
        for p in pages(sample_report):
            page.goto(p.as_uri())
            result = axe.run(page)
            bad = [(v["id"], v["impact"], len(v["nodes"])) for v in result.response["violations"] if v["impact"] in {"serious", "critical"}]
            if bad:
                problems[p.name] = bad
        browser.close()
    assert problems == {}


@needs_chromium
def test_print_to_pdf(sample_report, tmp_path):
    pdf = write_pdf(sample_report / "index.html", tmp_path / "index.pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 5_000


def test_tables_xlsx_written_with_japanese_headers(sample_report):
    from openpyxl import load_workbook

    wb = load_workbook(sample_report / "tables.xlsx", read_only=True)
    assert {"response_rates", "hypotheses", "segments", "gap_scores", "training_headlines"} <= set(wb.sheetnames)
    header = [c.value for c in next(wb["response_rates"].iter_rows(max_row=1))]
    assert "回答率" in header


@needs_chromium
def test_run_pdf_flag(tiny, tmp_path):
    import sys

    from conftest import ROOT

    r = subprocess.run([sys.executable, "-m", "dxanalysis.cli", "run", str(tiny), "--notebook", "01", "--pdf", "--reports", str(tmp_path)],
                       capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert r.returncode in (0, 1), r.stderr
    pdfs = list((tmp_path / "tiny").glob("*.pdf"))
    assert pdfs and all(p.read_bytes().startswith(b"%PDF") for p in pdfs)
