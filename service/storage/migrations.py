"""The schema: one ordered sqlite-utils migration set, applied explicitly at start-up and by
`casenotes init` (never by opening a file).

The tables' own migrations live beside their queries (facts.py, search_index.py ...); this
module puts every step in one order. Append new steps at the end of `STEPS`; never edit,
rename or reorder an applied one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from service.storage import chronology, dashboard, facts, search_index, transcriptions
from service.storage.db import open_db, transaction

SET_NAME = "casenotes"

ROLES = ("worker", "reviewer", "manager", "admin")
ENTRY_KINDS = ("home_visit", "office_visit", "phone_call", "school_visit", "meeting", "other")
PERSON_CATEGORIES = ("child", "parent", "relative", "carer", "professional", "other")


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def m001_accounts(db: Database) -> None:
    db.executescript(
        f"""
        CREATE TABLE teams (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL
        );
        CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            username TEXT NOT NULL UNIQUE COLLATE NOCASE,
            display_name TEXT NOT NULL,
            password_hash TEXT NOT NULL,
            team_id INTEGER REFERENCES teams(id),
            active INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL
        );
        CREATE TABLE user_roles (
            user_id INTEGER NOT NULL REFERENCES users(id),
            role TEXT NOT NULL CHECK (role IN {_in(ROLES)}),
            PRIMARY KEY (user_id, role)
        );
        CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id),
            csrf_token TEXT NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL
        );
        CREATE TABLE api_tokens (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id),
            token_hash TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        );
        CREATE TABLE login_attempts (
            id INTEGER PRIMARY KEY,
            username TEXT NOT NULL,
            client TEXT NOT NULL,
            at TEXT NOT NULL,
            success INTEGER NOT NULL
        );
        CREATE INDEX login_attempts_recent ON login_attempts (username, at);
        """
    )


def m002_cases(db: Database) -> None:
    db.executescript(
        f"""
        CREATE TABLE cases (
            id INTEGER PRIMARY KEY,
            reference TEXT NOT NULL UNIQUE,
            family_name TEXT NOT NULL,
            team_id INTEGER REFERENCES teams(id),
            created_at TEXT NOT NULL
        );
        CREATE TABLE allocations (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases(id),
            user_id INTEGER NOT NULL REFERENCES users(id),
            allocated_at TEXT NOT NULL,
            allocated_by INTEGER REFERENCES users(id),
            ended_at TEXT,
            ended_by INTEGER REFERENCES users(id)
        );
        CREATE INDEX allocations_current ON allocations (user_id, case_id) WHERE ended_at IS NULL;
        CREATE TABLE people (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases(id),
            name TEXT NOT NULL,
            category TEXT NOT NULL CHECK (category IN {_in(PERSON_CATEGORIES)}),
            relationship TEXT NOT NULL DEFAULT '',
            dob TEXT,
            address TEXT,
            is_subject INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX people_case ON people (case_id);
        """
    )


def m003_entries(db: Database) -> None:
    # Entries are append-only: a final text is never changed or removed. The triggers
    # enforce that for every writer, not only for this code.
    db.executescript(
        f"""
        CREATE TABLE entries (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES cases(id),
            author_id INTEGER NOT NULL REFERENCES users(id),
            status TEXT NOT NULL CHECK (status IN ('draft', 'final')),
            kind TEXT NOT NULL CHECK (kind IN {_in(ENTRY_KINDS)}),
            occurred_at TEXT NOT NULL,
            created_at TEXT NOT NULL,
            finalised_at TEXT,
            revision_count INTEGER NOT NULL DEFAULT 0,
            draft_text TEXT,
            draft_children TEXT NOT NULL DEFAULT '[]',
            draft_saved_at TEXT,
            draft_saved_by INTEGER REFERENCES users(id),
            draft_version INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX entries_case_time ON entries (case_id, occurred_at);
        CREATE TABLE entry_revisions (
            id INTEGER PRIMARY KEY,
            entry_id INTEGER NOT NULL REFERENCES entries(id),
            number INTEGER NOT NULL,
            kind TEXT NOT NULL,
            occurred_at TEXT NOT NULL,
            text TEXT NOT NULL,
            children TEXT NOT NULL DEFAULT '[]',
            author_id INTEGER NOT NULL REFERENCES users(id),
            created_at TEXT NOT NULL,
            UNIQUE (entry_id, number)
        );
        CREATE TRIGGER entry_revisions_no_update BEFORE UPDATE ON entry_revisions
        BEGIN SELECT RAISE(ABORT, 'entry revisions are append-only'); END;
        CREATE TRIGGER entry_revisions_no_delete BEFORE DELETE ON entry_revisions
        BEGIN SELECT RAISE(ABORT, 'entry revisions are append-only'); END;
        CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries
        BEGIN SELECT RAISE(ABORT, 'entries are never deleted'); END;
        CREATE TRIGGER entries_stay_final BEFORE UPDATE OF status ON entries
        WHEN OLD.status = 'final' AND NEW.status != 'final'
        BEGIN SELECT RAISE(ABORT, 'a final entry cannot return to draft'); END;
        CREATE TRIGGER entries_final_fields_fixed BEFORE UPDATE OF kind, occurred_at, case_id,
            author_id ON entries
        WHEN OLD.status = 'final' AND (NEW.case_id IS NOT OLD.case_id
            OR NEW.author_id IS NOT OLD.author_id
            OR ((NEW.kind IS NOT OLD.kind OR NEW.occurred_at IS NOT OLD.occurred_at)
                AND NEW.revision_count <= OLD.revision_count))
        BEGIN SELECT RAISE(ABORT, 'a final entry changes only through a new revision'); END;
        """
    )


def m004_access_log(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE access_log (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            user_id INTEGER REFERENCES users(id),
            action TEXT NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('allowed', 'denied')),
            case_id INTEGER,
            entry_id INTEGER,
            person_id INTEGER,
            detail TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX access_log_case ON access_log (case_id, at);
        CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log
        BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
        CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log
        BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;
        """
    )


def m005_cases_team(db: Database) -> None:
    # A reviewer's or manager's visible cases are their team's: found by team, not by a scan.
    db.execute("CREATE INDEX cases_team ON cases (team_id)")


# Every step in the order it is applied. Databases made before there was one set recorded
# the later steps under per-module sets; EARLIER_SETS maps those records onto these names.
STEPS: tuple[tuple[str, Callable[[Database], None]], ...] = (
    ("m001_accounts", m001_accounts),
    ("m002_cases", m002_cases),
    ("m003_entries", m003_entries),
    ("m004_access_log", m004_access_log),
    ("m005_cases_team", m005_cases_team),
    ("m006_facts", facts.create_facts),
    ("m007_person_merges", facts.create_person_merges),
    ("m008_entry_search", search_index.create_entry_search),
    ("m009_search_rows", search_index.create_search_rows),
    ("m010_prefix_index", search_index.create_prefix_index),
    ("m011_team_shards", search_index.create_team_shards),
    ("m012_significance_marks", chronology.create_significance_marks),
    ("m013_transcriptions", transcriptions.create_transcriptions),
    ("m014_kept_counts", dashboard.create_kept_counts),
    ("m015_recent_index", dashboard.create_recent_index),
    ("m016_covering_indexes", dashboard.create_covering_indexes),
    ("m017_fact_kind_checks_dropped", facts.drop_kind_checks),
    ("m018_search_kinds", search_index.create_search_kinds),
)
EARLIER_SETS: dict[tuple[str, str], str] = {
    ("casenotes-facts", "m001_facts"): "m006_facts",
    ("casenotes-facts", "m002_person_merges"): "m007_person_merges",
    ("casenotes-search", "m001_entry_search"): "m008_entry_search",
    ("casenotes-search", "m002_search_rows"): "m009_search_rows",
    ("casenotes-search", "m003_prefix_index"): "m010_prefix_index",
    ("casenotes-search", "m004_team_shards"): "m011_team_shards",
    ("casenotes-chronology", "m001_significance_marks"): "m012_significance_marks",
    ("casenotes-transcriptions", "m001_transcriptions"): "m013_transcriptions",
    ("casenotes-dashboard", "m001_kept_counts"): "m014_kept_counts",
    ("casenotes-dashboard", "m002_recent_index"): "m015_recent_index",
    ("casenotes-dashboard", "m003_covering_indexes"): "m016_covering_indexes",
    ("casenotes-facts", "m003_kinds_from_registry"): "m017_fact_kind_checks_dropped",
    ("casenotes-search", "m005_search_kinds"): "m018_search_kinds",
}

migrations = Migrations(SET_NAME)
for _name, _step in STEPS:
    migrations(name=_name)(_step)


def adopt_earlier_sets(db: Database) -> int:
    """Record steps a database applied under the old per-module sets as steps of this set,
    keeping when each was applied, so that none runs twice. Returns how many it adopted."""
    if not db[Migrations.migrations_table].exists():
        return 0
    adopted = 0
    with transaction(db):
        for (old_set, old_name), name in EARLIER_SETS.items():
            adopted += db.execute(
                f"UPDATE OR IGNORE {Migrations.migrations_table} SET migration_set = ?,"
                " name = ? WHERE migration_set = ? AND name = ?",
                [SET_NAME, name, old_set, old_name]).rowcount
    return adopted


def pending(db: Database) -> list[str]:
    """The names of the steps this database has not had yet."""
    return [m.name for m in migrations.pending(db)]


def migrate(db: Database) -> None:
    """Bring the schema up to date: adopt records of the earlier sets, then apply the rest."""
    adopt_earlier_sets(db)
    migrations.apply(db)
    with transaction(db):  # the index's SQL names the kinds of fact: follow a change
        search_index.follow_kinds(db)


def open_migrated(path: Path | str) -> Database:
    """Open (creating if needed) the file at `path` with its schema brought up to date: for
    start-up, `casenotes init`, and the builders of test and bench databases."""
    db = open_db(path)
    migrate(db)
    return db
