"""Opening the database with the pragmas every connection needs; transactions and the work
that waits for their commit.

Opening a file never changes its schema: start-up and `casenotes init` apply the migrations
(service/storage/migrations.py) explicitly."""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

log = logging.getLogger(__name__)
BUSY_TIMEOUT_MS = 10_000
# One write lock per database file in this process. Writers queue here rather than in
# SQLite's busy handler, whose back-off sleeps (up to 100 ms each) make latency spiky.
_write_locks: dict[str, threading.Lock] = {}
_registry_lock = threading.Lock()


def _write_lock_for(path: Path) -> threading.Lock:
    key = str(path.resolve())
    with _registry_lock:
        return _write_locks.setdefault(key, threading.Lock())


def open_db(path: Path | str) -> Database:
    """Open (creating if needed) the SQLite file at `path`, WAL mode, foreign keys on.

    The schema is not touched here: apply `migrations.migrate(db)` at start-up."""
    path = Path(path)
    _private_file(path)
    conn = sqlite3.connect(
        str(path), timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False, isolation_level=None
    )
    db = Database(conn)
    db.write_lock = _write_lock_for(path)  # type: ignore[attr-defined]
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    # FULL: a commit is on disk before it is acknowledged, power cut or not (NORMAL in WAL
    # can lose the last transactions); bench/bench_foundation.py reports the cost.
    conn.execute("PRAGMA synchronous=FULL")
    return db


def after_commit(db: Database, callback: Callable[[], None]) -> None:
    """Run `callback` once the outermost transaction commits; drop it if that rolls back.

    For side effects outside the database (deleting a file) that must not happen for a write
    that never lands. Outside a transaction the write has already landed: run it now. Like
    Datasette, which sends its events only after the write succeeds."""
    if not db.conn.in_transaction:
        _run_after_commit([callback])
        return
    pending: list[Callable[[], None]] = getattr(db, "after_commit_callbacks", [])
    pending.append(callback)
    db.after_commit_callbacks = pending  # type: ignore[attr-defined]


def _run_after_commit(callbacks: list[Callable[[], None]]) -> None:
    for callback in callbacks:
        try:
            callback()
        except Exception:
            # The commit stands; a failed follow-up must not turn it into an error page.
            # Whatever it left behind is picked up again at start-up (no note text logged).
            named = getattr(callback, "func", callback)  # a functools.partial names its func
            log.exception("after-commit work %s failed", getattr(named, "__name__", "?"))


def _private_file(path: Path) -> None:
    """Case records are for this service's user alone: a new data directory is 0700 and the
    database files 0600 (SQLite gives its -wal and -shm files the database file's mode)."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
        os.chmod(path.parent, 0o700)  # mkdir's mode is narrowed by the umask, not widened
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if file.exists() and file.stat().st_mode & 0o077:
            os.chmod(file, 0o600)


@contextmanager
def transaction(db: Database) -> Iterator[Database]:
    """All-or-nothing: BEGIN IMMEDIATE so concurrent writers queue rather than fail midway."""
    conn = db.conn
    if conn.in_transaction:
        yield db
        return
    lock: threading.Lock | None = getattr(db, "write_lock", None)
    if lock is not None:
        lock.acquire()
    survivors: list[Callable[[], None]] = []
    committed: list[Callable[[], None]] = []
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")
            committed = getattr(db, "after_commit_callbacks", [])
        finally:
            survivors = getattr(db, "after_transaction", [])
            db.after_transaction = []  # type: ignore[attr-defined]
            db.after_commit_callbacks = []  # type: ignore[attr-defined]
    finally:
        if lock is not None:
            lock.release()
        # Writes that must not depend on the transaction's outcome (a refused access is
        # logged even though the refusal rolls the transaction back), once the lock is free.
        for write in survivors:
            write()
    # Only after the commit, and with the lock free: the callbacks may write themselves.
    _run_after_commit(committed)


def now() -> str:
    """UTC timestamp stored as ISO text, to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def one_row(db: Database, sql: str, params: list[Any] | tuple[Any, ...] = ()) -> dict[str, Any] | None:
    """The first row of a query, or None."""
    for row in db.query(sql, params):
        return row
    return None


class ConnectionPool:
    """Reuse connections across requests: opening one costs more than most queries."""

    def __init__(self, path: Path, size: int = 16) -> None:
        self.path, self.size = path, size
        self._idle: list[Database] = []
        self._lock = threading.Lock()

    def take(self) -> Database:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return open_db(self.path)

    def give_back(self, db: Database) -> None:
        if db.conn.in_transaction:  # never hand on a connection mid-transaction
            db.conn.execute("ROLLBACK")
        with self._lock:
            if len(self._idle) < self.size:
                self._idle.append(db)
                return
        db.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for db in idle:
            db.close()
