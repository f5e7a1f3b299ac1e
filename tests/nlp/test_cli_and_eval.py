"""`casenotes suggest` / `casenotes eval`, and the held-out targets (a real check)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from service.nlp.commands import evaluate, suggest
from service.nlp.evaluation import TARGETS, evaluate_notes, load_notes, target_failures
from tests.nlp.conftest import FIXTURES, MODELS_DIR


def test_suggest_prints_one_json_line_per_file(tmp_path):
    files = sorted((FIXTURES / "dev").glob("s00*.json"))[:3]
    bad = tmp_path / "bad.json"
    bad.write_text('{"id": "x"}', encoding="utf-8")
    result = CliRunner().invoke(suggest, [*map(str, files), str(bad),
                                          "--models-dir", str(MODELS_DIR)])
    lines = [json.loads(line) for line in result.output.strip().splitlines()]
    assert [line["id"] for line in lines] == ["s001", "s002", "s003", "bad"]
    assert "error" in lines[-1] and result.exit_code == 1
    first = lines[0]["suggestions"]
    assert {s["kind"] for s in first} >= {"person", "date", "risk", "tag", "child_seen"}


def test_eval_prints_every_figure():
    result = CliRunner().invoke(evaluate, [str(FIXTURES / "heldout"), "--models-dir",
                                           str(MODELS_DIR)])
    assert result.exit_code == 0, result.output
    for name in ["person.mention_recall", "person.link_accuracy", "date.value_accuracy",
                 "risk.label_recall", "risk.label_precision", "risk.assertion_accuracy",
                 "assertion negated", "risk.present_returned_as_negated", "child_seen.f1",
                 "child_seen.alone_accuracy", "tag.f1", "spans overlap"]:
        assert name in result.output


def test_heldout_meets_targets(suggester):
    figures, _ = evaluate_notes(suggester, load_notes(FIXTURES / "heldout"))
    assert figures["notes"] >= 20
    assert target_failures(figures) == [], {k: figures[k] for k in TARGETS}
