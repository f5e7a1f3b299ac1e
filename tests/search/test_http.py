"""The search page, the header box, the case page's form and GET /api/v1/search over HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlite_utils import Database

from service import accounts, search
from service.storage import access_log
from tests.conftest import case_id, sign_in
from tests.search.test_search import BAD_INPUT


def bearer(db: Database, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {accounts.create_token(db, username)}"}


def test_search_page_results_and_highlights(client: TestClient, demo_db: Database,
                                            write: Callable[..., int]) -> None:
    entry = write("RFS-1042", "Marmoset <b>bold</b> & \"quoted\" with bruising on the arm.")
    sign_in(client, "reviewer")
    page = client.get("/search", params={"q": "marmoset bruise"})
    assert page.status_code == 200
    html = page.text
    assert "<mark>Marmoset</mark>" in html and "<mark>bruising</mark>" in html
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &#34;quoted&#34;" in html or \
        "&lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot;" in html
    assert "<b>bold</b>" not in html
    assert f'href="/cases/{case_id(demo_db, "RFS-1042")}#entry-{entry}"' in html
    assert f'href="/entries/{entry}"' in html
    assert 'data-testid="result-count">1 result' in html


def test_search_box_on_every_page_and_case_form(client: TestClient, demo_db: Database) -> None:
    sign_in(client, "worker")
    jones = case_id(demo_db, "RFS-1042")
    for path in ("/", f"/cases/{jones}", "/search"):
        html = client.get(path).text
        assert 'data-testid="header-search"' in html and 'for="header-search-q"' in html
    case_page = client.get(f"/cases/{jones}").text
    assert 'data-testid="case-search"' in case_page
    assert f'name="case" value="{jones}"' in case_page


def test_search_within_a_case_from_the_case_page(client: TestClient, demo_db: Database,
                                                 write: Callable[..., int]) -> None:
    write("RFS-1042", "Chinchilla at the Jones home.")
    write("RFS-1077", "Chinchilla at the Khan home.")
    sign_in(client, "worker")
    jones = case_id(demo_db, "RFS-1042")
    html = client.get("/search", params={"q": "chinchilla", "case": jones}).text
    assert "Search the Jones family" in html and "1 result" in html
    assert "Khan home" not in html


def test_facet_links_narrow_the_search(client: TestClient, demo_db: Database,
                                       write: Callable[..., int],
                                       confirm: Callable[..., int]) -> None:
    entry = write("RFS-1077", "Aardvark: Zara said she was scared.")
    write("RFS-1077", "Aardvark visit, all fine.")
    confirm(entry, "tag", label="emotional_wellbeing")
    sign_in(client, "reviewer")
    html = client.get("/search", params={"q": "aardvark"}).text
    assert 'data-testid="facet-tag"' in html and "Emotional wellbeing" in html
    narrowed = client.get("/search", params={"q": "aardvark", "tag": "emotional_wellbeing"}).text
    assert "1 result" in narrowed and 'data-testid="applied-filters"' in narrowed


def test_bad_input_page_and_api_never_fail(client: TestClient, demo_db: Database) -> None:
    headers = bearer(demo_db, "reviewer")
    sign_in(client, "reviewer")
    for typed in BAD_INPUT:
        api = client.get("/api/v1/search", params={"q": typed}, headers=headers)
        assert api.status_code == 200, (typed, api.text)
        page = client.get("/search", params={"q": typed})
        assert page.status_code == 200, typed


def test_hint_shown_on_the_page(client: TestClient) -> None:
    sign_in(client, "reviewer")
    html = client.get("/search", params={"q": "the and of"}).text
    assert 'data-testid="search-hints"' in html and "very common words" in html


def test_bad_filter_values_on_the_page(client: TestClient) -> None:
    sign_in(client, "reviewer")
    page = client.get("/search", params={"q": "school", "from": "yesterday", "case": "abc",
                                         "order": "sideways", "page": "-3"})
    assert page.status_code == 200 and "not understood" in page.text


def test_api_search(client: TestClient, demo_db: Database, write: Callable[..., int]) -> None:
    entry = write("RFS-1042", "Narwhal behaviour was settled.", kind="phone_call")
    write("HCT-2001", "Narwhal in the other team.")
    got = client.get("/api/v1/search", params={"q": "narwhal behavior"},
                     headers=bearer(demo_db, "worker"))
    assert got.status_code == 200
    body = got.json()
    assert body["total"] == 1 and body["searched"] is True
    hit = body["results"][0]
    assert hit["entry_id"] == entry and hit["kind"] == "phone_call"
    assert hit["snippet_text"] == "Narwhal behaviour was settled."
    assert {"text": "behaviour", "match": True} in hit["snippet"]
    assert body["facets"]["kind"] == [{"value": "phone_call", "count": 1, "detail": None,
                                       "label": "Phone call", "selected": False}]
    lean = client.get("/api/v1/search", params={"q": "narwhal", "facets": "false"},
                      headers=bearer(demo_db, "worker")).json()
    assert lean["total"] == 1 and lean["results"][0]["entry_id"] == entry
    assert all(values == [] for values in lean["facets"].values())
    filtered = client.get("/api/v1/search", params={"q": "narwhal", "kind": "home_visit"},
                          headers=bearer(demo_db, "worker")).json()
    assert filtered["total"] == 0
    other = client.get("/api/v1/search", params={"q": "narwhal"},
                       headers=bearer(demo_db, "worker2")).json()
    assert other["total"] == 1 and other["results"][0]["case_reference"] == "HCT-2001"
    denied = client.get("/api/v1/search", params={"q": "narwhal",
                                                  "case": case_id(demo_db, "RFS-1042")},
                        headers=bearer(demo_db, "worker2"))
    assert denied.status_code == 403
    assert client.get("/api/v1/search", params={"q": "narwhal"}).status_code == 401
    assert client.get("/api/v1/search", params={"q": "x", "page": 0},
                      headers=bearer(demo_db, "worker")).status_code == 422
    assert "/api/v1/search" in client.get("/api/openapi.json").json()["paths"]


def test_api_searches_are_logged(client: TestClient, demo_db: Database) -> None:
    before = len(access_log.access_rows(demo_db, "search"))
    client.get("/api/v1/search", params={"q": "feeding plan", "kind": "phone_call"},
               headers=bearer(demo_db, "reviewer"))
    rows = access_log.access_rows(demo_db, "search")[before:]
    assert len(rows) == 1
    assert json.loads(rows[0]["detail"])["q"] == "feeding plan"


def test_pages_need_sign_in(client: TestClient) -> None:
    response = client.get("/search?q=x", follow_redirects=False)
    assert response.status_code == 303 and "/login" in response.headers["location"]


def test_capped_facet_counts_are_labelled_on_the_page_and_in_the_api(
        client: TestClient, demo_db: Database, write: Callable[..., int],
        monkeypatch: pytest.MonkeyPatch) -> None:
    for _ in range(3):
        write("RFS-1042", "Pangolin at home.")
    sign_in(client, "reviewer")
    html = client.get("/search", params={"q": "pangolin"}).text
    assert "3 results" in html and 'data-testid="facets-counted"' not in html
    api = client.get("/api/v1/search", params={"q": "pangolin"},
                     headers=bearer(demo_db, "reviewer")).json()
    assert api["facets_counted"] is None and api["considered"] is None
    monkeypatch.setattr(search, "CONSIDERED", 2)
    html = client.get("/search", params={"q": "pangolin"}).text
    assert "3 results" in html
    assert 'data-testid="facets-counted">Counts below are from the 2 most recently recorded' \
           ' of the 3 results.' in html
    api = client.get("/api/v1/search", params={"q": "pangolin"},
                     headers=bearer(demo_db, "reviewer")).json()
    assert 'data-testid="considered">More than 2 entries match, so the most relevant are picked' \
           ' from the 2 most recently recorded. Narrow the search' in html
    assert api["total"] == 3 and api["facets_counted"] == api["considered"] == 2
    assert [v["count"] for v in api["facets"]["kind"]] == [2]
