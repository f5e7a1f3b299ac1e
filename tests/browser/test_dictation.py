"""In a real browser: dictation by uploading a file, and by recording from a (fake) microphone.

The server is the session's real `casenotes serve` with the bundled tiny.en model; chromium's
fake media device plays a fixture clip as the microphone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import CHROMIUM, sign_in

CLIP = Path(__file__).resolve().parents[2] / "fixtures" / "audio" / "clip08.wav"


def _new_entry(page: Page, base: str, family: str) -> None:
    sign_in(page, base, "worker", "worker-demo-pass")
    page.get_by_role("link", name=family).click()
    page.get_by_role("button", name="Add an entry").click()


def test_upload_on_a_new_entry_lands_in_the_text(page: Page, live_server: str) -> None:
    _new_entry(page, live_server, "Jones")
    page.get_by_test_id("dictation-file").set_input_files(str(CLIP))
    # The first recording makes the draft; the page moves to it and the upload carries on.
    expect(page).to_have_url(re.compile(r"/entries/\d+/edit#dictation$"), timeout=20_000)
    text = page.get_by_label("What happened")
    expect(text).to_have_value(re.compile(r"today", re.IGNORECASE), timeout=60_000)
    expect(page.get_by_test_id("dictation-applied")).to_contain_text("added")
    expect(page.get_by_test_id("save-status")).to_contain_text("Draft saved", timeout=20_000)
    job = page.get_by_test_id("dictation-job").first
    expect(job).to_have_attribute("data-status", "done")
    expect(job.locator("audio")).to_have_count(1)
    expect(page.get_by_test_id("dictation-segments").locator("li").first).to_be_attached()
    # Coming back later: the transcript is not added twice, and the recording is listed.
    value = text.input_value()
    page.reload()
    expect(page.get_by_test_id("dictation-job").first).to_have_attribute("data-status", "done")
    expect(page.get_by_label("What happened")).to_have_value(value)


def test_worker_keeps_typing_while_it_transcribes(page: Page, live_server: str) -> None:
    _new_entry(page, live_server, "Khan")
    text = page.get_by_label("What happened")
    text.fill("Typed before dictating.")
    expect(page.get_by_test_id("save-status")).to_contain_text("Draft saved", timeout=20_000)
    page.get_by_test_id("dictation-file").set_input_files(str(CLIP))
    text.press("End")
    text.type(" And typed while it worked.")
    expect(text).to_have_value(re.compile(r"today", re.IGNORECASE), timeout=60_000)
    value = text.input_value()
    assert value.startswith("Typed before dictating. And typed while it worked.")
    expect(page.get_by_test_id("save-status")).to_contain_text("Draft saved", timeout=20_000)


def test_dropped_network_and_closed_tab_lose_nothing(page: Page, live_server: str) -> None:
    """The audio cannot get through; the tab is closed; reopening the draft sends it."""
    _new_entry(page, live_server, "Jones")
    page.get_by_label("What happened").fill("Visit notes to follow.")
    expect(page.get_by_test_id("save-status")).to_contain_text("Draft saved", timeout=20_000)
    draft_url = page.url
    page.route("**/api/v1/dictations/*/audio*", lambda route: route.abort("internetdisconnected"))
    page.get_by_test_id("dictation-file").set_input_files(str(CLIP))
    expect(page.get_by_test_id("dictation-status")).to_contain_text("connection dropped")
    reopened = page.context.new_page()
    page.close()
    reopened.goto(draft_url)
    text = reopened.get_by_label("What happened")
    expect(text).to_have_value(re.compile(r"^Visit notes to follow\.\n\n.*today", re.I | re.S),
                               timeout=60_000)
    expect(reopened.get_by_test_id("dictation-job")).to_have_count(1)


@pytest.fixture(scope="module")
def microphone_browser(browser: Browser) -> Iterator[Browser]:
    """A second chromium (from the session's Playwright) whose microphone plays CLIP."""
    launched = browser.browser_type.launch(
        executable_path=CHROMIUM, headless=True,
        args=["--no-sandbox", "--disable-gpu", "--no-first-run",
              "--disable-background-networking", "--disable-component-update",
              "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
              f"--use-file-for-fake-audio-capture={CLIP}"])
    yield launched
    launched.close()


def test_record_from_the_microphone(microphone_browser: Browser, live_server: str) -> None:
    context = microphone_browser.new_context(permissions=["microphone"])
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        _new_entry(page, live_server, "Jones")
        page.get_by_label("What happened").fill("Before the recording.")
        expect(page.get_by_test_id("save-status")).to_contain_text("Draft saved", timeout=20_000)
        page.get_by_role("button", name="Start recording").click()
        expect(page.get_by_test_id("dictation-timer")).to_have_text(re.compile(r"0:0[3-9]"),
                                                                     timeout=10_000)
        page.get_by_role("button", name="Pause").click()
        page.get_by_role("button", name="Resume").click()
        page.wait_for_timeout(4000)
        page.get_by_role("button", name="Stop and transcribe").click()
        job = page.get_by_test_id("dictation-job").first
        expect(job).to_have_attribute("data-status", re.compile("done|failed"), timeout=60_000)
        expect(job).to_have_attribute("data-status", "done")
        value = page.get_by_label("What happened").input_value()
        assert value.startswith("Before the recording.\n\n") and len(value) > 40
    finally:
        context.close()


def test_recording_survives_closing_the_tab(microphone_browser: Browser, live_server: str
                                            ) -> None:
    """Closed mid-recording: the pieces kept so far are offered when the page is opened again."""
    context = microphone_browser.new_context(permissions=["microphone"])
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        _new_entry(page, live_server, "Jones")
        new_url = page.url
        page.get_by_role("button", name="Start recording").click()
        expect(page.get_by_test_id("dictation-timer")).to_have_text(re.compile(r"0:0[5-9]"),
                                                                     timeout=15_000)
        again = context.new_page()
        page.close(run_before_unload=False)
        again.set_default_timeout(15_000)
        again.goto(new_url)
        again.get_by_role("button", name="Send it for transcription").click()
        expect(again).to_have_url(re.compile(r"/entries/\d+/edit#dictation$"), timeout=20_000)
        job = again.get_by_test_id("dictation-job").first
        expect(job).to_have_attribute("data-status", re.compile("done|failed"), timeout=60_000)
        expect(job).to_have_attribute("data-status", "done")
        expect(again.get_by_label("What happened")).not_to_have_value("")
    finally:
        context.close()
