"""Security headers on every kind of response, the CSP nonce, and a 500 that leaks nothing."""

from __future__ import annotations

import logging
import re

import pytest
from fastapi.testclient import TestClient
from sqlite_utils import Database

from service.routes.security import content_security_policy
from tests.conftest import case_id, sign_in

NEEDED = {
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
}


def _check(response, *, cacheable: bool = False) -> None:  # noqa: ANN001
    for name, value in NEEDED.items():
        assert response.headers.get(name) == value, name
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert re.search(r"script-src 'self' 'nonce-[\w-]{16,}'", csp)
    assert "microphone=(self)" in response.headers["permissions-policy"]
    assert (response.headers.get("cache-control") == "no-store") != cacheable
    assert "strict-transport-security" not in response.headers  # plain HTTP here


@pytest.mark.parametrize("path, status", [
    ("/login", 200), ("/", 303), ("/api/v1/cases", 401), ("/no/such/page", 404),
    ("/api/openapi.json", 200), ("/api/docs", 200)])
def test_headers_signed_out(client: TestClient, path: str, status: int) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == status
    _check(response)


def test_headers_on_case_pages_api_and_errors(client: TestClient, demo_db: Database) -> None:
    sign_in(client, "worker")
    jones = case_id(demo_db, "RFS-1042")
    for path, status in ((f"/cases/{jones}", 200), ("/cases/abc", 422), ("/", 200),
                         (f"/cases/{jones}/chronology/print", 200)):
        response = client.get(path)
        assert response.status_code == status, path
        _check(response)
    refused = client.delete(f"/cases/{jones}")
    assert refused.status_code == 405
    _check(refused)
    static = client.get("/static/js/review.js")
    assert static.status_code == 200
    _check(static, cacheable=True)


def test_each_page_has_its_own_nonce_and_no_inline_script(client: TestClient) -> None:
    first, second = client.get("/login"), client.get("/login")
    nonces = [re.search(r"'nonce-([\w-]+)'", r.headers["content-security-policy"]).group(1)
              for r in (first, second)]
    assert nonces[0] != nonces[1]
    # Every script is a file, or carries the page's nonce.
    for tag in re.findall(r"<script[^>]*>", first.text):
        assert "src=" in tag or f'nonce="{nonces[0]}"' in tag or "application/json" in tag


def test_docs_page_runs_only_its_own_script(client: TestClient) -> None:
    page = client.get("/api/docs")
    nonce = re.search(r"'nonce-([\w-]+)'", page.headers["content-security-policy"]).group(1)
    inline = re.findall(r"<script(?![^>]*src=)[^>]*>", page.text)
    assert inline and all(f'nonce="{nonce}"' in tag for tag in inline)
    assert "cdn" not in page.text.lower()
    assert client.get("/static/swagger-ui/swagger-ui-bundle.js").status_code == 200


def test_https_adds_hsts() -> None:
    from service.routes.security import security_headers

    names = dict(security_headers("n", cacheable=False, https=True))
    assert b"max-age" in names[b"strict-transport-security"]
    assert "nonce-n" in content_security_policy("n")


def test_an_unexpected_error_is_a_clean_500_with_headers(
        app, caplog: pytest.LogCaptureFixture) -> None:  # noqa: ANN001
    secret = "Narrative words that must not be logged"

    @app.get("/boom/{word}")
    def boom(word: str) -> None:
        raise RuntimeError(f"{secret} {word}")

    with TestClient(app) as client, caplog.at_level(logging.ERROR, logger="casenotes"):
        response = client.get("/boom/sensitive-value", headers={"accept": "application/json"})
    assert response.status_code == 500 and "nothing was saved" in response.json()["error"]
    _check(response)
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "RuntimeError" in logged and "/boom/{word}" in logged
    assert secret not in logged and "sensitive-value" not in logged
