"""Queries for cases, allocations and the people on a case record."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from service.storage.db import now, one_row


def insert_case(db: Database, reference: str, family_name: str, team_id: int | None) -> int:
    cursor = db.execute(
        "INSERT INTO cases (reference, family_name, team_id, created_at) VALUES (?, ?, ?, ?)",
        [reference, family_name, team_id, now()],
    )
    return int(cursor.lastrowid)


def case_by_id(db: Database, case_id: int) -> dict[str, Any] | None:
    return one_row(
        db,
        "SELECT cases.*, teams.name AS team_name FROM cases"
        " LEFT JOIN teams ON teams.id = cases.team_id WHERE cases.id = ?",
        [case_id],
    )


def list_cases(db: Database) -> list[dict[str, Any]]:
    return list(db.query(
        "SELECT cases.*, teams.name AS team_name FROM cases"
        " LEFT JOIN teams ON teams.id = cases.team_id ORDER BY cases.family_name, cases.id"
    ))


# The access rule for seeing a case, in one place: allocated to the user, or (for reviewers
# and managers) in their team. Parameters: user id, team-wide (0/1), team id.
_VISIBLE = ("cases.id IN (SELECT case_id FROM allocations WHERE user_id = ? AND ended_at IS NULL)"
            "  OR (? AND cases.team_id IS NOT NULL AND cases.team_id = ?)")


def cases_visible_to(db: Database, user_id: int, team_id: int | None,
                     team_wide: bool) -> list[dict[str, Any]]:
    """Cases allocated to the user, plus (for reviewers and managers) the team's cases."""
    return list(db.query(
        "SELECT cases.*, teams.name AS team_name FROM cases"
        f" LEFT JOIN teams ON teams.id = cases.team_id WHERE {_VISIBLE}"
        " ORDER BY cases.family_name, cases.id",
        [user_id, int(team_wide), team_id],
    ))


def visible_case_keys(db: Database, user_id: int, team_id: int | None,
                      team_wide: bool) -> list[dict[str, Any]]:
    """The same cases as cases_visible_to, with only what a search needs (id, team_id,
    reference, family_name): a reviewer's team can hold a thousand cases."""
    cursor = db.conn.execute(
        f"SELECT id, team_id, reference, family_name FROM cases WHERE {_VISIBLE}",
        [user_id, int(team_wide), team_id])
    return [{"id": row[0], "team_id": row[1], "reference": row[2], "family_name": row[3]}
            for row in cursor]


def is_allocated(db: Database, case_id: int, user_id: int) -> bool:
    return one_row(
        db,
        "SELECT 1 FROM allocations WHERE case_id = ? AND user_id = ? AND ended_at IS NULL",
        [case_id, user_id],
    ) is not None


def insert_allocation(db: Database, case_id: int, user_id: int, by: int | None) -> int:
    cursor = db.execute(
        "INSERT INTO allocations (case_id, user_id, allocated_at, allocated_by) VALUES (?, ?, ?, ?)",
        [case_id, user_id, now(), by],
    )
    return int(cursor.lastrowid)


def end_allocation(db: Database, case_id: int, user_id: int, by: int | None) -> int:
    cursor = db.execute(
        "UPDATE allocations SET ended_at = ?, ended_by = ?"
        " WHERE case_id = ? AND user_id = ? AND ended_at IS NULL",
        [now(), by, case_id, user_id],
    )
    return cursor.rowcount


def current_allocations(db: Database, case_id: int) -> list[dict[str, Any]]:
    return list(db.query(
        "SELECT allocations.*, users.username, users.display_name FROM allocations"
        " JOIN users ON users.id = allocations.user_id"
        " WHERE case_id = ? AND ended_at IS NULL ORDER BY allocated_at",
        [case_id],
    ))


def insert_person(db: Database, case_id: int, fields: dict[str, Any]) -> int:
    stamp = now()
    cursor = db.execute(
        "INSERT INTO people (case_id, name, category, relationship, dob, address, is_subject,"
        " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [case_id, fields["name"], fields["category"], fields.get("relationship", ""),
         fields.get("dob"), fields.get("address"), int(fields.get("is_subject", False)),
         stamp, stamp],
    )
    return int(cursor.lastrowid)


def update_person(db: Database, person_id: int, fields: dict[str, Any]) -> None:
    db.execute(
        "UPDATE people SET name = ?, category = ?, relationship = ?, dob = ?, address = ?,"
        " is_subject = ?, updated_at = ? WHERE id = ?",
        [fields["name"], fields["category"], fields.get("relationship", ""), fields.get("dob"),
         fields.get("address"), int(fields.get("is_subject", False)), now(), person_id],
    )


def person_by_id(db: Database, person_id: int) -> dict[str, Any] | None:
    return one_row(db, "SELECT * FROM people WHERE id = ?", [person_id])


CATEGORY_ORDER = "CASE category WHEN 'child' THEN 0 WHEN 'parent' THEN 1 WHEN 'carer' THEN 2" \
    " WHEN 'relative' THEN 3 WHEN 'other' THEN 4 ELSE 5 END"


def people_on_case(db: Database, case_id: int) -> list[dict[str, Any]]:
    return list(db.query(
        f"SELECT * FROM people WHERE case_id = ? ORDER BY {CATEGORY_ORDER}, is_subject DESC, name",
        [case_id],
    ))


def children_of_cases(db: Database, case_ids: list[int]) -> list[dict[str, Any]]:
    if not case_ids:
        return []
    marks = ",".join("?" * len(case_ids))
    return list(db.query(
        f"SELECT * FROM people WHERE category = 'child' AND case_id IN ({marks})"
        " ORDER BY case_id, dob, name",
        case_ids,
    ))


def all_people(db: Database) -> list[dict[str, Any]]:
    """Everyone on every record, with their case reference (for duplicate checks)."""
    return list(db.query(
        "SELECT people.*, cases.reference AS case_reference FROM people"
        " JOIN cases ON cases.id = people.case_id ORDER BY people.id"
    ))


def mark_merged(db: Database, duplicate_id: int, keep_id: int, by: int) -> None:
    db.execute("UPDATE people SET merged_into = ?, merged_at = ?, merged_by = ? WHERE id = ?",
               [keep_id, now(), by, duplicate_id])
