"""Who may see and change which case, and the access log that records every look and change."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from service.accounts import CASE_ROLES, User
from service.errors import Forbidden, NotFound
from service.storage import access_log
from service.storage import cases as case_rows
from service.storage.db import transaction


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


def case_for(db: Database, user: User, case_id: int, action: str) -> dict[str, Any]:
    """The case if this user may read it; every attempt, allowed or not, is logged."""
    case = case_rows.case_by_id(db, case_id)
    if case is None:
        raise NotFound("There is no such case.")
    if not can_read_case(db, user, case):
        record(db, user, action, "denied", case_id=case_id)
        raise Forbidden("You do not have access to this case. Ask your manager if you need it.")
    record(db, user, action, "allowed", case_id=case_id)
    return case


def require_admin(db: Database, user: User, action: str) -> None:
    if not user.is_admin:
        record(db, user, action, "denied")
        raise Forbidden("Only an administrator can do this.")


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
    require_admin(db, user, "access_log.view")
    if case_rows.case_by_id(db, case_id) is None:
        raise NotFound("There is no such case.")
    record(db, user, "access_log.view", case_id=case_id)
    return access_log.access_for_case(db, case_id)
