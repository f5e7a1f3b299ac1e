"""Domain: accounts, access rules and entries, without HTTP, on a real SQLite file."""

from __future__ import annotations

import pytest
from sqlite_utils import Database

from service import access, accounts, cases, entries, review
from service.errors import Conflict, Forbidden, Invalid, NotYours, TooMany
from tests.conftest import case_id


def user(db: Database, name: str) -> accounts.User:
    return accounts.get_user_by_name(db, name)


def test_passwords_are_argon2_hashed(demo_db: Database) -> None:
    row = next(demo_db.query("SELECT password_hash FROM users WHERE username = 'worker'"))
    assert row["password_hash"].startswith("$argon2")
    assert "worker-demo-pass" not in row["password_hash"]


def test_sign_in_rate_limited(demo_db: Database) -> None:
    for _ in range(3):
        with pytest.raises(Invalid):
            accounts.sign_in(demo_db, "worker", "wrong", "1.2.3.4", 3, 1)
    with pytest.raises(TooMany):
        accounts.sign_in(demo_db, "worker", "worker-demo-pass", "1.2.3.4", 3, 1)


def test_who_sees_which_case(demo_db: Database) -> None:
    jones = case_id(demo_db, "RFS-1042")
    novak = case_id(demo_db, "HCT-2001")
    seen = {name: {c["reference"] for c in cases.my_cases(demo_db, user(demo_db, name))}
            for name in ("worker", "reviewer", "manager", "admin", "worker2")}
    assert seen["worker"] == {"RFS-1042", "RFS-1077", "RFS-1103"}
    assert seen["reviewer"] == seen["manager"] == seen["worker"]
    assert seen["admin"] == set()
    assert seen["worker2"] == {"HCT-2001"}
    with pytest.raises(Forbidden):
        cases.case_page(demo_db, user(demo_db, "worker2"), jones)
    with pytest.raises(Forbidden):
        cases.case_page(demo_db, user(demo_db, "admin"), jones)
    with pytest.raises(Forbidden):
        cases.case_page(demo_db, user(demo_db, "manager"), novak)
    denied = list(demo_db.query(
        "SELECT * FROM access_log WHERE outcome = 'denied' AND case_id = ?", [jones]))
    assert {d["user_id"] for d in denied} == {user(demo_db, "worker2").id,
                                               user(demo_db, "admin").id}


def test_admin_with_a_case_role_reads_allocated_cases(demo_db: Database) -> None:
    admin = user(demo_db, "admin")
    jones = case_id(demo_db, "RFS-1042")
    accounts.set_roles(demo_db, "admin", ["admin", "worker"])
    cases.allocate(demo_db, admin, jones, "admin")
    page = cases.case_page(demo_db, user(demo_db, "admin"), jones)
    assert page.case["reference"] == "RFS-1042"


def test_entry_lifecycle_keeps_every_revision(demo_db: Database) -> None:
    worker = user(demo_db, "worker")
    jones = case_id(demo_db, "RFS-1042")
    entry = entries.start_entry(demo_db, worker, jones, "phone_call", "2026-01-10T09:15",
                                "Rang Sarah")
    assert entry["status"] == "draft" and entry["text"] is None
    version = entries.save_draft(demo_db, worker, entry["id"], "Rang Sarah about Jack.",
                                 version=entry["draft_version"])
    with pytest.raises(Conflict):
        entries.save_draft(demo_db, worker, entry["id"], "stale page", version=version - 1)
    final = review.finalise(demo_db, worker, entry["id"])
    assert final["status"] == "final" and final["text"] == "Rang Sarah about Jack."
    with pytest.raises(Conflict):
        review.finalise(demo_db, worker, entry["id"])
    review.amend(demo_db, user(demo_db, "manager"), entry["id"],
                  "Rang Sarah about Jack's school.", based_on=1)
    with pytest.raises(Conflict):
        review.amend(demo_db, worker, entry["id"], "From an old page", based_on=1)
    got = entries.get_entry(demo_db, worker, entry["id"])
    assert [r["text"] for r in got["revisions"]] == ["Rang Sarah about Jack.",
                                                    "Rang Sarah about Jack's school."]
    assert got["revisions"][1]["author_name"] == "Sam Lowe"
    actions = [r["action"] for r in demo_db.query(
        "SELECT action FROM access_log WHERE entry_id = ? ORDER BY id", [entry["id"]])]
    assert {"entry.create", "entry.draft", "entry.finalise", "entry.amend",
            "entry.view"} <= set(actions)


@pytest.mark.parametrize("kind, when, text, message", [
    ("visit", "2026-01-01T10:00", "x", "kind of entry"),
    ("home_visit", "2999-01-01T10:00", "x", "future"),
    ("home_visit", "yesterday", "x", "date and time"),
    ("home_visit", "2026-01-01T10:00", "x" * 200_001, "200,000"),
])
def test_bad_entries_are_refused_and_nothing_written(demo_db: Database, kind: str, when: str,
                                                     text: str, message: str) -> None:
    before = demo_db["entries"].count
    with pytest.raises(Invalid, match=message):
        entries.start_entry(demo_db, user(demo_db, "worker"), case_id(demo_db, "RFS-1042"),
                            kind, when, text)
    assert demo_db["entries"].count == before


def test_drafts_are_private_to_their_author(demo_db: Database) -> None:
    jones = case_id(demo_db, "RFS-1042")
    entry = entries.start_entry(demo_db, user(demo_db, "worker"), jones, "other",
                                "2026-01-10T09:15", "private draft")
    with pytest.raises(NotYours):
        entries.get_entry(demo_db, user(demo_db, "manager"), entry["id"])


def test_child_thread_and_order(demo_db: Database) -> None:
    worker = user(demo_db, "worker")
    jones = case_id(demo_db, "RFS-1042")
    page = cases.case_page(demo_db, worker, jones, newest_first=True)
    jack = next(p for p in page.people if p["name"] == "Jack Jones")
    times = [e["occurred_at"] for e in page.entries]
    assert times == sorted(times, reverse=True)
    oldest = cases.case_page(demo_db, worker, jones, newest_first=False)
    assert [e["id"] for e in oldest.entries] == [e["id"] for e in reversed(page.entries)]
    thread = cases.case_page(demo_db, worker, jones, child_id=jack["id"])
    assert 0 < thread.total < page.total
    assert all(jack["id"] in e["children"] for e in thread.entries)


def test_people_edit_and_access_log(demo_db: Database) -> None:
    admin = user(demo_db, "admin")
    jones = case_id(demo_db, "RFS-1042")
    person = cases.add_person(demo_db, admin, jones, {"name": "Dean Hill", "category": "other",
                                                     "relationship": "mother's new partner"})
    cases.edit_person(demo_db, admin, person, {"name": "Dean Hill", "category": "carer",
                                               "relationship": "mother's partner"})
    assert cases.get_person(demo_db, admin, person)["category"] == "carer"
    with pytest.raises(Invalid):
        cases.add_person(demo_db, admin, jones, {"name": "", "category": "child"})
    with pytest.raises(Forbidden):
        cases.add_person(demo_db, user(demo_db, "worker2"), jones,
                         {"name": "X", "category": "other"})
    log = access.case_log(demo_db, admin, jones)
    assert {"person.add", "person.edit"} <= {r["action"] for r in log}
    with pytest.raises(Forbidden):
        access.case_log(demo_db, user(demo_db, "worker"), jones)


def test_user_admin_rules(demo_db: Database) -> None:
    with pytest.raises(Invalid, match="Unknown role"):
        accounts.add_user(demo_db, "newbie", "long-password", ["superuser"])
    with pytest.raises(Invalid, match="8 characters"):
        accounts.add_user(demo_db, "newbie", "short", ["worker"])
    with pytest.raises(Conflict):
        accounts.add_user(demo_db, "worker", "long-password", ["worker"])
    added = accounts.add_user(demo_db, "newbie", "long-password", ["worker"],
                              "Riverside Family Support")
    assert added.roles == {"worker"} and added.team_id is not None
    cases.deallocate(demo_db, user(demo_db, "admin"), case_id(demo_db, "RFS-1042"), "worker")
    assert "RFS-1042" not in {c["reference"] for c in cases.my_cases(demo_db,
                                                                     user(demo_db, "worker"))}


def test_refusals_inside_a_transaction_are_still_logged(demo_db: Database) -> None:
    jones = case_id(demo_db, "RFS-1042")
    outsider = user(demo_db, "worker2")
    with pytest.raises(Forbidden):
        entries.start_entry(demo_db, outsider, jones, "other", "2026-01-10T09:15", "x")
    with pytest.raises(Forbidden):
        cases.add_person(demo_db, outsider, jones, {"name": "X", "category": "other"})
    denied = [r["action"] for r in demo_db.query(
        "SELECT action FROM access_log WHERE outcome = 'denied' AND user_id = ?", [outsider.id])]
    assert denied == ["entry.create", "person.add"]
