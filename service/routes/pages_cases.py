"""Pages: my cases and the case page with its family narrative."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from service import cases, chips
from service.routes.deps import DbDep, PageUser, TaxonomyDep, parse_form, render

router = APIRouter(dependencies=[Depends(parse_form)])


@router.get("/")
def my_cases(request: Request, db: DbDep, user: PageUser) -> Response:
    return render(request, "cases/index.html", {"cases": cases.my_cases(db, user)})


@router.get("/cases/{case_id}")
def case_page(request: Request, db: DbDep, user: PageUser, taxonomy: TaxonomyDep, case_id: int,
              order: Literal["newest", "oldest"] = "newest", child: int | None = None,
              page: int = 1, person: int | None = None, tag: str = "",
              risk: str = "") -> Response:
    view = cases.case_page(db, user, case_id, newest_first=order == "newest", child_id=child,
                           page=page, person_id=person, tag=tag, risk=risk)
    people = view.people
    return render(request, "cases/show.html", {
        "view": view, "order": order, "taxonomy": taxonomy,
        "filter_query": urlencode({k: v for k, v in {"order": order, "child": child,
                                                     "person": person, "tag": tag,
                                                     "risk": risk}.items() if v}),
        "professionals": cases.professionals(db, case_id),
        "chips": {entry_id: chips.describe(found, people, taxonomy)
                  for entry_id, found in view.facts.items()}})
