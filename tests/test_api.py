"""The JSON API over HTTP with bearer tokens: the same access rules as the pages."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlite_utils import Database

from service import accounts
from tests.conftest import case_id, sign_in


def bearer(db: Database, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {accounts.create_token(db, username)}"}


def test_openapi_docs(client: TestClient) -> None:
    assert client.get("/api/docs").status_code == 200
    spec = client.get("/api/openapi.json").json()
    for path in ("/api/v1/cases", "/api/v1/cases/{case_id}", "/api/v1/cases/{case_id}/entries",
                 "/api/v1/entries/{entry_id}", "/api/v1/entries/{entry_id}/finalise",
                 "/api/v1/entries/{entry_id}/revisions"):
        assert path in spec["paths"]


def test_no_token_or_bad_token(client: TestClient) -> None:
    assert client.get("/api/v1/cases").status_code == 401
    bad = client.get("/api/v1/cases", headers={"Authorization": "Bearer nonsense"})
    assert bad.status_code == 401 and "token" in bad.json()["error"]


def test_cases_and_case(client: TestClient, demo_db: Database) -> None:
    headers = bearer(demo_db, "worker")
    listed = client.get("/api/v1/cases", headers=headers).json()
    assert {c["reference"] for c in listed} == {"RFS-1042", "RFS-1077", "RFS-1103"}
    assert all(c["children"] for c in listed)
    jones = case_id(demo_db, "RFS-1042")
    case = client.get(f"/api/v1/cases/{jones}", headers=headers).json()
    assert {p["name"] for p in case["people"]} >= {"Sarah Jones", "Jack Jones", "Priya Shah"}
    assert client.get(f"/api/v1/cases/{jones}", headers=bearer(demo_db, "worker2")
                      ).status_code == 403
    assert client.get("/api/v1/cases/424242", headers=headers).status_code == 404


def test_entry_create_finalise_amend(client: TestClient, demo_db: Database) -> None:
    headers = bearer(demo_db, "worker")
    jones = case_id(demo_db, "RFS-1042")
    created = client.post(f"/api/v1/cases/{jones}/entries", headers=headers, json={
        "kind": "phone_call", "occurred_at": "2026-02-01T11:00", "text": "Called Sarah."})
    assert created.status_code == 201
    entry = created.json()
    assert entry["status"] == "draft" and entry["draft_text"] == "Called Sarah."
    saved = client.put(f"/api/v1/entries/{entry['id']}/draft", headers=headers,
                       json={"text": "Called Sarah about Amy.", "version": entry["draft_version"]})
    assert saved.status_code == 200
    stale = client.put(f"/api/v1/entries/{entry['id']}/draft", headers=headers,
                       json={"text": "old tab", "version": entry["draft_version"]})
    assert stale.status_code == 409
    final = client.post(f"/api/v1/entries/{entry['id']}/finalise", headers=headers).json()
    assert final["status"] == "final" and final["text"] == "Called Sarah about Amy."
    amended = client.post(f"/api/v1/entries/{entry['id']}/revisions", headers=headers,
                          json={"text": "Called Sarah about Amy's weight.", "based_on": 1})
    assert amended.status_code == 201 and amended.json()["revision_count"] == 2
    got = client.get(f"/api/v1/entries/{entry['id']}", headers=headers).json()
    assert [r["text"] for r in got["revisions"]] == ["Called Sarah about Amy.",
                                                    "Called Sarah about Amy's weight."]
    narrative = client.get(f"/api/v1/cases/{jones}/entries?order=newest",
                           headers=headers).json()
    assert narrative["total"] >= 6
    other = bearer(demo_db, "worker2")
    # Another team's entry answers exactly as a missing one does.
    hidden = client.get(f"/api/v1/entries/{entry['id']}", headers=other)
    missing = client.get("/api/v1/entries/999999", headers=other)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    assert client.post(f"/api/v1/entries/{entry['id']}/revisions", headers=other,
                       json={"text": "x"}).status_code == 404


@pytest.mark.parametrize("body, status, words", [
    ({"kind": "visit", "text": "x"}, 422, "kind of entry"),
    ({"kind": "other", "occurred_at": "2999-01-01T00:00", "text": "x"}, 422, "future"),
    ({"kind": "other", "occurred_at": "not a date", "text": "x"}, 422, "date and time"),
    ({"kind": "other", "text": "x" * 200_001}, 422, "200,000"),
    ({"text": "no kind"}, 422, "kind"),
    ({"kind": "other", "text": "x", "children": [999999]}, 422, "children"),
])
def test_bad_entry_bodies(client: TestClient, demo_db: Database, body: dict, status: int,
                          words: str) -> None:
    jones = case_id(demo_db, "RFS-1042")
    before = demo_db["entries"].count
    response = client.post(f"/api/v1/cases/{jones}/entries", headers=bearer(demo_db, "worker"),
                           json=body)
    assert response.status_code == status
    assert words in response.json()["error"]
    assert demo_db["entries"].count == before


def test_malformed_and_oversized_bodies(client: TestClient, demo_db: Database) -> None:
    jones = case_id(demo_db, "RFS-1042")
    headers = {**bearer(demo_db, "worker"), "Content-Type": "application/json"}
    broken = client.post(f"/api/v1/cases/{jones}/entries", headers=headers, content=b"{kind:")
    assert broken.status_code == 422 and "error" in broken.json()
    huge = client.post(f"/api/v1/cases/{jones}/entries", headers=headers,
                       content=b'{"kind":"other","text":"' + b"x" * (3 * 1024 * 1024) + b'"}')
    assert huge.status_code == 413
    finalise_unknown = client.post("/api/v1/entries/999999/finalise", headers=headers)
    assert finalise_unknown.status_code == 404


def test_session_cookie_needs_csrf_header(client: TestClient, demo_db: Database) -> None:
    csrf = sign_in(client, "worker")
    jones = case_id(demo_db, "RFS-1042")
    body = {"kind": "other", "text": "from the page"}
    assert client.post(f"/api/v1/cases/{jones}/entries", json=body).status_code == 403
    ok = client.post(f"/api/v1/cases/{jones}/entries", json=body,
                     headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201


def test_people_api(client: TestClient, demo_db: Database) -> None:
    headers = bearer(demo_db, "worker")
    jones = case_id(demo_db, "RFS-1042")
    added = client.post(f"/api/v1/cases/{jones}/people", headers=headers, json={
        "name": "Dean Hill", "category": "other", "relationship": "mother's new partner"})
    assert added.status_code == 201
    person = added.json()
    changed = client.put(f"/api/v1/people/{person['id']}", headers=headers, json={
        "name": "Dean Hill", "category": "carer", "relationship": "mother's partner"})
    assert changed.json()["category"] == "carer"
    assert client.post(f"/api/v1/cases/{jones}/people", headers=headers,
                       json={"name": "X", "category": "alien"}).status_code == 422
    log = client.get(f"/api/v1/cases/{jones}/access-log", headers=bearer(demo_db, "admin"))
    assert "person.edit" in {row["action"] for row in log.json()}
    assert client.get(f"/api/v1/cases/{jones}/access-log", headers=headers).status_code == 403


def test_concurrent_writers_lose_nothing(client: TestClient, demo_db: Database) -> None:
    headers = bearer(demo_db, "worker")
    jones = case_id(demo_db, "RFS-1042")
    before = demo_db["entries"].count

    def write(n: int) -> int:
        return client.post(f"/api/v1/cases/{jones}/entries", headers=headers,
                           json={"kind": "other", "text": f"note {n}"}).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(write, range(40)))
    assert statuses.count(201) == 40
    assert demo_db["entries"].count == before + 40
