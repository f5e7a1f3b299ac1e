"""In a real browser: the manager view, and a chronology marked, edited and exported."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pypdf
from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in


def test_manager_view(page: Page, live_server: str) -> None:
    sign_in(page, live_server, "manager", "manager-demo-pass")
    page.get_by_role("link", name="Team view").click()
    expect(page.get_by_role("heading", name="Riverside Family Support")).to_be_visible()
    # The chart is an image with a name, and its numbers are also a table.
    expect(page.get_by_role("img", name="Entries with a confirmed risk indicator, by month")
           ).to_be_visible()
    expect(page.get_by_test_id("table-risk")).to_contain_text("Entries with any")
    expect(page.get_by_test_id("children-seen")).to_contain_text("Jack Jones")
    page.get_by_label("Months").select_option("3")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"months=3"))
    expect(page.get_by_test_id("table-risk").locator("thead th")).to_have_count(5)


def test_chronology_marked_and_exported(page: Page, live_server: str, tmp_path: Path) -> None:
    sign_in(page, live_server, "worker", "worker-demo-pass")
    page.get_by_role("link", name="Baptiste").click()
    page.get_by_test_id("chronology-link").click()
    expect(page.get_by_role("heading", name="Chronology: Baptiste family")).to_be_visible()
    # Mark the unanswered visit (an entry) significant, then give it a one-line summary.
    candidate = page.get_by_test_id("candidates").locator("li.cn-candidate").filter(
        has_text="No answer at the planned visit")
    candidate.get_by_role("button", name="Mark significant").first.click()
    # The summary is an editable field in each event.
    event = page.get_by_test_id("event").filter(
        has=page.locator('input[value*="No answer at the planned visit"]'))
    expect(event).to_have_count(1)
    event.get_by_role("textbox").fill("No answer; Marlon's car outside; police welfare check")
    event.get_by_role("button", name="Save summary").click()
    expect(page.get_by_test_id("chronology").locator('input[value*="police welfare check"]')
           ).to_have_count(1)
    with page.expect_download() as pdf_download:
        page.get_by_test_id("export-pdf").click()
    pdf_path = tmp_path / pdf_download.value.suggested_filename
    pdf_download.value.save_as(pdf_path)
    assert pdf_path.suffix == ".pdf"
    text = " ".join(" ".join((p.extract_text() or "").split())
                    for p in pypdf.PdfReader(pdf_path).pages)
    assert "Chronology: Baptiste family" in text and "Exported by Alex Morgan" in text
    assert "police welfare check" in text
    with page.expect_download() as csv_download:
        page.get_by_test_id("export-csv").click()
    rows = list(csv.DictReader(io.StringIO(Path(csv_download.value.path()).read_text())))
    assert any("police welfare check" in r["summary"] and r["status"] == "significant"
               for r in rows)
    # Taking it out leaves the chronology as it was.
    event = page.get_by_test_id("event").filter(
        has=page.locator('input[value*="police welfare check"]'))
    event.get_by_role("button", name="Take out of the chronology").click()
    expect(page.get_by_test_id("chronology").locator('input[value*="police welfare check"]')
           ).to_have_count(0)
