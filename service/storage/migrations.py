"""The schema, as sqlite-utils migrations. Append new migrations; never edit an applied one."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from service.storage.db import transaction

migrations = Migrations("casenotes")

ROLES = ("worker", "reviewer", "manager", "admin")
ENTRY_KINDS = ("home_visit", "office_visit", "phone_call", "school_visit", "meeting", "other")
PERSON_CATEGORIES = ("child", "parent", "relative", "carer", "professional", "other")


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


@migrations()
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


@migrations()
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


@migrations()
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


@migrations()
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


@migrations()
def m005_cases_team(db: Database) -> None:
    # A reviewer's or manager's visible cases are their team's: found by team, not by a scan.
    db.execute("CREATE INDEX cases_team ON cases (team_id)")


def migrate(db: Database) -> None:
    """Apply every migration set, core first. Each storage module owns its own set."""
    from service.storage import chronology, dashboard, facts, search_index, transcriptions

    for migration_set in (migrations, facts.migrations, search_index.migrations,
                          chronology.migrations, transcriptions.migrations,
                          dashboard.migrations):
        migration_set.apply(db)
    with transaction(db):
        search_index.follow_kinds(db)
