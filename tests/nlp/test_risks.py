"""Risk indicators and their assertions (ConText-style rules in models/context_rules.yaml)."""

from __future__ import annotations

import pytest

from tests.nlp.conftest import VISIT, kinds


def risks(suggester, text, record):
    return [(s["text"], s["label"], s["assertion"]) for s in
            kinds(suggester.suggest(text, record, VISIT), "risk")]


@pytest.mark.parametrize(
    ("text", "label", "assertion"),
    [
        ("Jack had a bruise on his arm.", "physical_injury", "present"),
        ("No bruises were seen.", "physical_injury", "negated"),
        ("Mum denies drug use.", "substance_misuse", "negated"),
        ("Nil evidence of injuries.", "physical_injury", "negated"),
        ("Possible bruising to his cheek.", "physical_injury", "possible"),
        ("Mum may have been drinking.", "substance_misuse", "possible"),
        ("Small ?burn on his hand.", "physical_injury", "possible"),
        ("I will check for marks next week.", "physical_injury", "hypothetical"),
        ("If he goes missing again she will ring police.", "missing_from_home", "hypothetical"),
        ("There is a history of DV.", "domestic_abuse", "historical"),
        ("Mum used to use cannabis.", "substance_misuse", "historical"),
        ("School reported a bruise on his leg.", "physical_injury", "reported"),
        ("There was no food in the fridge.", "neglect", "present"),
        ("Dad was drunk.", "substance_misuse", "present"),
    ],
)
def test_assertions(suggester, family, text, label, assertion):
    found = risks(suggester, text, family)
    assert (label, assertion) in [(lab, a) for _, lab, a in found], found


def test_denial_and_observation_in_one_sentence(suggester, family):
    found = risks(suggester, "Mum denies drinking but the flat smelt of alcohol.", family)
    assert ("drinking", "substance_misuse", "negated") in found
    assert ("smelt of alcohol", "substance_misuse", "present") in found


def test_reported_names_its_source(suggester, family):
    out = kinds(suggester.suggest("The school nurse said Jack had head lice.", family, VISIT),
                "risk")
    assert out[0]["assertion"] == "reported"
    assert out[0]["source"] == "The school nurse"


def test_parents_self_harm_is_parental_mental_health(suggester, family):
    found = risks(suggester, "Sarah said she has thoughts of harming herself.", family)
    assert [lab for _, lab, _ in found] == ["parental_mental_health"]
    found = risks(suggester, "Jack said he has been self-harming.", family)
    assert [lab for _, lab, _ in found] == ["self_harm"]


def test_injury_to_a_parent_is_domestic_abuse_but_to_a_child_is_not(suggester, family):
    found = risks(suggester, "Sarah had a black eye.", family)
    assert [lab for _, lab, _ in found] == ["domestic_abuse"]
    found = risks(suggester, "Mark hit him with a belt.", family)
    assert found[0][1] == "physical_injury"


def test_shorthand_and_dictation(suggester, family):
    found = risks(suggester, "CP plan hx of DV um mum said dad smelt of cannabis last night "
                             "um no marks seen", family)
    assert ("DV", "domestic_abuse", "historical") in found
    assert ("smelt of cannabis", "substance_misuse", "reported") in found
    assert ("marks", "physical_injury", "negated") in found


def test_not_school_absence(suggester, family):
    assert risks(suggester, "He has been missing from school on Fridays.", family) == []


def test_no_risks_in_a_good_visit(suggester, family):
    text = ("Home visit. Jack was playing with Lego and showed me his reading book. Sarah said "
            "bedtimes are going well. The home was warm, clean and tidy.")
    assert risks(suggester, text, family) == []
