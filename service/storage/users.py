"""Queries for teams, users, roles, sessions, API tokens and login attempts."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from service.storage.db import now, one_row


def insert_team(db: Database, name: str) -> int:
    """A new team's row only: accounts.add_team gives it its search index too."""
    cursor = db.execute("INSERT INTO teams (name, created_at) VALUES (?, ?)", [name, now()])
    return int(cursor.lastrowid)


def team_by_name(db: Database, name: str) -> dict[str, Any] | None:
    return one_row(db, "SELECT * FROM teams WHERE name = ?", [name])


def team_by_id(db: Database, team_id: int) -> dict[str, Any] | None:
    return one_row(db, "SELECT * FROM teams WHERE id = ?", [team_id])


def list_teams(db: Database) -> list[dict[str, Any]]:
    return list(db.query("SELECT * FROM teams ORDER BY name"))


def insert_user(
    db: Database, username: str, display_name: str, password_hash: str, team_id: int | None
) -> int:
    cursor = db.execute(
        "INSERT INTO users (username, display_name, password_hash, team_id, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        [username, display_name, password_hash, team_id, now()],
    )
    return int(cursor.lastrowid)


def user_by_id(db: Database, user_id: int) -> dict[str, Any] | None:
    return _with_roles(db, one_row(db, "SELECT * FROM users WHERE id = ?", [user_id]))


def user_by_username(db: Database, username: str) -> dict[str, Any] | None:
    return _with_roles(db, one_row(db, "SELECT * FROM users WHERE username = ?", [username]))


def list_users(db: Database) -> list[dict[str, Any]]:
    rows = db.query(
        "SELECT users.*, teams.name AS team_name,"
        " (SELECT group_concat(role, ',') FROM user_roles WHERE user_id = users.id) AS roles"
        " FROM users LEFT JOIN teams ON teams.id = users.team_id ORDER BY users.username"
    )
    return [dict(row, roles=sorted((row["roles"] or "").split(",")) if row["roles"] else [])
            for row in rows]


def set_roles(db: Database, user_id: int, roles: list[str]) -> None:
    db.execute("DELETE FROM user_roles WHERE user_id = ?", [user_id])
    for role in sorted(set(roles)):
        db.execute("INSERT INTO user_roles (user_id, role) VALUES (?, ?)", [user_id, role])


def set_team(db: Database, user_id: int, team_id: int | None) -> None:
    db.execute("UPDATE users SET team_id = ? WHERE id = ?", [team_id, user_id])


def set_password_hash(db: Database, user_id: int, password_hash: str) -> None:
    db.execute("UPDATE users SET password_hash = ? WHERE id = ?", [password_hash, user_id])


def insert_session(
    db: Database, session_id: str, user_id: int, csrf_token: str, expires_at: str
) -> None:
    db.execute(
        "INSERT INTO sessions (id, user_id, csrf_token, created_at, expires_at)"
        " VALUES (?, ?, ?, ?, ?)",
        [session_id, user_id, csrf_token, now(), expires_at],
    )


def session_by_id(db: Database, session_id: str) -> dict[str, Any] | None:
    return one_row(db, "SELECT * FROM sessions WHERE id = ? AND expires_at > ?", [session_id, now()])


def delete_session(db: Database, session_id: str) -> None:
    db.execute("DELETE FROM sessions WHERE id = ?", [session_id])


def insert_token(db: Database, user_id: int, token_hash: str) -> int:
    cursor = db.execute(
        "INSERT INTO api_tokens (user_id, token_hash, created_at) VALUES (?, ?, ?)",
        [user_id, token_hash, now()],
    )
    return int(cursor.lastrowid)


def token_user_id(db: Database, token_hash: str) -> int | None:
    row = one_row(
        db,
        "SELECT user_id FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL",
        [token_hash],
    )
    return int(row["user_id"]) if row else None


def record_login_attempt(db: Database, username: str, client: str, success: bool,
                         at: str | None = None) -> int:
    cursor = db.execute(
        "INSERT INTO login_attempts (username, client, at, success) VALUES (?, ?, ?, ?)",
        [username.lower(), client, at or now(), int(success)],
    )
    return int(cursor.lastrowid or 0)


def mark_login_succeeded(db: Database, attempt_id: int) -> None:
    db.execute("UPDATE login_attempts SET success = 1 WHERE id = ?", [attempt_id])


def failed_logins_since(db: Database, username: str, client: str, since: str) -> list[str]:
    """When each failed attempt for this account from this client happened, oldest first."""
    return [row["at"] for row in db.query(
        "SELECT at FROM login_attempts WHERE username = ? AND client = ? AND at >= ?"
        " AND success = 0 ORDER BY at, id",
        [username.lower(), client, since],
    )]


def _with_roles(db: Database, user: dict[str, Any] | None) -> dict[str, Any] | None:
    if user is None:
        return None
    roles = [r["role"] for r in db.query(
        "SELECT role FROM user_roles WHERE user_id = ? ORDER BY role", [user["id"]])]
    return dict(user, roles=roles)
