"""Confirmed facts, decisions and stray suggestions on the demo families, with known counts.

There is no confirmation UI yet, so facts go in through storage, as confirmation will put them.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlite_utils import Database

from service.storage import entries as entry_rows
from service.storage.db import transaction
from service.storage.facts import insert_fact, insert_suggestion


def entries_of(db: Database, reference: str) -> list[dict[str, Any]]:
    """Final entries of a case, oldest first."""
    return list(db.query(
        "SELECT entries.* FROM entries JOIN cases ON cases.id = entries.case_id"
        " WHERE cases.reference = ? AND status = 'final' ORDER BY occurred_at", [reference]))


def person(db: Database, name: str) -> int:
    return next(db.query("SELECT id FROM people WHERE name = ?", [name]))["id"]


def user_id(db: Database, username: str) -> int:
    return next(db.query("SELECT id FROM users WHERE username = ?", [username]))["id"]


def _decision(db: Database, entry: dict[str, Any], kind: str, decision: str, rule: str | None,
              by: int) -> int:
    cursor = db.execute(
        "INSERT INTO decisions (entry_id, suggestion_id, decision, kind, fields, rule,"
        " pipeline_version, decided_by, decided_at) VALUES (?, NULL, ?, ?, '{}', ?, 'test', ?,"
        " ?)", [entry["id"], decision, kind, rule, by, entry["occurred_at"]])
    return int(cursor.lastrowid)


def _fact(db: Database, entry: dict[str, Any], kind: str, phrase: str, by: int,
          rule: str | None = "phrases", decision: str = "accepted", revision: int | None = None,
          **fields: Any) -> int:
    """A confirmed fact on the words `phrase` of the entry's text, with its decision."""
    text = next(db.query("SELECT text FROM entry_revisions WHERE entry_id = ? AND number = ?",
                         [entry["id"], revision or entry["revision_count"]]))["text"]
    start = text.index(phrase)
    decision_id = _decision(db, entry, kind, decision, rule if decision != "added" else None, by)
    return insert_fact(db, {"entry_id": entry["id"], "case_id": entry["case_id"],
                            "revision": revision or entry["revision_count"], "kind": kind,
                            "start": start, "end": start + len(phrase), "text": phrase,
                            "decision_id": decision_id, "confirmed_by": by, **fields})


@pytest.fixture
def confirmed(demo_db: Database) -> dict[str, Any]:
    """Facts on Jones, Baptiste, Khan (Riverside) and Novak (Hillcrest); see the numbers below."""
    db = demo_db
    worker, worker2 = user_id(db, "worker"), user_id(db, "worker2")
    jones, baptiste = entries_of(db, "RFS-1042"), entries_of(db, "RFS-1103")
    khan, novak = entries_of(db, "RFS-1077"), entries_of(db, "HCT-2001")
    ids: dict[str, Any] = {}
    with transaction(db):
        # Jones 1 (school visit): Jack seen alone; shouting at home; Jack's own words.
        ids["jack_seen"] = _fact(db, jones[1], "child_seen", "Jack was seen alone", worker,
                                 person_id=person(db, "Jack Jones"), alone=True)
        ids["jones_da"] = _fact(db, jones[1], "risk", "shout", worker, label="domestic_abuse",
                                assertion="present")
        _fact(db, jones[1], "tag", "He said he likes his teacher", worker, label="child_voice")
        # Jones 2 (phone call): weight loss, possible neglect; a reweigh next week (a date).
        _fact(db, jones[2], "risk", "weight has dropped", worker, rule="neglect.phrases",
              decision="edited", label="neglect", assertion="possible")
        _fact(db, jones[2], "tag", "feeding plan", worker, label="health")
        ids["jones_date"] = _fact(db, jones[2], "date", "next week", worker, rule="dates",
                                  value="2020-01-15", precision="week")
        # Jones 3 (home visit): cannabis (present), Amy seen (not alone), a negated injury.
        ids["jones_cannabis"] = _fact(db, jones[3], "risk", "cannabis", worker,
                                      label="substance_misuse", assertion="present")
        _fact(db, jones[3], "risk", "clean and appropriately dressed", worker,
              label="physical_injury", assertion="negated")
        _fact(db, jones[3], "child_seen", "Amy was seen", worker,
              person_id=person(db, "Amy Jones"), alone=False)
        _fact(db, jones[3], "tag", "Nan (Pauline) arrived", worker, decision="added",
              label="family_relationships")
        # Baptiste 1 (phone call): a fight and a graze; Baptiste 2: DA reported (added by hand).
        _fact(db, baptiste[1], "risk", "graze on his cheek", worker, label="physical_injury",
              assertion="present")
        _fact(db, baptiste[2], "risk", "Marlon's", worker, decision="added",
              label="domestic_abuse", assertion="reported")
        _fact(db, baptiste[3], "child_seen", "Both children were seen", worker,
              person_id=person(db, "Jaylen Baptiste"), alone=False)
        # Rejected suggestions: decisions only, no facts.
        _decision(db, jones[0], "risk", "rejected", "phrases", worker)
        _decision(db, jones[0], "tag", "rejected", "phrases", worker)
        _decision(db, baptiste[0], "risk", "rejected", "neglect.phrases", worker)
        # Khan 0: self-harm confirmed on revision 1, then the entry was amended and the
        # fact not carried over: it is no longer current and must not count.
        _fact(db, khan[0], "risk", "tearful", worker, label="self_harm", assertion="present")
        entry_rows.insert_revision(db, khan[0]["id"], khan[0]["kind"], khan[0]["occurred_at"],
                                   "Home visit. Ms Khan said she has not been sleeping.",
                                   [], worker)
        # Novak (another team): must never reach Riverside's view.
        _fact(db, novak[0], "risk", "happy and chatty", worker2, label="physical_injury",
              assertion="present")
        # Unconfirmed suggestions on Jones: never counted anywhere.
        for entry in jones:
            insert_suggestion(db, entry["id"], 1, {
                "kind": "risk", "start": 0, "end": 4, "text": "Home", "label": "sexual_abuse",
                "assertion": "present", "rule": "phrases", "pipeline_version": "test"})
    ids.update(jones=jones, baptiste=baptiste, khan=khan, novak=novak)
    return ids
