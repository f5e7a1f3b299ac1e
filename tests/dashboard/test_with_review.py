"""Facts confirmed through review (the real write path) reach the manager view and chronology."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlite_utils import Database

from service import chronology, dashboard, entries, review
from service.accounts import get_user_by_name
from tests.conftest import bundled_taxonomy, case_id
from tests.dashboard.conftest import person
from tests.dashboard.test_kept_counts import kept, recount

TAXONOMY = bundled_taxonomy()


def test_confirmed_at_finalising_and_re_anchored_on_amendment(demo_db: Database) -> None:
    worker = get_user_by_name(demo_db, "worker")
    manager = get_user_by_name(demo_db, "manager")
    khan = case_id(demo_db, "RFS-1077")
    text = "Visited Zara. The fridge was empty and the flat was cold. Zara was seen alone."
    when = (datetime.now() - timedelta(days=2)).replace(hour=10, minute=0).isoformat(
        timespec="minutes")
    entry = entries.start_entry(demo_db, worker, khan, "home_visit", when, text, None)
    start = text.index("The fridge was empty")
    review.add_fact(demo_db, worker, TAXONOMY, entry["id"], "risk", start, start + 20,
                    {"label": "neglect", "assertion": "present"})
    seen = text.index("Zara was seen alone")
    review.add_fact(demo_db, worker, TAXONOMY, entry["id"], "child_seen", seen, seen + 19,
                    {"person": person(demo_db, "Zara Khan"), "alone": True})
    before = dashboard.manager_view(demo_db, manager, taxonomy=bundled_taxonomy())
    assert "neglect" not in {r.label for r in before.labels["risk"]}  # a draft counts for nothing
    review.finalise(demo_db, worker, entry["id"])
    after = dashboard.manager_view(demo_db, manager, taxonomy=bundled_taxonomy())
    assert {r.label: r.total for r in after.labels["risk"]} == {"neglect": 1}
    zara = next(c for c in after.children if c["name"] == "Zara Khan")
    assert zara["seen"] == zara["seen_alone"] == when
    event = next(e for e in chronology.chronology(demo_db, worker, khan, taxonomy=bundled_taxonomy()).events
                 if e.entry_id == entry["id"])
    assert (event.label, event.status) == ("Neglect", "proposed")
    assert kept(demo_db) == recount(demo_db)
    # Amending keeps the unchanged risk (re-anchored to revision 2): still counted once.
    review.amend(demo_db, worker, entry["id"], text + " Mum has bought a heater.", based_on=1)
    amended = dashboard.manager_view(demo_db, manager, taxonomy=bundled_taxonomy())
    assert {r.label: r.total for r in amended.labels["risk"]} == {"neglect": 1}
    assert kept(demo_db) == recount(demo_db)
