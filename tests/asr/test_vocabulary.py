"""The case vocabulary: names from the record, kinship, taxonomy terms (from the loaded rules)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from service.asr.vocabulary import FALLBACK_RISK_TERMS, CaseVocabulary
from service.nlp.rule_files import english_tokenizer
from service.nlp.taxonomy import TAXONOMY_FILE, load_taxonomy
from tests.asr.conftest import case_note
from tests.conftest import bundled_rules

MEMBERS = [
    {"id": "p1", "name": "Katarzyna Kowalski", "role": "mother", "nicknames": ["Kasia"]},
    {"id": "p2", "name": "Olivia Kowalski", "role": "child"},
    {"id": "p3", "name": "Dean O'Brien", "role": "step-father"},
    {"id": "p4", "name": "Funmi Adeyemi", "role": "class teacher"},
]


def texts(vocabulary: CaseVocabulary, kind: str) -> set[str]:
    return {term.text for term in vocabulary.terms if term.kind == kind}


def test_names_nicknames_and_professionals_from_the_record() -> None:
    vocabulary = CaseVocabulary.build(MEMBERS, rules=bundled_rules())
    names = texts(vocabulary, "name")
    assert {"Katarzyna Kowalski", "Katarzyna", "Kowalski", "Kasia", "Olivia", "Dean",
            "O'Brien", "Funmi", "Adeyemi"} <= names
    kasia = next(t for t in vocabulary.terms if t.text == "Kasia")
    assert (kasia.person, kasia.part) == ("p1", "nickname")
    assert "mother" in kasia.source


def test_usual_short_forms_are_known_but_marked() -> None:
    # the nickname list in models/: Olivia -> Liv; recognised, never corrected towards (see correction)
    liv = [t for t in CaseVocabulary.build(MEMBERS, rules=bundled_rules()).terms if t.text == "Liv"]
    assert liv and liv[0].part == "usual short form"


def test_kinship_words_point_to_the_member_with_that_role() -> None:
    vocabulary = CaseVocabulary.build(MEMBERS, rules=bundled_rules())
    by_text = {t.text: t for t in vocabulary.terms if t.kind == "kinship"}
    assert by_text["mum"].person == "p1"
    assert by_text["step-dad"].person == "p3"
    assert by_text["nan"].person is None  # no grandmother on this record


def test_taxonomy_terms_expand_phrase_patterns() -> None:
    risks = texts(CaseVocabulary.build(MEMBERS, rules=bundled_rules()), "risk")
    # from patterns such as `bruis*`, `head lice`, `county lines`, `exploit*`
    assert {"bruise", "bruising", "head lice", "county lines", "exploitation"} <= risks
    assert not any("{" in t or "*" in t or "..." in t for t in risks)


def test_without_rules_built_in_words_stand_in() -> None:
    vocabulary = CaseVocabulary.build(MEMBERS)
    assert texts(vocabulary, "risk") == set(FALLBACK_RISK_TERMS)
    assert texts(vocabulary, "kinship") >= {"mum", "dad", "step-dad"}
    assert not [t for t in vocabulary.terms if t.part == "usual short form"]


def test_a_minimal_taxonomy_is_read(tmp_path: Path) -> None:
    (tmp_path / TAXONOMY_FILE).write_text(
        "version: t1\nrisk_indicators:\n"
        "  - id: substance_misuse\n    label: Substance misuse\n"
        "    phrases: [cannabis, smell of cannabis|skunk, 'drunk*']\n"
        "tags:\n  - id: health\n    label: Health\n    phrases: [dentist]\n"
    )
    taxonomy = load_taxonomy(tmp_path / TAXONOMY_FILE, english_tokenizer())
    vocabulary = CaseVocabulary.build([], rules=dataclasses.replace(bundled_rules(),
                                                                    taxonomy=taxonomy))
    assert {"substance misuse", "cannabis", "smell of cannabis", "smell of skunk",
            "drunk"} <= texts(vocabulary, "risk")
    assert texts(vocabulary, "theme") == {"dentist"}
    assert vocabulary.risk_labels == ["substance misuse"]


def test_an_explicit_term_list_replaces_the_taxonomy() -> None:
    vocabulary = CaseVocabulary.build(MEMBERS, terms=["methadone", "Spice"])
    assert texts(vocabulary, "risk") == {"methadone", "spice"}


def test_from_note_reads_the_annotated_note_members() -> None:
    vocabulary = CaseVocabulary.from_note(case_note("clip04"), rules=bundled_rules())
    assert [m.id for m in vocabulary.members] == ["p1", "p2", "p3", "p4", "p5"]
    assert "Hussain" in texts(vocabulary, "name")
    assert CaseVocabulary.from_note({"text": "no members"}).members == []


def test_prompt_names_the_family_briefly_and_the_risk_labels() -> None:
    prompt = CaseVocabulary.build(MEMBERS, rules=bundled_rules()).prompt()
    assert prompt.startswith("Visit with Katarzyna, Kasia, Olivia, Dean and Funmi "
                             "(Kowalski, O'Brien, Adeyemi).")
    assert "Concerns: physical injury, domestic abuse" in prompt
    assert "mother" not in prompt  # roles leak into transcripts
    assert "Concerns" not in CaseVocabulary.build(MEMBERS, rules=bundled_rules()).prompt("names")


def test_no_case_means_no_prompt() -> None:
    assert CaseVocabulary.plain().prompt() == ""
