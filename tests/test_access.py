"""The one access guard: who reaches which record, what each refusal looks like, and that
every look and every refusal is in the access log (refusals even after a rollback)."""

from __future__ import annotations

import contextlib
import itertools
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

from service import access, accounts
from service.accounts import User
from service.errors import Forbidden, Invalid, NotFound, NotYours
from service.storage import access_log
from service.storage import cases as case_rows
from service.storage import users as user_rows
from service.storage.db import transaction
from tests.conftest import PASSWORDS, case_id, csrf_of

# --- the guard itself -------------------------------------------------------------------


def _user(db: Database, username: str) -> User:
    return accounts.get_user_by_name(db, username)


def _sarah(db: Database) -> dict[str, Any]:
    jones = case_id(db, "RFS-1042")
    return next(p for p in case_rows.people_on_case(db, jones) if p["name"] == "Sarah Jones")


def _person_guard(db: Database, user: User, person_id: int, *, hide: bool = True) -> Any:
    return access.guard(
        db, user, "test.person", lambda: case_rows.person_by_id(db, person_id),
        lambda person: access.in_case(db, person["case_id"], person_id=person["id"]),
        missing="There is no such person.", hide=hide)


def test_allowed_and_refused_are_each_logged_once(demo_db: Database) -> None:
    sarah = _sarah(demo_db)
    assert _person_guard(demo_db, _user(demo_db, "worker"), sarah["id"])["id"] == sarah["id"]
    with pytest.raises(NotYours):
        _person_guard(demo_db, _user(demo_db, "worker2"), sarah["id"])
    rows = access_log.access_rows(demo_db, "test.person")
    assert [(r["user_id"], r["outcome"], r["case_id"], r["person_id"]) for r in rows] == [
        (_user(demo_db, "worker").id, "allowed", sarah["case_id"], sarah["id"]),
        (_user(demo_db, "worker2").id, "denied", sarah["case_id"], sarah["id"])]


def test_a_hidden_refusal_is_the_same_error_as_a_missing_record(demo_db: Database) -> None:
    outsider = _user(demo_db, "worker2")
    with pytest.raises(NotFound) as refused:
        _person_guard(demo_db, outsider, _sarah(demo_db)["id"])
    with pytest.raises(NotFound) as missing:
        _person_guard(demo_db, outsider, 999_999)
    assert type(refused.value) is type(missing.value) is NotYours
    assert refused.value.message == missing.value.message
    # Without `hide` the refusal says why, with its own status.
    with pytest.raises(Forbidden, match="Ask your manager"):
        _person_guard(demo_db, outsider, _sarah(demo_db)["id"], hide=False)


def test_log_allowed_false_logs_refusals_only(demo_db: Database) -> None:
    sarah = _sarah(demo_db)
    for username in ("worker", "worker2"):
        with contextlib.suppress(Forbidden):
            access.guard(demo_db, _user(demo_db, username), "test.poll",
                         lambda: case_rows.person_by_id(demo_db, sarah["id"]),
                         lambda person: access.in_case(demo_db, person["case_id"]),
                         missing="There is no such person.", log_allowed=False)
    assert [r["outcome"] for r in access_log.access_rows(demo_db, "test.poll")] == ["denied"]


def test_refusal_is_logged_though_the_transaction_rolls_back(demo_db: Database) -> None:
    jones = case_id(demo_db, "RFS-1042")
    outsider = _user(demo_db, "worker2")
    before = len(case_rows.people_on_case(demo_db, jones))
    with pytest.raises(NotYours), transaction(demo_db):
        # A write that the refusal must undo, then the refusal.
        case_rows.insert_person(demo_db, jones, {"name": "Written Then Undone",
                                                 "category": "other"})
        _person_guard(demo_db, outsider, _sarah(demo_db)["id"])
    assert len(case_rows.people_on_case(demo_db, jones)) == before
    denied = access_log.access_rows(demo_db, "test.person")
    assert [(r["user_id"], r["outcome"]) for r in denied] == [(outsider.id, "denied")]


def test_a_caught_refusal_stays_logged_when_something_else_rolls_back(demo_db: Database
                                                                      ) -> None:
    outsider = _user(demo_db, "worker2")
    with pytest.raises(Invalid), transaction(demo_db):
        with pytest.raises(NotYours):
            _person_guard(demo_db, outsider, _sarah(demo_db)["id"])
        raise Invalid("a later step fails")
    assert [r["outcome"] for r in access_log.access_rows(demo_db, "test.person")] == ["denied"]


def test_an_allowed_look_inside_a_failed_write_goes_with_it(demo_db: Database) -> None:
    with pytest.raises(Invalid), transaction(demo_db):
        _person_guard(demo_db, _user(demo_db, "worker"), _sarah(demo_db)["id"])
        raise Invalid("the write fails")
    assert access_log.access_rows(demo_db, "test.person") == []


def test_refused_person_edit_over_http_is_logged_and_changes_nothing(
        client: TestClient, demo_db: Database) -> None:
    sarah = _sarah(demo_db)
    answer = client.put(f"/api/v1/people/{sarah['id']}", headers=_bearer(demo_db, "worker2"),
                        json={"name": "Changed", "category": "parent"})
    assert answer.status_code == 404
    assert case_rows.person_by_id(demo_db, sarah["id"])["name"] == "Sarah Jones"
    assert [r["outcome"] for r in access_log.access_rows(demo_db, "person.edit")] == ["denied"]


_counter = itertools.count()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(roles=st.sets(st.sampled_from(sorted(accounts.ROLES))),
       team=st.sampled_from([None, "Riverside Family Support", "Hillcrest Children's Team"]),
       allocated=st.booleans(), exists=st.booleans())
def test_every_call_is_answered_and_logged_by_the_case_rule(
        demo_db: Database, roles: set[str], team: str | None, allocated: bool,
        exists: bool) -> None:
    """For any account, the guard lets in exactly those `can_read_case` lets in, hides the
    rest as missing, and writes one log row for every record that exists."""
    jones = case_id(demo_db, "RFS-1042")
    username = f"prop{next(_counter)}"
    with transaction(demo_db):
        user_id = user_rows.insert_user(demo_db, username, username, "not-a-hash",
                                        accounts.team_id_for(demo_db, team) if team else None)
        user_rows.set_roles(demo_db, user_id, sorted(roles))
        if allocated:
            case_rows.insert_allocation(demo_db, jones, user_id, None)
    user = accounts.get_user(demo_db, user_id)
    person_id = _sarah(demo_db)["id"] if exists else 999_999
    may = access.can_read_case(demo_db, user, case_rows.case_by_id(demo_db, jones))
    try:
        _person_guard(demo_db, user, person_id)
        outcome = "allowed"
    except NotYours as err:
        assert err.message == "There is no such person."
        outcome = "denied"
    assert outcome == ("allowed" if may and exists else "denied")
    mine = [r for r in access_log.access_rows(demo_db, "test.person") if r["user_id"] == user_id]
    assert [r["outcome"] for r in mine] == ([outcome] if exists else [])


# --- the access matrix over real HTTP -----------------------------------------------------

ROLES = ("worker", "unallocated", "reviewer", "manager", "other_manager", "admin")
EXTRA = {"unallocated": (["worker"], "Riverside Family Support"),
         "other_manager": (["manager"], "Hillcrest Children's Team")}
PASSWORD = "matrix-pass-0123"

#            worker  unalloc reviewer manager other_mgr admin
MATRIX = {
    "case":      (200, 403, 200, 200, 403, 403),
    "entry":     (200, 404, 200, 200, 404, 404),
    "draft":     (200, 404, 404, 404, 404, 404),
    "dictation": (200, 404, 404, 404, 404, 404),
    "person":    (200, 404, 200, 200, 404, 200),
    "dashboard": (403, 403, 403, 200, 403, 403),
    "search":    (200, 403, 200, 200, 403, 403),
}
ACTIONS = {"case": "case.view", "entry": "entry.view", "draft": "entry.view",
           "dictation": "dictation.cancel", "person": "person.view",
           "dashboard": "dashboard.view", "search": "search"}


def _bearer(db: Database, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {accounts.create_token(db, username)}"}


def _username(role: str) -> str:
    return role if role not in EXTRA else role.replace("_", "")


@pytest.fixture
def world(client: TestClient, demo_db: Database) -> dict[str, Any]:
    """The Jones case with a final entry, the worker's draft and its dictation, Sarah on the
    record, and two more accounts: a worker of the team not allocated, another team's manager."""
    for role, (roles, team) in EXTRA.items():
        accounts.add_user(demo_db, _username(role), PASSWORD, roles, team)
    jones = case_id(demo_db, "RFS-1042")
    worker = _bearer(demo_db, "worker")
    draft = client.post(f"/api/v1/cases/{jones}/entries", headers=worker,
                        json={"kind": "other", "text": "A private draft."}).json()
    job = client.post("/api/v1/dictations", headers=worker,
                      json={"filename": "visit.wav", "entry_id": draft["id"]}).json()
    final = client.get(f"/api/v1/cases/{jones}/entries", headers=worker).json()["entries"][0]
    team = accounts.team_id_for(demo_db, "Riverside Family Support")
    return {"case": jones, "entry": final["id"], "draft": draft["id"], "dictation": job["id"],
            "person": _sarah(demo_db)["id"], "dashboard": team, "search": jones, "team": team}


def _ask(client: TestClient, db: Database, resource: str, username: str, ids: dict[str, Any],
         thing: int | None = None) -> Any:
    """One request for `resource` as `username`; `thing` replaces the record's id."""
    key = thing if thing is not None else ids[resource]
    headers = _bearer(db, username)
    if resource == "case":
        client.cookies.clear()
        login = client.get("/login")
        client.post("/login", data={"username": username, "csrf_token": csrf_of(login.text),
                                    "password": PASSWORDS.get(username, PASSWORD)})
        return client.get(f"/cases/{key}")
    if resource in ("entry", "draft"):
        return client.get(f"/api/v1/entries/{key}", headers=headers)
    if resource == "dictation":
        return client.post(f"/api/v1/dictations/{key}/cancel", headers=headers)
    if resource == "person":
        return client.get(f"/api/v1/people/{key}", headers=headers)
    if resource == "dashboard":
        return client.get(f"/api/v1/dashboard?team={key}", headers=headers)
    return client.get(f"/api/v1/search?q=visit&case={key}", headers=headers)


@pytest.mark.parametrize("resource", list(MATRIX))
def test_access_matrix(client: TestClient, demo_db: Database, world: dict[str, Any],
                       resource: str) -> None:
    # The dictation is cancelled by its own worker last, so the others meet it as it was.
    order = sorted(range(len(ROLES)), key=lambda i: ROLES[i] == "worker")
    for i in order:
        role, status, username = ROLES[i], MATRIX[resource][i], _username(ROLES[i])
        user = _user(demo_db, username)
        logged = len(access_log.access_rows(demo_db, ACTIONS[resource]))
        answer = _ask(client, demo_db, resource, username, world)
        assert answer.status_code == status, (resource, role, answer.text[:300])
        new = [r for r in access_log.access_rows(demo_db, ACTIONS[resource])[logged:]
               if r["user_id"] == user.id]
        assert [r["outcome"] for r in new] == ["allowed" if status == 200 else "denied"], (
            resource, role)
        row = new[0]
        if resource == "dashboard":
            assert row["case_id"] is None and row["detail"].startswith(f"team {world['team']}")
        else:
            assert row["case_id"] == world["case"], (resource, role)
        if status == 404:
            # Not yours answers exactly as not there: same status, same body.
            missing = _ask(client, demo_db, resource, username, world, thing=999_999)
            assert (missing.status_code, missing.json()) == (404, answer.json()), role
        if status == 403 and resource == "case":
            assert re.search(r"Ask your manager", answer.text), role
