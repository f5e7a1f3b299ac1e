"""Children seen (and alone) on this visit; themes (tags) with their evidence."""

from __future__ import annotations

from tests.nlp.conftest import VISIT, kinds


def seen(suggester, text, record):
    return {s["person"]: s["alone"] for s in
            kinds(suggester.suggest(text, record, VISIT), "child_seen")}


def test_seen_alone(suggester, family):
    assert seen(suggester, "Jack was seen alone in his bedroom.", family) == {"p2": True}
    assert seen(suggester, "I saw Jack on his own at school.", family) == {"p2": True}


def test_seen_not_alone_and_not_seen(suggester, family):
    out = seen(suggester, "Jack was seen with Mum in the lounge. I did not see Bex as she was "
                          "at nursery.", family)
    assert out == {"p2": False}


def test_plans_are_not_visits(suggester, family):
    assert seen(suggester, "I will visit tomorrow to see Jack on his own.", family) == {}
    assert seen(suggester, "Phone call from Sarah. Jack is asleep now.", family) == {}


def test_children_not_seen(suggester, family):
    assert seen(suggester, "No answer at the door. Children not seen.", family) == {}


def test_tags_with_evidence(suggester, family):
    text = ("Jack was seen alone. He told me school is good and his teacher is kind; his attendance "
            "is 98% and he likes reading. He has an asthma review with the GP at the hospital.")
    tags = {t["label"]: t for t in kinds(suggester.suggest(text, family, VISIT), "tag")}
    assert {"education", "health", "child_voice"} <= set(tags)
    for tag in tags.values():
        assert tag["evidence"]
        for ev in tag["evidence"]:
            assert text[ev["start"]:ev["end"]] == ev["text"]
