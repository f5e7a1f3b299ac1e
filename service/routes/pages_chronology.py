"""Pages: a case's or a child's chronology, marking significant events, PDF and CSV exports."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from service import chronology
from service.errors import Invalid
from service.routes.deps import DbDep, PageUser, TaxonomyDep, parse_form, render, templates

router = APIRouter(prefix="/cases/{case_id}/chronology", dependencies=[Depends(parse_form)])


def _child(child: str | None) -> int | None:
    """The child filter; the form's "Whole family" option sends an empty value."""
    if not child:
        return None
    if not child.isdigit():
        raise Invalid("Choose a child from the list.")
    return int(child)


def _query(child: int | None, date_from: str | None, date_to: str | None) -> str:
    found = {k: v for k, v in (("child", child), ("from", date_from), ("to", date_to)) if v}
    return ("?" + urlencode(found)) if found else ""


@router.get("")
def chronology_page(request: Request, db: DbDep, user: PageUser, taxonomy: TaxonomyDep,
                    case_id: int,
                    child: str | None = None, page: int = Query(1, ge=1),
                    date_from: str | None = Query(None, alias="from"),
                    date_to: str | None = Query(None, alias="to")) -> Response:
    chron = chronology.chronology(db, user, case_id, taxonomy=taxonomy, child_id=_child(child),
                                  date_from=date_from,
                                  date_to=date_to, candidates_page=page)
    query = _query(chron.child["id"] if chron.child else None, chron.date_from, chron.date_to)
    return render(request, "chronology/show.html", {"chron": chron, "query": query})


def _printable(request: Request, db: DbDep, user: PageUser, taxonomy: TaxonomyDep, case_id: int,
               child: str | None, action: str) -> tuple[chronology.Chronology, str]:
    chron = chronology.chronology(db, user, case_id, taxonomy=taxonomy, child_id=_child(child),
                                  action=action,
                                  date_from=request.query_params.get("from"),
                                  date_to=request.query_params.get("to"))
    html = templates(request).get_template("chronology/print.html").render(
        chron=chron, exported_by=user.display_name, csp_nonce=request.state.csp_nonce,
        exported_at=datetime.now().strftime("%a %-d %b %Y, %H:%M"))
    return chron, html


@router.get("/print")
def printable(request: Request, db: DbDep, user: PageUser, taxonomy: TaxonomyDep, case_id: int,
              child: str | None = None) -> Response:
    _, html = _printable(request, db, user, taxonomy, case_id, child, "chronology.print")
    return Response(html, media_type="text/html; charset=utf-8")


@router.get(".pdf")
def pdf(request: Request, db: DbDep, user: PageUser, taxonomy: TaxonomyDep, case_id: int,
        child: str | None = None) -> Response:
    # A sync route: FastAPI runs it in the thread pool, off the event loop (PDF is CPU work).
    chron, html = _printable(request, db, user, taxonomy, case_id, child,
                             "chronology.export_pdf")
    body = chronology.to_pdf(html, str(request.base_url))
    name = chronology.export_name(chron, "pdf")
    return Response(body, media_type="application/pdf",
                    headers={"content-disposition": f'attachment; filename="{name}"'})


@router.get(".csv")
def csv_export(request: Request, db: DbDep, user: PageUser, taxonomy: TaxonomyDep, case_id: int,
               child: str | None = None) -> Response:
    chron = chronology.chronology(db, user, case_id, taxonomy=taxonomy, child_id=_child(child),
                                  action="chronology.export_csv",
                                  date_from=request.query_params.get("from"),
                                  date_to=request.query_params.get("to"))
    name = chronology.export_name(chron, "csv")
    return Response(chronology.to_csv(chron), media_type="text/csv; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="{name}"'})


@router.post("/marks")
def mark(db: DbDep, user: PageUser, case_id: int, entry_id: Annotated[int, Form()],
         fact_id: Annotated[int | None, Form()] = None,
         significant: Annotated[str, Form()] = "1",
         summary: Annotated[str | None, Form(max_length=2000)] = None,
         back: Annotated[str, Form()] = "") -> Response:
    chronology.mark(db, user, case_id, entry_id, fact_id=fact_id,
                    significant=significant == "1", summary=summary)
    # Only back to a page of this chronology (never an open redirect).
    target = f"/cases/{case_id}/chronology"
    if back.startswith(target + "?") or back == target:
        target = back
    return RedirectResponse(target, status_code=303)
