"""Review: every decision path, facts at finalising, re-anchoring on amendment, bad input.

Uses the real suggester (spaCy + the rules in models/) on a real SQLite file.
"""

from __future__ import annotations

import pytest
from sqlite_utils import Database

from service import accounts, entries, review
from service.errors import Conflict, Invalid, NotFound
from service.nlp import Suggester
from service.nlp.taxonomy import Taxonomy
from tests.conftest import case_id

TEXT = ("Home visit to Sarah and Jack. Jack was seen alone in his bedroom and had a bruise on "
        "his arm. Sarah denies drinking but the flat smelt of alcohol. Mrs Adams will ring "
        "me on Friday.")


@pytest.fixture
def taxonomy(suggester: Suggester) -> Taxonomy:
    return suggester.taxonomy


def worker(db: Database) -> accounts.User:
    return accounts.get_user_by_name(db, "worker")


def draft(db: Database, text: str = TEXT) -> dict:
    return entries.start_entry(db, worker(db), case_id(db, "RFS-1042"), "home_visit",
                               "2026-03-11T10:00", text)


def find(state: dict, kind: str, text: str | None = None) -> dict:
    return next(s for s in state["suggestions"] if s["kind"] == kind
                and (text is None or s["text"] == text))


def facts(db: Database, entry_id: int) -> list[dict]:
    return list(db.query("SELECT * FROM facts WHERE entry_id = ? ORDER BY start", [entry_id]))


def test_suggestions_are_stored_but_are_not_facts(demo_db: Database,
                                                  suggester: Suggester) -> None:
    entry = draft(demo_db)
    state = review.suggest_entry(demo_db, worker(demo_db), suggester, entry["id"])
    kinds = {s["kind"] for s in state["suggestions"]}
    assert {"person", "risk", "child_seen", "date"} <= kinds
    assert all(s["state"] == "pending" for s in state["suggestions"])
    jack = next(demo_db.query("SELECT id FROM people WHERE name = 'Jack Jones'"))["id"]
    assert find(state, "person", "Jack")["fields"]["person"] == jack
    bruise = find(state, "risk", "bruise")
    assert bruise["fields"]["assertion"] == "present" and bruise["rule"]
    assert bruise["pipeline_version"] == suggester.pipeline_version
    finalised = review.finalise(demo_db, worker(demo_db), entry["id"])
    assert finalised["facts_stored"] == 0
    assert facts(demo_db, entry["id"]) == []


def test_accept_edit_reject_and_add_become_facts_at_finalising(
        demo_db: Database, suggester: Suggester, taxonomy: Taxonomy) -> None:
    user = worker(demo_db)
    entry = draft(demo_db)
    state = review.suggest_entry(demo_db, user, suggester, entry["id"])
    bruise = find(state, "risk", "bruise")
    review.decide(demo_db, user, taxonomy, entry["id"], bruise["id"], "edit",
                  {"assertion": "possible"})
    drinking = next(s for s in state["suggestions"] if s["kind"] == "risk"
                    and s["fields"]["assertion"] == "negated")
    review.decide(demo_db, user, taxonomy, entry["id"], drinking["id"], "reject")
    people = [s["id"] for s in state["suggestions"] if s["kind"] in ("person", "date")]
    review.accept_many(demo_db, user, taxonomy, entry["id"], people)
    seen = find(state, "child_seen")
    review.decide(demo_db, user, taxonomy, entry["id"], seen["id"], "accept")
    start = TEXT.index("had a bruise")
    review.add_fact(demo_db, user, taxonomy, entry["id"], "tag", start, start + 12,
                    {"label": "health"})
    # A later decision replaces an earlier one.
    review.decide(demo_db, user, taxonomy, entry["id"], drinking["id"], "accept")
    review.decide(demo_db, user, taxonomy, entry["id"], drinking["id"], "reject")
    assert demo_db["facts"].count == 0  # nothing is data before finalising
    review.finalise(demo_db, user, entry["id"])
    stored = facts(demo_db, entry["id"])
    risks = [f for f in stored if f["kind"] == "risk"]
    assert [(f["text"], f["label"], f["assertion"]) for f in risks] == [
        ("bruise", "physical_injury", "possible")]
    assert {f["kind"] for f in stored} >= {"person", "date", "child_seen", "tag"}
    child = next(f for f in stored if f["kind"] == "child_seen")
    assert child["alone"] == 1
    assert all(f["confirmed_by"] == user.id and f["revision"] == 1 for f in stored)
    for fact in stored:
        assert TEXT[fact["start"]:fact["end"]] == fact["text"]
    decisions = list(demo_db.query("SELECT decision FROM decisions WHERE entry_id = ?",
                                   [entry["id"]]))
    assert {d["decision"] for d in decisions} == {"accepted", "edited", "rejected", "added"}


def test_risks_cannot_be_accepted_in_bulk(demo_db: Database, suggester: Suggester,
                                          taxonomy: Taxonomy) -> None:
    entry = draft(demo_db)
    state = review.suggest_entry(demo_db, worker(demo_db), suggester, entry["id"])
    with pytest.raises(Invalid, match="one by one"):
        review.accept_many(demo_db, worker(demo_db), taxonomy, entry["id"],
                           [find(state, "risk", "bruise")["id"]])


def test_bad_decisions_are_refused(demo_db: Database, suggester: Suggester,
                                   taxonomy: Taxonomy) -> None:
    user = worker(demo_db)
    entry, other = draft(demo_db), draft(demo_db, "Phone call with Sarah.")
    state = review.suggest_entry(demo_db, user, suggester, entry["id"])
    person = find(state, "person", "Sarah")
    with pytest.raises(NotFound):
        review.decide(demo_db, user, taxonomy, other["id"], person["id"], "accept")
    novak_person = next(demo_db.query("SELECT id FROM people WHERE name = 'Lena Novak'"))["id"]
    with pytest.raises(Invalid, match="not on this family"):
        review.decide(demo_db, user, taxonomy, entry["id"], person["id"], "edit",
                      {"person": novak_person})
    with pytest.raises(Invalid, match="within the text"):
        review.add_fact(demo_db, user, taxonomy, entry["id"], "tag", 5, 10_000,
                        {"label": "health"})
    with pytest.raises(Invalid, match="Unknown risk"):
        review.decide(demo_db, user, taxonomy, entry["id"], find(state, "risk", "bruise")["id"],
                      "edit", {"label": "dragons"})
    with pytest.raises(Invalid, match="assertion"):
        review.decide(demo_db, user, taxonomy, entry["id"], find(state, "risk", "bruise")["id"],
                      "edit", {"assertion": "certain"})
    # The words of a suggestion changed since it was made: a stale suggestion.
    entries.save_draft(demo_db, user, entry["id"], TEXT.replace("bruise", "graze"))
    with pytest.raises(Conflict, match="changed"):
        review.decide(demo_db, user, taxonomy, entry["id"], find(state, "risk", "bruise")["id"],
                      "accept")
    assert demo_db["facts"].count == 0


def test_amendment_keeps_unchanged_facts_and_asks_again_for_changed(
        demo_db: Database, suggester: Suggester, taxonomy: Taxonomy) -> None:
    user = worker(demo_db)
    entry = draft(demo_db)
    state = review.suggest_entry(demo_db, user, suggester, entry["id"])
    review.decide(demo_db, user, taxonomy, entry["id"], find(state, "risk", "bruise")["id"],
                  "accept")
    review.decide(demo_db, user, taxonomy, entry["id"], find(state, "date", "Friday")["id"],
                  "accept")
    review.finalise(demo_db, user, entry["id"])
    new_text = "Note added first. " + TEXT.replace("on Friday", "on Thursday")
    amended = review.amend(demo_db, user, entry["id"], new_text, based_on=1)
    assert amended["revision_count"] == 2
    current = [f for f in facts(demo_db, entry["id"]) if f["revision"] == 2]
    assert [(f["kind"], f["text"]) for f in current] == [("risk", "bruise")]
    assert new_text[current[0]["start"]:current[0]["end"]] == "bruise"
    assert [r["now"] for r in amended["reconfirm"]] == ["Thursday"]
    state = review.review_state(demo_db, user, entry["id"])
    again = find(state, "date", "Thursday")
    assert again["state"] == "pending" and again["rule"].startswith("reconfirm")
    review.decide(demo_db, user, taxonomy, entry["id"], again["id"], "edit",
                  {"value": "2026-03-12"})
    current = [f for f in facts(demo_db, entry["id"]) if f["revision"] == 2]
    assert ("date", "Thursday", "2026-03-12") in {(f["kind"], f["text"], f["value"])
                                                   for f in current}
    # Revision 1's facts are untouched.
    assert {(f["kind"], f["text"]) for f in facts(demo_db, entry["id"]) if f["revision"] == 1} \
        == {("risk", "bruise"), ("date", "Friday")}
