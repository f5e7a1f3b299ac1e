"""Find mentions of people and link them to the case's own members.

Order of evidence: names on the record (full, first, nickname, title + surname), kinship
and role words resolved relative to the subject child, then names the record does not
hold (spaCy PERSON entities, "her boyfriend Dean"), matched fuzzily against the members
with rapidfuzz and jellyfish. Never pick between two close candidates: return both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import jellyfish
from rapidfuzz import fuzz
from spacy.tokens import Doc, Token

from service.nlp.dates import MONTH_ABBR, MONTHS, WD_ABBR, WEEKDAYS
from service.nlp.record import CaseRecord, Member
from service.nlp.sentences import bounds
from service.nlp.taxonomy import Kinship, KinTerm

DETERMINERS = {"his", "her", "their", "the", "my", "your", "our", "its"}
POSSESSIVE_DETS = {"his", "her", "their"}
SIBLING_ROLES = {"brother", "sister", "halfbrother", "halfsister", "stepbrother", "stepsister"}
# First names that are also everyday words: only linked when written with a capital.
COMMON_WORDS = {
    "mark", "will", "rose", "bill", "grace", "faith", "hope", "joy", "dawn", "amber",
    "holly", "ruby", "poppy", "lily", "daisy", "summer", "april", "may", "june", "august",
    "rob", "pat", "sue", "don", "ray", "sky", "skye", "jack", "frank", "max", "sam",
    "jay", "dean", "kit", "star", "hazel", "ivy", "robin", "penny", "sunny", "blessing",
    "precious", "so", "an", "art", "bob", "dan", "ben", "guy", "chase", "reed", "hunter",
}
# A capitalised word after these, or before these, is a place or an institution.
PLACE_PREPOSITIONS = {"at", "in", "to", "from", "near", "into", "via", "towards", "outside"}
INSTITUTIONS = {
    "primary", "school", "college", "academy", "hospital", "centre", "center", "road",
    "street", "park", "council", "aid", "service", "services", "team", "court", "house",
    "surgery", "nursery", "unit", "ward", "avenue", "lane", "close", "estate", "police",
    "clinic", "university", "church", "mosque", "station", "programme", "trust", "city",
}
CALENDAR_WORDS = {*WEEKDAYS, *WD_ABBR, *MONTHS, *MONTH_ABBR, "xmas", "christmas"}
FUZZY_MIN = 86.0
CLOSE_MARGIN = 5.0


def norm_role(text: str) -> str:
    return re.sub(r"[\s\-]+", "", text.lower())


def role_forms(role: str) -> list[str]:
    """'paternal grandmother (kinship carer)' -> ['paternal grandmother', 'kinship carer']."""
    main = re.sub(r"\(.*?\)", "", role).strip()
    extra = [p.strip() for p in re.findall(r"\((.*?)\)", role)]
    # A bracket naming someone else's relative ("Amelia's father") is not about the subject.
    extra = [p for p in extra if "'s " not in p]
    return [f for f in [main, *extra] if f]


@dataclass
class PersonMention:
    start: int
    end: int
    start_char: int
    end_char: int
    text: str
    person: str | None
    candidates: list[dict] = field(default_factory=list)
    rule: str = ""
    confidence: float = 0.0
    relationship: str | None = None


@dataclass(frozen=True)
class MemberIndex:
    """Everything about a case's members the linker needs, built once per record."""

    names: dict[tuple[str, ...], tuple[tuple[str, str, float], ...]]
    surnames: dict[str, tuple[str, ...]]
    first_names: dict[str, tuple[str, ...]]
    members: dict[str, Member]
    forms: dict[str, tuple[str, ...]]
    sex: dict[str, str]
    children: frozenset[str]
    subject: str | None
    family: frozenset[str] = frozenset()


def _sex(forms: list[str], kin: Kinship) -> str:
    female = {norm_role(r) for r in kin.female_roles}
    male = {norm_role(r) for r in kin.male_roles}
    for form in forms:
        n = norm_role(form)
        if n in male:
            return "male"
        if n in female:
            return "female"
        head = norm_role(form.split()[-1]) if form.split() else ""
        if head in male:
            return "male"
        if head in female:
            return "female"
    return "any"


def build_index(record: CaseRecord, kin: Kinship, nicknames: dict) -> MemberIndex:
    names: dict[tuple[str, ...], list[tuple[str, str, float]]] = {}

    def add(form: str, member_id: str, rule: str, conf: float) -> None:
        key = tuple(t for t in re.findall(r"\w+|[^\w\s]", form.lower()) if t)
        if key and all(m != member_id for m, _, _ in names.setdefault(key, [])):
            names[key].append((member_id, rule, conf))

    surnames: dict[str, list[str]] = {}
    first_names: dict[str, list[str]] = {}
    forms, sex, children = {}, {}, set()
    child_words = [norm_role(c) for c in kin.child_roles]
    never = {norm_role(c) for c in kin.never_children}
    family_roles = {norm_role(r) for t in kin.family for r in t.roles}
    family = {m.id for m in record.members
              if any(norm_role(f) in family_roles for f in role_forms(m.role))}
    for m in record.members:
        add(m.name, m.id, "name.full", 0.98)
        first = m.first_name
        if first:
            add(first, m.id, "name.first", 0.95)
            first_names.setdefault(first.lower(), []).append(m.id)
            if "-" in first:
                add(first.split("-")[0], m.id, "name.first_part", 0.85)
            for short in nicknames.get(first.lower(), ()):
                add(short, m.id, "name.nickname", 0.85)
        if m.surname:
            for part in {m.surname, *m.surname.split("-")}:
                surnames.setdefault(part.lower(), []).append(m.id)
        fs = role_forms(m.role)
        forms[m.id] = tuple(norm_role(f) for f in fs)
        sex[m.id] = _sex(fs, kin)
        normed = forms[m.id]
        if any(f in never for f in normed):
            continue
        is_child = any(any(w in f for w in child_words) for f in normed)
        if is_child or (m.dob and m.dob >= "1900"):
            children.add(m.id)
    # An adult with a date of birth is not a child: only roles say so then.
    return MemberIndex(
        names={k: tuple(v) for k, v in names.items()},
        surnames={k: tuple(v) for k, v in surnames.items()},
        first_names={k: tuple(v) for k, v in first_names.items()},
        members={m.id: m for m in record.members},
        forms=forms,
        sex=sex,
        children=frozenset(children),
        subject=record.subject,
        family=frozenset(family),
    )


def _candidates(index: MemberIndex, ids: list[str], score: float) -> list[dict]:
    return [
        {"id": i, "name": index.members[i].name, "role": index.members[i].role, "score": score}
        for i in ids
    ]


class PeopleFinder:
    """Compiled kinship vocabulary; `find(doc, record)` returns person mentions."""

    def __init__(self, kin: Kinship, nicknames: dict[str, tuple[str, ...]]) -> None:
        self.kin = kin
        self.nicknames = nicknames
        self._indexes: dict[CaseRecord, MemberIndex] = {}
        self.terms: dict[tuple[str, ...], tuple[KinTerm, str]] = {}
        for kind, terms in (("family", kin.family), ("professional", kin.professionals)):
            for term in terms:
                for word in term.words:
                    key = tuple(re.findall(r"\w+|[^\w\s]", word.lower()))
                    self.terms.setdefault(key, (term, kind))
        self.max_term = max((len(k) for k in self.terms), default=1)
        self.kin_words = {w for k in self.terms for w in k}
        self.not_people = {w.lower() for w in kin.not_people}
        self.relationships = {r.lower() for r in kin.relationships}

    # -- helpers -----------------------------------------------------------------------
    def _mention(self, doc: Doc, start: int, end: int, **kw) -> PersonMention:
        span = doc[start:end]
        return PersonMention(start, end, span.start_char, span.end_char, span.text, **kw)

    def _match_tokens(self, doc: Doc, i: int, key_len: int) -> tuple[str, ...]:
        return tuple(doc.user_data["casenotes_lower"][i : i + key_len])

    def _resolve(self, index: MemberIndex, ids: list[str], rule: str, conf: float,
                 score: float = 1.0) -> dict:
        ids = list(dict.fromkeys(ids))
        if len(ids) == 1:
            return {"person": ids[0], "candidates": _candidates(index, ids, score),
                    "rule": rule, "confidence": conf}
        return {"person": None, "candidates": _candidates(index, ids, score),
                "rule": rule + ".ambiguous" if ids else rule + ".not_on_record",
                "confidence": 0.5 if ids else conf * 0.7}

    # -- names on the record ------------------------------------------------------------
    def _title(self, doc: Doc, i: int, index: MemberIndex) -> PersonMention | None:
        tok = doc[i]
        title = tok.lower_.rstrip(".")
        if title not in self.kin.titles or i + 1 >= len(doc):
            return None
        nxt = doc[i + 1]
        if nxt.text == ".":  # "Mrs. Khan"
            if i + 2 >= len(doc) or title not in ("mr", "mrs", "ms", "dr"):
                return None
            nxt = doc[i + 2]
        if not (nxt.is_alpha and nxt.text[:1].isupper()) or nxt.lower_ in self.not_people \
                or nxt.is_stop:
            return None
        sex = self.kin.titles[title]
        ids = [
            m for m in index.surnames.get(nxt.lower_, ())
            if m not in index.children and (sex == "any" or index.sex[m] in (sex, "any"))
        ]
        if not ids:
            ids = [m for m in index.first_names.get(nxt.lower_, ()) if m not in index.children]
        end = nxt.i + 1
        if ids:
            return self._mention(doc, i, end, **self._resolve(index, ids, "name.title", 0.9))
        return self._mention(doc, i, end, person=None, rule="name.title_not_on_record",
                             confidence=0.7)

    def _name(self, doc: Doc, i: int, index: MemberIndex) -> PersonMention | None:
        for n in (4, 3, 2, 1):
            key = self._match_tokens(doc, i, n)
            if len(key) < n or key not in index.names:
                continue
            first = doc[i]
            if not first.text[:1].isupper() and n == 1 and (
                first.lower_ in COMMON_WORDS or first.is_stop or len(first) < 3
            ):
                continue
            entries = index.names[key]
            ids = [m for m, _, _ in entries]
            rule, conf = entries[0][1], entries[0][2]
            if not first.text[:1].isupper():
                conf *= 0.8
            return self._mention(doc, i, i + n, **self._resolve(index, ids, rule, conf))
        return None

    # -- kinship and role words ------------------------------------------------------------
    def _kin(self, doc: Doc, i: int, index: MemberIndex,
             found: list[PersonMention]) -> PersonMention | None:
        det = doc[i].lower_ if doc[i].lower_ in DETERMINERS else None
        j = i + 1 if det else i
        for n in range(self.max_term, 0, -1):
            key = self._match_tokens(doc, j, n)
            if len(key) < n or key not in self.terms:
                continue
            term, kind = self.terms[key]
            if (kind == "professional" or term.needs_determiner) and det not in DETERMINERS:
                return None
            if kind == "family" and det not in (None, *POSSESSIVE_DETS, "the", "my", "your"):
                return None
            prev = doc[i - 1] if i > 0 else None
            if prev is not None and prev.lower_ in ("'s", "’s") and not det:
                return None  # "Gary's mum": someone else's relative
            end = j + n
            nxt = doc[end] if end < len(doc) else None
            if kind == "professional" and nxt is not None and nxt.text[:1].isupper() and (
                nxt.lower_ in index.first_names or nxt.lower_.rstrip(".") in self.kin.titles
                or nxt.lower_ in index.surnames
            ):
                return None  # "the class teacher Mrs Adams": the name is the mention
            ids = self._kin_candidates(doc, i, term, kind, det, index, found)
            if kind == "professional" and not ids:
                return None  # "the GP" with no GP on the record: nobody to link
            start = i if det else j
            rule = f"kinship.{kind}"
            resolved = self._resolve(index, ids, rule, 0.9 if kind == "family" else 0.8)
            if not ids:
                resolved["relationship"] = doc[j:end].text.lower()
            return self._mention(doc, start, end, **resolved)
        return None

    def _kin_candidates(self, doc: Doc, i: int, term: KinTerm, kind: str, det: str | None,
                        index: MemberIndex, found: list[PersonMention]) -> list[str]:
        wanted = [norm_role(r) for r in term.roles]
        if kind == "professional":
            ids = [m for m, fs in index.forms.items() if any(w in f for f in fs for w in wanted)]
        else:
            ids = [m for m, fs in index.forms.items() if any(f in wanted for f in fs)]
        if det in POSSESSIVE_DETS and set(wanted) & SIBLING_ROLES:
            # "Hira ... her brother": relative to the sibling just named, not the subject.
            sent_start = bounds(doc, i)[0]
            before = [p for p in found if sent_start <= p.start < i and p.person]
            if before and before[-1].person in index.children and \
                    before[-1].person != index.subject:
                anchor = before[-1].person
                ids = [m for m in ids if m != anchor]
                if index.subject and index.subject != anchor:
                    ids.append(index.subject)
        return ids

    # -- people not on the record ----------------------------------------------------------
    def _looks_like_name(self, tok: Token) -> bool:
        return (tok.is_alpha and tok.text[:1].isupper() and not tok.is_upper
                and tok.lower_.rstrip("s") not in CALENDAR_WORDS
                and tok.lower_ not in self.not_people and tok.lower_ not in self.kin_words
                and not tok.is_stop and len(tok) > 1)

    def _fuzzy(self, word: str, index: MemberIndex) -> list[tuple[str, float]]:
        scores = []
        code = jellyfish.metaphone(word)
        for first, ids in index.first_names.items():
            score = fuzz.ratio(word.lower(), first)
            if jellyfish.metaphone(first) == code:
                score += 6
            if score >= FUZZY_MIN:
                scores.extend((m, min(score, 100.0)) for m in ids)
        return sorted(scores, key=lambda s: -s[1])

    def _unknown(self, doc: Doc, start: int, end: int, index: MemberIndex,
                 rule: str) -> PersonMention:
        word = doc[start].text
        close = self._fuzzy(word, index)
        relationship = None
        for k in range(max(bounds(doc, start)[0], start - 3), start):
            if doc[k].lower_ in self.relationships:
                relationship = doc[k].lower_
        if close and (len(close) == 1 or close[0][1] - close[1][1] > CLOSE_MARGIN):
            member, score = close[0]
            return self._mention(doc, start, end, person=member,
                                 candidates=_candidates(index, [member], score / 100),
                                 rule="name.fuzzy", confidence=round(0.5 * score / 100, 2))
        cands = [] if not close else _candidates(index, [m for m, _ in close[:3]], close[0][1])
        return self._mention(doc, start, end, person=None, candidates=cands, rule=rule,
                             confidence=0.6, relationship=relationship)

    def _name_spans(self, doc: Doc) -> list[tuple[int, int, str]]:
        """Names not on the record: spaCy's PERSON entities when the pipeline has NER,
        otherwise runs of capitalised proper nouns that are not places or institutions."""
        if doc.has_annotation("ENT_IOB"):
            return [(e.start, e.end, "ner.person") for e in doc.ents if e.label_ == "PERSON"
                    and all(self._looks_like_name(t) for t in e)]
        out = []
        i = 0
        while i < len(doc):
            tok = doc[i]
            if tok.pos_ != "PROPN" or not self._looks_like_name(tok):
                i += 1
                continue
            j = i + 1
            while j < len(doc) and j - i < 3 and doc[j].pos_ == "PROPN" and \
                    self._looks_like_name(doc[j]):
                j += 1
            prev = doc[i - 1].lower_ if i > 0 else ""
            nxt = doc[j].lower_ if j < len(doc) else ""
            place = prev in PLACE_PREPOSITIONS or nxt in INSTITUTIONS or (
                doc[j - 1].lower_ in INSTITUTIONS)
            # A capital at the start of a sentence proves nothing: "Delay in seeking".
            opening = (tok.is_sent_start or prev in (".", "\n", ":")) and j == i + 1 and not (
                j < len(doc) and doc[j].pos_ in ("VERB", "AUX"))
            if not place and not opening:
                out.append((i, j, "pattern.proper_noun"))
            i = j
        return out

    # -- the scan --------------------------------------------------------------------------
    def find(self, doc: Doc, record: CaseRecord) -> list[PersonMention]:
        index = self._indexes.get(record)
        if index is None:
            if len(self._indexes) > 256:
                self._indexes.clear()
            index = self._indexes[record] = build_index(record, self.kin, self.nicknames)
        found: list[PersonMention] = []
        # Kept on the doc, not on self: suggest() may run in several threads at once.
        doc.user_data["casenotes_lower"] = [t.lower_ for t in doc]
        i = 0
        n = len(doc)
        while i < n:
            m = self._title(doc, i, index) or self._name(doc, i, index)
            if m is None:
                m = self._kin(doc, i, index, found)
            if m is not None:
                found.append(m)
                i = m.end
            else:
                i += 1
        taken = {t for m in found for t in range(m.start, m.end)}
        extra: list[PersonMention] = []
        for start, end, rule in self._name_spans(doc):
            if any(i in taken for i in range(start, end)):
                continue
            extra.append(self._unknown(doc, start, end, index, rule))
            taken.update(range(start, end))
        for tok in doc:
            if tok.lower_ in self.relationships and tok.i + 1 < n:
                j = tok.i + 1 + (doc[tok.i + 1].text in (",", '"'))
                if j < n and j not in taken and self._looks_like_name(doc[j]):
                    extra.append(self._unknown(doc, j, j + 1, index, "pattern.relationship"))
                    taken.add(j)
        # Someone named once as new is the same someone later on.
        new_names = {doc[m.start].text for m in extra if m.person is None}
        for tok in doc:
            if tok.text in new_names and tok.i not in taken:
                extra.append(self._unknown(doc, tok.i, tok.i + 1, index, "name.repeat"))
                taken.add(tok.i)
        return sorted(found + extra, key=lambda m: m.start)
