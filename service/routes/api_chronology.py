"""The JSON API for a case's chronology: its significant events, and marking them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from service import chronology
from service.routes.deps import ApiUser, DbDep, TaxonomyDep

router = APIRouter(prefix="/cases/{case_id}/chronology", tags=["chronology"])


class MarkIn(BaseModel):
    entry_id: int
    fact_id: int | None = Field(None, description="A confirmed fact in the entry; "
                                                  "omit to mark the whole entry")
    significant: bool = Field(True, description="false to take it out of the chronology")
    summary: str | None = Field(None, description="One line; omit to keep the current one")


@router.get("")
def case_chronology(request: Request, db: DbDep, user: ApiUser, taxonomy: TaxonomyDep,
                    case_id: int, child: int | None = None) -> dict[str, Any]:
    """Significant events in the order they happened (query: child, from, to)."""
    chron = chronology.chronology(db, user, case_id, taxonomy=taxonomy, child_id=child,
                                  date_from=request.query_params.get("from"),
                                  date_to=request.query_params.get("to"),
                                  action="chronology.api")
    return chron.as_json()


@router.get("/marks")
def mark_history(db: DbDep, user: ApiUser, case_id: int, entry_id: int,
                 fact_id: int | None = None) -> list[dict[str, Any]]:
    """Every mark on one entry (or one confirmed fact in it), oldest first: who marked or
    unmarked it as significant, when, and the summary they gave."""
    return chronology.history(db, user, case_id, entry_id, fact_id)


@router.post("/marks", status_code=201)
def mark(db: DbDep, user: ApiUser, case_id: int, body: MarkIn) -> dict[str, Any]:
    """Mark or unmark an entry or a confirmed fact as significant, or edit its summary."""
    chronology.mark(db, user, case_id, body.entry_id, fact_id=body.fact_id,
                    significant=body.significant, summary=body.summary)
    return {"case_id": case_id, "entry_id": body.entry_id, "fact_id": body.fact_id,
            "significant": body.significant}
