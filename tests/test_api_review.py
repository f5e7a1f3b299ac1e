"""The review API over HTTP: suggest, decide, bulk, add, new person, duplicates, finalise."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlite_utils import Database

from service import accounts
from service.app import create_app
from service.nlp import Suggester
from service.settings import Settings
from tests.conftest import case_id

TEXT = ("Visited Sarah and Jack. Jack was seen alone in his bedroom. He had a bruise on his "
        "arm. Sarah said her new boyfriend Dean Walsh stays most weekends.")


@pytest.fixture
def client(settings: Settings, demo_db: Database, suggester: Suggester) -> Iterator[TestClient]:
    app = create_app(settings)
    app.state.suggester = suggester
    with TestClient(app) as test_client:
        yield test_client


def auth(db: Database, username: str = "worker") -> dict[str, str]:
    return {"Authorization": f"Bearer {accounts.create_token(db, username)}"}


def new_entry(client: TestClient, db: Database, headers: dict[str, str]) -> dict:
    response = client.post(f"/api/v1/cases/{case_id(db, 'RFS-1042')}/entries", headers=headers,
                           json={"kind": "home_visit", "occurred_at": "2026-03-11T10:00",
                                 "text": TEXT})
    assert response.status_code == 201
    return response.json()


def test_stateless_suggest_is_access_checked(client: TestClient, demo_db: Database) -> None:
    body = {"case_id": case_id(demo_db, "RFS-1042"), "occurred_on": "2026-03-11", "text": TEXT}
    found = client.post("/api/v1/suggest", headers=auth(demo_db), json=body)
    assert found.status_code == 200
    assert {"person", "risk"} <= {s["kind"] for s in found.json()}
    assert all({"start", "end", "text", "rule", "pipeline_version", "confidence"} <= set(s)
               for s in found.json())
    assert client.post("/api/v1/suggest", headers=auth(demo_db, "worker2"),
                       json=body).status_code == 403
    assert client.post("/api/v1/suggest", headers=auth(demo_db),
                       json={**body, "text": ""}).json() == []


def test_review_through_the_api(client: TestClient, demo_db: Database) -> None:
    headers = auth(demo_db)
    entry = new_entry(client, demo_db, headers)
    state = client.post(f"/api/v1/entries/{entry['id']}/suggestions", headers=headers).json()
    by_text = {(s["kind"], s["text"]): s for s in state["suggestions"]}
    bruise = by_text[("risk", "bruise")]
    people = [s["id"] for s in state["suggestions"] if s["kind"] == "person"]
    assert client.post(f"/api/v1/entries/{entry['id']}/decisions/bulk", headers=headers,
                       json={"suggestion_ids": people}).status_code == 201
    assert client.post(f"/api/v1/entries/{entry['id']}/decisions/bulk", headers=headers,
                       json={"suggestion_ids": [bruise["id"]]}).status_code == 422
    edited = client.post(f"/api/v1/entries/{entry['id']}/decisions", headers=headers, json={
        "suggestion_id": bruise["id"], "decision": "edit", "fields": {"assertion": "possible"}})
    assert edited.status_code == 201 and edited.json()["decision"] == "edited"
    start = TEXT.index("his bedroom")
    added = client.post(f"/api/v1/entries/{entry['id']}/facts", headers=headers, json={
        "kind": "tag", "start": start, "end": start + 11, "fields": {"label": "basic_care"}})
    assert added.status_code == 201
    outside = client.post(f"/api/v1/entries/{entry['id']}/facts", headers=headers, json={
        "kind": "tag", "start": 0, "end": 99_999, "fields": {"label": "basic_care"}})
    assert outside.status_code == 422
    final = client.post(f"/api/v1/entries/{entry['id']}/finalise", headers=headers).json()
    assert final["facts_stored"] >= 3 and final["facts_lost"] == 0
    facts = list(demo_db.query("SELECT kind, label, assertion FROM facts WHERE entry_id = ?",
                               [entry["id"]]))
    assert {"kind": "risk", "label": "physical_injury", "assertion": "possible"} in facts
    other = auth(demo_db, "worker2")
    assert client.get(f"/api/v1/entries/{entry['id']}/suggestions",
                      headers=other).status_code == 404
    assert client.post(f"/api/v1/entries/{entry['id']}/decisions", headers=other, json={
        "suggestion_id": bruise["id"], "decision": "reject"}).status_code == 404


def test_new_person_with_duplicate_check(client: TestClient, demo_db: Database) -> None:
    headers = auth(demo_db)
    jones = case_id(demo_db, "RFS-1042")
    entry = new_entry(client, demo_db, headers)
    state = client.post(f"/api/v1/entries/{entry['id']}/suggestions", headers=headers).json()
    dean = next(s for s in state["suggestions"] if s["kind"] == "person"
                and "Dean" in s["text"])
    assert dean["fields"]["person"] is None
    # Someone very like an existing person is flagged before a record is made.
    likely = client.post(f"/api/v1/cases/{jones}/people/duplicates", headers=headers,
                         json={"name": "Sara Jones", "dob": "1994-02-11"}).json()
    assert likely[0]["name"] == "Sarah Jones" and "same date of birth" in likely[0]["reasons"]
    assert client.post(f"/api/v1/cases/{jones}/people/duplicates", headers=headers,
                       json={"name": "Dean Walsh"}).json() == []
    made = client.post(f"/api/v1/entries/{entry['id']}/people", headers=headers, json={
        "suggestion_id": dean["id"], "name": "Dean Walsh", "category": "other",
        "relationship": "mother's boyfriend"})
    assert made.status_code == 201
    person = made.json()["person_id"]
    assert next(demo_db.query("SELECT case_id FROM people WHERE id = ?", [person]))[
        "case_id"] == jones
    client.post(f"/api/v1/entries/{entry['id']}/finalise", headers=headers)
    assert list(demo_db.query("SELECT person_id FROM facts WHERE entry_id = ? AND kind ="
                              " 'person' AND text LIKE 'Dean%'", [entry["id"]])) == [
        {"person_id": person}]


def test_engine_not_loaded_is_a_clear_503(settings: Settings, demo_db: Database) -> None:
    app = create_app(settings)
    with TestClient(app) as plain:
        response = plain.post("/api/v1/entries/1/suggestions", headers=auth(demo_db))
        assert response.status_code == 503 and "not loaded" in response.json()["error"]


def test_people_duplicates_and_merge_cli(tmp_path) -> None:  # noqa: ANN001
    import os
    import subprocess
    import sys

    env = {**os.environ, "CASENOTES_DATA_DIR": str(tmp_path), "CASENOTES_DEMO": "1"}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "service.cli", *args], env=env,
                              capture_output=True, text=True, timeout=120)

    run("init")
    run("demo")
    assert "No likely duplicates" in run("people", "duplicates").stdout
    from service.storage import open_db

    db = open_db(tmp_path / "casenotes.db")
    novak = case_id(db, "HCT-2001")
    admin = accounts.get_user_by_name(db, "admin")
    from service import cases

    copy = cases.add_person(db, admin, novak, {"name": "Sarah Jone", "category": "other",
                                               "dob": "1994-02-11"})
    listed = run("people", "duplicates").stdout
    assert "Sarah Jones" in listed and "Sarah Jone" in listed and "same date of birth" in listed
    original = next(db.query("SELECT id FROM people WHERE name = 'Sarah Jones'"))["id"]
    assert run("people", "merge", str(original), str(copy), "--by", "worker").returncode == 2
    merged = run("people", "merge", str(original), str(copy), "--by", "admin")
    assert merged.returncode == 0, merged.stderr
    assert "No likely duplicates" in run("people", "duplicates").stdout
    row = next(db.query("SELECT merged_into FROM people WHERE id = ?", [copy]))
    assert row["merged_into"] == original
    assert {r["action"] for r in db.query("SELECT action FROM access_log")} >= {"person.merge"}
