"""The counts kept by triggers always equal a recount from the raw tables."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from sqlite_utils import Database

from service.storage import entries as entry_rows
from service.storage.db import transaction
from service.storage.facts import insert_fact
from service.storage.migrations import migrate
from tests.dashboard.conftest import entries_of, user_id

COUNTED = {"present", "possible", "reported", "historical", None}


def recount(db: Database) -> dict[str, Counter]:
    """dash_team_month, dash_case_month, dash_author_month and dash_child_seen from scratch."""
    teams = {c["id"]: c["team_id"] for c in db.query("SELECT id, team_id FROM cases")}
    entries = {e["id"]: e for e in db.query("SELECT * FROM entries WHERE status = 'final'")}
    labels: set[tuple[int, str, str]] = set()
    seen: dict[int, list[tuple[str, bool]]] = {}
    for fact in db.query("SELECT * FROM facts"):
        entry = entries.get(fact["entry_id"])
        if entry is None or fact["revision"] != entry["revision_count"]:
            continue
        if fact["kind"] == "child_seen" and fact["person_id"]:
            seen.setdefault(fact["person_id"], []).append((entry["occurred_at"],
                                                           bool(fact["alone"])))
        if teams[entry["case_id"]] is None or fact["kind"] not in ("risk", "tag"):
            continue
        if fact["kind"] == "risk" and fact["assertion"] not in COUNTED:
            continue
        labels.add((entry["id"], fact["kind"], fact["label"]))
        labels.add((entry["id"], fact["kind"], ""))
    counts: dict[str, Counter] = {"team": Counter(), "case": Counter(), "author": Counter()}
    for entry_id, kind, label in labels:
        e = entries[entry_id]
        month, team = e["occurred_at"][:7], teams[e["case_id"]]
        counts["team"][(team, month, kind, label)] += 1
        counts["case"][(team, e["case_id"], month, kind, label)] += 1
        counts["author"][(team, e["author_id"], month, kind, label)] += 1
    counts["seen"] = Counter({p: (max(t for t, _ in s), max((t for t, a in s if a), default=None))
                              for p, s in seen.items()})
    return counts


def kept(db: Database) -> dict[str, Counter]:
    found: dict[str, Counter] = {}
    for name, table, keys in (("team", "dash_team_month", "team_id, month, kind, label"),
                              ("case", "dash_case_month", "team_id, case_id, month, kind, label"),
                              ("author", "dash_author_month",
                               "team_id, author_id, month, kind, label")):
        found[name] = Counter({tuple(r[k.strip()] for k in keys.split(",")): r["n"]
                               for r in db.query(f"SELECT * FROM {table} WHERE n != 0")})
    found["seen"] = Counter({r["person_id"]: (r["seen"], r["seen_alone"])
                             for r in db.query("SELECT * FROM dash_child_seen WHERE seen IS NOT NULL")})
    return found


def test_counts_follow_facts_amendments_and_moves(demo_db: Database,
                                                  confirmed: dict[str, Any]) -> None:
    db = demo_db
    assert kept(db) == recount(db)
    rng = random.Random(3)
    worker = user_id(db, "worker")
    entries = [*entries_of(db, "RFS-1042"), *entries_of(db, "RFS-1103"),
               *entries_of(db, "RFS-1077"), *entries_of(db, "HCT-2001")]
    people = [p["id"] for p in db.query("SELECT id FROM people WHERE category = 'child'")]
    for step in range(60):
        entry = dict(next(db.query("SELECT * FROM entries WHERE id = ?",
                                   [rng.choice(entries)["id"]])))
        with transaction(db):
            action = rng.random()
            if action < 0.6:  # confirm another fact on the current revision
                kind = rng.choice(["risk", "tag", "child_seen"])
                insert_fact(db, {
                    "entry_id": entry["id"], "case_id": entry["case_id"],
                    "revision": entry["revision_count"], "kind": kind, "start": 0, "end": 1,
                    "text": "x", "label": rng.choice(["neglect", "housing", "health"])
                    if kind != "child_seen" else None,
                    "assertion": rng.choice(["present", "negated", "reported"])
                    if kind == "risk" else None,
                    "person_id": rng.choice(people) if kind == "child_seen" else None,
                    "alone": rng.random() < 0.5 if kind == "child_seen" else None,
                    "confirmed_by": worker})
            elif action < 0.85:  # amend: a new revision, maybe on another day; facts dropped
                day = f"2026-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}T10:00"
                entry_rows.insert_revision(db, entry["id"], entry["kind"], day,
                                           f"Amended {step}.", [], worker)
            else:  # an administrator moves the case to the other team
                other = next(db.query("SELECT id FROM teams WHERE id IS NOT (SELECT team_id"
                                      " FROM cases WHERE id = ?) LIMIT 1", [entry["case_id"]]))
                db.execute("UPDATE cases SET team_id = ? WHERE id = ?",
                           [other["id"], entry["case_id"]])
        assert kept(db) == recount(db), f"after step {step}"


def test_rebuilt_from_existing_rows(demo_db: Database, confirmed: dict[str, Any]) -> None:
    """A database that had facts before this migration gets its counts at migration."""
    db = demo_db
    before = kept(db)
    for name in ("dash_label_added", "dash_label_removed", "dash_fact_added", "dash_fact_removed",
                 "dash_entry_changed", "dash_decision_added", "dash_case_moved"):
        db.execute(f"DROP TRIGGER {name}")
    for table in ("dash_entry_labels", "dash_team_month", "dash_case_month", "dash_author_month",
                  "dash_child_seen", "dash_decisions"):
        db.execute(f"DROP TABLE {table}")
    db.execute("DROP INDEX dash_decisions_list")
    db.execute("DELETE FROM _sqlite_migrations WHERE name IN ('m014_kept_counts',"
               " 'm015_recent_index', 'm016_covering_indexes')")
    migrate(db)
    assert kept(db) == before == recount(db)
    decisions = Counter()
    for d in db.query("SELECT decisions.*, cases.team_id FROM decisions JOIN entries ON"
                      " entries.id = decisions.entry_id JOIN cases ON cases.id = entries.case_id"):
        decisions[(d["team_id"], d["decided_at"][:7], d["kind"], d["rule"] or "",
                   d["decision"])] += 1
    assert Counter({(r["team_id"], r["month"], r["kind"], r["rule"], r["decision"]): r["n"]
                    for r in db.query("SELECT * FROM dash_decisions")}) == decisions
