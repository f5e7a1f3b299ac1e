"""Storage: pragmas and the append-only rules, on real SQLite files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database

from service.storage import entries as entry_rows
from tests.conftest import case_id


def test_pragmas(db: Database) -> None:
    assert next(db.query("PRAGMA journal_mode"))["journal_mode"] == "wal"
    assert next(db.query("PRAGMA foreign_keys"))["foreign_keys"] == 1
    assert next(db.query("PRAGMA busy_timeout"))["timeout"] >= 5000


def _final_entry(db: Database) -> int:
    cid = case_id(db, "RFS-1042")
    author = next(db.query("SELECT id FROM users WHERE username = 'worker'"))["id"]
    entry_id = entry_rows.insert_entry(db, cid, author, "home_visit", "2026-01-05T10:00",
                                       "first text", [])
    entry_rows.insert_revision(db, entry_id, "home_visit", "2026-01-05T10:00", "first text", [],
                               author)
    return entry_id


def test_revisions_cannot_be_updated_or_deleted(demo_db: Database) -> None:
    entry_id = _final_entry(demo_db)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        demo_db.execute("UPDATE entry_revisions SET text = 'changed' WHERE entry_id = ?",
                        [entry_id])
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        demo_db.execute("DELETE FROM entry_revisions WHERE entry_id = ?", [entry_id])
    with pytest.raises(sqlite3.IntegrityError, match="never deleted"):
        demo_db.execute("DELETE FROM entries WHERE id = ?", [entry_id])
    with pytest.raises(sqlite3.IntegrityError, match="cannot return to draft"):
        demo_db.execute("UPDATE entries SET status = 'draft' WHERE id = ?", [entry_id])
    with pytest.raises(sqlite3.IntegrityError, match="new revision"):
        demo_db.execute("UPDATE entries SET occurred_at = '2020-01-01T00:00' WHERE id = ?",
                        [entry_id])
    assert entry_rows.revisions_of(demo_db, entry_id)[0]["text"] == "first text"


def test_access_log_is_append_only(demo_db: Database) -> None:
    demo_db.execute("INSERT INTO access_log (at, action, outcome) VALUES ('x', 'test', 'allowed')")
    with pytest.raises(sqlite3.IntegrityError):
        demo_db.execute("DELETE FROM access_log")
    with pytest.raises(sqlite3.IntegrityError):
        demo_db.execute("UPDATE access_log SET action = 'other'")


def test_no_code_updates_revision_text() -> None:
    """No UPDATE of entry_revisions anywhere in the code, only inserts."""
    root = Path(__file__).resolve().parent.parent / "service"
    for path in root.rglob("*.py"):
        source = path.read_text()
        assert "UPDATE entry_revisions" not in source, path


def test_demo_has_families_and_roles(demo_db: Database) -> None:
    cases = list(demo_db.query("SELECT * FROM cases"))
    assert len(cases) >= 3
    for case in cases:
        categories = {p["category"] for p in demo_db.query(
            "SELECT category FROM people WHERE case_id = ?", [case["id"]])}
        assert "child" in categories
    roles = {r["role"] for r in demo_db.query("SELECT role FROM user_roles")}
    assert roles == {"worker", "reviewer", "manager", "admin"}
    counts = [r["n"] for r in demo_db.query(
        "SELECT count(*) AS n FROM entries WHERE case_id IN (SELECT id FROM cases"
        " WHERE reference LIKE 'RFS-%') GROUP BY case_id")]
    assert min(counts) >= 3
