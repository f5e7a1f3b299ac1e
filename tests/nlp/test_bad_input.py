"""Bad input gives clear errors or sensible empty results, never a crash."""

from __future__ import annotations

import datetime

import pytest

from service.nlp import CaseRecord, Member
from tests.nlp.conftest import VISIT, kinds


def test_empty_and_blank_text(suggester, family):
    assert suggester.suggest("", family, VISIT) == []
    assert suggester.suggest("   \n\t ", family, VISIT) == []


def test_wrong_types_are_clear_errors(suggester, family):
    with pytest.raises(TypeError, match="text"):
        suggester.suggest(None, family, VISIT)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="visit_date"):
        suggester.suggest("Saw Mum.", family, "2026-03-18")  # type: ignore[arg-type]


def test_very_long_text(suggester, family):
    block = "Visited Mum and Jack on Friday. Jack had a bruise on his arm. No food in the fridge. "
    text = (block * (200_000 // len(block) + 1))[:200_000]
    out = suggester.suggest(text, family, VISIT)
    assert len(text) == 200_000
    assert kinds(out, "risk") and kinds(out, "person")
    for s in out:
        assert text[s["start"]:s["end"]] == s["text"]


def test_non_english_emoji_and_control_characters(suggester, family):
    for text in ["Wizyta domowa. Dziecko było czyste i szczęśliwe.", "家访。孩子很好。",
                 "😀😀 👍", "Saw Jack\x00\x07 today\x1b[31m. No bruises 😊."]:
        out = suggester.suggest(text, family, VISIT)
        for s in out:
            assert text[s["start"]:s["end"]] == s["text"]
    out = suggester.suggest("Saw Jack\x00\x07 today. No bruises 😊.", family, VISIT)
    assert kinds(out, "risk")[0]["assertion"] == "negated"
    text = "Jack went to the GP\x0c about his asthma;\x00 the hospital\x1b rang."
    for s in suggester.suggest(text, family, VISIT):
        assert text[s["start"]:s["end"]] == s["text"]  # the worker's text, quoted as typed
        for ev in s.get("evidence", ()):
            assert text[ev["start"]:ev["end"]] == ev["text"]


def test_typos_still_found(suggester, family):
    out = kinds(suggester.suggest("Mum denys drinking. No evidance of brusing.", family, VISIT),
                "risk")
    assert [(s["text"], s["assertion"]) for s in out] == [("drinking", "negated"),
                                                          ("brusing", "negated")]


def test_duplicate_member_names_defer_to_the_worker(suggester):
    record = CaseRecord("p1", (Member("p1", "Jack Jones", "child"),
                               Member("p2", "Jack Jones", "father")))
    out = kinds(suggester.suggest("Jack came home.", record, VISIT), "person")
    assert out[0]["person"] is None and len(out[0]["candidates"]) == 2


def test_record_from_note_validates(suggester):
    with pytest.raises(ValueError, match="members"):
        CaseRecord.from_note({"members": [{"name": "no id"}]})
    record = CaseRecord.from_note({"members": [], "subject": None})
    assert suggester.suggest("Saw Mum.", record, datetime.date(2026, 1, 1)) is not None
