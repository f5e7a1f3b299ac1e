"""JSON API for reviewing suggestions: the same operations as the entry page, access-checked."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from service import review
from service.routes.deps import ApiUser, DbDep, suggester_of

# Reviewing an entry's suggestions, under the entry; and suggestions for a text, kept nowhere.
router = APIRouter(prefix="/entries/{entry_id}", tags=["review"])
stateless = APIRouter(prefix="/suggest", tags=["review"])


class SuggestIn(BaseModel):
    case_id: int
    occurred_on: date
    text: str


class DecisionIn(BaseModel):
    suggestion_id: int
    decision: Literal["accept", "edit", "reject"]
    fields: dict[str, Any] = Field(default_factory=dict,
                                   description="For edit: person, value, label, assertion...")


class BulkIn(BaseModel):
    suggestion_ids: list[int]


class FactIn(BaseModel):
    kind: Literal["person", "date", "risk", "tag", "child_seen"]
    start: int
    end: int
    fields: dict[str, Any] = Field(default_factory=dict)


@stateless.post("")
def suggest(request: Request, db: DbDep, user: ApiUser, body: SuggestIn) -> list[dict[str, Any]]:
    """Suggestions for a text on a case, stored nowhere."""
    return review.suggest_text(db, user, suggester_of(request), body.case_id, body.occurred_on,
                               body.text)


@router.post("/suggestions")
def run_suggestions(request: Request, db: DbDep, user: ApiUser, entry_id: int) -> dict[str, Any]:
    """Run the suggester over the entry's current words; returns the review state."""
    return review.suggest_entry(db, user, suggester_of(request), entry_id)


@router.get("/suggestions")
def review_state(db: DbDep, user: ApiUser, entry_id: int) -> dict[str, Any]:
    """The latest suggestions with each decision, hand-added facts and current facts."""
    return review.review_state(db, user, entry_id)


@router.post("/decisions", status_code=201)
def decide(request: Request, db: DbDep, user: ApiUser, entry_id: int,
           body: DecisionIn) -> dict[str, Any]:
    """Accept, edit or reject one suggestion."""
    return review.decide(db, user, review.Taxonomy.of(suggester_of(request)), entry_id,
                         body.suggestion_id, body.decision, body.fields)


@router.post("/decisions/bulk", status_code=201)
def accept_many(request: Request, db: DbDep, user: ApiUser, entry_id: int,
                body: BulkIn) -> list[dict[str, Any]]:
    """Accept several people and dates at once (risk indicators are confirmed one by one)."""
    return review.accept_many(db, user, review.Taxonomy.of(suggester_of(request)), entry_id,
                              body.suggestion_ids)


@router.post("/facts", status_code=201)
def add_fact(request: Request, db: DbDep, user: ApiUser, entry_id: int,
             body: FactIn) -> dict[str, Any]:
    """Add a fact the engine missed, from selected words."""
    return review.add_fact(db, user, review.Taxonomy.of(suggester_of(request)), entry_id,
                           body.kind, body.start, body.end, body.fields)
