"""Which children the worker saw on this visit, and whether each was seen alone.

Read sentence by sentence: a child named close to a "seen" word ("I saw Jack on his own",
"Ava seen asleep") or, on a visit, described in the room ("Zofia in high chair") was
seen; "did not see Amy", "Children not seen" say otherwise; a "seen" word just after a
plan ("will visit tomorrow to see Zain") is not this visit. Rules live in
models/context_rules.yaml under child_seen.
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
PRONOUNS = {"him", "her", "he", "she", "them", "they"}
FIRST_PERSON = {"i", "we"}
SEEN_REACH = 8  # words between a "seen" word and the child it is about
PRESENCE_REACH = 6
FUTURE_REACH = 6


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
    def _seen_by_someone_else(doc: Doc, start: int) -> bool:
        for child in doc[start].children:
            if child.dep_ == "nsubj" and child.lower_ not in FIRST_PERSON:
                return True  # "staff have seen Skye": not the worker
        return False

    def find(self, docs: list[tuple[int, Doc]], people: list[tuple[int, PersonMention]],
             index: MemberIndex, visit: datetime.date,
             not_a_visit: bool = False) -> list[SeenChild]:
        children = self._children(index, visit)
        if not children or not docs:
            return []
        strings = docs[0][1].vocab.strings
        seen: dict[str, SeenChild] = {}
        vetoed: set[str] = set()
        last_child: str | None = None
        for offset, doc in docs:
            found: dict[str, list[tuple[int, int]]] = {}
            for match_id, start, end in self.matcher(doc):
                found.setdefault(strings[match_id].split("|")[1], []).append((start, end))
            mine = [p for o, p in people if o == offset and p.person in children]
            for sent in doc.sents:
                def within(key: str, sent: Span = sent) -> list[tuple[int, int]]:
                    return [(s, e) for s, e in found.get(key, [])
                            if sent.start <= s and e <= sent.end]
                mentions = [p for p in mine if sent.start <= p.start < sent.end]
                future = within("future")

                def planned(pos: int, future: list = future) -> bool:
                    return any(pos - FUTURE_REACH <= s <= pos for s, _ in future)

                # Who each "seen" word is about: a child named near it, else "him"/"her"
                # for the child last named, else everyone for "the children".
                events: list[tuple[str, int, str]] = []  # (child, token, rule)
                for key, reach, rule in (("seen", SEEN_REACH, "child_seen.explicit"),
                                         ("presence", PRESENCE_REACH, "child_seen.presence"),
                                         ("not_seen", SEEN_REACH, "not_seen")):
                    if key == "presence" and not_a_visit:
                        continue
                    for s, e in within(key):
                        if key == "seen" and (planned(s) or self._seen_by_someone_else(doc, s)):
                            continue
                        if key == "presence" and planned(s):
                            continue
                        near = [p.person for p in mentions
                                if s - reach <= p.start <= e + reach]
                        if key == "presence":
                            near = [p.person for p in mentions if s - reach <= p.start <= s]
                        if not near:
                            window = doc[max(sent.start, s - reach) : min(sent.end, e + reach)]
                            words = {t.lower_ for t in window}
                            if words & GROUP_WORDS and key != "presence":
                                near = sorted(children)
                            elif words & PRONOUNS and last_child and key != "presence":
                                near = [last_child]
                        events.extend((pid, s, rule) for pid in near)
                if mentions:
                    last_child = mentions[-1].person
                alone_at = [s for s, _ in within("alone")
                            if not any(t.lower_ in ("left", "home")
                                       for t in doc[max(s - 2, 0) : s])]
                for pid, pos, rule in events:
                    if rule == "not_seen":
                        vetoed.add(pid)
                        continue
                    alone = any(abs(a - pos) <= SEEN_REACH + 4 for a in alone_at)
                    mention = next((p for p in mentions if p.person == pid), None)
                    s_char = offset + (mention.start_char if mention else sent.start_char)
                    e_char = offset + (mention.end_char if mention else sent.end_char)
                    text = mention.text if mention else sent.text
                    explicit = rule == "child_seen.explicit"
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
