"""Sign-in throttling: per account and client, growing, atomic, and nobody else's lockout."""

from __future__ import annotations

import contextlib
import threading
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlite_utils import Database

from service import accounts, sign_in_limits
from service.errors import Invalid, TooMany
from service.settings import Settings
from service.storage import open_db
from tests.conftest import PASSWORDS, csrf_of


def _fail(db: Database, username: str, client: str, free: int = 3) -> None:
    with pytest.raises(Invalid):
        accounts.sign_in(db, username, "wrong password", client, free, 1)


def test_the_delay_grows_and_is_capped() -> None:
    waits = [sign_in_limits.delay_after(n, 3) for n in range(0, 40)]
    assert waits[:3] == [0, 0, 0] and waits[3:6] == [2, 4, 8]
    assert waits == sorted(waits) and max(waits) == sign_in_limits.MAX_DELAY_SECONDS


def test_failures_slow_only_that_account_from_that_client(demo_db: Database) -> None:
    for _ in range(3):
        _fail(demo_db, "reviewer", "10.0.0.9")
    with pytest.raises(TooMany) as refused:
        accounts.sign_in(demo_db, "reviewer", PASSWORDS["reviewer"], "10.0.0.9", 3, 1)
    assert refused.value.retry_after and refused.value.retry_after <= 2
    # The same person from their own desk, and a colleague behind the same address, sign in.
    assert accounts.sign_in(demo_db, "reviewer", PASSWORDS["reviewer"], "10.0.0.1", 3, 1)
    assert accounts.sign_in(demo_db, "worker", PASSWORDS["worker"], "10.0.0.9", 3, 1)


def test_guessing_unknown_names_locks_nobody_out(demo_db: Database) -> None:
    for _ in range(10):
        with contextlib.suppress(Invalid, TooMany):
            accounts.sign_in(demo_db, "nosuchuser", "guess", "192.0.2.1", 3, 1)
    user, token, csrf = accounts.sign_in(demo_db, "reviewer", PASSWORDS["reviewer"],
                                         "192.0.2.1", 3, 1)
    assert user.username == "reviewer" and token and csrf


def test_the_wait_ends(demo_db: Database) -> None:
    for _ in range(3):
        _fail(demo_db, "worker", "10.0.0.7")
    later = datetime.now(UTC) + timedelta(seconds=3)
    attempt = sign_in_limits.begin_attempt(demo_db, "worker", "10.0.0.7", 3, at=later)
    assert attempt.id
    with pytest.raises(TooMany) as refused:  # that attempt counted as failed: 4 s now
        sign_in_limits.begin_attempt(demo_db, "worker", "10.0.0.7", 3, at=later)
    assert refused.value.retry_after and 2 < refused.value.retry_after <= 4


def test_parallel_guesses_are_counted_one_by_one(settings: Settings, demo_db: Database) -> None:
    outcomes: list[str] = []
    lock = threading.Lock()

    def guess() -> None:
        db = open_db(settings.database_path)
        try:
            accounts.sign_in(db, "manager", "wrong password", "198.51.100.4", 3, 1)
        except Exception as err:  # noqa: BLE001 - anything else is named in the failure
            with lock:
                outcomes.append(type(err).__name__)
        finally:
            db.close()

    threads = [threading.Thread(target=guess) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    checked = outcomes.count("Invalid")
    assert len(outcomes) == 30 and set(outcomes) <= {"Invalid", "TooMany"}, outcomes
    assert 3 <= checked <= 4  # 4 only if 2 s passed mid-burst
    failures = demo_db.execute(
        "SELECT count(*) FROM login_attempts WHERE username = 'manager' AND success = 0"
    ).fetchone()[0]
    assert failures == checked


def test_unknown_and_inactive_names_run_a_real_verification() -> None:
    assert sign_in_limits.verify_password(None, "anything") is False
    assert sign_in_limits.verify_password(None, "no account has this password") is False
    good = accounts.hash_password("correct horse")
    assert sign_in_limits.verify_password(good, "correct horse") is True
    assert sign_in_limits.verify_password(good, "wrong") is False
    assert sign_in_limits.verify_password("not a hash", "x") is False


def test_a_delayed_sign_in_page_says_how_long(client: TestClient) -> None:
    statuses = []
    for _ in range(7):
        token = csrf_of(client.get("/login").text)
        response = client.post("/login", data={"username": "nosuchuser", "password": "x",
                                               "csrf_token": token})
        statuses.append(response.status_code)
    assert statuses[:5] == [400] * 5 and statuses[5] == 429
    wait = response.headers["retry-after"]
    assert wait in {"1", "2"} and f"Wait {wait} second" in response.text
    token = csrf_of(client.get("/login").text)
    ok = client.post("/login", data={"username": "reviewer", "password": PASSWORDS["reviewer"],
                                     "csrf_token": token}, follow_redirects=False)
    assert ok.status_code == 303
