"""Turn the phrase syntax of models/*.yaml into spaCy Matcher token patterns.

Syntax (documented for authors in the taxonomy file in models/): words separated by spaces,
`word*` for a prefix, `a|b` for alternatives, `...` for a gap of up to three words,
`{person}` for a person mention and `{year}` for a year.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from spacy.tokenizer import Tokenizer

PLACEHOLDERS = {
    "{person}": {"_": {"cn_person": True}, "OP": "+"},
    "{year}": {"TEXT": {"REGEX": r"^(19|20)\d\d$"}},
}
GAP = {"OP": "{0,3}"}
MAX_EXPANSIONS = 64


class PhraseSyntaxError(ValueError):
    """A phrase that cannot be compiled; the message says why."""


def _word_tokens(word: str, tokenizer: Tokenizer) -> list[dict[str, Any]]:
    """One slot of plain text or a prefix (`word*`), as one or more token dicts."""
    prefix = word.endswith("*")
    core = word[:-1] if prefix else word
    if not core or "*" in core:
        raise PhraseSyntaxError(f"bad wildcard in {word!r} (only a trailing * is allowed)")
    if "{" in core or "}" in core:
        raise PhraseSyntaxError(f"unknown placeholder {word!r} (use {{person}} or {{year}})")
    texts = [t.lower_ for t in tokenizer(core)]
    tokens: list[dict[str, Any]] = [{"LOWER": t} for t in texts]
    if prefix:
        tokens[-1] = {"LOWER": {"REGEX": "^" + re.escape(texts[-1])}}
    return tokens


def _slot_options(slot: str, tokenizer: Tokenizer) -> list[list[dict[str, Any]]]:
    if slot == "...":
        return [[GAP]]
    options = []
    for alt in slot.split("|"):
        if not alt:
            raise PhraseSyntaxError(f"empty alternative in {slot!r}")
        if alt in PLACEHOLDERS:
            options.append([dict(PLACEHOLDERS[alt])])
        else:
            options.append(_word_tokens(alt, tokenizer))
    # Plain one-token alternatives collapse into a single IN test: fewer patterns.
    plain = [o[0]["LOWER"] for o in options if len(o) == 1 and isinstance(o[0].get("LOWER"), str)]
    if len(plain) == len(options) and len(options) > 1:
        return [[{"LOWER": {"IN": plain}}]]
    return options


def compile_phrase(phrase: str, tokenizer: Tokenizer) -> list[list[dict[str, Any]]]:
    """All Matcher patterns for one phrase (alternatives of different lengths expand)."""
    if not isinstance(phrase, str) or not phrase.strip():
        raise PhraseSyntaxError("empty phrase")
    slots = phrase.split()
    if slots[0] == "..." or slots[-1] == "...":
        raise PhraseSyntaxError("a phrase cannot start or end with ...")
    per_slot = [_slot_options(s, tokenizer) for s in slots]
    total = 1
    for options in per_slot:
        total *= len(options)
    if total > MAX_EXPANSIONS:
        raise PhraseSyntaxError(f"too many combinations ({total}); split it into phrases")
    return [[tok for part in combo for tok in part] for combo in itertools.product(*per_slot)]
