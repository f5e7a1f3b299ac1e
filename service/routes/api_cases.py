"""The JSON API for cases: the cases you may see, one case, its narrative, new entries on
it, and (for admins) its access log."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Query

from service import access, cases, entries
from service.routes.api_entries import Entry, EntryIn, entry_out
from service.routes.deps import ApiUser, DbDep

router = APIRouter(prefix="/cases", tags=["cases"])


@router.get("")
def list_cases(db: DbDep, user: ApiUser) -> list[dict[str, Any]]:
    """The cases you may see, with their children."""
    return cases.my_cases(db, user)


@router.get("/{case_id}")
def get_case(db: DbDep, user: ApiUser, case_id: int) -> dict[str, Any]:
    """A case with the people on its record."""
    return cases.case_record(db, user, case_id)


@router.get("/{case_id}/entries")
def case_entries(db: DbDep, user: ApiUser, case_id: int,
                 order: Literal["newest", "oldest"] = "newest", child: int | None = None,
                 page: int = Query(1, ge=1)) -> dict[str, Any]:
    """The family narrative: final entries in order of when they happened, 50 a page."""
    view = cases.case_page(db, user, case_id, newest_first=order == "newest", child_id=child,
                           page=page)
    return {"total": view.total, "page": view.page, "pages": view.pages,
            "entries": [entry_out(e) for e in view.entries]}


@router.post("/{case_id}/entries", status_code=201)
def create_entry(db: DbDep, user: ApiUser, case_id: int, body: EntryIn) -> Entry:
    """Start an entry (a draft); finalise it with POST /entries/{id}/finalise."""
    return entry_out(entries.start_entry(db, user, case_id, body.kind,
                                         body.occurred_at or datetime.now().isoformat(),
                                         body.text, body.children))


@router.get("/{case_id}/access-log")
def case_access_log(db: DbDep, user: ApiUser, case_id: int) -> list[dict[str, Any]]:
    """Who looked at or changed this case, newest first (admins)."""
    return access.case_log(db, user, case_id)
