"""Pages: the manager view of a team's confirmed facts, and the entries behind each number."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from service import dashboard
from service.routes.deps import DbDep, PageUser, TaxonomyDep, parse_form, render

router = APIRouter(prefix="/dashboard", dependencies=[Depends(parse_form)])


@router.get("")
def manager_view(request: Request, db: DbDep, user: PageUser, taxonomy: TaxonomyDep,
                 team: int | None = None,
                 months: int = Query(dashboard.DEFAULT_MONTHS, ge=1, le=dashboard.MAX_MONTHS),
                 days: int = Query(dashboard.DEFAULT_DAYS, ge=1, le=366),
                 cases_page: int = Query(1, ge=1), children_page: int = Query(1, ge=1),
                 recent_page: int = Query(1, ge=1)) -> Response:
    view = dashboard.manager_view(db, user, team, taxonomy=taxonomy, months=months, days=days,
                                  cases_page=cases_page, children_page=children_page,
                                  recent_page=recent_page)
    return render(request, "dashboard/index.html", {"view": view})


@router.get("/entries")
def entries_behind(request: Request, db: DbDep, user: PageUser, taxonomy: TaxonomyDep,
                   team: int | None = None,
                   months: int = Query(dashboard.DEFAULT_MONTHS, ge=1, le=dashboard.MAX_MONTHS),
                   page: int = Query(1, ge=1)) -> Response:
    listing = dashboard.entries_behind(db, user, team, dict(request.query_params),
                                       taxonomy=taxonomy, months=months, page=page)
    return render(request, "dashboard/entries.html", {"listing": listing})
