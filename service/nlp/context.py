"""A ConText-style assertion component with its rules in models/context_rules.yaml.

For each risk mention, find the triggers in its sentence whose scope reaches it (forward,
backward or both, stopped by terminations, cancelled by pseudo-triggers), and pick the
assertion by the file's priority. Nothing reaching it means `present`.
"""

from __future__ import annotations

from dataclasses import dataclass

from spacy.matcher import Matcher
from spacy.tokens import Doc, Span

from service.nlp.phrases import compile_phrase
from service.nlp.sentences import bounds
from service.nlp.taxonomy import ContextRules, Trigger

FIRST_PERSON = {"i", "we", "me", "us"}
PRONOUNS = {"he", "she", "they", "it", "him", "her", "them", "you", "someone", "who"}
# Dictation fillers and line breaks separate thoughts: no trigger reaches across them.
HARD_STOPS = {"um", "erm", "er", "uh", "ummm", "umm"}


@dataclass
class Hit:
    kind: str  # "trig", "pseudo" or "term"
    assertion: str  # "*" for global terminations
    start: int
    end: int
    trigger: Trigger | None = None


@dataclass
class Assertion:
    assertion: str
    trigger: str | None
    source: str | None


class ContextComponent:
    """Compiled context rules; `scan(doc)` once per doc, then `assert_span` per mention."""

    def __init__(self, rules: ContextRules, vocab, tokenizer) -> None:
        self.rules = rules
        self.matcher = Matcher(vocab)
        self.patterns: list[tuple[str, list]] = []
        self.triggers: dict[str, tuple[str, Trigger]] = {}
        for name, arules in rules.assertions.items():
            for i, trig in enumerate(arules.triggers):
                key = f"trig|{name}|{i}"
                self.triggers[key] = (name, trig)
                self._add(key, compile_phrase(trig.phrase, tokenizer))
            for j, phrase in enumerate(arules.pseudo):
                self._add(f"pseudo|{name}|{j}", compile_phrase(phrase, tokenizer))
            for j, phrase in enumerate(arules.terminations):
                self._add(f"term|{name}|{j}", compile_phrase(phrase, tokenizer))
        for j, phrase in enumerate(rules.terminations):
            self._add(f"term|*|{j}", compile_phrase(phrase, tokenizer))
        self.opening = Matcher(vocab)
        for phrase in rules.not_a_visit:
            self.opening.add("not_a_visit", compile_phrase(phrase, tokenizer))

    def _add(self, key: str, patterns: list) -> None:
        self.matcher.add(key, patterns)
        self.patterns.append((key, patterns))

    def is_not_a_visit(self, doc: Doc) -> bool:
        """Does the note open as a phone call or meeting rather than a visit?"""
        return bool(len(self.opening)) and bool(self.opening(doc[: min(len(doc), 5)]))

    def scan(self, doc: Doc, matches: list | None = None) -> dict[int, list[Hit]]:
        """Trigger, pseudo and termination matches, grouped by sentence start."""
        grouped: dict[int, list[Hit]] = {}
        for hit in self._scan(doc, self.matcher(doc) if matches is None else matches):
            grouped.setdefault(bounds(doc, hit.start)[0], []).append(hit)
        return grouped

    def _scan(self, doc: Doc, matches: list) -> list[Hit]:
        hits = []
        strings = doc.vocab.strings
        for match_id, start, end in matches:
            key = strings[match_id]
            if key not in self.triggers and not key.startswith(("pseudo|", "term|")):
                continue
            kind, name, _ = key.split("|")
            trig = self.triggers[key][1] if kind == "trig" else None
            hits.append(Hit(kind, name, start, end, trig))
        for tok in doc:
            if tok.lower_ in HARD_STOPS or "\n" in tok.text:
                hits.append(Hit("term", "*", tok.i, tok.i + 1))
        pseudo = [h for h in hits if h.kind == "pseudo"]
        # A trigger inside a pseudo-trigger of the same assertion is no trigger.
        return [
            h for h in hits
            if h.kind != "trig" or not any(
                p.assertion == h.assertion and p.start <= h.start and h.end <= p.end
                for p in pseudo
            )
        ]

    @staticmethod
    def _subject(tok_span: Span):
        for tok in tok_span:
            for child in tok.children:
                if child.dep_ in ("nsubj", "nsubjpass"):
                    return child
        head = tok_span.root.head
        for child in head.children:
            if child.dep_ == "nsubj" and child.i < tok_span.start:
                return child
        return None

    def _usable(self, doc: Doc, hit: Hit) -> bool:
        if hit.assertion != "reported":
            return True
        subject = self._subject(doc[hit.start : hit.end])
        if subject is not None and subject.lower_ in FIRST_PERSON:
            return False  # "I said", "we explained": the worker's own words
        if hit.trigger is not None and hit.trigger.needs_subject:
            return subject is not None and subject.dep_ == "nsubj"
        return True

    def _blocked(self, hits: list[Hit], assertion: str, lo: int, hi: int) -> bool:
        return any(
            h.kind == "term" and h.assertion in ("*", assertion) and lo <= h.start and h.end <= hi
            for h in hits
        )

    def _source(self, doc: Doc, hit: Hit) -> str | None:
        subject = self._subject(doc[hit.start : hit.end])
        if subject is None or subject.lower_ in PRONOUNS | FIRST_PERSON:
            return None
        words = [t for t in subject.subtree if not t.is_punct][:5]
        return " ".join(t.text for t in words) or None

    def assert_span(self, doc: Doc, start: int, end: int, grouped: dict[int, list[Hit]],
                    mentions: list[tuple[int, int]] = ()) -> Assertion:
        """Assertion of the mention doc[start:end]; `mentions` are all risk mentions, whose
        own words ("didn't come home") never act as triggers for their neighbours."""
        lo, hi = bounds(doc, start)
        starts = [lo]
        # Dictation has no full stops, and the parser's sentence breaks there are guesses:
        # let triggers reach across a break that no punctuation marks.
        if lo > 0 and not _marked_end(doc[lo - 1]):
            lo = bounds(doc, lo - 1)[0]
            starts.append(lo)
        if hi < len(doc) and not _marked_end(doc[hi - 1]):
            starts.append(hi)
            hi = bounds(doc, hi)[1]
        hits = [h for k in starts for h in grouped.get(k, [])]
        mentions = [(s, e) for s, e in mentions if lo <= s < hi]
        reached: dict[str, Hit] = {}
        for h in hits:
            if h.kind != "trig" or h.trigger is None:
                continue
            if h.start < lo or h.end > hi:
                continue
            if any(h.start < e and s < h.end for s, e in [(start, end), *mentions]):
                continue  # words inside a mention are part of the mention
            trig = h.trigger
            if h.end <= start and trig.direction in ("forward", "bidirectional"):
                if start - h.end > trig.scope or self._blocked(hits, h.assertion, h.end, start):
                    continue
            elif h.start >= end and trig.direction in ("backward", "bidirectional"):
                if h.start - end > trig.scope or self._blocked(hits, h.assertion, end, h.start):
                    continue
            else:
                continue
            if not self._usable(doc, h):
                continue
            best = reached.get(h.assertion)
            if best is None or abs(h.start - start) < abs(best.start - start):
                reached[h.assertion] = h
        for name in self.rules.priority:
            if name in reached:
                h = reached[name]
                source = self._source(doc, h) if name == "reported" else None
                return Assertion(name, doc[h.start : h.end].text, source)
        return Assertion("present", None, None)


def _marked_end(tok) -> bool:
    return tok.is_punct or "\n" in tok.text
