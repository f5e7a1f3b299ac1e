"""Sentence bounds per token, computed once per doc (spaCy's Token.sent walks the doc on
every call, which made sentence lookups the slowest part of a suggestion)."""

from __future__ import annotations

from spacy.tokens import Doc, Span

KEY = "casenotes_sentence_bounds"


def bounds(doc: Doc, i: int) -> tuple[int, int]:
    """(start, end) token indices of the sentence holding token i."""
    table = doc.user_data.get(KEY)
    if table is None or len(table) != len(doc):
        table = [(0, 0)] * len(doc)
        for sent in doc.sents:
            for k in range(sent.start, sent.end):
                table[k] = (sent.start, sent.end)
        doc.user_data[KEY] = table
    return table[i]


def sentence(doc: Doc, i: int) -> Span:
    start, end = bounds(doc, i)
    return doc[start:end]
