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
        ("context_rules.yaml", "version: ", "# version: ", "version", "missing"),
        ("kinship.yaml", "  mr: male\n", "  mr: martian\n", "titles.mr", "sex"),
        ("nicknames.yaml", "  rebecca: [becky, bex, becca, becks]\n", "  rebecca: []\n",
         "names.rebecca", "empty"),
        ("taxonomy.yaml", "risk_indicators:\n", "risk_indicators: [\n", "line", "YAML"),
    ],
)
def test_malformed_rule_files_name_file_entry_problem(suggester, tmp_path, file, old, new,
                                                      entry, problem):
    message = _refusal_of_edit(suggester, tmp_path, file, old, new)
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


def _misspelt(key: str) -> str:
    """The key with its second letter dropped ('exclude' -> 'eclude'), as a typo would."""
    return key[0] + key[2:]


# (file, path to the mapping in the file's data, key to misspell, how the error names the entry)
PLACES = [
    ("taxonomy.yaml", (), "max_tags_per_note", ""),
    ("taxonomy.yaml", ("risk_indicators", 0), "exclude", "risk_indicators[0] (physical_injury)."),
    ("taxonomy.yaml", ("risk_indicators", 0), "adult_label_by",
     "risk_indicators[0] (physical_injury)."),
    ("taxonomy.yaml", ("tags", 0), "min_score", "tags[0] ("),
    ("context_rules.yaml", (), "not_a_visit", ""),
    ("context_rules.yaml", ("assertions", "negated"), "terminations", "assertions.negated."),
    ("context_rules.yaml", ("assertions", "hypothetical", "triggers", 0), "direction",
     "assertions.hypothetical.triggers[0]."),
    ("context_rules.yaml", ("child_seen",), "not_alone", "child_seen."),
    ("kinship.yaml", (), "never_children", ""),
    ("kinship.yaml", ("family", 0), "roles", "family[0]."),
    ("nicknames.yaml", (), "names", ""),
    ("manifest.yaml", ("spacy",), "exclude", "spacy."),
    ("manifest.yaml", ("whisper",), "device", "whisper."),
]


@pytest.mark.parametrize(("file", "where", "key", "entry"), PLACES)
def test_a_misspelt_key_is_refused_anywhere(suggester, tmp_path, file, where, key, entry):
    """Every kind of place a rule file has keys: the typo is named with its place and the key
    it was probably meant to be, instead of the rule it carried being silently dropped."""
    import yaml

    from service.nlp.taxonomy import load_manifest

    models = models_copy(tmp_path)
    path = models / file
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    mapping = data
    for step in where:
        mapping = mapping[step]
    assert key in mapping, (file, where, key)
    typo = _misspelt(key)
    mapping[typo] = mapping.pop(key)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(TaxonomyError) as err:
        if file == "manifest.yaml":
            load_manifest(models)
        else:
            load_rules(models, suggester.nlp.tokenizer)
    message = str(err.value)
    assert message.startswith(f"{file}: {entry}"), message
    assert f"{typo}: unknown key {typo!r}; did you mean {key!r}?" in message, message


@pytest.mark.parametrize(("file", "old", "new", "message"), [
    ("taxonomy.yaml", "    exclude: [good marks", "    exlude: [good marks",
     "taxonomy.yaml: risk_indicators[0] (physical_injury).exlude: unknown key 'exlude'; "
     "did you mean 'exclude'?"),
    ("context_rules.yaml", "\nterminations:", "\nterminatons:",
     "context_rules.yaml: terminatons: unknown key 'terminatons'; did you mean 'terminations'?"),
    ("taxonomy.yaml", "    label: Health\n", "    colour: red\n    label: Health\n",
     "taxonomy.yaml: tags[0] (health).colour: unknown key 'colour'; use from_child_seen_alone, "
     "from_family_members, from_risks, id, label, min_score, phrases"),
])
def test_unknown_keys_named_as_a_person_editing_would_see(suggester, tmp_path, file, old, new,
                                                          message):
    assert _refusal_of_edit(suggester, tmp_path, file, old, new) == message


def test_a_misspelt_key_keeps_the_last_good_rules_until_fixed(suggester, tmp_path):
    models = models_copy(tmp_path)
    live = fresh(suggester, models)
    path = models / "taxonomy.yaml"
    good = path.read_text(encoding="utf-8")
    text = "Jack said the older boys made him carry a package to the station."
    before = [s["label"] for s in kinds(live.suggest(text, _empty(), VISIT), "risk")]
    path.write_text(good.replace("    exclude: [good marks", "    exlude: [good marks", 1),
                    encoding="utf-8")
    touch_later(path)
    assert [s["label"] for s in kinds(live.suggest(text, _empty(), VISIT), "risk")] == before
    assert live.taxonomy_error and "exlude" in live.taxonomy_error
    assert live.rule_files.error == live.taxonomy_error
    assert live.rule_files.taxonomy is live.taxonomy  # the pages keep the last good labels too
    path.write_text(good.replace("label: Physical injury", "label: Injury to a child", 1),
                    encoding="utf-8")
    touch_later(path)
    live.suggest(text, _empty(), VISIT)
    assert live.taxonomy_error is None
    assert live.taxonomy.label("physical_injury") == "Injury to a child"
    assert live.rule_files.taxonomy.label("physical_injury") == "Injury to a child"


def _refusal_of_edit(suggester, tmp_path, file, old, new):
    """Edit one rule file in a copy of models/ and return the loader's refusal."""
    models = models_copy(tmp_path)
    path = models / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(TaxonomyError) as err:
        load_rules(models, suggester.nlp.tokenizer)
    return str(err.value)
