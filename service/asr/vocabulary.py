"""A case's own vocabulary, for hearing its names and risk words right.

Built from the case record (members' names, nicknames, professionals' names and roles) and
the rules loaded from models/ (the taxonomy's risk indicator and theme phrases, kinship words
and usual short forms of names), handed in by whoever holds them: the running service's one
RuleFiles. It gives the transcriber two things: a short decoder prompt, and the lexicon the
post-correction pass matches recognised words against.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from service.asr.words import expand_stem

if TYPE_CHECKING:
    from service.nlp.taxonomy import RuleSet, Taxonomy

# Used without rules (a library call with no models dir): the starter risk vocabulary.
FALLBACK_RISK_TERMS = (
    "bruise", "bruises", "bruising", "burn", "injury", "injuries", "marks", "domestic abuse",
    "domestic violence", "violence", "cannabis", "alcohol", "drunk", "heroin", "cocaine",
    "overdose", "methadone", "neglect", "head lice", "missing from home", "exploitation",
    "county lines", "self-harm", "self-harming", "suicidal", "depression", "sexual abuse",
)
# Kinship words without rules: (word, role words it points to).
FALLBACK_KINSHIP = (
    ("mum", ("mother",)), ("dad", ("father",)),
    ("nan", ("grandmother", "maternal grandmother", "paternal grandmother")),
    ("grandad", ("grandfather", "maternal grandfather", "paternal grandfather")),
    ("step-dad", ("step-father", "stepfather", "mother's partner")),
    ("step-mum", ("step-mother", "stepmother", "father's partner")),
)
PROMPT_FIRST_NAMES = 10
PROMPT_SURNAMES = 6
TITLES = ("mr", "mrs", "ms", "miss", "dr", "doctor", "pc", "dc", "sergeant", "nurse")
_SPLIT = re.compile(r"\s+")


@dataclass(frozen=True)
class Term:
    """One lexicon entry: how it is written and what it is."""

    text: str  # canonical written form: "Kowalski", "head lice", "step-dad"
    kind: str  # "name", "kinship", "risk" or "theme"
    source: str  # human-readable origin, shown with every correction
    person: str | None = None  # member id, for names and kinship words
    part: str = ""  # names: "first", "surname", "nickname", "usual short form" or "full"

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(_SPLIT.split(self.text.lower()))


@dataclass(frozen=True)
class Member:
    id: str
    name: str
    role: str = ""
    nicknames: tuple[str, ...] = ()

    @property
    def first(self) -> str:
        return self.name.split()[0] if self.name.split() else ""

    @property
    def surname(self) -> str:
        parts = self.name.split()
        return parts[-1] if len(parts) > 1 else ""


def _phrase_terms(phrase: str) -> list[str]:
    """Concrete word sequences from one taxonomy phrase pattern.

    `a|b` alternatives expand (capped), `stem*` expands to real words, `{person}` and `...`
    split the phrase, `?` and other marks are dropped. Fragments of one short word are
    dropped: they are too common to correct towards ("hit", "row")."""
    fragments: list[list[list[str]]] = [[]]
    for token in phrase.lower().split():
        if token == "..." or (token.startswith("{") and token.endswith("}")):
            fragments.append([])
            continue
        options: list[str] = []
        for alternative in token.split("|"):
            alternative = alternative.strip("?!.,;:\"'()")
            if alternative.endswith("*"):
                stem = alternative.rstrip("*")
                head, _, tail = stem.rpartition("-")  # "self-harm*" -> self- + harm*
                expanded = expand_stem(tail) if tail else []
                options += [f"{head}-{word}" if head else word for word in expanded]
            elif alternative and not alternative.startswith("{"):
                options.append(alternative)
        if options:
            fragments[-1].append(options[:6])
        else:
            fragments.append([])
    terms: list[str] = []
    for fragment in fragments:
        if not fragment:
            continue
        for combination in itertools.islice(itertools.product(*fragment), 12):
            text = " ".join(combination)
            if len(combination) > 1 or len(text) >= 5:
                terms.append(text)
    return terms


def taxonomy_terms(taxonomy: Taxonomy) -> list[Term]:
    """Risk and theme terms: each risk indicator's label, and every phrase's word sequences."""
    terms: list[Term] = []
    for kind, section, entries in (("risk", "risk indicator", taxonomy.risk_indicators),
                                   ("theme", "tag", taxonomy.tags)):
        for entry in entries:
            source = f"taxonomy {section} {entry.id}"
            if kind == "risk" and entry.label:
                terms.append(Term(entry.label.lower(), kind, source, part="label"))
            for phrase in entry.phrases:
                terms += [Term(text.lower(), kind, source) for text in _phrase_terms(phrase)]
    return terms


def kinship_words(rules: RuleSet) -> list[tuple[str, tuple[str, ...]]]:
    """(kinship word, the roles it points to), from the kinship rules' family words."""
    return [(word, term.roles) for term in rules.kinship.family for word in term.words]


def _norm_role(role: str) -> str:
    return role.lower().replace("-", "").replace(" ", "")


def _role_matches(member_role: str, kinship_roles: tuple[str, ...]) -> bool:
    """Compare ignoring case, spaces and hyphens, as the kinship list in models/ says; a bracketed
    part of the role ("grandmother (kinship carer)") counts as a role of its own."""
    forms = {_norm_role(part) for part in re.split(r"[()]", member_role) if part.strip()}
    return bool(forms & {_norm_role(role) for role in kinship_roles})


@dataclass
class CaseVocabulary:
    """The words a case's dictation is likely to contain that Whisper may not know."""

    members: list[Member] = field(default_factory=list)
    terms: list[Term] = field(default_factory=list)
    risk_labels: list[str] = field(default_factory=list)  # "Domestic abuse", "Neglect", ...

    @classmethod
    def build(
        cls,
        members: Iterable[Mapping[str, Any]] = (),
        *,
        terms: Iterable[str] | None = None,
        rules: RuleSet | None = None,
    ) -> CaseVocabulary:
        """From case members (dicts with id, name, role, optional nicknames) and the rules.

        `terms`, if given, replaces the taxonomy's risk and theme terms. Without `rules`, a
        small built-in list of risk and kinship words stands in."""
        people = [
            Member(
                id=str(m.get("id", "")),
                name=" ".join(str(m.get("name", "")).split()),
                role=str(m.get("role", "") or ""),
                nicknames=tuple(str(n) for n in (m.get("nicknames") or m.get("aliases") or [])),
            )
            for m in members
            if str(m.get("name", "")).strip()
        ]
        vocabulary = cls(members=people)
        nicknames = rules.nicknames if rules is not None else {}
        vocabulary.terms += _name_terms(people, nicknames)
        vocabulary.terms += _kinship_terms(
            people, kinship_words(rules) if rules is not None else list(FALLBACK_KINSHIP))
        if terms is not None:
            vocabulary.terms += [Term(t.lower(), "risk", "given term list") for t in terms if t]
        elif rules is not None:
            vocabulary.terms += taxonomy_terms(rules.taxonomy)
        else:
            vocabulary.terms += [Term(t, "risk", "built-in risk words")
                                 for t in FALLBACK_RISK_TERMS]
        vocabulary.risk_labels = list(dict.fromkeys(
            t.text for t in vocabulary.terms if t.kind == "risk" and t.part == "label"
        ))
        vocabulary.terms = _unique(vocabulary.terms)
        return vocabulary

    @classmethod
    def from_note(cls, note: Mapping[str, Any], **kwargs: Any) -> CaseVocabulary:
        """From a note or case file in the annotated-note format (its `members`)."""
        members = note.get("members") or []
        return cls.build([m for m in members if isinstance(m, Mapping)], **kwargs)

    @classmethod
    def plain(cls, **kwargs: Any) -> CaseVocabulary:
        """No case: the taxonomy's terms only."""
        return cls.build([], **kwargs)

    def names(self) -> list[Term]:
        return [term for term in self.terms if term.kind == "name"]

    def prompt(self, style: str = "names+risks") -> str:
        """The decoder prompt, repeated for every 30 s window.

        Kept short and shaped like the start of a note: a bare list of names with roles leaks
        into the transcript ("Aisha Begum, mother, mother") and a long prompt makes the tiny
        model lose its place. First names and nicknames in one list, surnames in brackets,
        then the taxonomy's risk indicator labels ("names+risks"; "names" leaves them out)."""
        if not self.members:
            # Measured on the fixtures: a prompt of risk labels alone, with no names to
            # anchor it, derails tiny.en (WER 0.24 -> 0.33). Without a case, no prompt.
            return ""
        risks = ""
        if style == "names+risks" and self.risk_labels:
            risks = " Concerns: " + ", ".join(self.risk_labels) + "."
        firsts: list[str] = []
        for member in self.members:
            for name in (member.first, *member.nicknames):
                if name and name not in firsts:
                    firsts.append(name)
        surnames = list(dict.fromkeys(m.surname for m in self.members if m.surname))
        # A long prompt derails tiny.en (a 40-person prompt doubled the WER on 6 minutes of
        # dictation): name the first people on the record (the family usually comes first);
        # the correction pass still knows everyone.
        firsts, surnames = firsts[:PROMPT_FIRST_NAMES], surnames[:PROMPT_SURNAMES]
        listed = ", ".join(firsts[:-1]) + " and " + firsts[-1] if len(firsts) > 1 else firsts[0]
        return f"Visit with {listed}" + (f" ({', '.join(surnames)})." if surnames else ".") + risks


def _name_terms(people: list[Member], nicknames: Mapping[str, Iterable[str]]) -> list[Term]:
    terms: list[Term] = []
    for member in people:
        source = f"{member.name} ({member.role})" if member.role else member.name
        terms.append(Term(member.name, "name", source, member.id, "full"))
        if member.first:
            terms.append(Term(member.first, "name", source, member.id, "first"))
        if member.surname:
            terms.append(Term(member.surname, "name", source, member.id, "surname"))
        for nickname in member.nicknames:
            terms.append(Term(nickname, "name", source, member.id, "nickname"))
        # Usual short forms (the nickname list in models/) are recognised but never corrected
        # towards: "Dan" for Daniel is as likely to be someone else called Dean.
        for nickname in nicknames.get(member.first.lower(), []):
            terms.append(Term(nickname.title(), "name", source, member.id, "usual short form"))
    return terms


def _kinship_terms(
    people: list[Member], kinship: list[tuple[str, tuple[str, ...]]]
) -> list[Term]:
    """Kinship words, linked to the member they point to when the record has one. Workers say
    "Lucy's step-dad" about relations of any adult, so every word stays in the lexicon."""
    terms = []
    for word, roles in kinship:
        member = next((m for m in people if _role_matches(m.role, roles)), None)
        if member:
            terms.append(Term(word, "kinship", f"{word}: {member.name} ({member.role})", member.id))
        else:
            terms.append(Term(word, "kinship", f"kinship word {word}"))
    return terms


def _unique(terms: list[Term]) -> list[Term]:
    seen: set[tuple[str, str, str | None]] = set()
    unique = []
    for term in terms:
        key = (term.text.lower(), term.kind, term.person)
        if key not in seen:
            seen.add(key)
            unique.append(term)
    return unique
