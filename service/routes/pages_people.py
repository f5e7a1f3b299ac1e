"""Pages for the people on a case record: the list, adding a person, editing one. Admins keep
the record; workers with access to the case add to it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from service import cases
from service.errors import CasenotesError
from service.routes.deps import DbDep, PageUser, parse_form, render
from service.storage.migrations import PERSON_CATEGORIES

router = APIRouter(dependencies=[Depends(parse_form)])
Text = Annotated[str, Form(max_length=500)]


def _people_page(request: Request, db: Any, user: Any, case_id: int,
                 error: str | None = None, status: int = 200,
                 values: dict[str, Any] | None = None) -> Response:
    case, people = cases.people_for_admin(db, user, case_id)
    return render(request, "people/index.html", {
        "case": case, "people": people, "categories": PERSON_CATEGORIES, "error": error,
        "values": values or {}}, status)


@router.get("/cases/{case_id}/people")
def people(request: Request, db: DbDep, user: PageUser, case_id: int) -> Response:
    return _people_page(request, db, user, case_id)


def _person_form(name: str, category: str, relationship: str, dob: str, address: str,
                 is_subject: str) -> dict[str, Any]:
    return {"name": name, "category": category, "relationship": relationship,
            "dob": dob or None, "address": address, "is_subject": is_subject == "1"}


@router.post("/cases/{case_id}/people")
def add_person(request: Request, db: DbDep, user: PageUser, case_id: int, name: Text = "",
               category: Text = "", relationship: Text = "", dob: Text = "",
               address: Text = "", is_subject: Text = "") -> Response:
    fields = _person_form(name, category, relationship, dob, address, is_subject)
    try:
        cases.add_person(db, user, case_id, fields)
    except CasenotesError as err:
        return _people_page(request, db, user, case_id, err.message, err.status, fields)
    return RedirectResponse(f"/cases/{case_id}/people?added=1", status_code=303)


@router.get("/people/{person_id}/edit")
def edit_person_form(request: Request, db: DbDep, user: PageUser, person_id: int) -> Response:
    person = cases.get_person(db, user, person_id)
    return render(request, "people/edit.html", {"person": person, "values": person,
                                                "categories": PERSON_CATEGORIES})


@router.post("/people/{person_id}")
def edit_person(request: Request, db: DbDep, user: PageUser, person_id: int, name: Text = "",
                category: Text = "", relationship: Text = "", dob: Text = "",
                address: Text = "", is_subject: Text = "") -> Response:
    fields = _person_form(name, category, relationship, dob, address, is_subject)
    person = cases.get_person(db, user, person_id)
    try:
        cases.edit_person(db, user, person_id, fields)
    except CasenotesError as err:
        return render(request, "people/edit.html", {"person": person, "values": fields,
                                                    "categories": PERSON_CATEGORIES,
                                                    "error": err.message}, err.status)
    return RedirectResponse(f"/cases/{person['case_id']}/people?saved=1", status_code=303)
