"""Every URL the app served before the API routers were regrouped is served still, and no
other; the API is one /api/v1 router of per-resource routers, each with its own tag.

tests/routes.txt is the (method, path) list generated from main before the regrouping."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

ROUTES = Path(__file__).with_name("routes.txt")
LISTED = [tuple(line.split()) for line in ROUTES.read_text().splitlines() if line.strip()]
# Served by FastAPI and Starlette themselves, outside the OpenAPI document.
OUTSIDE_SPEC = {("GET", "/api/docs"), ("HEAD", "/api/docs"), ("GET", "/api/openapi.json"),
                ("HEAD", "/api/openapi.json"), ("GET", "/docs/oauth2-redirect"),
                ("HEAD", "/docs/oauth2-redirect"), ("MOUNT", "/static")}
RESOURCE_TAGS = {"cases", "entries", "people", "review", "chronology", "dashboard",
                 "dictation", "search"}


def _spec_routes(client: TestClient) -> set[tuple[str, str]]:
    spec = client.get("/api/openapi.json").json()
    return {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops}


def test_the_same_urls_as_before(client: TestClient) -> None:
    assert _spec_routes(client) | OUTSIDE_SPEC == set(LISTED)


@pytest.mark.parametrize(("method", "path"), [r for r in LISTED if r[0] != "MOUNT"])
def test_each_listed_url_is_routed(client: TestClient, method: str, path: str) -> None:
    """Signed out, a routed URL answers 401, a redirect to sign in, or its page; an unrouted
    one the app's own 'no such page' or 405."""
    answer = client.request(method, re.sub(r"\{[a-z_]+\}", "1", path), follow_redirects=False)
    assert answer.status_code != 405, (method, path)
    assert not (answer.status_code == 404 and "no such page" in answer.text), (method, path)
    if path.startswith("/api/v1/"):
        assert answer.status_code == 401, (method, path, answer.status_code)


def test_api_routes_each_carry_one_resource_tag(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            tags = op.get("tags", [])
            if path.startswith("/api/v1/"):
                assert len(tags) == 1 and tags[0] in RESOURCE_TAGS, (method, path, tags)
            else:
                assert tags == [], (method, path, tags)  # pages are not part of the API
