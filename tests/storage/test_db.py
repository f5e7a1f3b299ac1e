"""Opening the database: private file modes and a commit that waits for the disk."""

from __future__ import annotations

import stat
from pathlib import Path

from service.storage import open_db


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
