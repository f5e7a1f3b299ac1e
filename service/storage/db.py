"""Opening the database with the pragmas every connection needs."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

BUSY_TIMEOUT_MS = 10_000


def open_db(path: Path | str, *, migrate: bool = True) -> Database:
    """Open (creating if needed) the SQLite file at `path`, WAL mode, foreign keys on."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(
        str(path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False, isolation_level=None
    )
    db = Database(conn)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA synchronous=NORMAL")
    if migrate:
        from service.storage.migrations import migrate as apply_migrations

        apply_migrations(db)
    return db


@contextmanager
def transaction(db: Database) -> Iterator[Database]:
    """All-or-nothing: BEGIN IMMEDIATE so concurrent writers queue rather than fail midway."""
    conn = db.conn
    if conn.in_transaction:
        yield db
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def now() -> str:
    """UTC timestamp stored as ISO text, to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def one_row(db: Database, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> dict[str, Any] | None:
    """The first row of a query, or None."""
    for row in db.query(sql, params):
        return row
    return None
