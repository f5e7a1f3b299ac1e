"""JSON API for reviewing suggestions: the same operations as the entry page, access-checked."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from service import chips, fact_kinds, review
from service.routes.deps import ApiUser, DbDep, SuggesterDep, TaxonomyDep

# Reviewing an entry's suggestions, under the entry; suggestions for a text, kept nowhere;
# and the kinds of fact the review panel draws.
router = APIRouter(prefix="/entries/{entry_id}", tags=["review"])
stateless = APIRouter(prefix="/suggest", tags=["review"])
kinds_router = APIRouter(prefix="/fact-kinds", tags=["review"])


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
    kind: str = Field(description="A kind of fact: see GET /api/v1/fact-kinds")
    start: int
    end: int
    fields: dict[str, Any] = Field(default_factory=dict)


@stateless.post("")
def suggest(db: DbDep, user: ApiUser, suggester: SuggesterDep,
            body: SuggestIn) -> list[dict[str, Any]]:
    """Suggestions for a text on a case, stored nowhere."""
    return review.suggest_text(db, user, suggester, body.case_id, body.occurred_on,
                               body.text)


@router.post("/suggestions")
def run_suggestions(db: DbDep, user: ApiUser, suggester: SuggesterDep,
                    entry_id: int) -> dict[str, Any]:
    """Run the suggester over the entry's current words; returns the review state."""
    return review.suggest_entry(db, user, suggester, entry_id)


@router.get("/suggestions")
def review_state(db: DbDep, user: ApiUser, taxonomy: TaxonomyDep, entry_id: int
                 ) -> dict[str, Any]:
    """The latest suggestions with each decision, hand-added facts and current facts."""
    return review.review_state(db, user, entry_id, labels=chips.labels_of(taxonomy))


@router.post("/decisions", status_code=201)
def decide(db: DbDep, user: ApiUser, taxonomy: TaxonomyDep, entry_id: int,
           body: DecisionIn) -> dict[str, Any]:
    """Accept, edit or reject one suggestion."""
    return review.decide(db, user, taxonomy, entry_id,
                         body.suggestion_id, body.decision, body.fields)


@router.post("/decisions/bulk", status_code=201)
def accept_many(db: DbDep, user: ApiUser, taxonomy: TaxonomyDep, entry_id: int,
                body: BulkIn) -> list[dict[str, Any]]:
    """Accept several people and dates at once (risk indicators are confirmed one by one)."""
    return review.accept_many(db, user, taxonomy, entry_id,
                              body.suggestion_ids)


@router.post("/facts", status_code=201)
def add_fact(db: DbDep, user: ApiUser, taxonomy: TaxonomyDep, entry_id: int,
             body: FactIn) -> dict[str, Any]:
    """Add a fact the engine missed, from selected words."""
    return review.add_fact(db, user, taxonomy, entry_id,
                           body.kind, body.start, body.end, body.fields)


@kinds_router.get("")
def kinds(user: ApiUser) -> list[dict[str, Any]]:
    """The kinds of fact, in review-panel order: name, title, bulk acceptance, edit fields."""
    return fact_kinds.panel_specs()
