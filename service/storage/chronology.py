"""Queries for chronologies: significance marks, and the facts and entries they point at.

A significance mark says "this entry (or this confirmed fact in it) is, or is no longer, a
significant event", with a one-line summary. Marks are append-only: marking, unmarking and
editing the summary each add a row, and the latest row for a target wins, so the history of
who judged what significant, and when, is kept.

A fact mark names its fact by `fact_key` (kind, label, person, value) as well as by id:
an amendment re-anchors an entry's facts as new rows, and the key lets a mark follow them.
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from service.storage.db import now
from service.storage.facts import CURRENT_FACTS


def create_significance_marks(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE significance_marks (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases(id),
            entry_id INTEGER NOT NULL REFERENCES entries(id),
            fact_key TEXT NOT NULL DEFAULT '',
            fact_id INTEGER REFERENCES facts(id),
            significant INTEGER NOT NULL CHECK (significant IN (0, 1)),
            summary TEXT NOT NULL DEFAULT '',
            marked_by INTEGER NOT NULL REFERENCES users(id),
            marked_at TEXT NOT NULL
        );
        CREATE INDEX significance_marks_case ON significance_marks (case_id, entry_id, fact_key);
        CREATE TRIGGER significance_marks_no_update BEFORE UPDATE ON significance_marks
        BEGIN SELECT RAISE(ABORT, 'significance marks are append-only'); END;
        CREATE TRIGGER significance_marks_no_delete BEFORE DELETE ON significance_marks
        BEGIN SELECT RAISE(ABORT, 'significance marks are append-only'); END;
        """
    )


def insert_mark(db: Database, case_id: int, entry_id: int, fact_key: str, fact_id: int | None,
                significant: bool, summary: str, marked_by: int) -> int:
    cursor = db.execute(
        "INSERT INTO significance_marks (case_id, entry_id, fact_key, fact_id, significant,"
        " summary, marked_by, marked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [case_id, entry_id, fact_key, fact_id, int(significant), summary, marked_by, now()],
    )
    return int(cursor.lastrowid)


def latest_marks(db: Database, case_id: int) -> dict[tuple[int, str], dict[str, Any]]:
    """The latest mark per (entry, fact key) of a case; fact key '' is the entry itself."""
    rows = db.query(
        "SELECT significance_marks.*, users.display_name AS marked_by_name"
        " FROM significance_marks JOIN users ON users.id = significance_marks.marked_by"
        " WHERE significance_marks.id IN (SELECT max(id) FROM significance_marks"
        "  WHERE case_id = ? GROUP BY entry_id, fact_key)",
        [case_id],
    )
    return {(row["entry_id"], row["fact_key"]): row for row in rows}


def mark_history(db: Database, case_id: int, entry_id: int, fact_key: str
                 ) -> list[dict[str, Any]]:
    return list(db.query(
        "SELECT significance_marks.*, users.display_name AS marked_by_name"
        " FROM significance_marks JOIN users ON users.id = significance_marks.marked_by"
        " WHERE case_id = ? AND entry_id = ? AND fact_key = ? ORDER BY significance_marks.id",
        [case_id, entry_id, fact_key]))


def case_entries(db: Database, case_id: int, entry_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Final entries of a case by id, with their latest text, children and author."""
    if not entry_ids:
        return {}
    marks = ",".join("?" * len(entry_ids))
    rows = db.query(
        "SELECT entries.id, entries.case_id, entries.kind, entries.occurred_at,"
        " entries.created_at, entries.finalised_at, entries.author_id,"
        " users.display_name AS author_name, latest.text, latest.children"
        " FROM entries JOIN users ON users.id = entries.author_id"
        " JOIN entry_revisions AS latest ON latest.entry_id = entries.id"
        "  AND latest.number = entries.revision_count"
        f" WHERE entries.case_id = ? AND entries.status = 'final' AND entries.id IN ({marks})",
        [case_id, *entry_ids],
    )
    return {row["id"]: row for row in rows}


def entry_in_case(db: Database, case_id: int, entry_id: int) -> bool:
    for _ in db.query("SELECT 1 FROM entries WHERE id = ? AND case_id = ? AND status = 'final'",
                      [entry_id, case_id]):
        return True
    return False


def current_facts(db: Database, case_id: int, kinds: tuple[str, ...] | None = None
                  ) -> list[dict[str, Any]]:
    """Current confirmed facts of a case (optionally of some kinds), in text order."""
    sql = f"{CURRENT_FACTS} WHERE facts.case_id = ?"
    params: list[Any] = [case_id]
    if kinds:
        sql += f" AND facts.kind IN ({','.join('?' * len(kinds))})"
        params += list(kinds)
    return list(db.query(sql + " ORDER BY facts.entry_id, facts.start, facts.id", params))


def fact_by_id(db: Database, fact_id: int) -> dict[str, Any] | None:
    for row in db.query(f"{CURRENT_FACTS} WHERE facts.id = ?", [fact_id]):
        return row
    return None
