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
from spacy.tokens import Doc

from service.nlp.people import MemberIndex, PersonMention
from service.nlp.phrases import compile_phrase
from service.nlp.sentences import bounds, sentence
from service.nlp.taxonomy import ContextRules

GROUP_WORDS = {"children", "kids", "both", "boys", "girls", "siblings"}
OBJECT_PRONOUNS = {"him", "her", "them"}
SUBJECT_PRONOUNS = {"he", "she", "they"}
FIRST_PERSON = {"i", "we"}
VISIT_WORDS = {"visit", "visited", "visiting"}
OBSERVERS = {"staff", "police", "school", "teacher", "teachers", "neighbour", "neighbours",
             "nurse", "officer", "mum", "dad", "parents", "carer", "carers", "someone"}
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
        self.patterns: list[tuple[str, list]] = []
        for key, phrases in rules.child_seen.items():
            for phrase in phrases:
                patterns = compile_phrase(phrase, tokenizer)
                self.matcher.add(f"cs|{key}", patterns)
                self.patterns.append((f"cs|{key}", patterns))

    def _children(self, index: MemberIndex, visit: datetime.date) -> set[str]:
        out = set()
        for mid in index.children:
            age = index.members[mid].age_on(visit)
            if age is None or 0 <= age < 18:
                out.add(mid)
        return out

    @staticmethod
    def _seen_by_someone_else(doc: Doc, start: int, child_tokens: set[int]) -> bool:
        for child in doc[start].children:
            if child.dep_ == "nsubj" and child.lower_ not in FIRST_PERSON \
                    and child.i not in child_tokens and (
                        child.pos_ in ("PROPN", "PRON") or child.lower_ in OBSERVERS):
                return True  # "staff have seen Skye": not the worker ("Ava seen asleep" is)
        return False

    @staticmethod
    def _worker_saw(doc: Doc, start: int, end: int) -> bool:
        """In a phone call or meeting note, a "seen" word counts only if the worker did
        the seeing ("I saw", "SW met") or a visit is described first ("Home visit
        afterwards: Ollie seen"); "visit to see" there is a plan, not this visit."""
        if any(t.lower_ in VISIT_WORDS for t in doc[start:end]):
            return False
        lo, hi = bounds(doc, start)
        before = {t.lower_ for t in doc[lo:start]}
        return bool(before & (FIRST_PERSON | {"sw"}) or before & VISIT_WORDS)

    @staticmethod
    def _window(doc: Doc, start: int, end: int, reach: int) -> tuple[int, int]:
        """Tokens around a match, not crossing a full stop or a line break."""
        lo = start
        while lo > 0 and start - lo < reach and not _stop(doc[lo - 1]):
            lo -= 1
        hi = end
        while hi < len(doc) and hi - end < reach and not _stop(doc[hi]):
            hi += 1
        return lo, hi

    def find(self, docs: list[tuple[int, Doc]], people: list[tuple[int, PersonMention]],
             index: MemberIndex, visit: datetime.date,
             not_a_visit: bool = False,
             matches: dict[int, list[tuple[int, int, int]]] | None = None) -> list[SeenChild]:
        children = self._children(index, visit)
        if not children or not docs:
            return []
        strings = docs[0][1].vocab.strings
        seen: dict[str, SeenChild] = {}
        vetoed: set[str] = set()
        for offset, doc in docs:
            found: dict[str, list[tuple[int, int]]] = {}
            for match_id, start, end in (matches[offset] if matches is not None
                                         else self.matcher(doc)):
                key = strings[match_id]
                if key.startswith("cs|"):
                    found.setdefault(key.split("|")[1], []).append((start, end))
            everyone = [p for o, p in people if o == offset]
            mine = [p for p in everyone if p.person in children]
            child_tokens = {i for p in mine for i in range(p.start, p.end)}
            not_seen_tokens = {i for s, e in found.get("not_seen", []) for i in range(s, e)}
            future = found.get("future", [])
            alone_at = [s for s, _ in found.get("alone", [])
                        if not any(t.lower_ == "left" for t in doc[max(s - 2, 0) : s])]

            def planned(pos: int, future: list = future) -> bool:
                return any(pos - FUTURE_REACH <= s <= pos for s, _ in future)

            events: list[tuple[str, int, str]] = []  # (child, token, rule)
            for key, reach, rule in (("seen", SEEN_REACH, "child_seen.explicit"),
                                     ("presence", PRESENCE_REACH, "child_seen.presence"),
                                     ("not_seen", SEEN_REACH, "not_seen")):
                if key == "presence" and not_a_visit:
                    continue
                for s, e in found.get(key, []):
                    if key == "seen" and (
                        planned(s) or s in not_seen_tokens
                        or self._seen_by_someone_else(doc, s, child_tokens)
                    ):
                        continue
                    if key == "presence" and planned(s):
                        continue
                    if key == "seen" and not_a_visit and not self._worker_saw(doc, s, e):
                        continue
                    lo, hi = self._window(doc, s, e, reach)
                    if key == "presence":
                        hi = s  # "Zofia in high chair": the child comes first
                    near = [p.person for p in mine if lo <= p.start < hi]
                    others = [p for p in everyone if lo <= p.start < hi and p.person
                              not in children]
                    if not near and key != "presence":
                        # Who else could it be: "him"/"her" for the child last named,
                        # everyone for "the children", the subject for "Seen alone."
                        words = {t.lower_ for t in doc[lo:hi]}
                        before = [p.person for p in mine if p.start < s]
                        after = doc[e].lower_ if e < len(doc) else ""
                        passive = {t.lower_ for t in doc[max(s - 2, 0) : s]}
                        if words & GROUP_WORDS:
                            near = sorted(children)
                        elif before and (after in OBJECT_PRONOUNS or passive & SUBJECT_PRONOUNS):
                            near = [before[-1]]
                        elif not others and index.subject in children and \
                                doc[s].lower_ == "seen" and doc[s].is_sent_start:
                            near = [index.subject]  # "Seen alone at school."
                    events.extend((pid, s, rule) for pid in near)
            for pid, pos, rule in events:
                if rule == "not_seen":
                    vetoed.add(pid)
                    continue
                lo, hi = self._window(doc, pos, pos + 1, SEEN_REACH + 4)
                alone = any(lo <= a < hi for a in alone_at)
                mention = min((p for p in mine if p.person == pid),
                              key=lambda p: abs(p.start - pos), default=None)
                if mention is not None and abs(mention.start - pos) > SEEN_REACH + 4:
                    mention = None
                sent = sentence(doc, pos)
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


def _stop(tok) -> bool:
    return tok.text in (".", "!", "?") or "\n" in tok.text
