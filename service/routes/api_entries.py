"""The JSON API for entries: read one, autosave its draft, finalise it, amend it.

The shapes here are the entry's inbound and outbound forms; the case routes use them too.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from service import entries, review
from service.routes.deps import ApiUser, DbDep

router = APIRouter(prefix="/entries", tags=["entries"])


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


def entry_out(row: dict[str, Any]) -> Entry:
    return Entry.model_validate(row)


@router.get("/{entry_id}")
def get_entry(db: DbDep, user: ApiUser, entry_id: int) -> Entry:
    """An entry with every revision, oldest first."""
    return entry_out(entries.get_entry(db, user, entry_id))


@router.put("/{entry_id}/draft")
def save_draft(db: DbDep, user: ApiUser, entry_id: int, body: DraftIn) -> dict[str, int]:
    """Autosave a draft (or an amendment in progress). 409 if `version` is stale."""
    version = entries.save_draft(db, user, entry_id, body.text, version=body.version,
                                 kind=body.kind, occurred_at=body.occurred_at,
                                 children=body.children)
    return {"id": entry_id, "version": version}


@router.post("/{entry_id}/finalise")
def finalise(db: DbDep, user: ApiUser, entry_id: int) -> Entry:
    """Make the draft final: it becomes revision 1 and is never changed in place.
    The draft's confirmed suggestions become facts; pending ones are discarded."""
    return entry_out(review.finalise(db, user, entry_id))


@router.post("/{entry_id}/revisions", status_code=201)
def amend(db: DbDep, user: ApiUser, entry_id: int, body: RevisionIn) -> Entry:
    """Amend a final entry: a new revision; earlier ones stay readable."""
    return entry_out(review.amend(db, user, entry_id, body.text, kind=body.kind,
                                  occurred_at=body.occurred_at, children=body.children,
                                  based_on=body.based_on))
