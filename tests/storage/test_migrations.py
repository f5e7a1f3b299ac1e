"""The schema: one ordered migration set, applied on purpose, never by opening a file; every
database made by the earlier per-module sets still opens and migrates."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest
from sqlite_utils import Database

from service import accounts, search
from service.demo import load_demo
from service.storage import open_db, search_index
from service.storage.migrations import (
    EARLIER_SETS,
    SET_NAME,
    STEPS,
    migrate,
    migrations,
    open_migrated,
    pending,
)
from tests.conftest import bundled_rules

LEGACY = Path(__file__).resolve().parents[2] / "fixtures" / "legacy"


def _schema(db: Database) -> dict[tuple[str, str], str]:
    return {(r["type"], r["name"]): r["sql"] for r in db.query(
        "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")}


def _recorded(db: Database) -> list[tuple[str, str]]:
    return [(r["migration_set"], r["name"]) for r in db.query(
        "SELECT migration_set, name FROM _sqlite_migrations ORDER BY name")]


@pytest.fixture(scope="module")
def fresh_demo(tmp_path_factory: pytest.TempPathFactory) -> Database:
    db = open_migrated(tmp_path_factory.mktemp("fresh") / "fresh.db")
    load_demo(db)
    return db


def test_opening_a_file_leaves_its_schema_alone(tmp_path: Path) -> None:
    db = open_db(tmp_path / "new.db")
    assert db.table_names() == []
    assert pending(db) == [name for name, _ in STEPS]


def test_one_set_in_order_recorded_once(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    first = open_migrated(path)
    applied = [m.name for m in migrations.applied(first)]
    assert applied == [name for name, _ in STEPS] == sorted(applied)
    assert {r["migration_set"] for r in first.query("SELECT migration_set FROM"
                                                    " _sqlite_migrations")} == {SET_NAME}
    first.close()
    second = open_migrated(path)
    assert [m.name for m in migrations.applied(second)] == applied
    assert pending(second) == []
    assert {"cases", "entries", "entry_revisions", "access_log", "facts",
            "transcriptions"} <= set(second.table_names())


def test_every_earlier_step_maps_onto_a_step_of_the_set() -> None:
    names = [name for name, _ in STEPS]
    assert len(set(names)) == len(names)
    assert set(EARLIER_SETS.values()) <= set(names)
    assert len(set(EARLIER_SETS.values())) == len(EARLIER_SETS)


@pytest.mark.parametrize("made_by", ["8a8bb7b", "c010985"])
def test_a_database_made_by_the_old_sets_migrates(tmp_path: Path, fresh_demo: Database,
                                                  made_by: str) -> None:
    path = tmp_path / "casenotes.db"
    with gzip.open(LEGACY / f"demo-{made_by}.db.gz") as packed, path.open("wb") as out:
        shutil.copyfileobj(packed, out)
    db = open_db(path)
    old_sets = {s for s, _ in _recorded(db)}
    assert "casenotes-facts" in old_sets  # really made by the per-module sets
    entries_before = db["entry_revisions"].count
    run_before = pending(db)
    migrate(db)
    # Nothing applied twice (a second CREATE TABLE would have failed), nothing left out.
    assert pending(db) == []
    assert _recorded(db) == [(SET_NAME, name) for name, _ in sorted(STEPS)]
    assert set(run_before) >= {"m006_facts", "m016_covering_indexes"}
    # The same schema as a database made today, and the same entries, searchable.
    assert _schema(db) == _schema(fresh_demo)
    assert db["entry_revisions"].count == entries_before > 0
    assert search_index.index_agrees(db)
    reviewer = accounts.get_user_by_name(db, "reviewer")
    text = next(db.query(
        "SELECT r.text FROM entry_revisions AS r JOIN entries AS e ON e.id = r.entry_id"
        " JOIN cases AS c ON c.id = e.case_id WHERE c.team_id = ? ORDER BY r.id",
        [reviewer.team_id]))["text"]
    word = max((w for w in text.split() if w.isalpha()), key=len)
    assert search.search(db, reviewer, search.SearchRequest(q=word),
                         taxonomy=bundled_rules().taxonomy).total > 0
    migrate(db)  # again: a no-op
    assert _recorded(db) == [(SET_NAME, name) for name, _ in sorted(STEPS)]
