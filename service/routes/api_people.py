"""The JSON API for the people on a case record: add, read and edit a person, check for an
existing record first, or make a mention in an entry into a person on the case."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from service import cases, people, review
from service.routes.deps import ApiUser, DbDep, TaxonomyDep

# A person by id; the people of a case; a person made from an entry's mention.
router = APIRouter(prefix="/people", tags=["people"])
on_case = APIRouter(prefix="/cases/{case_id}/people", tags=["people"])
from_entry = APIRouter(prefix="/entries/{entry_id}/people", tags=["people"])


class PersonIn(BaseModel):
    name: str
    category: str = Field(description="child, parent, relative, carer, professional or other")
    relationship: str = ""
    dob: str | None = None
    address: str | None = None
    is_subject: bool = False


class PersonDetails(BaseModel):
    name: str
    category: str = "other"
    relationship: str = ""
    dob: str | None = None
    address: str | None = None


class NewPersonIn(PersonDetails):
    suggestion_id: int


@router.get("/{person_id}")
def get_person(db: DbDep, user: ApiUser, person_id: int) -> dict[str, Any]:
    return cases.get_person(db, user, person_id)


@router.put("/{person_id}")
def edit_person(db: DbDep, user: ApiUser, person_id: int, body: PersonIn) -> dict[str, Any]:
    cases.edit_person(db, user, person_id, body.model_dump())
    return cases.get_person(db, user, person_id)


@on_case.post("", status_code=201)
def add_person(db: DbDep, user: ApiUser, case_id: int, body: PersonIn) -> dict[str, Any]:
    """Add a person to a case record."""
    person_id = cases.add_person(db, user, case_id, body.model_dump())
    return cases.get_person(db, user, person_id)


@on_case.post("/duplicates")
def duplicates(db: DbDep, user: ApiUser, case_id: int, body: PersonDetails) -> list[dict[str, Any]]:
    """Likely existing people across the authority, before a new person is created."""
    return people.check_new_person(db, user, case_id, body.model_dump())


@from_entry.post("", status_code=201)
def add_person_from_mention(db: DbDep, user: ApiUser, taxonomy: TaxonomyDep, entry_id: int,
                            body: NewPersonIn) -> dict[str, Any]:
    """Make a mention of someone not on the record into a person on the case."""
    details = body.model_dump(exclude={"suggestion_id"})
    return review.add_person_from_mention(db, user, taxonomy,
                                          entry_id, body.suggestion_id, details)
