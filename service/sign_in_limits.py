"""Sign-in throttling: a growing delay per account *and* client address.

Counting failures per username alone lets anyone lock a colleague out from anywhere; per
address alone locks a whole office behind one NAT. Keyed on the pair, a stranger's guesses
slow only the stranger. The check and the record of an attempt are one write transaction,
so parallel guesses queue and each sees the ones before it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlite_utils import Database

from service.errors import TooMany
from service.storage import users as user_rows
from service.storage.db import transaction

WINDOW = timedelta(minutes=15)
MAX_DELAY_SECONDS = 15 * 60
log = logging.getLogger("casenotes.sign_in")


@dataclass(frozen=True)
class Attempt:
    """A sign-in attempt already recorded as failed; `succeeded` flips it once verified."""

    id: int

    def succeeded(self, db: Database) -> None:
        user_rows.mark_login_succeeded(db, self.id)


def delay_after(failures: int, free_failures: int) -> int:
    """Seconds to wait after the latest failure: none for the first few, then 2, 4, 8 ..."""
    if failures < free_failures:
        return 0
    # From 2 s, not 1: attempts are stored to the second, so 1 s could be no wait at all.
    return min(MAX_DELAY_SECONDS, 2 ** min(failures - free_failures + 1, 20))


def begin_attempt(db: Database, username: str, client: str, free_failures: int,
                  at: datetime | None = None) -> Attempt:
    """Record an attempt (as failed until verified) or refuse it with the wait still due."""
    at = at or datetime.now(UTC)
    since = (at - WINDOW).replace(microsecond=0).isoformat()
    with transaction(db):
        failures = user_rows.failed_logins_since(db, username, client, since)
        wait = 0
        if failures:
            due = datetime.fromisoformat(failures[-1]) + timedelta(
                seconds=delay_after(len(failures), free_failures))
            wait = max(0, int((due - at).total_seconds() + 0.999))
        if wait:
            log.info("sign-in delayed %d s after %d failures for one account from one client",
                     wait, len(failures))
            raise TooMany("Too many failed sign-in attempts from here for this account. "
                          f"Wait {_in_words(wait)} and try again.", retry_after=wait)
        return Attempt(user_rows.record_login_attempt(
            db, username, client, success=False, at=at.replace(microsecond=0).isoformat()))


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password in the same time whether or not the account exists."""
    hasher = PasswordHasher()
    try:
        return hasher.verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    # A real argon2 hash of nothing anyone knows: unknown names cost a full verification.
    return PasswordHasher().hash("no account has this password")


def _in_words(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = (seconds + 59) // 60
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
