"""Another origin cannot frame Casenotes pages (clickjacking, or reading a narrative)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import sign_in


@pytest.fixture
def other_origin() -> Iterator[tuple[str, dict[str, str]]]:
    """A page on another port of this machine (so another origin, same site) with an iframe."""
    framing: dict[str, str] = {"target": "about:blank"}

    class Framer(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server name
            body = (f'<html><body><iframe src="{framing["target"]}" width="900" height="700">'
                    "</iframe></body></html>").encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Framer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", framing
    server.shutdown()


def test_a_page_on_another_origin_cannot_frame_a_case(
        page: Page, live_server: str, other_origin: tuple[str, dict[str, str]]) -> None:
    sign_in(page, live_server, "worker", "worker-demo-pass")
    page.goto(live_server + "/")
    target = live_server + page.locator("a[href^='/cases/']").first.get_attribute("href")
    page.goto(target)
    assert "Family narrative" in page.content()  # signed in: the case shows when opened

    url, framing = other_origin
    framing["target"] = target
    page.goto(url)
    page.wait_for_timeout(1500)
    framed = [frame for frame in page.frames if frame != page.main_frame]
    assert framed, "the iframe was not created"
    for frame in framed:
        assert "Family narrative" not in frame.content()
        assert "Casenotes" not in frame.content()
