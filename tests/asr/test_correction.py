"""Post-correction against the case lexicon: fixes mishearings, leaves good text alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from service.asr.correction import Corrector, Word, sound_key
from service.asr.vocabulary import CaseVocabulary
from tests.asr.conftest import AUDIO, case_note
from tests.conftest import bundled_rules

ANNOTATED = Path(__file__).resolve().parents[2] / "fixtures" / "annotated"


def words(text: str) -> list[Word]:
    return [Word(" " + token) for token in text.split()]


def corrected(clip_id: str, text: str) -> tuple[str, list]:
    corrector = Corrector(CaseVocabulary.from_note(case_note(clip_id), rules=bundled_rules()))
    out, applied = corrector.correct(words(text))
    return "".join(w.text for w in out).strip(), applied


@pytest.mark.parametrize(
    ("clip_id", "heard", "meant"),
    [
        ("clip07", "Home visit to Lucy Novick and her baby.", "Home visit to Lucy Novak and her baby."),
        ("clip02", "Thomas has been drinking heavily.", "Tomasz has been drinking heavily."),
        ("clip02", "Kasia and Filip Kowalsky were home.", "Kasia and Filip Kowalski were home."),
        ("clip04", "She said her dad, Imran has in, does not", "She said her dad, Imran Hussain, does not"),
        ("clip04", "Visit to Aisha become at school", "Visit to Aisha Begum at school"),
        ("clip07", "Gary Richard was also there.", "Gary Pritchard was also there."),
        ("clip04", "I phoned Asreen, who said", "I phoned Nasreen, who said"),
    ],
)
def test_misheard_case_names_are_corrected(clip_id: str, heard: str, meant: str) -> None:
    assert corrected(clip_id, heard)[0] == meant


def test_possessive_and_punctuation_survive() -> None:
    assert corrected("clip07", "out of Novick's reach.")[0] == "out of Novak's reach."


def test_rare_risk_word_heard_as_ordinary_words() -> None:
    vocabulary = CaseVocabulary.build([], terms=["methadone"])
    out, applied = Corrector(vocabulary).correct(words("she has been on meth alone for years"))
    assert "".join(w.text for w in out).strip() == "she has been on methadone for years"
    assert applied[0].original == "meth alone"
    assert "unlikely run of words" in applied[0].candidate.reason


@pytest.mark.parametrize(
    ("clip_id", "text"),
    [
        ("clip03", "I saw Tyler alone in his bedroom."),  # a case word stays put
        ("clip04", "She has in the past said so."),  # no name expected there
        ("clip06", "Leanne was seen at home."),  # "seen" is not a name
        ("clip05", "If Gemma had a row with the school"),
        ("clip02", "The PNC check was clear."),  # acronyms are deliberate
        ("clip01", "the baby was in a cot asleep"),  # not co-sleeping
    ],
)
def test_good_text_is_left_alone(clip_id: str, text: str) -> None:
    assert corrected(clip_id, text) == (text, [])


def test_every_correction_says_what_why_and_where() -> None:
    text, applied = corrected("clip04", "I phoned Asreen, who said")
    (item,) = applied
    assert (item.original, item.written, item.term.person) == ("Asreen,", "Nasreen", "p2")
    assert "first name on the case record: Nasreen Begum (mother)" in item.candidate.reason
    assert text.split()[item.index] == "Nasreen,"


def test_sound_key_equates_spellings_of_one_sound() -> None:
    assert sound_key("Thomas") == sound_key("Tomasz")
    assert sound_key("Philip") == sound_key("Filip")
    assert sound_key("Cassie") == sound_key("Kasia")
    assert sound_key("Jack") != sound_key("Mark")


def _clean_notes(splits: tuple[str, ...] = ("dev", "heldout"), audio: bool = True) -> list[dict]:
    paths = [p for split in splits for p in sorted((ANNOTATED / split).glob("*.json"))]
    paths += sorted(AUDIO.glob("*.case.json")) if audio else []
    notes = [json.loads(p.read_text()) for p in paths]
    return [n for n in notes if isinstance(n, dict) and n.get("text") and n.get("members")]


def _false_corrections(notes: list[dict]) -> list[tuple[str, str, str]]:
    changes = []
    for note in notes:
        corrector = Corrector(CaseVocabulary.from_note(note, rules=bundled_rules()))
        _, applied = corrector.correct(words(note["text"]))
        changes += [(note.get("id"), a.original, a.written) for a in applied]
    return changes


def test_correct_text_is_never_changed() -> None:
    """The honest check that the rules are general: run the pass over typed notes (the
    annotated fixtures, each with its own case lexicon) and the clips' own references.
    Nothing there is misheard, so every change would be a false correction."""
    notes = _clean_notes()
    assert len(notes) >= 40
    assert _false_corrections(notes) == []


def test_correct_text_is_never_changed_on_the_fresh_split() -> None:
    """The same check on typed notes nobody here had seen when the rules were written."""
    notes = _clean_notes(("fresh",), audio=False)
    assert len(notes) >= 40
    assert _false_corrections(notes) == []
