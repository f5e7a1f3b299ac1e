"""Themes (tags) a note substantially covers, each with the sentences that support it."""

from __future__ import annotations

from dataclasses import dataclass, field

from spacy.matcher import Matcher
from spacy.tokens import Doc

from service.nlp.phrases import compile_phrase
from service.nlp.sentences import sentence
from service.nlp.taxonomy import Taxonomy

MAX_EVIDENCE = 5


@dataclass
class TagResult:
    label: str
    score: float
    evidence: list[tuple[int, int]] = field(default_factory=list)  # sentence char spans


class TagFinder:
    def __init__(self, taxonomy: Taxonomy, vocab, tokenizer) -> None:
        self.taxonomy = taxonomy
        self.matcher = Matcher(vocab)
        self.patterns: list[tuple[str, list]] = []
        for tag in taxonomy.tags:
            for phrase in tag.phrases:
                patterns = compile_phrase(phrase, tokenizer)
                self.matcher.add(f"tag|{tag.id}", patterns)
                self.patterns.append((f"tag|{tag.id}", patterns))

    def find(self, docs: list[tuple[int, Doc]], risks: list[tuple[str, str, int, int]],
             seen_alone: bool, family_members: int = 0,
             matches: dict[int, list[tuple[int, int, int]]] | None = None) -> list[TagResult]:
        """docs: (char offset, doc); risks: (label, assertion, start_char, end_char);
        family_members: how many different family members the note mentions."""
        hits: dict[str, set[int]] = {}
        sentences: dict[str, set[tuple[int, int]]] = {}
        for offset, doc in docs:
            strings = doc.vocab.strings
            found = matches[offset] if matches is not None else self.matcher(doc)
            for match_id, start, _end in found:
                key = strings[match_id]
                if not key.startswith("tag|"):
                    continue
                tag = key.split("|", 1)[1]
                hits.setdefault(tag, set()).add(offset + doc[start].idx)
                sent = sentence(doc, start)
                sentences.setdefault(tag, set()).add(
                    (offset + sent.start_char, offset + sent.end_char))
        out = []
        for tag in self.taxonomy.tags:
            score = float(len(hits.get(tag.id, ())))
            evidence = sorted(sentences.get(tag.id, ()))
            for label, assertion, s, e in risks:
                if label in tag.from_risks and assertion != "negated":
                    score += 1
                    evidence.append((s, e))
            if tag.from_child_seen_alone and seen_alone:
                score += 2
            if tag.from_family_members and family_members > 1:
                score += family_members - 1
            if score >= tag.min_score:
                out.append(TagResult(tag.id, score / tag.min_score,
                                     sorted(set(evidence))[:MAX_EVIDENCE]))
        limit = self.taxonomy.max_tags_per_note
        if limit and len(out) > limit:
            # Keep the themes the note covers most (score relative to each tag's bar).
            keep = {t.label for t in sorted(out, key=lambda t: -t.score)[:limit]}
            out = [t for t in out if t.label in keep]
        return out
