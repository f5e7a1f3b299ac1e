"""Synthetic demo data: invented families, workers and visits, for `make run` and tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlite_utils import Database

from service.accounts import add_team, hash_password
from service.settings import Settings
from service.storage import cases as case_rows
from service.storage import entries as entry_rows
from service.storage import users as user_rows
from service.storage.db import transaction


def read_demo(path: Path | None = None) -> dict[str, Any]:
    path = path or Settings().demo_file
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def load_demo(db: Database, path: Path | None = None, today: datetime | None = None) -> bool:
    """Load the demo once; returns False if it was already there."""
    demo = read_demo(path)
    if user_rows.user_by_username(db, demo["users"][0]["username"]):
        return False
    today = today or datetime.now().replace(second=0, microsecond=0)
    with transaction(db):
        teams = {name: add_team(db, name) for name in
                 (demo["team"], demo["other_team"])}
        users: dict[str, int] = {}
        for spec in demo["users"]:
            users[spec["username"]] = user_rows.insert_user(
                db, spec["username"], spec["display_name"],
                hash_password(demo["demo_passwords"][spec["username"]]),
                teams.get(spec["team"]) if spec["team"] else None)
            user_rows.set_roles(db, users[spec["username"]], spec["roles"])
        for family in demo["families"]:
            _load_family(db, family, teams, users, today)
    return True


def _load_family(db: Database, family: dict[str, Any], teams: dict[str, int],
                 users: dict[str, int], today: datetime) -> None:
    case_id = case_rows.insert_case(db, family["reference"], family["family_name"],
                                    teams[family["team"]])
    for username in family["allocated"]:
        case_rows.insert_allocation(db, case_id, users[username], None)
    people = {p["name"]: case_rows.insert_person(db, case_id, p) for p in family["people"]}
    author = users[family["allocated"][0]]
    for number, spec in enumerate(family["entries"]):
        when = (today - timedelta(days=spec["days_ago"])).replace(hour=9 + number % 8, minute=30)
        children = [people[name] for name in spec["children"]]
        entry_id = entry_rows.insert_entry(db, case_id, author, spec["kind"],
                                           when.isoformat(timespec="minutes"), spec["text"],
                                           children)
        entry_rows.insert_revision(db, entry_id, spec["kind"], when.isoformat(timespec="minutes"),
                                   spec["text"].strip(), children, author)
        entry_rows.clear_draft(db, entry_id)


def demo_logins(path: Path | None = None) -> list[tuple[str, str, str]]:
    """(username, password, roles) for the printed demo logins."""
    demo = read_demo(path)
    return [(u["username"], demo["demo_passwords"][u["username"]], ", ".join(u["roles"]))
            for u in demo["users"]]
