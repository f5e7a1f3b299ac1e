"""JSON API under /api/v1: the same operations and access rules as the pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from service import access, cases, entries, review
from service.routes.deps import ApiUser, DbDep

router = APIRouter(prefix="/api/v1", tags=["api"])


class EntryIn(BaseModel):
    kind: str = Field(description="home_visit, office_visit, phone_call, school_visit, "
                                  "meeting or other")
    occurred_at: str | None = Field(None, description="When it happened (ISO date-time); "
                                                      "default now")
    text: str = ""
    children: list[int] | None = Field(None, description="Children it is about; default all")


class DraftIn(BaseModel):
    text: str
    version: int | None = Field(None, description="The draft version this edit started from")
    kind: str | None = None
    occurred_at: str | None = None
    children: list[int] | None = None


class RevisionIn(BaseModel):
    text: str
    based_on: int | None = Field(None, description="The revision number this amendment edits")
    kind: str | None = None
    occurred_at: str | None = None
    children: list[int] | None = None


class PersonIn(BaseModel):
    name: str
    category: str = Field(description="child, parent, relative, carer, professional or other")
    relationship: str = ""
    dob: str | None = None
    address: str | None = None
    is_subject: bool = False


class Revision(BaseModel):
    number: int
    kind: str
    occurred_at: str
    text: str
    children: list[int]
    author_id: int
    author_name: str
    created_at: str


class Entry(BaseModel):
    id: int
    case_id: int
    status: Literal["draft", "final"]
    kind: str
    occurred_at: str
    author_id: int
    author_name: str
    created_at: str
    finalised_at: str | None
    revision_count: int
    text: str | None = Field(description="The latest final text (null for a draft)")
    children: list[int]
    draft_text: str | None
    draft_version: int
    revisions: list[Revision] | None = None
    facts_stored: int | None = Field(None, description="On finalising: facts stored")
    facts_lost: int | None = Field(None, description="On finalising: confirmed facts whose "
                                                     "words were no longer in the text")
    reconfirm: list[dict[str, Any]] | None = Field(None, description="On amending: facts "
                                                   "whose words changed, to confirm again")


def _entry(row: dict[str, Any]) -> Entry:
    return Entry.model_validate(row)


@router.get("/cases")
def list_cases(db: DbDep, user: ApiUser) -> list[dict[str, Any]]:
    """The cases you may see, with their children."""
    return cases.my_cases(db, user)


@router.get("/cases/{case_id}")
def get_case(db: DbDep, user: ApiUser, case_id: int) -> dict[str, Any]:
    """A case with the people on its record."""
    return cases.case_record(db, user, case_id)


@router.get("/cases/{case_id}/entries")
def case_entries(db: DbDep, user: ApiUser, case_id: int,
                 order: Literal["newest", "oldest"] = "newest", child: int | None = None,
                 page: int = Query(1, ge=1)) -> dict[str, Any]:
    """The family narrative: final entries in order of when they happened, 50 a page."""
    view = cases.case_page(db, user, case_id, newest_first=order == "newest", child_id=child,
                           page=page)
    return {"total": view.total, "page": view.page, "pages": view.pages,
            "entries": [_entry(e) for e in view.entries]}


@router.post("/cases/{case_id}/entries", status_code=201)
def create_entry(db: DbDep, user: ApiUser, case_id: int, body: EntryIn) -> Entry:
    """Start an entry (a draft); finalise it with POST /entries/{id}/finalise."""
    return _entry(entries.start_entry(db, user, case_id, body.kind,
                                      body.occurred_at or datetime.now().isoformat(),
                                      body.text, body.children))


@router.get("/entries/{entry_id}")
def get_entry(db: DbDep, user: ApiUser, entry_id: int) -> Entry:
    """An entry with every revision, oldest first."""
    return _entry(entries.get_entry(db, user, entry_id))


@router.put("/entries/{entry_id}/draft")
def save_draft(db: DbDep, user: ApiUser, entry_id: int, body: DraftIn) -> dict[str, int]:
    """Autosave a draft (or an amendment in progress). 409 if `version` is stale."""
    version = entries.save_draft(db, user, entry_id, body.text, version=body.version,
                                 kind=body.kind, occurred_at=body.occurred_at,
                                 children=body.children)
    return {"id": entry_id, "version": version}


@router.post("/entries/{entry_id}/finalise")
def finalise(db: DbDep, user: ApiUser, entry_id: int) -> Entry:
    """Make the draft final: it becomes revision 1 and is never changed in place.
    The draft's confirmed suggestions become facts; pending ones are discarded."""
    return _entry(review.finalise(db, user, entry_id))


@router.post("/entries/{entry_id}/revisions", status_code=201)
def amend(db: DbDep, user: ApiUser, entry_id: int, body: RevisionIn) -> Entry:
    """Amend a final entry: a new revision; earlier ones stay readable."""
    return _entry(review.amend(db, user, entry_id, body.text, kind=body.kind,
                               occurred_at=body.occurred_at, children=body.children,
                               based_on=body.based_on))


@router.post("/cases/{case_id}/people", status_code=201)
def add_person(db: DbDep, user: ApiUser, case_id: int, body: PersonIn) -> dict[str, Any]:
    """Add a person to a case record."""
    person_id = cases.add_person(db, user, case_id, body.model_dump())
    return cases.get_person(db, user, person_id)


@router.get("/people/{person_id}")
def get_person(db: DbDep, user: ApiUser, person_id: int) -> dict[str, Any]:
    return cases.get_person(db, user, person_id)


@router.put("/people/{person_id}")
def edit_person(db: DbDep, user: ApiUser, person_id: int, body: PersonIn) -> dict[str, Any]:
    cases.edit_person(db, user, person_id, body.model_dump())
    return cases.get_person(db, user, person_id)


@router.get("/cases/{case_id}/access-log")
def case_access_log(db: DbDep, user: ApiUser, case_id: int) -> list[dict[str, Any]]:
    """Who looked at or changed this case, newest first (admins)."""
    return access.case_log(db, user, case_id)
