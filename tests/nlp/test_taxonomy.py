"""Rule files: validation errors name file, entry and problem; changes load without restart."""

from __future__ import annotations

import os

import pytest

from service.nlp import Suggester, TaxonomyError
from service.nlp.rule_files import RuleFiles
from service.nlp.taxonomy import load_rules
from tests.nlp.conftest import VISIT, kinds, models_copy


def fresh(suggester, models_dir) -> Suggester:
    """A Suggester over another models dir, sharing the already-loaded spaCy pipeline."""
    return Suggester(suggester.nlp, RuleFiles.load(models_dir, suggester.nlp.tokenizer))


def touch_later(path):
    stat = path.stat()
    os.utime(path, (stat.st_atime, stat.st_mtime + 5))


def test_taxonomy_lists_ids_and_labels(suggester):
    labels = suggester.taxonomy.labels()
    assert labels["risk_indicators"]["physical_injury"] == "Physical injury"
    assert set(labels["risk_indicators"]) >= {
        "physical_injury", "domestic_abuse", "substance_misuse", "parental_mental_health",
        "neglect", "missing_from_home", "exploitation", "self_harm", "sexual_abuse",
        "unsafe_adult"}
    assert set(labels["tags"]) >= {
        "health", "education", "emotional_wellbeing", "family_relationships", "basic_care",
        "housing", "finances", "ensuring_safety", "child_voice", "professional_contact"}
    assert suggester.taxonomy.version


@pytest.mark.parametrize(
    ("file", "old", "new", "entry", "problem"),
    [
        ("taxonomy.yaml", "  - id: neglect\n", "  - id: Neglect!\n", "risk_indicators[4]",
         "lower_snake_case"),
        ("taxonomy.yaml", "      - bruis*\n", "      - br*uise\n", "physical_injury",
         "wildcard"),
        ("taxonomy.yaml", "      - fractur*\n", "      - a {someone}\n", "physical_injury",
         "placeholder"),
        ("taxonomy.yaml", "    from_risks: [neglect]\n", "    from_risks: [nelgect]\n",
         "basic_care", "'nelgect' is not a risk indicator id"),
        ("context_rules.yaml", '{phrase: "if", direction: forward}',
         '{phrase: "if", direction: sideways}', "assertions.hypothetical.triggers[0]",
         "direction"),
        ("context_rules.yaml", "version: ", "versio: ", "version", "missing"),
        ("kinship.yaml", "  mr: male\n", "  mr: martian\n", "titles.mr", "sex"),
        ("nicknames.yaml", "  rebecca: [becky, bex, becca, becks]\n", "  rebecca: []\n",
         "names.rebecca", "empty"),
        ("taxonomy.yaml", "risk_indicators:\n", "risk_indicators: [\n", "line", "YAML"),
    ],
)
def test_malformed_rule_files_name_file_entry_problem(suggester, tmp_path, file, old, new,
                                                      entry, problem):
    models = models_copy(tmp_path)
    path = models / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(TaxonomyError) as err:
        load_rules(models, suggester.nlp.tokenizer)
    message = str(err.value)
    assert message.startswith(file)
    assert entry in message and problem in message, message


def test_new_indicator_and_phrase_picked_up_without_restart(suggester, tmp_path):
    models = models_copy(tmp_path)
    live = fresh(suggester, models)
    text = "The family dog bit Jack on the hand."
    assert not kinds(live.suggest(text, _empty(), VISIT), "risk")
    path = models / "taxonomy.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "risk_indicators:\n",
        "risk_indicators:\n  - id: dangerous_dog\n    label: Dangerous dog\n"
        "    phrases: [dog bit, bitten by the dog]\n", 1), encoding="utf-8")
    touch_later(path)
    out = kinds(live.suggest(text, _empty(), VISIT), "risk")
    assert [(s["label"], s["text"]) for s in out] == [("dangerous_dog", "dog bit")]
    assert "Dangerous dog" in live.taxonomy.labels()["risk_indicators"].values()
    assert live.taxonomy_error is None


def test_invalid_change_keeps_last_good_rules(suggester, tmp_path):
    models = models_copy(tmp_path)
    live = fresh(suggester, models)
    before = live.pipeline_version
    path = models / "context_rules.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("priority:", "priority: [x]\n#",
                                                             1), encoding="utf-8")
    touch_later(path)
    out = kinds(live.suggest("No bruises seen.", _empty(), VISIT), "risk")
    assert out[0]["assertion"] == "negated"  # old rules still work
    assert live.taxonomy_error and "context_rules.yaml: priority" in live.taxonomy_error
    assert live.pipeline_version == before


def _empty():
    from service.nlp import CaseRecord

    return CaseRecord(None, ())
