"""People: names, nicknames, titles, kinship relative to the subject, new people, ambiguity."""

from __future__ import annotations

from service.nlp import CaseRecord, Member
from tests.nlp.conftest import VISIT, kinds, one


def people(suggester, text, record):
    """The first suggestion for each distinct text."""
    out: dict[str, dict] = {}
    for s in kinds(suggester.suggest(text, record, VISIT), "person"):
        out.setdefault(s["text"], s)
    return out


def test_names_nicknames_titles_and_kinship(suggester, family):
    found = people(
        suggester,
        "Visited Mum and Jack. Bex was at nursery. Dan rang. Ms Jones arrived later with Nan "
        "and his step-dad. Mrs Adams said Jack is reading well. The health visitor called.",
        family,
    )
    assert found["Mum"]["person"] == "p1"
    assert found["Jack"]["person"] == "p2"
    assert found["Bex"]["person"] == "p4"  # nickname for Rebecca
    assert found["Dan"]["person"] == "p7"
    assert found["Nan"]["person"] == "p5"  # maternal grandmother, relative to Jack
    assert found["his step-dad"]["person"] == "p3"
    assert found["Mrs Adams"]["person"] == "p8"
    assert found["The health visitor"]["person"] == "p6"
    # "Ms Jones": Sarah and Rebecca are both female Joneses but Rebecca is a child.
    assert found["Ms Jones"]["person"] == "p1"


def test_new_person_with_relationship(suggester, family):
    found = people(suggester, "Sarah has a new boyfriend Dean who stays most weekends. "
                              "Dean works nights.", family)
    assert found["Dean"]["person"] is None
    assert found["Dean"].get("relationship") == "boyfriend"
    assert len([s for s in kinds(suggester.suggest("Dean came. Dean left.", family, VISIT),
                                 "person") if s["text"] == "Dean"]) == 2


def test_close_candidates_are_not_linked(suggester):
    record = CaseRecord("p2", (Member("p1", "Ruby Scott", "cousin", "2016-08-08"),
                               Member("p2", "Ruby Scott", "child", "2016-06-16")))
    out = one(suggester.suggest("Ruby was upset in class.", record, VISIT), "person", "Ruby")
    assert out["person"] is None
    assert {c["id"] for c in out["candidates"]} == {"p1", "p2"}


def test_sibling_relative_to_named_child(suggester):
    record = CaseRecord("p2", (Member("p1", "Ayesha Malik", "mother"),
                               Member("p2", "Zain Malik", "child"),
                               Member("p4", "Hira Malik", "sister", "2016-05-19")))
    out = suggester.suggest("Hira kept asking where her brother was.", record, VISIT)
    assert one(out, "person", "her brother")["person"] == "p2"


def test_pronouns_and_generic_phrases_are_not_people(suggester, family):
    texts = {s["text"].lower() for s in kinds(
        suggester.suggest("She said he and the children were fine. A man knocked.",
                          family, VISIT), "person")}
    assert not texts & {"she", "he", "the children", "a man"}


def test_someone_elses_relative_is_not_the_subjects(suggester, family):
    out = kinds(suggester.suggest("Mark's mum rang me.", family, VISIT), "person")
    assert [s["text"] for s in out] == ["Mark"]


def test_every_suggestion_has_the_interface_fields(suggester, family):
    out = suggester.suggest("Saw Mum yesterday; no bruises. Jack was seen alone.", family, VISIT)
    assert {s["kind"] for s in out} >= {"person", "date", "risk", "child_seen"}
    text = "Saw Mum yesterday; no bruises. Jack was seen alone."
    for s in out:
        assert {"kind", "start", "end", "text", "confidence", "rule", "pipeline_version"} <= set(s)
        assert text[s["start"]:s["end"]] == s["text"]
        assert s["pipeline_version"] == suggester.pipeline_version
