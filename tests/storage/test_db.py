"""Opening the database (private file modes, a commit that waits for the disk), transactions
and the work that waits for their commit, on real SQLite files."""

from __future__ import annotations

import logging
import stat
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


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_data_directory_and_its_database_are_private(tmp_path: Path) -> None:
    path = tmp_path / "data" / "casenotes.db"
    db = open_db(path)
    db.execute("CREATE TABLE t (x)")
    db.execute("INSERT INTO t VALUES (1)")
    assert _mode(path.parent) == 0o700
    for name in ("casenotes.db", "casenotes.db-wal", "casenotes.db-shm"):
        assert (path.parent / name).exists() and _mode(path.parent / name) == 0o600, name
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    db.close()


def test_files_left_readable_by_an_older_version_are_closed(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    path = tmp_path / "casenotes.db"
    open_db(path).close()
    path.chmod(0o644)
    open_db(path).close()
    assert _mode(path) == 0o600
    assert _mode(tmp_path) == 0o755  # a directory it did not create is left alone
