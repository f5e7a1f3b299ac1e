"""Queries for the access log: who looked at or changed what, and when. Append-only."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from service.storage.db import now


def insert_access(
    db: Database,
    user_id: int | None,
    action: str,
    outcome: str,
    case_id: int | None = None,
    entry_id: int | None = None,
    person_id: int | None = None,
    detail: str = "",
) -> None:
    db.execute(
        "INSERT INTO access_log (at, user_id, action, outcome, case_id, entry_id, person_id,"
        " detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [now(), user_id, action, outcome, case_id, entry_id, person_id, detail],
    )


def access_for_case(db: Database, case_id: int, limit: int = 500) -> list[dict[str, Any]]:
    return list(db.query(
        "SELECT access_log.*, users.username FROM access_log"
        " LEFT JOIN users ON users.id = access_log.user_id"
        " WHERE case_id = ? ORDER BY access_log.id DESC LIMIT ?",
        [case_id, limit],
    ))


def access_rows(db: Database, action: str | None = None) -> list[dict[str, Any]]:
    if action:
        return list(db.query("SELECT * FROM access_log WHERE action = ? ORDER BY id", [action]))
    return list(db.query("SELECT * FROM access_log ORDER BY id"))
