"""JSON API for reviewing suggestions: the same operations as the entry page, access-checked."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from service import chips, fact_kinds, people, review
from service.routes.deps import ApiUser, DbDep, SuggesterDep, TaxonomyDep

router = APIRouter(prefix="/api/v1", tags=["review"])


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


class PersonDetails(BaseModel):
    name: str
    category: str = "other"
    relationship: str = ""
    dob: str | None = None
    address: str | None = None


class NewPersonIn(PersonDetails):
    suggestion_id: int


@router.post("/suggest")
def suggest(db: DbDep, user: ApiUser, suggester: SuggesterDep,
            body: SuggestIn) -> list[dict[str, Any]]:
    """Suggestions for a text on a case, stored nowhere."""
    return review.suggest_text(db, user, suggester, body.case_id, body.occurred_on,
                               body.text)


@router.post("/entries/{entry_id}/suggestions")
def run_suggestions(db: DbDep, user: ApiUser, suggester: SuggesterDep,
                    entry_id: int) -> dict[str, Any]:
    """Run the suggester over the entry's current words; returns the review state."""
    return review.suggest_entry(db, user, suggester, entry_id)


@router.get("/entries/{entry_id}/suggestions")
def review_state(db: DbDep, user: ApiUser, taxonomy: TaxonomyDep, entry_id: int
                 ) -> dict[str, Any]:
    """The latest suggestions with each decision, hand-added facts and current facts."""
    return review.review_state(db, user, entry_id, labels=chips.labels_of(taxonomy))


@router.post("/entries/{entry_id}/decisions", status_code=201)
def decide(db: DbDep, user: ApiUser, taxonomy: TaxonomyDep, entry_id: int,
           body: DecisionIn) -> dict[str, Any]:
    """Accept, edit or reject one suggestion."""
    return review.decide(db, user, taxonomy, entry_id,
                         body.suggestion_id, body.decision, body.fields)


@router.post("/entries/{entry_id}/decisions/bulk", status_code=201)
def accept_many(db: DbDep, user: ApiUser, taxonomy: TaxonomyDep, entry_id: int,
                body: BulkIn) -> list[dict[str, Any]]:
    """Accept several people and dates at once (risk indicators are confirmed one by one)."""
    return review.accept_many(db, user, taxonomy, entry_id,
                              body.suggestion_ids)


@router.post("/entries/{entry_id}/facts", status_code=201)
def add_fact(db: DbDep, user: ApiUser, taxonomy: TaxonomyDep, entry_id: int,
             body: FactIn) -> dict[str, Any]:
    """Add a fact the engine missed, from selected words."""
    return review.add_fact(db, user, taxonomy, entry_id,
                           body.kind, body.start, body.end, body.fields)


@router.get("/fact-kinds")
def kinds(user: ApiUser) -> list[dict[str, Any]]:
    """The kinds of fact, in review-panel order: name, title, bulk acceptance, edit fields."""
    return fact_kinds.panel_specs()


@router.post("/entries/{entry_id}/people", status_code=201)
def add_person(db: DbDep, user: ApiUser, taxonomy: TaxonomyDep, entry_id: int,
               body: NewPersonIn) -> dict[str, Any]:
    """Make a mention of someone not on the record into a person on the case."""
    details = body.model_dump(exclude={"suggestion_id"})
    return review.add_person_from_mention(db, user, taxonomy,
                                          entry_id, body.suggestion_id, details)


@router.post("/cases/{case_id}/people/duplicates")
def duplicates(db: DbDep, user: ApiUser, case_id: int, body: PersonDetails) -> list[dict[str, Any]]:
    """Likely existing people across the authority, before a new person is created."""
    return people.check_new_person(db, user, case_id, body.model_dump())
