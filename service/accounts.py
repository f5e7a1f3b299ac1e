"""Accounts: users, roles, teams, passwords, sessions, API tokens and sign-in limits."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from sqlite_utils import Database

from service import sign_in_limits
from service.errors import Conflict, Invalid, NotFound
from service.storage import search_index
from service.storage import users as user_rows
from service.storage.db import transaction
from service.storage.migrations import ROLES

CASE_ROLES = frozenset({"worker", "reviewer", "manager"})
TEAM_WIDE_ROLES = frozenset({"reviewer", "manager"})
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")
MIN_PASSWORD = 8
_hasher = PasswordHasher()


@dataclass(frozen=True)
class User:
    id: int
    username: str
    display_name: str
    team_id: int | None
    roles: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    @property
    def has_case_role(self) -> bool:
        return bool(self.roles & CASE_ROLES)

    @property
    def team_wide(self) -> bool:
        """Reviewers and managers see every case of their team."""
        return bool(self.roles & TEAM_WIDE_ROLES)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> User:
        return cls(row["id"], row["username"], row["display_name"], row["team_id"],
                   frozenset(row["roles"]))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_roles(roles: list[str]) -> list[str]:
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise Invalid(f"Unknown role {', '.join(unknown) or '(none given)'}: "
                      f"choose from {', '.join(ROLES)}.")
    return sorted(set(roles))


def add_user(db: Database, username: str, password: str, roles: list[str],
             team: str | None = None, display_name: str | None = None) -> User:
    username = username.strip().lower()
    if not USERNAME.match(username):
        raise Invalid("A username is 2 to 40 lower-case letters, digits, dots, dashes or "
                      "underscores, starting with a letter or digit.")
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"A password needs at least {MIN_PASSWORD} characters.")
    roles = check_roles(roles)
    with transaction(db):
        if user_rows.user_by_username(db, username):
            raise Conflict(f"There is already a user called {username}.")
        team_id = team_id_for(db, team) if team else None
        user_id = user_rows.insert_user(db, username, display_name or username,
                                        hash_password(password), team_id)
        user_rows.set_roles(db, user_id, roles)
    return get_user(db, user_id)


def team_id_for(db: Database, name: str) -> int:
    team = user_rows.team_by_name(db, name)
    if team is None:
        raise NotFound(f"There is no team called {name}.")
    return int(team["id"])


def add_team(db: Database, name: str) -> int:
    """A new team, with its own search index (a reviewer's search reads only their team's)."""
    name = name.strip()
    if not name or len(name) > 100:
        raise Invalid("A team needs a name of up to 100 characters.")
    with transaction(db):
        if user_rows.team_by_name(db, name):
            raise Conflict(f"There is already a team called {name}.")
        team_id = user_rows.insert_team(db, name)
        search_index.add_shard(db, team_id)
    return team_id


def get_user(db: Database, user_id: int) -> User:
    row = user_rows.user_by_id(db, user_id)
    if row is None:
        raise NotFound("No such user.")
    return User.from_row(row)


def get_user_by_name(db: Database, username: str) -> User:
    row = user_rows.user_by_username(db, username.strip().lower())
    if row is None:
        raise NotFound(f"There is no user called {username}.")
    return User.from_row(row)


def set_roles(db: Database, username: str, roles: list[str]) -> User:
    user = get_user_by_name(db, username)
    roles = check_roles(roles)
    with transaction(db):
        user_rows.set_roles(db, user.id, roles)
    return get_user(db, user.id)


def set_team(db: Database, username: str, team: str | None) -> User:
    user = get_user_by_name(db, username)
    with transaction(db):
        user_rows.set_team(db, user.id, team_id_for(db, team) if team else None)
    return get_user(db, user.id)


def sign_in(db: Database, username: str, password: str, client: str,
            free_failures: int, session_hours: int) -> tuple[User, str, str]:
    """Check a password; returns the user, a new session token and its CSRF token."""
    username = username.strip().lower()
    attempt = sign_in_limits.begin_attempt(db, username, client, free_failures)
    row = user_rows.user_by_username(db, username)
    live = row is not None and bool(row["active"])
    ok = sign_in_limits.verify_password(row["password_hash"] if live and row else None,
                                        password)
    if not ok or row is None:
        raise Invalid("The username or password is not right.")
    with transaction(db):
        attempt.succeeded(db)
        if _hasher.check_needs_rehash(row["password_hash"]):
            user_rows.set_password_hash(db, row["id"], hash_password(password))
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        expires = (datetime.now(UTC) + timedelta(hours=session_hours)).replace(microsecond=0)
        user_rows.insert_session(db, _digest(token), row["id"], csrf, expires.isoformat())
    return User.from_row(row), token, csrf


def session_user(db: Database, token: str) -> tuple[User, str] | None:
    """The signed-in user and CSRF token for a session cookie, if it is live."""
    session = user_rows.session_by_id(db, _digest(token))
    if session is None:
        return None
    row = user_rows.user_by_id(db, session["user_id"])
    if row is None or not row["active"]:
        return None
    return User.from_row(row), session["csrf_token"]


def sign_out(db: Database, token: str) -> None:
    user_rows.delete_session(db, _digest(token))


def create_token(db: Database, username: str) -> str:
    """A new API bearer token; only its hash is stored."""
    user = get_user_by_name(db, username)
    token = "cn_" + secrets.token_urlsafe(32)
    user_rows.insert_token(db, user.id, _digest(token))
    return token


def token_user(db: Database, token: str) -> User | None:
    user_id = user_rows.token_user_id(db, _digest(token))
    if user_id is None:
        return None
    row = user_rows.user_by_id(db, user_id)
    return User.from_row(row) if row and row["active"] else None


def list_users(db: Database) -> list[dict[str, Any]]:
    return user_rows.list_users(db)


def list_teams(db: Database) -> list[dict[str, Any]]:
    return user_rows.list_teams(db)


def _digest(token: str) -> str:
    # Tokens are long random strings, so a fast hash is enough to keep them out of the DB.
    return hashlib.sha256(token.encode()).hexdigest()
