"""Risk indicator mentions from the taxonomy's phrases (assertions come from context.py)."""

from __future__ import annotations

from dataclasses import dataclass

from spacy.matcher import Matcher
from spacy.tokens import Doc, Token
from spacy.util import filter_spans

from service.nlp.people import MemberIndex, PersonMention
from service.nlp.phrases import compile_phrase
from service.nlp.sentences import bounds
from service.nlp.taxonomy import Taxonomy

SUBJECT_DEPS = {"nsubj", "nsubjpass"}
JOINERS = {"or", "nor", "with", "is", "was", "of", "into", "from", "to", "on"}
HAVE_VERBS = {"have", "has", "had", "got", "sustained", "suffered", "having", "showed"}


def ensure_extensions() -> None:
    if not Token.has_extension("cn_person"):
        Token.set_extension("cn_person", default=False)


def mark_people(doc: Doc, people: list[PersonMention]) -> None:
    """Flag person tokens so `{person}` in a phrase can match them."""
    for p in people:
        for i in range(p.start, p.end):
            doc[i]._.cn_person = True


@dataclass
class RiskMention:
    start: int
    end: int
    label: str
    rule: str


class RiskFinder:
    def __init__(self, taxonomy: Taxonomy, vocab, tokenizer) -> None:
        ensure_extensions()
        self.taxonomy = taxonomy
        self.adult_label = {r.id: r.adult_label for r in taxonomy.risk_indicators}
        self.adult_by = {r.id: r.adult_label_by for r in taxonomy.risk_indicators}
        self.matcher = Matcher(vocab)
        self.patterns: list[tuple[str, list]] = []  # also run inside the suggester's matcher
        for risk in taxonomy.risk_indicators:
            for phrase in risk.phrases:
                self._add(f"risk|{risk.id}", compile_phrase(phrase, tokenizer))
            for phrase in risk.exclude:
                self._add(f"excl|{risk.id}", compile_phrase(phrase, tokenizer))

    def _add(self, key: str, patterns: list) -> None:
        self.matcher.add(key, patterns)
        self.patterns.append((key, patterns))

    def _possessor_adult(self, doc: Doc, start: int, end: int, people: list[PersonMention],
                         index: MemberIndex, family: set[str]) -> bool:
        """'Jade had a black eye': is the one who has it an adult family member?"""
        verb = doc[start:end].root.head
        if verb.lower_ not in HAVE_VERBS:
            return False
        for child in verb.children:
            if child.dep_ == "nsubj":
                owner = next((p for p in people if p.start <= child.i < p.end), None)
                return bool(owner and owner.person in family
                            and owner.person not in index.children)
        return False

    def _about_adult(self, doc: Doc, start: int, people: list[PersonMention],
                     index: MemberIndex, family: set[str]) -> bool:
        """Is the sentence about an adult on the record (the latest subject mentioned)?"""
        sent_start = bounds(doc, start)[0]
        window_start = sent_start
        for _ in range(2):
            if window_start > 0:
                window_start = bounds(doc, window_start - 1)[0]
        before = [p for p in people if window_start <= p.start < start]
        subjects = [p for p in before
                    if p.person and doc[p.start : p.end].root.dep_ in SUBJECT_DEPS]
        # "she denied thoughts of harming herself": the subject must fit the pronoun.
        pron = [t.lower_ for t in doc[sent_start:start] if t.lower_ in ("he", "she")]
        if pron:
            want = "female" if pron[-1] == "she" else "male"
            subjects = [p for p in subjects if index.sex.get(p.person) in (want, "any")]
        if not subjects:
            return False
        chosen = subjects[-1]
        root = doc[chosen.start : chosen.end].root
        verb = doc[start].head if doc[start].dep_ != "ROOT" else doc[start]
        for _ in range(6):
            if verb.pos_ in ("VERB", "AUX") or verb.head.i == verb.i:
                break
            verb = verb.head
        if root.head.i == verb.i and verb.lower_ not in HAVE_VERBS:
            return False  # "Dad hit him": the adult is who did it, not who it happened to
        return chosen.person in family and chosen.person not in index.children

    def find(self, doc: Doc, people: list[PersonMention], index: MemberIndex | None,
             family: set[str] | None = None,
             matches: list[tuple[int, int, int]] | None = None) -> list[RiskMention]:
        """Risk mentions; `family` are member ids with a family role (for adult_label);
        `matches` are this finder's Matcher results if already computed."""
        person_tokens = {i for p in people for i in range(p.start, p.end)}
        if matches is None:
            mark_people(doc, people)
            matches = self.matcher(doc)
        strings = doc.vocab.strings
        keyed = [(strings[m], s, e) for m, s, e in matches]
        spans = []
        for key, start, end in keyed:
            if not key.startswith("risk|"):
                continue
            if all(i in person_tokens for i in range(start, end)):
                continue  # "Mark" the person, not a mark on the skin
            spans.append(doc[start:end])
            spans[-1].label_ = key.split("|", 1)[1]
        excluded = [(s, e, k.split("|", 1)[1]) for k, s, e in keyed if k.startswith("excl|")]
        kept = [
            sp for sp in filter_spans(spans)
            if not any(lab == sp.label_ and s < sp.end and sp.start < e for s, e, lab in excluded)
        ]
        merged: list[tuple[int, int, str]] = []
        for sp in kept:
            # "marks or injuries", "cars with older men": one mention, not two.
            gap = doc[merged[-1][1] : sp.start] if merged else None
            if gap is not None and merged[-1][2] == sp.label_ and len(gap) <= 1 and all(
                t.lower_ in JOINERS for t in gap
            ) and not sp[0].is_sent_start:
                merged[-1] = (merged[-1][0], sp.end, sp.label_)
            else:
                merged.append((sp.start, sp.end, sp.label_))
        out = []
        for start, end, label in merged:
            span = doc[start:end]
            rule = f"taxonomy.{label}"
            adult = self.adult_label.get(label)
            by = self._possessor_adult if self.adult_by.get(label) == "possessor" else None
            if adult and index is not None and (
                by(doc, start, end, people, index, family or set()) if by else
                self._about_adult(doc, span.start, people, index, family or set())
            ):
                label, rule = adult, f"taxonomy.{label}.adult"
            out.append(RiskMention(span.start, span.end, label, rule))
        return out
