"""Queries for narrative entries and their append-only revisions."""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from service.storage.db import now, one_row

# The latest revision of each final entry, with its author; drafts have no revision yet.
_ENTRY_SELECT = (
    "SELECT entries.*, users.display_name AS author_name, users.username AS author_username,"
    " latest.text AS text, latest.children AS children, latest.created_at AS revised_at,"
    " reviser.display_name AS revised_by_name"
    " FROM entries JOIN users ON users.id = entries.author_id"
    " LEFT JOIN entry_revisions AS latest"
    "  ON latest.entry_id = entries.id AND latest.number = entries.revision_count"
    " LEFT JOIN users AS reviser ON reviser.id = latest.author_id"
)


def insert_entry(db: Database, case_id: int, author_id: int, kind: str, occurred_at: str,
                 text: str, children: list[int]) -> int:
    stamp = now()
    cursor = db.execute(
        "INSERT INTO entries (case_id, author_id, status, kind, occurred_at, created_at,"
        " draft_text, draft_children, draft_saved_at, draft_saved_by, draft_version)"
        " VALUES (?, ?, 'draft', ?, ?, ?, ?, ?, ?, ?, 1)",
        [case_id, author_id, kind, occurred_at, stamp, text, json.dumps(children), stamp,
         author_id],
    )
    return int(cursor.lastrowid)


def update_draft(db: Database, entry_id: int, fields: dict[str, Any], by: int,
                 expected_version: int | None) -> int | None:
    """Save draft fields; returns the new version, or None if someone saved in between."""
    sets = ["draft_text = ?", "draft_children = ?", "draft_saved_at = ?", "draft_saved_by = ?",
            "draft_version = draft_version + 1"]
    params: list[Any] = [fields["text"], json.dumps(fields.get("children", [])), now(), by]
    for column in ("kind", "occurred_at"):
        if column in fields:
            # Only a draft's own kind and time change here; a final entry's change by revision.
            sets.append(f"{column} = CASE WHEN status = 'draft' THEN ? ELSE {column} END")
            params.append(fields[column])
    where = "id = ?"
    params.append(entry_id)
    if expected_version is not None:
        where += " AND draft_version = ?"
        params.append(expected_version)
    cursor = db.execute(f"UPDATE entries SET {', '.join(sets)} WHERE {where}", params)
    if cursor.rowcount == 0:
        return None
    row = one_row(db, "SELECT draft_version FROM entries WHERE id = ?", [entry_id])
    return int(row["draft_version"]) if row else None


def clear_draft(db: Database, entry_id: int) -> None:
    db.execute(
        "UPDATE entries SET draft_text = NULL, draft_children = '[]',"
        " draft_version = draft_version + 1 WHERE id = ?",
        [entry_id],
    )


def insert_revision(db: Database, entry_id: int, kind: str, occurred_at: str, text: str,
                    children: list[int], author_id: int) -> int:
    """Append the next revision and make it the entry's current one, in one statement pair."""
    entry = one_row(db, "SELECT revision_count FROM entries WHERE id = ?", [entry_id])
    assert entry is not None
    number = int(entry["revision_count"]) + 1
    stamp = now()
    db.execute(
        "INSERT INTO entry_revisions (entry_id, number, kind, occurred_at, text, children,"
        " author_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [entry_id, number, kind, occurred_at, text, json.dumps(children), author_id, stamp],
    )
    db.execute(
        "UPDATE entries SET status = 'final', revision_count = ?, kind = ?, occurred_at = ?,"
        " finalised_at = coalesce(finalised_at, ?) WHERE id = ?",
        [number, kind, occurred_at, stamp, entry_id],
    )
    return number


def entry_by_id(db: Database, entry_id: int) -> dict[str, Any] | None:
    return _decoded(one_row(db, _ENTRY_SELECT + " WHERE entries.id = ?", [entry_id]))


def revisions_of(db: Database, entry_id: int) -> list[dict[str, Any]]:
    rows = db.query(
        "SELECT entry_revisions.*, users.display_name AS author_name FROM entry_revisions"
        " JOIN users ON users.id = entry_revisions.author_id"
        " WHERE entry_id = ? ORDER BY number",
        [entry_id],
    )
    return [dict(row, children=json.loads(row["children"])) for row in rows]


# A confirmed fact of the entry's current revision (filters use only confirmed facts).
_HAS_FACT = (" AND EXISTS (SELECT 1 FROM facts WHERE facts.entry_id = entries.id"
             " AND facts.revision = entries.revision_count AND {condition})")


def narrative(db: Database, case_id: int, *, newest_first: bool, child_id: int | None,
              limit: int, offset: int, person_id: int | None = None, tag: str | None = None,
              risk: str | None = None) -> tuple[list[dict[str, Any]], int]:
    """Final entries of a case in order of when they happened, one page, and the total."""
    where = "entries.case_id = ? AND entries.status = 'final'"
    params: list[Any] = [case_id]
    if child_id is not None:
        where += " AND EXISTS (SELECT 1 FROM json_each(latest.children) WHERE value = ?)"
        params.append(child_id)
    if person_id is not None:
        where += _HAS_FACT.format(condition="facts.kind IN ('person', 'child_seen')"
                                            " AND facts.person_id = ?")
        params.append(person_id)
    if tag:
        where += _HAS_FACT.format(condition="facts.kind = 'tag' AND facts.label = ?")
        params.append(tag)
    if risk:
        where += _HAS_FACT.format(condition="facts.kind = 'risk' AND facts.label = ?")
        params.append(risk)
    order = "DESC" if newest_first else "ASC"
    rows = db.query(
        f"{_ENTRY_SELECT} WHERE {where}"
        f" ORDER BY entries.occurred_at {order}, entries.id {order} LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    count = one_row(
        db,
        "SELECT count(*) AS n FROM entries LEFT JOIN entry_revisions AS latest"
        "  ON latest.entry_id = entries.id AND latest.number = entries.revision_count"
        f" WHERE {where}",
        params,
    )
    return [_decoded(row) for row in rows], int(count["n"]) if count else 0


def drafts_by(db: Database, case_id: int, author_id: int) -> list[dict[str, Any]]:
    rows = db.query(
        f"{_ENTRY_SELECT} WHERE entries.case_id = ? AND entries.author_id = ?"
        " AND entries.status = 'draft' ORDER BY entries.created_at DESC",
        [case_id, author_id],
    )
    return [_decoded(row) for row in rows]


def _decoded(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    row = dict(row)
    row["draft_children"] = json.loads(row.get("draft_children") or "[]")
    row["children"] = json.loads(row["children"]) if row.get("children") else []
    return row
