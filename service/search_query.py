"""What a reviewer types into the search box, turned into a safe SQLite FTS5 expression.

The syntax offered: words, "exact phrases", prefix* matches, OR between words, and -exclusions
(NOT before a word works too). Everything else is treated as text. Every term is emitted as a
quoted FTS5 string, so nothing the user types can be read as FTS5 syntax.

Word forms ("bruise", "bruises", "bruising") come from the index's porter stemmer. British and
American spellings ("behaviour"/"behavior", "organise"/"organize") are expanded here, at query
time, into an OR of both spellings: the index then stays a plain function of the stored text,
so FTS5's own 'rebuild' and 'integrity-check' keep working.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

MAX_QUERY_CHARS = 500
MAX_TERMS = 24
MIN_PREFIX = 3
MAX_PHRASE_SPELLINGS = 8

# A token as FTS5's unicode61 tokenizer sees it: a run of letters and digits.
WORD = re.compile(r"[^\W_]+")
# The query's own pieces: an optional minus, then a quoted phrase (closed or not) or a bare word.
PIECE = re.compile(r'(?P<minus>-)?(?:"(?P<phrase>[^"]*)(?P<close>"?)|(?P<word>[^\s"]+))')

def _words(text: str) -> list[str]:
    return text.split()


STOP_WORDS = frozenset(_words("""
a an and are as at be been but by for from had has have he her his i if in into is it its me
my of on or our she so that the their them then there these they this to was we were which
who will with you your
"""))

# British <-> American spellings. Stems take the endings listed with them; pairs are whole words.
_OUR_STEMS = ("behavio", "colo", "favo", "hono", "humo", "labo", "neighbo", "rumo", "odo",
              "harbo", "vapo", "vigo", "armo", "flavo", "savio", "endeavo", "demeano", "parlo")
_OUR_ENDINGS = ("r", "rs", "ral", "rally", "red", "ring", "rable", "rably", "rful", "rite",
                "rites", "rhood", "rhoods", "rless", "rer", "rers", "rist", "rists", "rism")
_ISE_STEMS = ("organ", "real", "recogn", "apolog", "critic", "emphas", "priorit", "hospital",
              "minim", "maxim", "normal", "summar", "stabil", "sympath", "traumat", "mobil",
              "social", "util", "author", "categor", "character", "familiar", "final", "legal",
              "memor", "scrutin", "special", "standard", "subsid", "terror", "victim", "jeopard",
              "patron", "antagon", "capital", "civil", "criminal", "institutional", "marginal",
              "verbal", "vocal", "agon", "tranquil", "sanit", "immun", "optim", "rational",
              "general", "visual", "sensit", "desensit", "harmon", "neutral", "ideal", "medical",
              "sexual", "radical", "stigmat", "dramat", "fantas", "energ", "mesmer", "pressur")
_ISE_ENDINGS = ("e", "es", "ed", "er", "ers", "ing", "ation", "ations", "ational")
_YSE_STEMS = ("analy", "paraly", "cataly")
_YSE_ENDINGS = ("e", "es", "ed", "er", "ers", "ing")
_PAIRS = _words("""
paediatric pediatric paediatrics pediatrics paediatrician pediatrician paediatricians pediatricians
anaemia anemia anaemic anemic diarrhoea diarrhea oesophagus esophagus foetus fetus foetal fetal
haematoma hematoma haemorrhage hemorrhage orthopaedic orthopedic gynaecology gynecology
oestrogen estrogen anaesthetic anesthetic leukaemia leukemia mum mom mums moms mummy mommy
grey gray pyjamas pajamas jewellery jewelry centre center centres centers centred centered
theatre theater theatres theaters litre liter litres liters fibre fiber defence defense
offence offense offences offenses licence license practise practice practised practiced
practising practicing travelled traveled travelling traveling traveller traveler
cancelled canceled cancelling canceling counselling counseling counsellor counselor
counsellors counselors labelled labeled labelling labeling modelled modeled fuelled fueled
enrol enroll enrolment enrollment fulfil fulfill fulfilment fulfillment
skilful skillful wilful willful judgement judgment judgements judgments acknowledgement
acknowledgment ageing aging programme program programmes programs catalogue catalog
dialogue dialog plough plow sceptical skeptical mould mold mouldy moldy smoulder smolder
aluminium aluminum manoeuvre maneuver cosy cozy doughnut donut aeroplane airplane
""")


def _spelling_groups() -> dict[str, tuple[str, ...]]:
    pairs: list[tuple[str, str]] = list(zip(_PAIRS[::2], _PAIRS[1::2], strict=True))
    pairs += [(stem + "u" + end, stem + end) for stem in _OUR_STEMS for end in _OUR_ENDINGS]
    pairs += [(stem + "is" + end, stem + "iz" + end) for stem in _ISE_STEMS for end in _ISE_ENDINGS]
    pairs += [(stem + "s" + end, stem + "z" + end) for stem in _YSE_STEMS for end in _YSE_ENDINGS]
    groups: dict[str, tuple[str, ...]] = {}
    for british, american in pairs:
        if british != american:
            groups[british] = groups[american] = (british, american)
    return groups


SPELLINGS = _spelling_groups()


def spellings(word: str) -> tuple[str, ...]:
    """Both spellings of a word that has a British and an American one, else the word."""
    return SPELLINGS.get(word.lower(), (word.lower(),))


@dataclass
class Term:
    words: list[str]
    phrase: bool = False
    prefix: bool = False
    negated: bool = False

    @property
    def text(self) -> str:
        shown = " ".join(self.words) + ("*" if self.prefix else "")
        return f'"{shown}"' if self.phrase else shown

    def fts(self) -> str:
        """This term as FTS5: quoted strings, an OR of spellings where they differ."""
        options = [spellings(w) for w in self.words]
        combos = list(itertools.islice(itertools.product(*options), MAX_PHRASE_SPELLINGS))
        star = " *" if self.prefix else ""
        alternatives = ['"' + " ".join(combo).replace('"', '""') + '"' + star for combo in combos]
        if self.prefix and not self.phrase:
            alternatives += ['"' + word.replace('"', '""') + '"'
                             for word in completions(self.words[0].lower())]
        return alternatives[0] if len(alternatives) == 1 else "(" + " OR ".join(alternatives) + ")"


# The index holds porter stems, and a prefix that runs into a suffix the stemmer strips
# (feedi*: feeding is indexed as "feed") starts no stem. Completing the suffix gives a word
# whose stem is the one wanted; the index then finds every form of it.
SUFFIXES = ("ing", "ed", "es", "er", "ers", "ation", "ations", "ment", "ments", "ness",
            "ance", "ence", "ly")


def completions(prefix: str) -> list[str]:
    """Whole words to search alongside prefix*, for prefixes that end inside a suffix."""
    found = []
    for cut in range(1, 4):
        stem, rest = prefix[:-cut], prefix[-cut:]
        if len(stem) >= MIN_PREFIX:
            found += [stem + suffix for suffix in SUFFIXES
                      if suffix.startswith(rest) and suffix != rest]
    return sorted(set(found))


@dataclass
class ParsedQuery:
    """The FTS5 expression (None when nothing is searchable), what was searched, and hints."""

    text: str
    expression: str | None = None
    groups: list[list[Term]] = field(default_factory=list)
    excluded: list[Term] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)

    @property
    def searched_terms(self) -> list[str]:
        return [t.text for group in self.groups for t in group]


def parse(text: str) -> ParsedQuery:
    """Parse the user's query. Never raises: problems become plain-language hints."""
    parsed = ParsedQuery(text=text)
    hints = parsed.hints
    text = "".join(ch if ch.isprintable() else " " for ch in text or "").strip()
    if len(text) > MAX_QUERY_CHARS:
        cut = text[:MAX_QUERY_CHARS]
        text = cut.rsplit(" ", 1)[0] if " " in cut else cut
        hints.append(f"Your search was very long, so only its first {MAX_QUERY_CHARS} "
                     "characters were used.")
    if text.count('"') % 2:
        hints.append("A quote mark was not closed, so the words after it were searched as "
                     "one phrase.")
    pieces, dropped_stop, dropped_symbols, short_prefix = _pieces(text)
    groups: list[list[Term]] = []
    join_next = False
    for piece in pieces:
        if piece == "OR":
            join_next = bool(groups)
            continue
        if piece.negated:
            parsed.excluded.append(piece)
        elif join_next:
            groups[-1].append(piece)
        else:
            groups.append([piece])
        join_next = False
    count = sum(len(g) for g in groups) + len(parsed.excluded)
    if count > MAX_TERMS:
        hints.append(f"Only the first {MAX_TERMS} words of your search were used.")
        groups, parsed.excluded = _first_terms(groups, parsed.excluded, MAX_TERMS)
    parsed.groups = groups
    if short_prefix:
        hints.append(f"A * needs at least {MIN_PREFIX} letters before it, so "
                     f"{', '.join(short_prefix)} was searched as a whole word.")
    if not groups:
        if parsed.excluded:
            hints.append("Add a word to search for as well as the words to leave out "
                         "(a minus sign leaves a word out).")
        elif dropped_stop:
            hints.append("Your search only had very common words (like "
                         f"\u201c{dropped_stop[0]}\u201d), which appear in nearly every entry. "
                         "Add a more specific word, or put the words in quote marks to find "
                         "that exact phrase.")
        elif dropped_symbols or parsed.text.strip():
            hints.append("Your search had no letters or numbers to look for. Search for words, "
                         "like: bruise, \"seen alone\", school OR nursery, feed* -bottle.")
        return parsed
    positive = " AND ".join(_group_fts(g) for g in groups)
    if parsed.excluded:
        positive = f"({positive}) NOT {_group_fts(parsed.excluded)}"
    parsed.expression = f"text : ({positive})"
    return parsed


def _group_fts(terms: list[Term]) -> str:
    return terms[0].fts() if len(terms) == 1 else "(" + " OR ".join(t.fts() for t in terms) + ")"


def _pieces(text: str) -> tuple[list[Term | str], list[str], int, list[str]]:
    """Terms and OR markers in order, with what was dropped and why."""
    pieces: list[Term | str] = []
    dropped_stop: list[str] = []
    dropped_symbols = 0
    short_prefix: list[str] = []
    negate_next = False
    for match in PIECE.finditer(text):
        minus = bool(match["minus"]) or negate_next
        negate_next = False
        if match["phrase"] is not None:
            words = WORD.findall(match["phrase"])
            if not words:
                dropped_symbols += 1
                continue
            pieces.append(Term([w.lower() for w in words], phrase=len(words) > 1, negated=minus))
            continue
        raw = match["word"]
        if raw in ("OR", "|"):
            pieces.append("OR")
            continue
        if raw == "AND" or raw.startswith("+") and not WORD.search(raw):
            continue
        if raw == "NOT":
            negate_next = True
            continue
        words = [w.lower() for w in WORD.findall(raw)]
        if not words:
            dropped_symbols += 1
            continue
        prefix = raw.rstrip(")]}.,;:!?").endswith("*")
        if prefix and len(words[-1]) < MIN_PREFIX:
            short_prefix.append(raw)
            prefix = False
        if len(words) == 1 and not prefix and not minus and words[0] in STOP_WORDS:
            dropped_stop.append(words[0])
            continue
        pieces.append(Term(words, phrase=len(words) > 1, prefix=prefix, negated=minus))
    return pieces, dropped_stop, dropped_symbols, short_prefix


def _first_terms(groups: list[list[Term]], excluded: list[Term], limit: int
                 ) -> tuple[list[list[Term]], list[Term]]:
    kept: list[list[Term]] = []
    left = limit
    for group in groups:
        if left <= 0:
            break
        kept.append(group[:left])
        left -= len(kept[-1])
    return kept, excluded[:max(left, 0)]
