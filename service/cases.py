"""Family cases: my cases, the case page, the people on the record, allocations."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlite_utils import Database

from service import access
from service.accounts import User, get_user_by_name, team_id_for
from service.errors import Conflict, Invalid, NotFound
from service.storage import cases as case_rows
from service.storage import entries as entry_rows
from service.storage import facts as fact_rows
from service.storage.db import transaction
from service.storage.migrations import PERSON_CATEGORIES

PAGE_SIZE = 50


@dataclass
class CasePage:
    case: dict[str, Any]
    people: list[dict[str, Any]]
    entries: list[dict[str, Any]]
    total: int
    page: int
    pages: int
    newest_first: bool
    child_id: int | None
    drafts: list[dict[str, Any]]
    allocations: list[dict[str, Any]]
    filters: dict[str, Any]
    facts: dict[int, list[dict[str, Any]]]
    seen: dict[int, dict[str, str | None]]
    themes: list[str]
    risks: list[str]

    @property
    def children(self) -> list[dict[str, Any]]:
        return [p for p in self.people if p["category"] == "child"]


def my_cases(db: Database, user: User) -> list[dict[str, Any]]:
    """The cases this user may see, each with its children (and when each was last seen)."""
    if not user.roles & access.CASE_ROLES:
        return []
    cases = case_rows.cases_visible_to(db, user.id, user.team_id, user.team_wide)
    children = case_rows.children_of_cases(db, [c["id"] for c in cases])
    seen = fact_rows.last_seen(db, [c["id"] for c in children])
    by_case: dict[int, list[dict[str, Any]]] = {}
    for child in children:
        when = seen.get(child["id"], {})
        by_case.setdefault(child["case_id"], []).append(
            dict(child, last_seen=when.get("seen"), last_seen_alone=when.get("seen_alone")))
    access.record(db, user, "cases.list", detail=f"{len(cases)} cases")
    return [dict(case, children=by_case.get(case["id"], [])) for case in cases]


def case_page(db: Database, user: User, case_id: int, *, newest_first: bool = True,
              child_id: int | None = None, page: int = 1, person_id: int | None = None,
              tag: str | None = None, risk: str | None = None) -> CasePage:
    case = access.case_for(db, user, case_id, "case.view")
    people = case_rows.people_on_case(db, case_id)
    if child_id is not None and not any(p["id"] == child_id and p["category"] == "child"
                                        for p in people):
        raise NotFound("That child is not on this case.")
    if person_id is not None and not any(p["id"] == person_id for p in people):
        raise NotFound("That person is not on this case.")
    page = max(page, 1)
    entries, total = entry_rows.narrative(db, case_id, newest_first=newest_first,
                                          child_id=child_id, limit=PAGE_SIZE,
                                          offset=(page - 1) * PAGE_SIZE, person_id=person_id,
                                          tag=tag or None, risk=risk or None)
    confirmed = fact_rows.current_facts_of_case(db, case_id)
    return CasePage(
        case, people, entries, total, page, max(1, -(-total // PAGE_SIZE)), newest_first,
        child_id, entry_rows.drafts_by(db, case_id, user.id),
        case_rows.current_allocations(db, case_id),
        {"child": child_id, "person": person_id, "tag": tag, "risk": risk},
        fact_rows.current_facts_of_entries(db, [e["id"] for e in entries]),
        fact_rows.last_seen(db, [p["id"] for p in people if p["category"] == "child"]),
        sorted({f["label"] for f in confirmed if f["kind"] == "tag"}),
        sorted({f["label"] for f in confirmed if f["kind"] == "risk"}))


def professionals(db: Database, case_id: int) -> list[dict[str, Any]]:
    """Professionals involved, from the record, with when each was last mentioned in a
    confirmed fact (people added from a mention are on the record too)."""
    mentioned = fact_rows.last_mentioned(db, case_id)
    return [dict(p, last_mentioned=mentioned.get(p["id"]))
            for p in case_rows.people_on_case(db, case_id) if p["category"] == "professional"]


def case_record(db: Database, user: User, case_id: int) -> dict[str, Any]:
    """The case with its people, for the API."""
    case = access.case_for(db, user, case_id, "case.view")
    return dict(case, people=case_rows.people_on_case(db, case_id),
                allocations=case_rows.current_allocations(db, case_id))


# --- people on the record -------------------------------------------------------------

def _person_fields(fields: dict[str, Any]) -> dict[str, Any]:
    name = str(fields.get("name") or "").strip()
    if not name or len(name) > 200:
        raise Invalid("A person needs a name of up to 200 characters.")
    category = str(fields.get("category") or "")
    if category not in PERSON_CATEGORIES:
        raise Invalid(f"Choose what the person is to the family: {', '.join(PERSON_CATEGORIES)}.")
    dob = (fields.get("dob") or None)
    if dob:
        try:
            if date.fromisoformat(str(dob)) > date.today():
                raise Invalid("A date of birth cannot be in the future.")
        except ValueError as err:
            raise Invalid("A date of birth looks like 2019-04-23.") from err
    relationship = str(fields.get("relationship") or "").strip()[:200]
    address = (str(fields.get("address") or "").strip()[:500]) or None
    return {"name": name, "category": category, "relationship": relationship, "dob": dob,
            "address": address, "is_subject": bool(fields.get("is_subject"))}


def editable_case(db: Database, user: User, case_id: int, action: str, *,
                  log_allowed: bool = False) -> dict[str, Any]:
    """Admins keep the record; anyone who may read the case may add to it."""
    return access.guard(db, user, action, lambda: case_rows.case_by_id(db, case_id),
                        access.Place, rule=access.keeps_record,
                        missing="There is no such case.", log_allowed=log_allowed)


def person_for(db: Database, user: User, person_id: int, action: str) -> dict[str, Any]:
    """A person on the record, for those who keep or read their case; to anyone else, a
    person on a case they cannot see answers as missing."""
    return access.guard(
        db, user, action, lambda: case_rows.person_by_id(db, person_id),
        lambda person: access.in_case(db, person["case_id"], person_id=person_id),
        rule=access.keeps_record, missing="There is no such person.", hide=True)


def add_person(db: Database, user: User, case_id: int, fields: dict[str, Any]) -> int:
    clean = _person_fields(fields)
    with transaction(db):
        editable_case(db, user, case_id, "person.add")
        person_id = case_rows.insert_person(db, case_id, clean)
        access.record(db, user, "person.add", case_id=case_id, person_id=person_id)
    return person_id


def edit_person(db: Database, user: User, person_id: int, fields: dict[str, Any]) -> None:
    clean = _person_fields(fields)
    with transaction(db):
        person_for(db, user, person_id, "person.edit")
        case_rows.update_person(db, person_id, clean)


def get_person(db: Database, user: User, person_id: int) -> dict[str, Any]:
    return person_for(db, user, person_id, "person.view")


def people_for_admin(db: Database, user: User, case_id: int) -> tuple[dict[str, Any],
                                                                     list[dict[str, Any]]]:
    case = editable_case(db, user, case_id, "people.view", log_allowed=True)
    return case, case_rows.people_on_case(db, case_id)


# --- cases and allocations (admin) ------------------------------------------------------

REFERENCE = re.compile(r"^[A-Za-z0-9-]{2,30}$")


def create_case(db: Database, user: User, reference: str, family_name: str,
                team: str | None) -> int:
    access.require_admin(db, user, "case.create")
    reference, family_name = reference.strip(), family_name.strip()
    if not REFERENCE.match(reference):
        raise Invalid("A case reference is 2 to 30 letters, digits or dashes.")
    if not family_name or len(family_name) > 200:
        raise Invalid("A case needs a family name of up to 200 characters.")
    with transaction(db):
        if any(c["reference"] == reference for c in case_rows.list_cases(db)):
            raise Conflict(f"There is already a case {reference}.")
        case_id = case_rows.insert_case(db, reference, family_name,
                                        team_id_for(db, team) if team else None)
        access.record(db, user, "case.create", case_id=case_id)
    return case_id


def all_cases(db: Database, user: User) -> list[dict[str, Any]]:
    access.require_admin(db, user, "cases.admin")
    cases = case_rows.list_cases(db)
    return [dict(c, allocations=case_rows.current_allocations(db, c["id"])) for c in cases]


def allocate(db: Database, user: User, case_id: int, username: str) -> None:
    access.require_admin(db, user, "allocation.add")
    worker = get_user_by_name(db, username)
    with transaction(db):
        if case_rows.case_by_id(db, case_id) is None:
            raise NotFound("There is no such case.")
        if case_rows.is_allocated(db, case_id, worker.id):
            raise Conflict(f"{worker.username} is already allocated to this case.")
        case_rows.insert_allocation(db, case_id, worker.id, user.id)
        access.record(db, user, "allocation.add", case_id=case_id, detail=worker.username)


def deallocate(db: Database, user: User, case_id: int, username: str) -> None:
    access.require_admin(db, user, "allocation.end")
    worker = get_user_by_name(db, username)
    with transaction(db):
        if case_rows.end_allocation(db, case_id, worker.id, user.id) == 0:
            raise NotFound(f"{worker.username} is not allocated to this case.")
        access.record(db, user, "allocation.end", case_id=case_id, detail=worker.username)
