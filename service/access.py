"""Who may see and change which case, and the access log that records every look and change.

Every record a user reaches by its id (a case, an entry, a draft, a dictation, a person, a
team's dashboard) goes through `guard`: load it, refuse if it is missing, check the rule of
the case or team it belongs to, log the refusal (even if the request's transaction rolls
back) or the access, and hand it over.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlite_utils import Database

from service.accounts import CASE_ROLES, User
from service.errors import Forbidden, NotFound, NotYours
from service.storage import access_log
from service.storage import cases as case_rows
from service.storage.db import transaction

Thing = TypeVar("Thing")

CASE_REFUSED = "You do not have access to this case. Ask your manager if you need it."
ADMIN_ONLY = "Only an administrator can do this."


@dataclass(frozen=True)
class Place:
    """Where a record sits, for its access-log row: the case whose rule decides who may reach
    it (none for a team's dashboard), the entry or person, and a detail naming the rest."""

    case: dict[str, Any] | None = None
    entry_id: int | None = None
    person_id: int | None = None
    detail: str = ""

    @property
    def case_id(self) -> int | None:
        return self.case["id"] if self.case is not None else None


def in_case(db: Database, case_id: int, *, entry_id: int | None = None,
            person_id: int | None = None, detail: str = "") -> Place:
    """The place of a record that belongs to the case `case_id` (an entry, a person ...)."""
    return Place(case_rows.case_by_id(db, case_id), entry_id=entry_id, person_id=person_id,
                 detail=detail)


# A rule answers None to let the user in, or the reason they are refused.
Rule = Callable[[Database, User, Thing, Place], str | None]


def can_read_case(db: Database, user: User, case: dict[str, Any]) -> bool:
    """Allocated workers, and reviewers and managers of the case's team.

    An admin manages accounts and allocations but reads case records only when also given
    a case role (and an allocation or the team).
    """
    if not user.roles & CASE_ROLES:
        return False
    if user.team_wide and case["team_id"] is not None and case["team_id"] == user.team_id:
        return True
    return case_rows.is_allocated(db, case["id"], user.id)


def reads_case(db: Database, user: User, thing: Any, place: Place) -> str | None:
    """The rule for anything inside a case: those who may read the case may reach it."""
    assert place.case is not None
    return None if can_read_case(db, user, place.case) else CASE_REFUSED


def keeps_record(db: Database, user: User, thing: Any, place: Place) -> str | None:
    """The people on a case: its readers, and admins, who keep the record."""
    return None if user.is_admin else reads_case(db, user, thing, place)


def guard(db: Database, user: User, action: str, load: Callable[[], Thing | None],
          place: Callable[[Thing], Place], *, missing: str, rule: Rule[Thing] = reads_case,
          hide: bool = False, log_allowed: bool = True) -> Thing:
    """The record `load` finds, if `rule` lets this user reach it; every refusal is logged.

    With `hide`, a refusal answers exactly as a missing record does (404, `missing`), so an
    id on a case the user cannot see does not tell them the record exists. Without it the
    refusal says why (403), for records whose existence is not a secret (a case, a team).
    `log_allowed=False` is for calls polled every second, or that log their own row once
    they know more (a dashboard logs what it counted).
    """
    thing = load()
    if thing is None:
        raise NotYours(missing) if hide else NotFound(missing)
    where = place(thing)
    refusal = rule(db, user, thing, where)
    if refusal is not None:
        _log(db, user, action, "denied", where)
        raise NotYours(missing) if hide else Forbidden(refusal)
    if log_allowed:
        _log(db, user, action, "allowed", where)
    return thing


def _log(db: Database, user: User, action: str, outcome: str, where: Place) -> None:
    record(db, user, action, outcome, case_id=where.case_id, entry_id=where.entry_id,
           person_id=where.person_id, detail=where.detail)


def case_for(db: Database, user: User, case_id: int, action: str) -> dict[str, Any]:
    """The case if this user may read it; every attempt, allowed or not, is logged."""
    return guard(db, user, action, lambda: case_rows.case_by_id(db, case_id),
                 lambda case: Place(case), missing="There is no such case.")


def require_admin(db: Database, user: User, action: str) -> None:
    """For admin work that is about no one record (users, teams, the list of cases)."""
    if not user.is_admin:
        record(db, user, action, "denied")
        raise Forbidden(ADMIN_ONLY)


def record(db: Database, user: User | None, action: str, outcome: str = "allowed", *,
           case_id: int | None = None, entry_id: int | None = None,
           person_id: int | None = None, detail: str = "") -> None:
    """Write one access-log row. `detail` must never hold narrative text."""
    if outcome == "denied" and db.conn.in_transaction:
        # The refusal will roll the transaction back; its log row must stay.
        pending = getattr(db, "after_transaction", [])
        pending.append(lambda: record(db, user, action, outcome, case_id=case_id,
                                      entry_id=entry_id, person_id=person_id, detail=detail))
        db.after_transaction = pending  # type: ignore[attr-defined]
        return
    with transaction(db):
        access_log.insert_access(db, user.id if user else None, action, outcome,
                                 case_id=case_id, entry_id=entry_id, person_id=person_id,
                                 detail=detail)


def case_log(db: Database, user: User, case_id: int) -> list[dict[str, Any]]:
    """The access log of one case, for an admin."""
    guard(db, user, "access_log.view", lambda: case_rows.case_by_id(db, case_id), Place,
          rule=_admin_only, missing="There is no such case.")
    return access_log.access_for_case(db, case_id)


def _admin_only(db: Database, user: User, thing: Any, place: Place) -> str | None:
    return None if user.is_admin else ADMIN_ONLY
