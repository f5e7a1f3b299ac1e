"""The query parser: what users type becomes a safe FTS5 expression, or a hint."""

from __future__ import annotations

import pytest

from service.search_query import MAX_QUERY_CHARS, parse, spellings


@pytest.mark.parametrize("typed, expression", [
    ("bruise", 'text : ("bruise")'),
    ('"seen alone" jack', 'text : ("seen alone" AND "jack")'),
    ("feed*", 'text : ("feed" *)'),
    ("school OR nursery feeding", 'text : (("school" OR "nursery") AND "feeding")'),
    ("bruise -fall -\"climbing frame\"",
     'text : (("bruise") NOT ("fall" OR "climbing frame"))'),
    ("bruise NOT fall", 'text : (("bruise") NOT "fall")'),
    ("o'brien", 'text : ("o brien")'),
    ("behavior", 'text : (("behaviour" OR "behavior"))'),
    ('"challenging behaviour"',
     'text : (("challenging behaviour" OR "challenging behavior"))'),
    ("NEAR(a, b) AND x:y", 'text : ("near a" AND "b" AND "x y")'),
])
def test_expressions(typed: str, expression: str) -> None:
    parsed = parse(typed)
    assert parsed.expression == expression
    assert not parsed.hints


@pytest.mark.parametrize("typed, words", [
    ("the of and", "very common words"),
    ("🙂🙂🙂", "no letters or numbers"),
    ("!!! ??? ***", "no letters or numbers"),
    ("-fall", "Add a word to search for"),
    ("", ""),
])
def test_nothing_searchable_gets_a_hint(typed: str, words: str) -> None:
    parsed = parse(typed)
    assert parsed.expression is None
    assert (words in " ".join(parsed.hints)) if words else not parsed.hints


def test_unbalanced_quote_is_a_phrase_with_a_hint() -> None:
    parsed = parse('"seen alone')
    assert parsed.expression == 'text : ("seen alone")'
    assert "quote mark was not closed" in parsed.hints[0]


def test_very_long_query_is_cut_with_a_hint() -> None:
    parsed = parse("bruise " * 2000)
    assert parsed.expression is not None and len(parsed.expression) < 2000
    assert any(str(MAX_QUERY_CHARS) in h for h in parsed.hints)


def test_short_prefix_is_a_whole_word() -> None:
    parsed = parse("ab* school")
    assert parsed.expression == 'text : ("ab" AND "school")'
    assert "at least 3 letters" in parsed.hints[0]


def test_quotes_inside_terms_cannot_break_out() -> None:
    for typed in ['a"b', '"x"" OR y"', '\'"); DROP TABLE entries; --', "\x00bruise\x1b"]:
        parsed = parse(typed)
        assert parsed.expression is None or parsed.expression.startswith("text : (")


def test_stop_words_dropped_but_kept_in_phrases() -> None:
    assert parse("the school").expression == 'text : ("school")'
    assert parse('"in the kitchen"').expression == 'text : ("in the kitchen")'


@pytest.mark.parametrize("word, other", [
    ("behaviour", "behavior"), ("behavioural", "behavioral"), ("colour", "color"),
    ("organisation", "organization"), ("recognised", "recognized"), ("analyse", "analyze"),
    ("paediatrician", "pediatrician"), ("mum", "mom"), ("centre", "center"),
    ("counselling", "counseling"), ("neighbourhood", "neighborhood"),
])
def test_spellings_both_ways(word: str, other: str) -> None:
    assert set(spellings(word)) == set(spellings(other)) == {word, other}


def test_words_without_a_variant_stay_alone() -> None:
    assert spellings("size") == ("size",) and spellings("Bruise") == ("bruise",)
