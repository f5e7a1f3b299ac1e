"""JSON API for the manager view's figures and for chronologies, under /api/v1."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from service import chronology, dashboard
from service.routes.deps import ApiUser, DbDep, TaxonomyDep

router = APIRouter(prefix="/api/v1", tags=["dashboard and chronology"])


class MarkIn(BaseModel):
    entry_id: int
    fact_id: int | None = Field(None, description="A confirmed fact in the entry; "
                                                  "omit to mark the whole entry")
    significant: bool = Field(True, description="false to take it out of the chronology")
    summary: str | None = Field(None, description="One line; omit to keep the current one")


@router.get("/dashboard")
def manager_view(db: DbDep, user: ApiUser, taxonomy: TaxonomyDep, team: int | None = None,
                 months: int = Query(dashboard.DEFAULT_MONTHS, ge=1, le=dashboard.MAX_MONTHS),
                 days: int = Query(dashboard.DEFAULT_DAYS, ge=1, le=366),
                 cases_page: int = Query(1, ge=1), children_page: int = Query(1, ge=1),
                 recent_page: int = Query(1, ge=1)
                 ) -> dict[str, Any]:
    """A team's confirmed risk indicators and themes (counts of entries), children last seen,
    and suggestion acceptance rates. Managers: own team; a manager who is an admin: any team.
    Cases and children come 50 a page."""
    view = dashboard.manager_view(db, user, team, taxonomy=taxonomy, months=months, days=days,
                                  cases_page=cases_page, children_page=children_page,
                                  recent_page=recent_page)
    return asdict(view)


@router.get("/dashboard/entries")
def entries_behind(request: Request, db: DbDep, user: ApiUser, taxonomy: TaxonomyDep,
                   team: int | None = None,
                   months: int = Query(dashboard.DEFAULT_MONTHS, ge=1, le=dashboard.MAX_MONTHS),
                   page: int = Query(1, ge=1)) -> dict[str, Any]:
    """The entries behind one number: filter by kind, label, month, case_id, author_id, since,
    person_id (child seen) and alone, or decision_kind, rule and decision."""
    listing = dashboard.entries_behind(db, user, team, dict(request.query_params),
                                       taxonomy=taxonomy, months=months, page=page)
    return {"description": listing.description, "filters": listing.filters,
            "total": listing.total, "page": listing.page, "pages": listing.pages,
            "entries": listing.entries}


@router.get("/cases/{case_id}/chronology")
def case_chronology(request: Request, db: DbDep, user: ApiUser, taxonomy: TaxonomyDep,
                    case_id: int, child: int | None = None) -> dict[str, Any]:
    """Significant events in the order they happened (query: child, from, to)."""
    chron = chronology.chronology(db, user, case_id, taxonomy=taxonomy, child_id=child,
                                  date_from=request.query_params.get("from"),
                                  date_to=request.query_params.get("to"),
                                  action="chronology.api")
    return chron.as_json()


@router.get("/cases/{case_id}/chronology/marks")
def mark_history(db: DbDep, user: ApiUser, case_id: int, entry_id: int,
                 fact_id: int | None = None) -> list[dict[str, Any]]:
    """Every mark on one entry (or one confirmed fact in it), oldest first: who marked or
    unmarked it as significant, when, and the summary they gave."""
    return chronology.history(db, user, case_id, entry_id, fact_id)


@router.post("/cases/{case_id}/chronology/marks", status_code=201)
def mark(db: DbDep, user: ApiUser, case_id: int, body: MarkIn) -> dict[str, Any]:
    """Mark or unmark an entry or a confirmed fact as significant, or edit its summary."""
    chronology.mark(db, user, case_id, body.entry_id, fact_id=body.fact_id,
                    significant=body.significant, summary=body.summary)
    return {"case_id": case_id, "entry_id": body.entry_id, "fact_id": body.fact_id,
            "significant": body.significant}
