"""Transactions and the work that waits for their commit, on a real SQLite file."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlite_utils import Database

from service.storage.db import after_commit, open_db, transaction


@pytest.fixture
def notes(tmp_path: Path) -> Database:
    db = open_db(tmp_path / "hook.db")
    db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, said TEXT NOT NULL)")
    return db


def _said(db: Database) -> list[str]:
    return [r["said"] for r in db.query("SELECT said FROM notes ORDER BY id")]


def test_runs_once_the_outermost_transaction_commits(notes: Database, tmp_path: Path) -> None:
    seen: list[list[str]] = []
    with transaction(notes):
        notes.execute("INSERT INTO notes (said) VALUES ('outer')")
        with transaction(notes):  # nested: part of the outer write
            notes.execute("INSERT INTO notes (said) VALUES ('inner')")
            after_commit(notes, lambda: seen.append(_said(open_db(tmp_path / "hook.db"))))
        assert seen == []  # the inner block ending is not a commit
    # Another connection sees both rows when the callback runs: it ran after COMMIT.
    assert seen == [["outer", "inner"]]
    with transaction(notes):
        notes.execute("INSERT INTO notes (said) VALUES ('next')")
    assert len(seen) == 1  # run once, then forgotten


def test_dropped_when_the_transaction_rolls_back(notes: Database) -> None:
    seen: list[str] = []
    with pytest.raises(ValueError), transaction(notes):
        notes.execute("INSERT INTO notes (said) VALUES ('lost')")
        after_commit(notes, lambda: seen.append("ran"))
        raise ValueError("refused")
    with transaction(notes):
        notes.execute("INSERT INTO notes (said) VALUES ('kept')")
    assert seen == [] and _said(notes) == ["kept"]


def test_outside_a_transaction_it_runs_at_once(notes: Database) -> None:
    seen: list[str] = []
    after_commit(notes, lambda: seen.append("ran"))
    assert seen == ["ran"]


def test_a_callback_may_write_and_a_failing_one_leaves_the_commit(
        notes: Database, caplog: pytest.LogCaptureFixture) -> None:
    def write_more() -> None:
        with transaction(notes):  # the write lock is free again by now
            notes.execute("INSERT INTO notes (said) VALUES ('afterwards')")

    def fail() -> None:
        raise OSError("disk gone")

    with caplog.at_level(logging.ERROR, logger="service.storage.db"), transaction(notes):
        notes.execute("INSERT INTO notes (said) VALUES ('first')")
        after_commit(notes, fail)
        after_commit(notes, write_more)
    assert _said(notes) == ["first", "afterwards"]
    assert "after-commit work fail failed" in caplog.text
