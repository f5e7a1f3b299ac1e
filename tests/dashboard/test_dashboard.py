"""The manager view against the demo families with known confirmed facts (see conftest)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import pytest
from sqlite_utils import Database

from service import accounts, dashboard
from service.accounts import get_user_by_name
from service.errors import Forbidden
from service.storage.access_log import access_rows
from service.storage.db import transaction
from service.storage.facts import insert_suggestion
from tests.conftest import bundled_taxonomy


def _manager(db: Database) -> accounts.User:
    return get_user_by_name(db, "manager")


def _labels(view: dashboard.ManagerView, kind: str) -> dict[str, int]:
    return {row.label: row.total for row in view.labels[kind]}


def test_known_counts(demo_db: Database, confirmed: dict[str, Any]) -> None:
    view = dashboard.manager_view(demo_db, _manager(demo_db), taxonomy=bundled_taxonomy())
    assert view.team["name"] == "Riverside Family Support"
    assert len(view.month_list) == 12
    # Five entries with a counted risk: Jones 1-3 and Baptiste 1-2. The negated injury, the
    # self-harm of an amended-away revision and Novak's (another team) do not count.
    assert sum(view.entries_by_month["risk"].values()) == 5
    assert sum(view.entries_by_month["tag"].values()) == 3
    assert _labels(view, "risk") == {"domestic_abuse": 2, "neglect": 1, "substance_misuse": 1,
                                     "physical_injury": 1}
    assert _labels(view, "tag") == {"child_voice": 1, "health": 1, "family_relationships": 1}
    by_case = {g.name.split(" ")[0]: (g.risk_entries, g.tag_entries) for g in view.by_case}
    assert by_case == {"Jones": (3, 3), "Baptiste": (2, 0)}
    assert [(g.name, g.risk_entries, g.tag_entries) for g in view.by_worker] == [
        ("Alex Morgan", 5, 3)]
    names = {row.label: row.name for row in view.labels["risk"]}
    assert names["domestic_abuse"] == "Domestic abuse"  # from models/taxonomy.yaml


def test_recent_risks_and_last_seen(demo_db: Database, confirmed: dict[str, Any]) -> None:
    view = dashboard.manager_view(demo_db, _manager(demo_db), days=28, taxonomy=bundled_taxonomy())
    recent = {c["family_name"]: {lbl["label"]: lbl["n"] for lbl in c["labels"]}
              for c in view.recent}
    # Jones' school visit (30 days ago) is outside 28 days; the Khan self-harm is not current.
    assert recent == {"Jones": {"neglect": 1, "substance_misuse": 1},
                      "Baptiste": {"physical_injury": 1, "domestic_abuse": 1}}
    week = dashboard.manager_view(demo_db, _manager(demo_db), days=7, taxonomy=bundled_taxonomy())
    assert {c["family_name"]: [lbl["label"] for lbl in c["labels"]] for c in week.recent} == {
        "Baptiste": ["domestic_abuse"]}
    seen = {c["name"]: (c["seen"], c["seen_alone"]) for c in view.children}
    jack = confirmed["jones"][1]["occurred_at"]
    assert seen["Jack Jones"] == (jack, jack)
    assert seen["Amy Jones"] == (confirmed["jones"][3]["occurred_at"], None)
    assert seen["Jaylen Baptiste"][0] == confirmed["baptiste"][3]["occurred_at"]
    assert seen["Zara Khan"] == (None, None)
    assert "Lena Novak" not in seen  # another team's child


def test_acceptance_rates(demo_db: Database, confirmed: dict[str, Any]) -> None:
    view = dashboard.manager_view(demo_db, _manager(demo_db), taxonomy=bundled_taxonomy())
    by_kind = {r["kind"]: r for r in view.acceptance_by_kind}
    # Risk: accepted 5 (incl. the negated injury and the amended-away self-harm: decisions
    # stand), edited 1, rejected 2, added 1 by hand; kept 6 of 8 judged.
    assert {k: by_kind["risk"][k] for k in ("accepted", "edited", "rejected", "added")} == {
        "accepted": 5, "edited": 1, "rejected": 2, "added": 1}
    assert by_kind["risk"]["rate"] == 75
    assert by_kind["tag"]["rate"] == 67 and by_kind["tag"]["added"] == 1
    by_rule = {(r["kind"], r["rule"]): r for r in view.acceptance_by_rule}
    assert by_rule[("risk", "neglect.phrases")]["rate"] == 50
    assert by_rule[("risk", "phrases")]["judged"] == 6
    assert ("risk", "") not in by_rule  # hand-added facts have no rule


def test_every_number_equals_the_entries_it_links_to(demo_db: Database,
                                                     confirmed: dict[str, Any]) -> None:
    manager = _manager(demo_db)
    view = dashboard.manager_view(demo_db, manager, taxonomy=bundled_taxonomy())

    def total(**filters: Any) -> int:
        return dashboard.entries_behind(demo_db, manager, None, filters, taxonomy=bundled_taxonomy()).total

    for kind in ("risk", "tag"):
        for month, n in view.entries_by_month[kind].items():
            assert total(kind=kind, month=month) == n
        for row in view.labels[kind]:
            assert total(kind=kind, label=row.label) == row.total
            for month, n in row.by_month.items():
                assert total(kind=kind, label=row.label, month=month) == n
    for group in view.by_case:
        assert total(kind="risk", case_id=str(group.id)) == group.risk_entries
        for kind, label, _, n in group.labels:
            assert total(kind=kind, label=label, case_id=str(group.id)) == n
    for group in view.by_worker:
        assert total(kind="tag", author_id=str(group.id)) == group.tag_entries
    for case in view.recent:
        for lbl in case["labels"]:
            assert total(kind="risk", label=lbl["label"], case_id=str(case["id"]),
                         since=view.recent_since) == lbl["n"]
    for rule in view.acceptance_by_rule:
        listed = total(decision_kind=rule["kind"], rule=rule["rule"], decision="accepted")
        assert (listed > 0) == (rule["accepted"] > 0)
    jack = next(c for c in view.children if c["name"] == "Jack Jones")
    assert total(person_id=str(jack["id"]), alone="1", since=dashboard.ALL_TIME) == 1


def test_recomputed_from_entries_and_facts(demo_db: Database, confirmed: dict[str, Any]) -> None:
    """The same numbers, worked out here in Python from the raw rows."""
    manager = _manager(demo_db)
    view = dashboard.manager_view(demo_db, manager, taxonomy=bundled_taxonomy())
    team_cases = {r["id"] for r in demo_db.query("SELECT id FROM cases WHERE team_id = ?",
                                                 [view.team["id"]])}
    entries = {e["id"]: e for e in demo_db.query("SELECT * FROM entries WHERE status = 'final'")
               if e["case_id"] in team_cases and e["occurred_at"] >= view.since}
    per_label: dict[tuple[str, str], set[int]] = defaultdict(set)
    per_month: dict[tuple[str, str], set[int]] = defaultdict(set)
    per_case: dict[tuple[str, int], set[int]] = defaultdict(set)
    for fact in demo_db.query("SELECT * FROM facts"):
        entry = entries.get(fact["entry_id"])
        if entry is None or fact["revision"] != entry["revision_count"]:
            continue
        if fact["kind"] not in ("risk", "tag") or fact["assertion"] in ("negated", "hypothetical"):
            continue
        per_label[(fact["kind"], fact["label"])].add(entry["id"])
        per_month[(fact["kind"], entry["occurred_at"][:7])].add(entry["id"])
        per_case[(fact["kind"], entry["case_id"])].add(entry["id"])
    for kind in ("risk", "tag"):
        assert _labels(view, kind) == {label: len(ids) for (k, label), ids in per_label.items()
                                       if k == kind}
        assert {m: n for m, n in view.entries_by_month[kind].items() if n} == {
            month: len(ids) for (k, month), ids in per_month.items() if k == kind}
    cases = {case for (_, case) in per_case}
    assert {(g.id, g.risk_entries, g.tag_entries) for g in view.by_case} == {
        (case, len(per_case.get(("risk", case), ())), len(per_case.get(("tag", case), ())))
        for case in cases}


def test_unconfirmed_suggestions_never_count(demo_db: Database, confirmed: dict[str, Any]) -> None:
    before = dashboard.manager_view(demo_db, _manager(demo_db), taxonomy=bundled_taxonomy())
    with transaction(demo_db):
        for entry in confirmed["baptiste"]:
            insert_suggestion(demo_db, entry["id"], 1, {
                "kind": "tag", "start": 0, "end": 4, "text": "Call", "label": "housing",
                "rule": "phrases", "pipeline_version": "test"})
    after = dashboard.manager_view(demo_db, _manager(demo_db), taxonomy=bundled_taxonomy())
    assert "sexual_abuse" not in _labels(after, "risk")  # suggested on every Jones entry
    assert "housing" not in _labels(after, "tag")
    assert after.labels == before.labels and after.entries_by_month == before.entries_by_month
    listing = dashboard.entries_behind(demo_db, _manager(demo_db), None,
                                       {"kind": "risk", "label": "sexual_abuse"}, taxonomy=bundled_taxonomy())
    assert listing.total == 0


def test_period_limits_the_counts(demo_db: Database, confirmed: dict[str, Any]) -> None:
    today = date.today()
    # A month from today's month onwards only: just this calendar month's entries.
    view = dashboard.manager_view(demo_db, _manager(demo_db), months=1, taxonomy=bundled_taxonomy())
    assert view.month_list == [today.strftime("%Y-%m")]
    assert view.since == today.replace(day=1).isoformat()
    later = dashboard.manager_view(demo_db, _manager(demo_db),
                                   today=today + timedelta(days=800), taxonomy=bundled_taxonomy())
    assert sum(later.entries_by_month["risk"].values()) == 0


def test_access(demo_db: Database, confirmed: dict[str, Any]) -> None:
    hillcrest = next(demo_db.query("SELECT id FROM teams WHERE name LIKE 'Hillcrest%'"))["id"]
    for username in ("worker", "reviewer", "admin", "worker2"):
        with pytest.raises(Forbidden):
            dashboard.manager_view(demo_db, get_user_by_name(demo_db, username), taxonomy=bundled_taxonomy())
    with pytest.raises(Forbidden):
        dashboard.manager_view(demo_db, _manager(demo_db), hillcrest, taxonomy=bundled_taxonomy())
    with pytest.raises(Forbidden):
        dashboard.entries_behind(demo_db, _manager(demo_db), hillcrest, {}, taxonomy=bundled_taxonomy())
    # An admin who is also a manager may look at any team.
    admin = accounts.set_roles(demo_db, "admin", ["admin", "manager"])
    other = dashboard.manager_view(demo_db, admin, hillcrest, taxonomy=bundled_taxonomy())
    assert _labels(other, "risk") == {"physical_injury": 1}
    assert [c["name"] for c in other.children] == ["Lena Novak"]
    log = access_rows(demo_db, "dashboard.view")
    assert [r["outcome"] for r in log].count("denied") == 5
    assert log[-1]["outcome"] == "allowed" and log[-1]["detail"].startswith(f"team {hillcrest}")
