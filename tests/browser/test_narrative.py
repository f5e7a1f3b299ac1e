"""In a real browser: a worker adds an entry, sees it in the narrative, amends it."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in


def test_worker_adds_and_amends_an_entry(page: Page, live_server: str) -> None:
    sign_in(page, live_server, "worker", "worker-demo-pass")
    page.get_by_role("link", name="Jones").click()
    expect(page.get_by_role("heading", name="Jones family")).to_be_visible()
    page.get_by_role("button", name="Add an entry").click()
    page.get_by_label("What kind of entry").select_option("home_visit")
    page.get_by_label("What happened").fill(
        "Visited Sarah and Jack after school. Jack showed me his reading book.")
    # The draft autosaves while typing: the status line says so and the URL gains the entry.
    expect(page.get_by_test_id("save-status")).to_contain_text("Draft saved", timeout=20_000)
    expect(page).to_have_url(re.compile(r"/entries/\d+/edit$"))
    page.get_by_test_id("finalise").click()
    expect(page.get_by_test_id("entry-text")).to_contain_text("Jack showed me his reading book")
    entry_url = page.url
    page.get_by_role("link", name="Jones").first.click()
    expect(page.get_by_test_id("narrative")).to_contain_text("Jack showed me his reading book")
    # Other tests share this server and may have entries of their own: open ours by its link.
    page.locator(f"a[href='{entry_url.removeprefix(live_server)}']").first.click()
    page.get_by_role("button", name="Amend this entry").click()
    page.get_by_label("What happened").fill(
        "Visited Sarah and Jack after school. Jack read two pages of his reading book to me.")
    page.get_by_test_id("save-amendment").click()
    revisions = page.get_by_test_id("revisions")
    expect(revisions).to_contain_text("Revision 2 (current)")
    expect(revisions).to_contain_text("Revision 1")
    expect(revisions).to_contain_text("Jack showed me his reading book")
    expect(revisions).to_contain_text("Jack read two pages")


def test_draft_survives_closing_the_tab(page: Page, live_server: str) -> None:
    sign_in(page, live_server, "worker", "worker-demo-pass")
    page.get_by_role("link", name="Khan").click()
    page.get_by_role("button", name="Add an entry").click()
    page.get_by_label("What happened").fill("Zara was seen alone in her room.")
    expect(page.get_by_test_id("save-status")).to_contain_text("Draft saved", timeout=20_000)
    draft_url = page.url
    page.context.new_page().goto(draft_url)
    page.close()
    reopened = page.context.pages[-1]
    expect(reopened.get_by_label("What happened")).to_have_value(
        "Zara was seen alone in her room.")
