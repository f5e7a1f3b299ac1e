"""Search test helpers: write final entries through the domain, confirm facts on them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlite_utils import Database

from service import accounts, entries, review
from service.accounts import User
from service.storage import facts as fact_rows
from service.storage.db import transaction
from tests.conftest import case_id


@pytest.fixture
def user(demo_db: Database) -> Callable[[str], User]:
    return lambda username: accounts.get_user_by_name(demo_db, username)


@pytest.fixture
def write(demo_db: Database, user: Callable[[str], User]) -> Callable[..., int]:
    """A final entry on a demo case; returns its id."""

    def write_entry(reference: str, text: str, *, kind: str = "home_visit",
                    when: str = "2026-03-14T10:30", by: str | None = None) -> int:
        author = by or ("worker2" if reference.startswith("HCT") else "worker")
        draft = entries.start_entry(demo_db, user(author), case_id(demo_db, reference), kind,
                                    when, text)
        review.finalise(demo_db, user(author), draft["id"])
        return int(draft["id"])

    return write_entry


@pytest.fixture
def confirm(demo_db: Database) -> Callable[..., int]:
    """A confirmed fact on an entry's current revision."""

    def confirm_fact(entry_id: int, kind: str, **fields: Any) -> int:
        entry = next(demo_db.query("SELECT case_id, revision_count, author_id FROM entries"
                                   " WHERE id = ?", [entry_id]))
        with transaction(demo_db):
            return fact_rows.insert_fact(demo_db, {
                "entry_id": entry_id, "case_id": entry["case_id"],
                "revision": fields.pop("revision", entry["revision_count"]), "kind": kind,
                "confirmed_by": entry["author_id"], **fields})

    return confirm_fact


def person_id(db: Database, name: str) -> int:
    return next(db.query("SELECT id FROM people WHERE name = ?", [name]))["id"]
