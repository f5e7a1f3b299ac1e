"""Queries for suggestions, the decisions on them, and the confirmed facts they become.

Facts belong to one revision of an entry. An amendment re-anchors them by inserting copies
for the new revision, so the facts of every revision stay as they were; "current" facts are
those of each entry's latest revision (entries.revision_count).
"""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from service.storage.db import now, one_row

# The kinds when m001 ran; m003 dropped the CHECKs that listed them: the kinds of fact are
# service/fact_kinds.py's, and review checks a kind against it before anything is stored.
_M001_KINDS = ("person", "date", "risk", "tag", "child_seen")
DECISIONS = ("accepted", "edited", "rejected", "added")

FACT_COLUMNS = ("entry_id", "case_id", "revision", "kind", "start", "end", "text", "person_id",
                "label", "assertion", "source", "value", "precision", "alone", "decision_id",
                "confirmed_by", "confirmed_at", "fields")
# A kind's field kept in a column of its own; any other field goes in the JSON `fields`
# column. Decision bookkeeping (which occurrence, what was suggested) is never a fact's.
FIELD_COLUMNS = {"person": "person_id", "label": "label", "assertion": "assertion",
                 "source": "source", "value": "value", "precision": "precision",
                 "alone": "alone"}
NOT_FACT_FIELDS = ("nth", "suggested", "was")


def create_facts(db: Database) -> None:
    kinds = ", ".join(f"'{k}'" for k in _M001_KINDS)
    decisions = ", ".join(f"'{d}'" for d in DECISIONS)
    db.executescript(
        f"""
        CREATE TABLE suggestions (
            id INTEGER PRIMARY KEY,
            entry_id INTEGER NOT NULL REFERENCES entries(id),
            run INTEGER NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ({kinds})),
            start INTEGER NOT NULL,
            "end" INTEGER NOT NULL,
            text TEXT NOT NULL,
            fields TEXT NOT NULL,
            confidence REAL,
            rule TEXT NOT NULL,
            pipeline_version TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX suggestions_entry ON suggestions (entry_id, run);
        CREATE TABLE decisions (
            id INTEGER PRIMARY KEY,
            entry_id INTEGER NOT NULL REFERENCES entries(id),
            suggestion_id INTEGER REFERENCES suggestions(id),
            decision TEXT NOT NULL CHECK (decision IN ({decisions})),
            kind TEXT NOT NULL CHECK (kind IN ({kinds})),
            start INTEGER,
            "end" INTEGER,
            text TEXT,
            fields TEXT NOT NULL,
            rule TEXT,
            pipeline_version TEXT,
            decided_by INTEGER NOT NULL REFERENCES users(id),
            decided_at TEXT NOT NULL
        );
        CREATE INDEX decisions_entry ON decisions (entry_id);
        CREATE TRIGGER decisions_no_update BEFORE UPDATE ON decisions
        BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;
        CREATE TABLE facts (
            id INTEGER PRIMARY KEY,
            entry_id INTEGER NOT NULL REFERENCES entries(id),
            case_id INTEGER NOT NULL REFERENCES cases(id),
            revision INTEGER NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ({kinds})),
            start INTEGER,
            "end" INTEGER,
            text TEXT,
            person_id INTEGER REFERENCES people(id),
            label TEXT,
            assertion TEXT,
            source TEXT,
            value TEXT,
            precision TEXT,
            alone INTEGER,
            decision_id INTEGER REFERENCES decisions(id),
            confirmed_by INTEGER NOT NULL REFERENCES users(id),
            confirmed_at TEXT NOT NULL
        );
        CREATE INDEX facts_entry ON facts (entry_id, revision);
        CREATE INDEX facts_case_kind ON facts (case_id, kind, label);
        CREATE INDEX facts_person ON facts (person_id, kind);
        CREATE TRIGGER facts_no_update BEFORE UPDATE ON facts
        BEGIN SELECT RAISE(ABORT, 'facts are append-only: re-anchor by inserting'); END;
        """
    )


def insert_fact(db: Database, fact: dict[str, Any]) -> int:
    """One confirmed fact. `fact` holds FACT_COLUMNS (missing ones are null)."""
    row = {column: fact.get(column) for column in FACT_COLUMNS}
    if isinstance(row["fields"], dict):
        row["fields"] = json.dumps(row["fields"], sort_keys=True) if row["fields"] else None
    if row["confirmed_at"] is None:
        row["confirmed_at"] = now()
    if row["alone"] is not None:
        row["alone"] = int(bool(row["alone"]))
    columns = ", ".join(f'"{c}"' for c in FACT_COLUMNS)
    marks = ", ".join("?" * len(FACT_COLUMNS))
    cursor = db.execute(f"INSERT INTO facts ({columns}) VALUES ({marks})", list(row.values()))
    return int(cursor.lastrowid)


def fact_columns(value: dict[str, Any]) -> dict[str, Any]:
    """The columns of a fact whose cleaned value (a kind's fields) is `value`."""
    columns: dict[str, Any] = {column: value.get(field) for field, column in FIELD_COLUMNS.items()}
    columns["fields"] = {k: v for k, v in value.items()
                         if k not in FIELD_COLUMNS and k not in NOT_FACT_FIELDS}
    return columns


def fact_value(fact: dict[str, Any]) -> dict[str, Any]:
    """A stored fact's fields, as its kind cleaned them (the inverse of fact_columns)."""
    value = {field: fact.get(column) for field, column in FIELD_COLUMNS.items()
             if fact.get(column) is not None}
    if "alone" in value:
        value["alone"] = bool(value["alone"])
    return {**value, **json.loads(fact.get("fields") or "{}")}


# Current facts: those anchored to the latest revision of a final entry.
CURRENT_FACTS = (
    "SELECT facts.* FROM facts JOIN entries ON entries.id = facts.entry_id"
    " AND facts.revision = entries.revision_count AND entries.status = 'final'"
)


def current_facts_of_entries(db: Database, entry_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    if not entry_ids:
        return {}
    marks = ",".join("?" * len(entry_ids))
    found: dict[int, list[dict[str, Any]]] = {i: [] for i in entry_ids}
    for row in db.query(f"{CURRENT_FACTS} WHERE facts.entry_id IN ({marks})"
                        " ORDER BY facts.entry_id, facts.start", entry_ids):
        found[row["entry_id"]].append(row)
    return found


def current_facts_of_case(db: Database, case_id: int, kind: str | None = None
                          ) -> list[dict[str, Any]]:
    sql = f"{CURRENT_FACTS} WHERE facts.case_id = ?"
    params: list[Any] = [case_id]
    if kind:
        sql += " AND facts.kind = ?"
        params.append(kind)
    return list(db.query(sql + " ORDER BY facts.id", params))


def last_seen(db: Database, person_ids: list[int]) -> dict[int, dict[str, str | None]]:
    """When each child was last seen, and last seen alone, from confirmed child-seen facts."""
    if not person_ids:
        return {}
    marks = ",".join("?" * len(person_ids))
    rows = db.query(
        "SELECT facts.person_id, max(entries.occurred_at) AS seen,"
        " max(CASE WHEN facts.alone THEN entries.occurred_at END) AS seen_alone"
        f" FROM ({CURRENT_FACTS}) AS facts JOIN entries ON entries.id = facts.entry_id"
        f" WHERE facts.kind = 'child_seen' AND facts.person_id IN ({marks})"
        " GROUP BY facts.person_id",
        person_ids,
    )
    return {row["person_id"]: {"seen": row["seen"], "seen_alone": row["seen_alone"]}
            for row in rows}


def create_person_merges(db: Database) -> None:
    # A merged duplicate keeps its own history; it points at the record it was merged into.
    db.executescript(
        """
        ALTER TABLE people ADD COLUMN merged_into INTEGER REFERENCES people(id);
        ALTER TABLE people ADD COLUMN merged_at TEXT;
        ALTER TABLE people ADD COLUMN merged_by INTEGER REFERENCES users(id);
        """
    )


SPAN_KEYS = ("kind", "start", "end", "text", "confidence", "rule", "pipeline_version")


def next_run(db: Database, entry_id: int) -> int:
    row = one_row(db, "SELECT coalesce(max(run), 0) + 1 AS run FROM suggestions WHERE entry_id = ?",
                  [entry_id])
    return int(row["run"]) if row else 1


def insert_suggestion(db: Database, entry_id: int, run: int, suggestion: dict[str, Any]) -> int:
    fields = {k: v for k, v in suggestion.items() if k not in SPAN_KEYS}
    cursor = db.execute(
        'INSERT INTO suggestions (entry_id, run, kind, start, "end", text, fields,'
        " confidence, rule, pipeline_version, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [entry_id, run, suggestion["kind"], suggestion["start"], suggestion["end"],
         suggestion["text"], json.dumps(fields), suggestion.get("confidence"),
         suggestion.get("rule", ""), suggestion.get("pipeline_version", ""), now()],
    )
    return int(cursor.lastrowid)


def latest_suggestions(db: Database, entry_id: int) -> list[dict[str, Any]]:
    """The suggestions of the entry's latest run."""
    rows = db.query(
        "SELECT * FROM suggestions WHERE entry_id = ? AND run = (SELECT max(run) FROM suggestions"
        " WHERE entry_id = ?) ORDER BY start, id",
        [entry_id, entry_id],
    )
    return [_decoded(row) for row in rows]


def suggestion_by_id(db: Database, suggestion_id: int) -> dict[str, Any] | None:
    row = one_row(db, "SELECT * FROM suggestions WHERE id = ?", [suggestion_id])
    return _decoded(row) if row else None


def insert_decision(db: Database, decision: dict[str, Any]) -> int:
    cursor = db.execute(
        'INSERT INTO decisions (entry_id, suggestion_id, decision, kind, start, "end", text,'
        " fields, rule, pipeline_version, decided_by, decided_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [decision["entry_id"], decision.get("suggestion_id"), decision["decision"],
         decision["kind"], decision.get("start"), decision.get("end"), decision.get("text"),
         json.dumps(decision.get("fields", {})), decision.get("rule"),
         decision.get("pipeline_version"), decision["decided_by"], now()],
    )
    return int(cursor.lastrowid)


def decisions_of(db: Database, entry_id: int) -> list[dict[str, Any]]:
    """Every decision on an entry, oldest first (a later one supersedes an earlier one)."""
    rows = db.query("SELECT * FROM decisions WHERE entry_id = ? ORDER BY id", [entry_id])
    return [_decoded(row) for row in rows]


def current_facts_of_entry(db: Database, entry_id: int) -> list[dict[str, Any]]:
    return current_facts_of_entries(db, [entry_id])[entry_id]


def facts_of_revision(db: Database, entry_id: int, revision: int) -> list[dict[str, Any]]:
    """The facts anchored to one revision of an entry, current or not."""
    return list(db.query("SELECT * FROM facts WHERE entry_id = ? AND revision = ? ORDER BY id",
                         [entry_id, revision]))


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    return dict(row, fields=json.loads(row["fields"]))


def last_mentioned(db: Database, case_id: int) -> dict[int, str]:
    """When each person on a case was last in a confirmed mention."""
    rows = db.query(
        "SELECT facts.person_id, max(entries.occurred_at) AS at"
        f" FROM ({CURRENT_FACTS}) AS facts JOIN entries ON entries.id = facts.entry_id"
        " WHERE facts.case_id = ? AND facts.person_id IS NOT NULL GROUP BY facts.person_id",
        [case_id],
    )
    return {row["person_id"]: row["at"] for row in rows}


def drop_kind_checks(db: Database) -> None:
    """Drop the CHECKs listing the kinds (a new kind needs no migration); give facts a JSON
    `fields` column for the fields of a kind that have no column of their own.

    Removing a CHECK leaves the stored rows as they are, so this edits the schema text in
    place: the simpler procedure of https://www.sqlite.org/lang_altertable.html (section
    "Making Other Kinds Of Table Schema Changes"), rather than rebuilding `facts` and the
    search and dashboard triggers on it."""
    kinds = ", ".join(f"'{k}'" for k in _M001_KINDS)
    check = f" CHECK (kind IN ({kinds}))"
    version = int(db.execute("PRAGMA schema_version").fetchone()[0])
    db.execute("PRAGMA writable_schema = ON")
    try:
        db.execute("UPDATE sqlite_master SET sql = replace(sql, ?, '') WHERE type = 'table'"
                   " AND name IN ('suggestions', 'decisions', 'facts')", [check])
        db.execute(f"PRAGMA schema_version = {version + 1}")
    finally:
        db.execute("PRAGMA writable_schema = OFF")
    db.execute("ALTER TABLE facts ADD COLUMN fields TEXT")
