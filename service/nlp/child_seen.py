"""Which children the worker saw on this visit, and whether each was seen alone.

Read sentence by sentence: a child named with a "seen" word ("I saw Jack on his own") or,
on a visit, described in the room ("Zofia in high chair") was seen; "did not see Amy",
"Children not seen" say otherwise; sentences about plans ("will visit to see Zain") are
skipped. Rules live in models/context_rules.yaml under child_seen.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from spacy.matcher import Matcher
from spacy.tokens import Doc, Span

from service.nlp.people import MemberIndex, PersonMention
from service.nlp.phrases import compile_phrase
from service.nlp.taxonomy import ContextRules

GROUP_WORDS = {"children", "kids", "both", "boys", "girls", "siblings"}
FIRST_PERSON = {"i", "we"}


@dataclass
class SeenChild:
    person: str
    alone: bool
    start_char: int
    end_char: int
    text: str
    rule: str
    confidence: float


class ChildSeenFinder:
    def __init__(self, rules: ContextRules, vocab, tokenizer) -> None:
        self.matcher = Matcher(vocab)
        for key, phrases in rules.child_seen.items():
            for phrase in phrases:
                self.matcher.add(f"cs|{key}", compile_phrase(phrase, tokenizer))

    def _children(self, index: MemberIndex, visit: datetime.date) -> set[str]:
        out = set()
        for mid in index.children:
            age = index.members[mid].age_on(visit)
            if age is None or 0 <= age < 18:
                out.add(mid)
        return out

    @staticmethod
    def _seen_by_someone_else(sent: Span, start: int) -> bool:
        tok = sent.doc[start]
        for child in tok.children:
            if child.dep_ == "nsubj" and child.lower_ not in FIRST_PERSON:
                return True  # "staff have seen Skye": not the worker
        return False

    def find(self, docs: list[tuple[int, Doc]], people: list[tuple[int, PersonMention]],
             index: MemberIndex, visit: datetime.date) -> list[SeenChild]:
        children = self._children(index, visit)
        if not children or not docs:
            return []
        first_doc = docs[0][1]
        opening = first_doc[: min(len(first_doc), 15)]
        strings = first_doc.vocab.strings
        not_a_visit = any(strings[m] == "cs|not_a_visit" for m, _, _ in self.matcher(opening))
        seen: dict[str, SeenChild] = {}
        vetoed: set[str] = set()
        for offset, doc in docs:
            found: dict[str, list[tuple[int, int]]] = {}
            for match_id, start, end in self.matcher(doc):
                found.setdefault(strings[match_id].split("|")[1], []).append((start, end))
            for sent in doc.sents:
                def within(key: str, sent: Span = sent) -> list[tuple[int, int]]:
                    return [(s, e) for s, e in found.get(key, [])
                            if sent.start <= s and e <= sent.end]
                mentions = [p for o, p in people if o == offset and sent.start <= p.start
                            < sent.end and p.person in children]
                group = not mentions and any(t.lower_ in GROUP_WORDS for t in sent)
                if not mentions and not group:
                    continue
                if within("future"):
                    continue
                ids = [p.person for p in mentions] if mentions else sorted(children)
                if within("not_seen"):
                    vetoed.update(ids)
                    continue
                explicit = [s for s, _ in within("seen")
                            if not self._seen_by_someone_else(sent, s)]
                present = bool(within("presence")) and not not_a_visit
                if not explicit and not present:
                    continue
                alone_hits = [
                    (s, e) for s, e in within("alone")
                    if not any(t.lower_ in ("left", "home") for t in doc[max(s - 2, 0) : s])
                ]
                not_alone = bool(within("not_alone"))
                alone = bool(alone_hits) and not (not_alone and len(ids) == 1 and
                                                   len(alone_hits) == 0)
                rule = "child_seen.explicit" if explicit else "child_seen.presence"
                for pid in dict.fromkeys(ids):
                    mention = next((p for p in mentions if p.person == pid), None)
                    s_char = offset + (mention.start_char if mention else sent.start_char)
                    e_char = offset + (mention.end_char if mention else sent.end_char)
                    text = mention.text if mention else sent.text
                    prior = seen.get(pid)
                    if prior is None or (alone and not prior.alone) or (
                        explicit and prior.rule != "child_seen.explicit"
                    ):
                        seen[pid] = SeenChild(pid, alone or bool(prior and prior.alone),
                                              s_char, e_char, text, rule,
                                              0.85 if explicit else 0.6)
        return [
            c for c in seen.values()
            if c.person not in vetoed or c.rule == "child_seen.explicit"
        ]
