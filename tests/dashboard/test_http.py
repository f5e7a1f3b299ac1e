"""The manager view and chronologies over HTTP, for each role; exports opened and read."""

from __future__ import annotations

import csv
import html
import io
import re
from typing import Any

import pypdf
import pytest
from fastapi.testclient import TestClient
from sqlite_utils import Database

from service import accounts
from service.storage.access_log import access_rows
from tests.conftest import case_id, sign_in
from tests.dashboard.conftest import person


def bearer(db: Database, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {accounts.create_token(db, username)}"}


def _team(db: Database, name: str) -> int:
    return next(db.query("SELECT id FROM teams WHERE name LIKE ?", [name + "%"]))["id"]


def test_manager_sees_own_team(client: TestClient, demo_db: Database,
                               confirmed: dict[str, Any]) -> None:
    sign_in(client, "manager")
    home = client.get("/")
    assert 'href="/dashboard"' in home.text  # the header links the team view
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert "Riverside Family Support" in page.text and "Novak" not in page.text
    assert 'data-testid="chart-risk"' in page.text and "<svg" in page.text
    for testid in ("table-risk", "table-tag", "by-case", "by-worker", "recent-risks",
                   "children-seen", "acceptance-kind", "acceptance-rule"):
        assert f'data-testid="{testid}"' in page.text
    # Counts, never targets, deadlines or red lights.
    assert not re.search(r"deadline|overdue|govuk-tag--red|%\s*of target", page.text, re.I)
    assert client.get(f"/dashboard?team={_team(demo_db, 'Hillcrest')}").status_code == 403
    assert access_rows(demo_db, "dashboard.view")[-1]["outcome"] == "denied"


def test_each_number_links_to_as_many_entries(client: TestClient, demo_db: Database,
                                              confirmed: dict[str, Any]) -> None:
    sign_in(client, "manager")
    page = client.get("/dashboard").text
    links = re.findall(r'<a class="govuk-link" href="(/dashboard/entries\?[^"]+)"'
                       r' aria-label="(\d+) (?:entries|decisions)">', page)
    assert len(links) > 20
    for href, n in links:
        listing = client.get(html.unescape(href))
        assert listing.status_code == 200
        if "decision_kind" not in href:  # a decision count is of decisions, not entries
            shown = re.search(r'data-testid="entry-total">(\d+) entr', listing.text)
            assert shown and shown.group(1) == n, href
    risk = client.get("/dashboard/entries?kind=risk&label=domestic_abuse").text
    assert "Mum and Mark shout" in risk and "Marlon" in risk
    assert "Entries with Domestic abuse confirmed" in risk


@pytest.mark.parametrize("username", ["worker", "reviewer", "admin", "worker2"])
def test_others_cannot_see_the_manager_view(client: TestClient, demo_db: Database,
                                            username: str) -> None:
    sign_in(client, username)
    assert client.get("/dashboard").status_code == 403
    assert client.get("/dashboard/entries?kind=risk").status_code == 403
    assert 'href="/dashboard"' not in client.get("/").text


def test_admin_manager_sees_any_team(client: TestClient, demo_db: Database,
                                     confirmed: dict[str, Any]) -> None:
    accounts.set_roles(demo_db, "admin", ["admin", "manager"])
    sign_in(client, "admin")
    page = client.get(f"/dashboard?team={_team(demo_db, 'Hillcrest')}")
    assert page.status_code == 200 and "Novak" in page.text and "Jones" not in page.text


@pytest.mark.parametrize(("username", "status"), [
    ("worker", 200), ("reviewer", 200), ("manager", 200), ("admin", 403), ("worker2", 403)])
def test_chronology_page_and_exports_by_role(client: TestClient, demo_db: Database,
                                             confirmed: dict[str, Any], username: str,
                                             status: int) -> None:
    sign_in(client, username)
    jones = case_id(demo_db, "RFS-1042")
    for path in ("", "/print", ".pdf", ".csv"):
        assert client.get(f"/cases/{jones}/chronology{path}").status_code == status, path
    assert client.get(f"/api/v1/cases/{jones}/chronology",
                      headers=bearer(demo_db, username)).status_code == status


def test_case_page_links_the_chronology(client: TestClient, demo_db: Database) -> None:
    sign_in(client, "worker")
    jones = case_id(demo_db, "RFS-1042")
    assert f'href="/cases/{jones}/chronology"' in client.get(f"/cases/{jones}").text


def test_mark_edit_and_unmark_through_the_page(client: TestClient, demo_db: Database,
                                               confirmed: dict[str, Any]) -> None:
    csrf = sign_in(client, "worker")
    jones = case_id(demo_db, "RFS-1042")
    meeting = confirmed["jones"][4]["id"]
    page = client.get(f"/cases/{jones}/chronology")
    assert page.text.count('data-testid="event"') == 3 and "Proposed" in page.text
    back = f"/cases/{jones}/chronology?child={person(demo_db, 'Amy Jones')}"
    done = client.post(f"/cases/{jones}/chronology/marks",
                       data={"csrf_token": csrf, "entry_id": meeting, "significant": "1",
                             "back": back}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == back
    edited = client.post(f"/cases/{jones}/chronology/marks",
                         data={"csrf_token": csrf, "entry_id": meeting, "significant": "1",
                               "summary": "Core group: attendance 94%, drug test agreed",
                               "back": "https://evil.example/"}, follow_redirects=False)
    assert edited.headers["location"] == f"/cases/{jones}/chronology"
    page = client.get(f"/cases/{jones}/chronology").text
    assert page.count('data-testid="event"') == 4
    assert 'value="Core group: attendance 94%, drug test agreed"' in page
    client.post(f"/cases/{jones}/chronology/marks",
                data={"csrf_token": csrf, "entry_id": meeting, "significant": "0"})
    assert client.get(f"/cases/{jones}/chronology").text.count('data-testid="event"') == 3
    refused = client.post(f"/cases/{jones}/chronology/marks",
                          data={"entry_id": meeting, "significant": "1"})
    assert refused.status_code == 403  # no CSRF token


def test_pdf_export(client: TestClient, demo_db: Database, confirmed: dict[str, Any]) -> None:
    sign_in(client, "reviewer")
    jones = case_id(demo_db, "RFS-1042")
    jack = person(demo_db, "Jack Jones")
    response = client.get(f"/cases/{jones}/chronology.pdf?child={jack}")
    assert response.headers["content-type"] == "application/pdf"
    assert "attachment" in response.headers["content-disposition"]
    assert "RFS-1042-jack-jones" in response.headers["content-disposition"]
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    text = " ".join(" ".join((p.extract_text() or "").split()) for p in reader.pages)
    assert "Chronology: Jack Jones" in text
    assert "Exported by Priya Nair" in text
    first = confirmed["jones"][1]["occurred_at"][:10]
    assert re.search(r"Dates .*\d{4} to .*\d{4}", text) or first in text
    assert "Mum and Mark shout" in text and "PROPOSED" in text
    assert "Amy's weight" not in text  # Amy's event, not Jack's
    assert "Page 1 of" in text
    log = access_rows(demo_db, "chronology.export_pdf")
    assert log[-1]["outcome"] == "allowed" and log[-1]["case_id"] == jones


def test_csv_export(client: TestClient, demo_db: Database, confirmed: dict[str, Any]) -> None:
    sign_in(client, "manager")
    jones = case_id(demo_db, "RFS-1042")
    response = client.get(f"/cases/{jones}/chronology.csv?from=2000-01-01")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["label"] for r in rows] == ["Domestic abuse", "Neglect", "Substance misuse"]
    assert all(r["recorded_by"] == "Alex Morgan" and r["entry_id"] for r in rows)
    assert access_rows(demo_db, "chronology.export_csv")[-1]["outcome"] == "allowed"


def test_api(client: TestClient, demo_db: Database, confirmed: dict[str, Any]) -> None:
    jones = case_id(demo_db, "RFS-1042")
    manager = bearer(demo_db, "manager")
    figures = client.get("/api/v1/dashboard?days=7", headers=manager).json()
    assert figures["team"]["name"] == "Riverside Family Support"
    assert sum(figures["entries_by_month"]["risk"].values()) == 5
    assert [c["family_name"] for c in figures["recent"]] == ["Baptiste"]
    listing = client.get("/api/v1/dashboard/entries?kind=tag", headers=manager).json()
    assert listing["total"] == 3 and len(listing["entries"]) == 3
    for username in ("worker", "reviewer", "admin", "worker2"):
        assert client.get("/api/v1/dashboard", headers=bearer(demo_db, username)
                          ).status_code == 403
    worker = bearer(demo_db, "worker")
    marked = client.post(f"/api/v1/cases/{jones}/chronology/marks", headers=worker,
                         json={"entry_id": confirmed["jones"][0]["id"],
                               "summary": "First visit: home warm and tidy"})
    assert marked.status_code == 201
    chron = client.get(f"/api/v1/cases/{jones}/chronology", headers=worker).json()
    assert chron["subject"] == "Jones family"
    assert chron["events"][0]["summary"] == "First visit: home warm and tidy"
    assert chron["events"][0]["status"] == "significant"
    history = client.get(f"/api/v1/cases/{jones}/chronology/marks?entry_id="
                         f"{confirmed['jones'][0]['id']}", headers=worker).json()
    assert [(h["significant"], h["summary"], h["marked_by_name"]) for h in history] == [
        (1, "First visit: home warm and tidy", "Alex Morgan")]
    assert client.post(f"/api/v1/cases/{jones}/chronology/marks",
                       headers=bearer(demo_db, "worker2"),
                       json={"entry_id": confirmed["jones"][0]["id"]}).status_code == 403


def test_openapi_lists_the_endpoints(client: TestClient) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in ("/api/v1/dashboard", "/api/v1/dashboard/entries",
                 "/api/v1/cases/{case_id}/chronology", "/api/v1/cases/{case_id}/chronology/marks"):
        assert path in paths


def test_bad_filters_are_explained(client: TestClient, demo_db: Database) -> None:
    sign_in(client, "manager")
    for query in ("kind=maybe", "month=2026-13", "label=Not%20An%20Id", "since=yesterday",
                  "decision_kind=risk&decision=perhaps"):
        response = client.get(f"/dashboard/entries?{query}")
        assert response.status_code == 422, query
    jones = case_id(demo_db, "RFS-1042")
    assert client.get(f"/cases/{jones}/chronology?from=14/03/2026").status_code == 422
    assert client.get(f"/cases/{jones}/chronology?child=").status_code == 200  # "Whole family"
    assert client.get(f"/cases/{jones}/chronology?child=abc").status_code == 422
