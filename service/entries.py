"""Narrative entries: start a draft, save it as the worker types, read it with its revisions.

Finalising and amending store confirmed facts too, so they live with the review
(`review.finalise`, `review.amend`); the checks they share are here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlite_utils import Database

from service import access
from service.accounts import User
from service.errors import Conflict, Invalid, NotFound
from service.storage import cases as case_rows
from service.storage import entries as entry_rows
from service.storage.db import transaction
from service.storage.migrations import ENTRY_KINDS

MAX_TEXT = 200_000
KIND_LABELS = {
    "home_visit": "Home visit",
    "office_visit": "Office visit",
    "phone_call": "Phone call",
    "school_visit": "School visit",
    "meeting": "Meeting",
    "other": "Other",
}


def check_kind(kind: str) -> str:
    if kind not in ENTRY_KINDS:
        raise Invalid(f"Choose what kind of entry this is: {', '.join(ENTRY_KINDS)}.")
    return kind


def check_text(text: str, *, final: bool) -> str:
    if len(text) > MAX_TEXT:
        raise Invalid(f"An entry can hold up to {MAX_TEXT:,} characters; this one has "
                      f"{len(text):,}. Split it into two entries.")
    if "\x00" in text:
        raise Invalid("The text holds a NUL character; remove it and try again.")
    if final and not text.strip():
        raise Invalid("Write what happened before finalising the entry.")
    return text


def check_occurred_at(value: str | datetime) -> str:
    """When it happened: may be in the past, but not more than a day ahead."""
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError as err:
            raise Invalid("Give when it happened as a date and time, like 2026-03-14T10:30.") \
                from err
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    if moment > datetime.now(UTC).replace(tzinfo=None) + timedelta(days=1):
        raise Invalid("When it happened cannot be more than a day in the future.")
    if moment.year < 1900:
        raise Invalid("When it happened must be after 1900.")
    return moment.replace(microsecond=0).isoformat(timespec="minutes")


def check_children(db: Database, case_id: int, children: list[int]) -> list[int]:
    ids = {p["id"] for p in case_rows.people_on_case(db, case_id) if p["category"] == "child"}
    wrong = [c for c in children if c not in ids]
    if wrong:
        raise Invalid("An entry can only be about children on this case.")
    return sorted(set(children))


def start_entry(db: Database, user: User, case_id: int, kind: str, occurred_at: str | datetime,
                text: str, children: list[int] | None = None) -> dict[str, Any]:
    """A new draft entry on a case, written by the signed-in user."""
    kind, when, text = check_kind(kind), check_occurred_at(occurred_at), check_text(text,
                                                                                    final=False)
    with transaction(db):
        access.case_for(db, user, case_id, "entry.create")
        if children is None:
            children = [p["id"] for p in case_rows.people_on_case(db, case_id)
                        if p["category"] == "child"]
        entry_id = entry_rows.insert_entry(db, case_id, user.id, kind, when, text,
                                           check_children(db, case_id, children))
        access.record(db, user, "entry.create", case_id=case_id, entry_id=entry_id)
    return _entry(db, entry_id)


def _entry(db: Database, entry_id: int) -> dict[str, Any]:
    entry = entry_rows.entry_by_id(db, entry_id)
    if entry is None:
        raise NotFound("There is no such entry.")
    return entry


def entry_for(db: Database, user: User, entry_id: int, action: str,
              log: bool = True) -> dict[str, Any]:
    """The entry if this user may work on it; the attempt is logged (refusals always).
    An entry on a case the user cannot see, or another worker's draft, answers as missing."""
    return access.guard(db, user, action, lambda: entry_rows.entry_by_id(db, entry_id),
                        lambda entry: access.in_case(db, entry["case_id"], entry_id=entry_id),
                        rule=_reads_entry,
                        missing="There is no such entry.", hide=True, log_allowed=log)


def _reads_entry(db: Database, user: User, entry: dict[str, Any],
                 place: access.Place) -> str | None:
    if entry["status"] == "draft" and entry["author_id"] != user.id:
        return "This entry is another worker's draft."  # a draft is its author's until final
    return access.reads_case(db, user, entry, place)


def save_draft(db: Database, user: User, entry_id: int, text: str, *,
               version: int | None = None, kind: str | None = None,
               occurred_at: str | None = None, children: list[int] | None = None) -> int:
    """Autosave. With `version`, a save from a stale page is refused rather than lost:
    the caller keeps its text and shows the worker both versions."""
    text = check_text(text, final=False)
    with transaction(db):
        entry = entry_for(db, user, entry_id, "entry.draft")
        fields: dict[str, Any] = {
            "text": text,
            "children": check_children(db, entry["case_id"], children)
            if children is not None else entry["draft_children"] or entry["children"],
        }
        if kind is not None:
            fields["kind"] = check_kind(kind)
        if occurred_at is not None:
            fields["occurred_at"] = check_occurred_at(occurred_at)
        new_version = entry_rows.update_draft(db, entry_id, fields, user.id, version)
        if new_version is None:
            raise Conflict("This draft was saved from another page since you opened it. "
                           "Your text is kept on this page; compare the two and save again.")
    return new_version


def get_entry(db: Database, user: User, entry_id: int) -> dict[str, Any]:
    """An entry with all its revisions, oldest first."""
    entry = entry_for(db, user, entry_id, "entry.view")
    return dict(entry, revisions=entry_rows.revisions_of(db, entry_id))
