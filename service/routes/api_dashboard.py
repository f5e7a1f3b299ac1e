"""The JSON API for the manager view: a team's figures, and the entries behind each number."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Query, Request

from service import dashboard
from service.routes.deps import ApiUser, DbDep, TaxonomyDep

router = APIRouter(prefix="/dashboard", tags=["dashboard"])


@router.get("")
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


@router.get("/entries")
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
