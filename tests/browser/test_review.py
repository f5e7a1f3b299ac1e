"""In a real browser: review suggestions from the keyboard, finalise, see chips; amend and
re-confirm. The live server runs the real suggester."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in

TEXT = ("Home visit to Sarah and Jack. Jack was seen alone in his bedroom and had a bruise on "
        "his arm. Sarah denies drinking but the flat smelt of alcohol. Mrs Adams will ring me "
        "on Friday.")


def item(page: Page, words: str):  # noqa: ANN201 - a Playwright locator
    return page.locator(".cn-review__item", has_text=f"“{words}”").first


def test_review_from_the_keyboard_then_amend(page: Page, live_server: str) -> None:
    sign_in(page, live_server, "worker", "worker-demo-pass")
    page.get_by_role("link", name="Khan").click()
    page.get_by_role("button", name="Add an entry").click()
    page.get_by_label("What happened").fill(
        "Home visit to Nadia and Zara. Zara was seen alone in her bedroom and had a bruise on "
        "her arm. Nadia denies drinking but the flat smelt of alcohol. Tom Reilly will ring me "
        "on Friday.")
    expect(page.get_by_test_id("save-status")).to_contain_text("Draft saved", timeout=20_000)
    page.get_by_test_id("run-suggestions").click()
    review = page.get_by_test_id("review-list")
    expect(review).to_contain_text("Risk indicators", timeout=20_000)
    # Spans are highlighted by kind behind the text.
    expect(page.locator("#text-backdrop mark.cn-mark--risk").first).to_be_attached()
    # Accept every person and date at once from the keyboard.
    item(page, "Nadia").focus()
    page.keyboard.press("Shift+A")
    expect(item(page, "Friday")).to_contain_text("accepted")
    # Edit: the bruise is only possible.
    item(page, "bruise").focus()
    page.keyboard.press("e")
    item(page, "bruise").get_by_label("Assertion").select_option("possible")
    page.keyboard.press("Enter")
    expect(item(page, "bruise")).to_contain_text("possible")
    expect(item(page, "bruise")).to_contain_text("edited")
    # Accept the negated and the present substance misuse one by one; reject the theme.
    item(page, "drinking").focus()
    page.keyboard.press("a")
    expect(item(page, "drinking")).to_contain_text("accepted")
    item(page, "smelt of alcohol").focus()
    page.keyboard.press("a")
    expect(item(page, "smelt of alcohol")).to_contain_text("accepted")
    seen = page.locator(".cn-review__item[data-kind='child_seen']").first
    seen.focus()
    page.keyboard.press("a")
    expect(seen).to_contain_text("accepted")
    first_theme = page.locator(".cn-review__item[data-kind='tag']").first
    if first_theme.count():
        first_theme.focus()
        page.keyboard.press("r")
        expect(page.locator(".cn-review__item[data-kind='tag']").first).to_contain_text(
            "rejected")
    page.get_by_test_id("finalise").click()
    chips = page.get_by_test_id("entry-chips")
    expect(chips).to_contain_text("Physical injury (possible)")
    expect(chips).to_contain_text("Substance misuse (negated)")
    expect(chips).to_contain_text("Substance misuse (present)")
    expect(chips).to_contain_text("Zara Khan seen alone")
    entry_url = page.url
    # The narrative shows the chips and when Zara was last seen.
    page.get_by_role("link", name="Khan").first.click()
    expect(page.get_by_test_id("narrative")).to_contain_text("Physical injury (possible)")
    zara = page.get_by_test_id("people").locator(".govuk-summary-list__row",
                                                 has_text="Zara Khan")
    expect(zara).not_to_contain_text("Last seen: not recorded")
    expect(zara).not_to_contain_text("seen alone: not recorded")
    # Amend: the date's words change, so it is shown again for confirmation.
    page.locator(f"a[href='{entry_url.removeprefix(live_server)}']").first.click()
    page.get_by_role("button", name="Amend this entry").click()
    text = page.get_by_label("What happened")
    text.fill(text.input_value().replace("on Friday", "on Thursday"))
    page.get_by_test_id("save-amendment").click()
    expect(page.get_by_test_id("revisions")).to_contain_text("Revision 2 (current)")
    again = item(page, "Thursday")
    expect(again).to_contain_text("confirm again", timeout=20_000)
    again.focus()
    page.keyboard.press("a")
    expect(item(page, "Thursday")).to_contain_text("accepted")
    page.reload()
    expect(page.get_by_test_id("entry-chips")).to_contain_text("Thursday")
    expect(page.get_by_test_id("entry-chips")).to_contain_text("Physical injury (possible)")
