"""Pages: write a new entry, keep a draft, finalise, read an entry and its revisions, amend."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from service import cases, chips, entries, fact_kinds, review
from service.errors import Conflict, Invalid
from service.nlp.taxonomy import Taxonomy
from service.routes.deps import DbDep, PageUser, TaxonomyDep, parse_form, render
from service.storage.migrations import PERSON_CATEGORIES

router = APIRouter(dependencies=[Depends(parse_form)])
TextField = Annotated[str, Form(max_length=entries.MAX_TEXT * 2)]


def _occurred(day: str, time: str) -> str:
    return f"{day.strip()}T{(time.strip() or '00:00')}" if day.strip() else ""


def review_context(request: Request, case: dict[str, Any], entry_id: int | None,
                   taxonomy: Taxonomy) -> dict[str, Any]:
    """What the review panel needs: the case's people and the taxonomy's ids and labels."""
    if request.app.state.suggester is None:
        return {"engine": False}
    people = [{"id": p["id"], "name": p["name"], "category": p["category"],
               "relationship": p["relationship"]} for p in case["people"]
              if not p.get("merged_into")]
    return {"engine": True, "can_add": True, "data": {
        "csrf": request.state.csrf, "entry_id": entry_id, "case_id": case["id"],
        "kinds": fact_kinds.panel_specs(), "people": people, "risks": taxonomy.risk_labels,
        "tags": taxonomy.tag_labels,
        "assertions": list(review.ASSERTIONS), "categories": list(PERSON_CATEGORIES)}}


def _form_page(request: Request, db: Any, user: Any, taxonomy: Taxonomy, case_id: int,
               values: dict[str, Any], error: str | None = None, status: int = 200) -> Response:
    view = cases.case_record(db, user, case_id)
    children = [p for p in view["people"] if p["category"] == "child"]
    entry = values.get("entry")
    return render(request, "entries/form.html", {
        "case": view, "children": children, "values": values, "error": error,
        "review": review_context(request, view, entry["id"] if entry else None,
                                 taxonomy)}, status)


@router.get("/cases/{case_id}/entries/new")
def new_entry(request: Request, db: DbDep, user: PageUser, taxonomy: TaxonomyDep,
              case_id: int) -> Response:
    now = datetime.now()
    view = cases.case_record(db, user, case_id)
    values = {"kind": "home_visit", "day": now.strftime("%Y-%m-%d"),
              "time": now.strftime("%H:%M"), "text": "", "entry": None,
              "children": [p["id"] for p in view["people"] if p["category"] == "child"]}
    return _form_page(request, db, user, taxonomy, case_id, values)


@router.post("/cases/{case_id}/entries")
def create_entry(request: Request, db: DbDep, user: PageUser, taxonomy: TaxonomyDep,
                 case_id: int,
                 kind: Annotated[str, Form()] = "", day: Annotated[str, Form()] = "",
                 time: Annotated[str, Form()] = "", text: TextField = "",
                 children: Annotated[list[int], Form()] = [],  # noqa: B006
                 action: Annotated[str, Form()] = "save") -> Response:
    values = {"kind": kind, "day": day, "time": time, "text": text, "children": children,
              "entry": None}
    try:
        entry = entries.start_entry(db, user, case_id, kind, _occurred(day, time), text,
                                    children)
        if action == "finalise":
            review.finalise(db, user, entry["id"])
            return RedirectResponse(f"/entries/{entry['id']}", status_code=303)
    except (Invalid, Conflict) as err:
        return _form_page(request, db, user, taxonomy, case_id, values, err.message, err.status)
    return RedirectResponse(f"/entries/{entry['id']}/edit?saved=1", status_code=303)


@router.get("/entries/{entry_id}/edit")
def edit_draft(request: Request, db: DbDep, user: PageUser, taxonomy: TaxonomyDep,
               entry_id: int,
               saved: bool = False) -> Response:
    entry = entries.get_entry(db, user, entry_id)
    if entry["status"] == "final":
        return RedirectResponse(f"/entries/{entry_id}/amend", status_code=303)
    day, _, time = entry["occurred_at"].partition("T")
    values = {"kind": entry["kind"], "day": day, "time": time[:5], "text": entry["draft_text"],
              "children": entry["draft_children"], "entry": entry, "saved": saved}
    return _form_page(request, db, user, taxonomy, entry["case_id"], values)


@router.post("/entries/{entry_id}/draft")
def save_draft(request: Request, db: DbDep, user: PageUser, taxonomy: TaxonomyDep,
               entry_id: int,
               kind: Annotated[str, Form()] = "", day: Annotated[str, Form()] = "",
               time: Annotated[str, Form()] = "", text: TextField = "",
               children: Annotated[list[int], Form()] = [],  # noqa: B006
               version: Annotated[int | None, Form()] = None,
               action: Annotated[str, Form()] = "save") -> Response:
    entry = entries.get_entry(db, user, entry_id)
    values = {"kind": kind, "day": day, "time": time, "text": text, "children": children,
              "entry": entry}
    try:
        entries.save_draft(db, user, entry_id, text, version=version, kind=kind,
                           occurred_at=_occurred(day, time), children=children)
        if action == "finalise":
            review.finalise(db, user, entry_id)
            return RedirectResponse(f"/entries/{entry_id}", status_code=303)
    except (Invalid, Conflict) as err:
        if isinstance(err, Conflict):
            values["entry"] = entries.get_entry(db, user, entry_id)
            values["theirs"] = values["entry"]["draft_text"]
        return _form_page(request, db, user, taxonomy, entry["case_id"], values, err.message, err.status)
    return RedirectResponse(f"/entries/{entry_id}/edit?saved=1", status_code=303)


@router.get("/entries/{entry_id}")
def show_entry(request: Request, db: DbDep, user: PageUser, taxonomy: TaxonomyDep,
               entry_id: int) -> Response:
    entry = entries.get_entry(db, user, entry_id)
    if entry["status"] == "draft":
        return RedirectResponse(f"/entries/{entry_id}/edit", status_code=303)
    view = cases.case_record(db, user, entry["case_id"])
    state = review.review_state(db, user, entry_id, log=False)
    return render(request, "entries/show.html", {
        "entry": entry, "case": view, "facts": chips.describe(state["facts"], view["people"],
                                                              taxonomy),
        "review": {**review_context(request, view, entry_id, taxonomy), "can_add": False}})


@router.get("/entries/{entry_id}/amend")
def amend_form(request: Request, db: DbDep, user: PageUser, entry_id: int) -> Response:
    entry = entries.get_entry(db, user, entry_id)
    if entry["status"] == "draft":
        return RedirectResponse(f"/entries/{entry_id}/edit", status_code=303)
    mine = entry["draft_text"] is not None and entry["draft_saved_by"] == user.id
    text = entry["draft_text"] if mine else entry["text"]
    return _amend_page(request, db, user, entry, {"text": text, "based_on":
                                                  entry["revision_count"], "restored": mine})


def _amend_page(request: Request, db: Any, user: Any, entry: dict[str, Any],
                values: dict[str, Any], error: str | None = None, status: int = 200) -> Response:
    view = cases.case_record(db, user, entry["case_id"])
    return render(request, "entries/amend.html", {"entry": entry, "case": view,
                                                  "values": values, "error": error}, status)


@router.post("/entries/{entry_id}/revisions")
def amend(request: Request, db: DbDep, user: PageUser, entry_id: int, text: TextField = "",
          based_on: Annotated[int | None, Form()] = None) -> Response:
    try:
        review.amend(db, user, entry_id, text, based_on=based_on)
    except (Invalid, Conflict) as err:
        entry = entries.get_entry(db, user, entry_id)
        return _amend_page(request, db, user, entry, {"text": text, "based_on": based_on,
                                                      "theirs": entry["text"]
                                                      if isinstance(err, Conflict) else None},
                           err.message, err.status)
    return RedirectResponse(f"/entries/{entry_id}#revisions", status_code=303)
