"""Pages: my cases and the case page with its family narrative."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from service import cases
from service.routes.deps import DbDep, PageUser, parse_form, render

router = APIRouter(dependencies=[Depends(parse_form)])


@router.get("/")
def my_cases(request: Request, db: DbDep, user: PageUser) -> Response:
    return render(request, "cases/index.html", {"cases": cases.my_cases(db, user)})


@router.get("/cases/{case_id}")
def case_page(request: Request, db: DbDep, user: PageUser, case_id: int,
              order: Literal["newest", "oldest"] = "newest", child: int | None = None,
              page: int = 1) -> Response:
    view = cases.case_page(db, user, case_id, newest_first=order == "newest", child_id=child,
                           page=page)
    return render(request, "cases/show.html", {"view": view, "order": order})
