"""The annotated fixtures are well formed (fixtures/annotated/check.py), the fresh split most of all.

The fresh split is scored but never tuned against; these tests check only that its gold is
consistent (offsets, labels, members, agreement with its source), not what the suggester makes
of it.
"""

from __future__ import annotations

import copy
import importlib.util
import json

import pytest

from tests.nlp.conftest import FIXTURES


def _checker():
    spec = importlib.util.spec_from_file_location("annotated_check", FIXTURES / "check.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


CHECK = _checker()


@pytest.mark.parametrize("split", ["fresh", "heldout", "dev"])
def test_split_has_no_problems(split):
    assert CHECK.check_split(split) == []


def test_fresh_split_covers_what_it_promises():
    notes = [json.loads(p.read_text(encoding="utf-8"))
             for p in sorted((FIXTURES / "fresh").glob("*.json"))]
    assert len(notes) >= 40
    assert sum(not n["risks"] for n in notes) >= 8
    assertions = {r["assertion"] for n in notes for r in n["risks"]}
    assert assertions == CHECK.ASSERTIONS
    risk_ids, tag_ids = CHECK.taxonomy_ids()
    assert {r["label"] for n in notes for r in n["risks"]} == risk_ids
    assert {t for n in notes for t in n["tags"]} == tag_ids


def _good_note() -> dict:
    return json.loads(next((FIXTURES / "fresh").glob("*.json")).read_text(encoding="utf-8"))


@pytest.mark.parametrize("spoil, expected", [
    (lambda n: n["risks"].append({"text": "not in this note at all", "label": "neglect",
                                  "assertion": "present"}), "not in text"),
    (lambda n: n["people"].append({"text": n["people"][0]["text"], "person": "p1",
                                   "nth": 999}), "not in text"),
    (lambda n: n["risks"][0].update(label="poverty"), "not in taxonomy"),
    (lambda n: n["risks"][0].update(assertion="likely"), "assertion 'likely' unknown"),
    (lambda n: n["tags"].append("wellbeing"), "not in taxonomy"),
    (lambda n: n["people"][0].update(person="p99"), "not a member"),
    (lambda n: n["child_seen"].append({"person": "p99", "alone": False}), "not a member"),
    (lambda n: n["people"].reverse(), "not in text order"),
    (lambda n: n.update(subject="p99"), "subject p99 is not a member"),
])
def test_checker_finds_each_kind_of_fault(spoil, expected):
    """A checker that passes everything is worthless: every rule must be able to fail."""
    risk_ids, tag_ids = CHECK.taxonomy_ids()
    note = _good_note()
    assert note["risks"] and len(note["people"]) > 1
    assert CHECK.check_note(note, risk_ids, tag_ids) == []
    spoiled = copy.deepcopy(note)
    spoil(spoiled)
    problems = CHECK.check_note(spoiled, risk_ids, tag_ids)
    assert any(expected in p for p in problems), problems


def test_checker_finds_json_out_of_step_with_source(tmp_path):
    """Editing a built JSON file by hand (and not the source) is caught."""
    (tmp_path / "fresh").mkdir()
    build = CHECK._build_module()
    notes = build.build_split("fresh")
    for note in notes:
        (tmp_path / "fresh" / f"{note['id']}.json").write_text(json.dumps(note),
                                                               encoding="utf-8")
    assert CHECK.check_split("fresh", tmp_path) == []
    first = tmp_path / "fresh" / f"{notes[0]['id']}.json"
    edited = json.loads(first.read_text(encoding="utf-8"))
    edited["tags"] = edited["tags"][:-1]
    first.write_text(json.dumps(edited), encoding="utf-8")
    assert any("differs from src" in p for p in CHECK.check_split("fresh", tmp_path))
    first.unlink()
    assert any("only in src" in p for p in CHECK.check_split("fresh", tmp_path))
