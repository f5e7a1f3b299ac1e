"""Post-correction of recognised words against the case's own lexicon.

Whisper tiny hears an unfamiliar name as the nearest words it knows ("Novick" for Novak,
"has in" for Hussain, "meth alone" for methadone). For each run of one to three recognised
words we look for a lexicon term (a member's name, a kinship word, a taxonomy risk term)
that is spelled alike and sounds alike, and replace it when the evidence is strong enough.
The evidence needed rises for common English words and function words, and falls where the
context expects the term (a member's surname right after their first name or a title) or
where Whisper itself was unsure of the word. Every replacement is kept as a `Correction` so
the worker sees exactly what was changed, where, and why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import jellyfish
from rapidfuzz import fuzz, process

from service.asr.vocabulary import TITLES, CaseVocabulary, Term
from service.asr.words import STOPWORDS, is_common, is_english, is_known_word

MAX_SPAN = 3
BASE_THRESHOLD = 0.80
KNOWN_WORD_PENALTY = 0.10  # a real English word is probably what was said
CONTEXT_BONUS = 0.12  # "Imran has in": a surname is expected after the first name
UNSURE_BONUS = 0.06  # Whisper's own word probability was low
UNSURE_PROBABILITY = 0.5
SPLIT_WORD_THRESHOLD = 0.86
KINSHIP_PENALTY = 0.10
VERY_COMMON = 2000  # word rank under which even a capitalised word is taken as heard

_PARTS = re.compile(r"^(\s*[^\w'’]*)([\w'’-]*?)('s|’s)?([^\w'’]*)$", re.UNICODE)
_LETTERS = re.compile(r"[^a-z]")


@dataclass(frozen=True)
class Word:
    """One recognised word as Whisper wrote it (leading space and punctuation included)."""

    text: str
    start: float | None = None
    end: float | None = None
    probability: float = 1.0


@dataclass(frozen=True)
class Correction:
    """One replacement made in the transcript, for the worker to check."""

    original: str  # the words as recognised
    replacement: str
    # Audio time, seconds, of the words: from Whisper's word timestamps when the caller has
    # them, else (as the transcriber runs, see there) of the segment that holds them.
    start: float | None
    end: float | None
    char_start: int  # offsets of the replacement in the transcript text
    char_end: int
    kind: str  # name, kinship, risk or theme
    person: str | None  # member id for names
    score: float
    reason: str

    def as_dict(self) -> dict:
        return {
            "original": self.original, "replacement": self.replacement,
            "start": self.start, "end": self.end,
            "char_start": self.char_start, "char_end": self.char_end,
            "kind": self.kind, "person": self.person, "score": round(self.score, 3),
            "reason": self.reason,
        }


def letters(text: str) -> str:
    return _LETTERS.sub("", text.lower())


@lru_cache(maxsize=65536)
def sound_key(text: str) -> str:
    """A rough "sounds like" skeleton that, unlike Metaphone, equates Thomas and Tomasz,
    Philip and Filip, Cassie and Kasia: spellings of the same sounds, vowels collapsed."""
    key = letters(text)
    for spelled, sound in (("ph", "f"), ("th", "t"), ("ck", "k"), ("sch", "sh"), ("sz", "sh"),
                           ("cz", "ch"), ("qu", "kw"), ("x", "ks"), ("w", "v"), ("z", "s")):
        key = key.replace(spelled, sound)
    key = re.sub(r"c(?=[eiy])", "s", key).replace("c", "k").replace("q", "k")
    key = re.sub(r"(?<=[^aeiouy])h", "", key)
    key = re.sub(r"[aeiouy]+", "a", key)
    return re.sub(r"(.)\1+", r"\1", key)


@lru_cache(maxsize=65536)
def _metaphone(text: str) -> str:
    return jellyfish.metaphone(text)


def _sound_similarity(a: str, b: str) -> float:
    metaphone = fuzz.ratio(_metaphone(a), _metaphone(b))
    skeleton = fuzz.ratio(sound_key(a), sound_key(b))
    return max(metaphone, skeleton) / 100


@dataclass(frozen=True)
class _Target:
    term: Term
    key: str  # letters only
    sound: str


@dataclass(frozen=True)
class _Candidate:
    first: int
    count: int
    target: _Target
    score: float
    reason: str


@dataclass(frozen=True)
class Applied:
    """A replacement made by `Corrector.correct`, located in its output words."""

    index: int  # position of the new word in the corrected word list
    offset: int  # characters of leading space/punctuation before the replacement in that word
    written: str  # the replacement as written
    original: str  # the recognised words it replaced
    candidate: _Candidate

    @property
    def term(self) -> Term:
        return self.candidate.target.term


def _split(word: str) -> tuple[str, str, str, str]:
    """(leading space/punctuation, core, possessive, trailing punctuation)."""
    match = _PARTS.match(word)
    if not match:
        return "", word, "", ""
    lead, core, possessive, trail = match.groups()
    return lead, core, possessive or "", trail


class Corrector:
    """Matches recognised words against one case's lexicon."""

    def __init__(self, vocabulary: CaseVocabulary) -> None:
        self.vocabulary = vocabulary
        self.known_keys = {letters(t.text) for t in vocabulary.terms}
        self.known_words = {letters(w) for t in vocabulary.terms for w in t.words} - STOPWORDS
        targets = []
        for term in vocabulary.terms:
            key = letters(term.text)
            # Theme phrases are everyday words Whisper already knows, as are common single
            # words: correcting towards them only does harm. They still protect (above).
            if term.kind == "theme" or term.part == "usual short form" or len(key) < 3:
                continue
            if len(term.words) == 1 and term.kind != "name" and is_common(key):
                continue
            targets.append(_Target(term, key, sound_key(key)))
        self.targets = targets
        self._keys = [t.key for t in targets]
        self._sounds = [t.sound for t in targets]
        self.surname_of = {m.surname.lower(): m for m in vocabulary.members if m.surname}
        self.first_names = {
            name.lower(): m for m in vocabulary.members for name in (m.first, *m.nicknames) if name
        }

    def correct(self, words: list[Word], before: str = "") -> tuple[list[Word], list[Applied]]:
        """Return the corrected words and what was replaced, in word order.

        `before` is the last word of the previous segment, for context across the boundary."""
        parts = [_split(w.text) for w in words]
        candidates: list[_Candidate] = []
        for first in range(len(words)):
            for count in range(1, MAX_SPAN + 1):
                if first + count > len(words):
                    break
                candidate = self._best(words, parts, first, count, before)
                if candidate:
                    candidates.append(candidate)
        chosen: list[_Candidate] = []
        taken: set[int] = set()
        for cand in sorted(candidates, key=lambda c: (-c.score, c.count)):
            span = set(range(cand.first, cand.first + cand.count))
            if not span & taken:
                chosen.append(cand)
                taken |= span
        chosen.sort(key=lambda c: c.first)
        out: list[Word] = []
        applied: list[Applied] = []
        index = 0
        for cand in chosen:
            out += words[index:cand.first]
            span = words[cand.first:cand.first + cand.count]
            lead = parts[cand.first][0]
            _, _, possessive, trail = parts[cand.first + cand.count - 1]
            written = self._written(cand.target.term, parts[cand.first][1], words, cand.first)
            original = "".join(w.text for w in span).strip()
            applied.append(Applied(len(out), len(lead), written, original, cand))
            out.append(Word(lead + written + possessive + trail, span[0].start, span[-1].end,
                            min(w.probability for w in span)))
            index = cand.first + cand.count
        out += words[index:]
        return out, applied

    def _written(self, term: Term, original: str, words: list[Word], first: int) -> str:
        if term.kind == "name":
            return term.text
        text = term.text
        sentence_start = first == 0 or words[first - 1].text.rstrip().endswith((".", "?", "!"))
        if original[:1].isupper() and sentence_start:
            text = text[:1].upper() + text[1:]
        return text

    def _best(self, words: list[Word], parts: list[tuple[str, str, str, str]], first: int,
              count: int, before: str) -> _Candidate | None:
        span = parts[first:first + count]
        cores = [p[1] for p in span]
        if not all(letters(core) for core in cores):
            return None
        if any(core.isupper() and len(core) > 1 for core in cores):
            return None  # acronyms (PNC, CAMHS, GP) are written on purpose
        # Words in one run must not be split by punctuation, and only the last may be possessive.
        for i, (lead, _core, possessive, trail) in enumerate(span):
            if (i < count - 1 and (trail.strip() or possessive)) or (i > 0 and lead.strip()):
                return None
        key = "".join(letters(core) for core in cores)
        span_words = [letters(core) for core in cores]
        if len(key) < 3 or key in self.known_keys:
            return None
        if count == 1 and (key in self.known_words or key in STOPWORDS or key in TITLES):
            return None  # already a case word, or a function word or title: never rewritten
        exact = [w for w in span_words if w in self.known_words]
        previous = letters(parts[first - 1][1]) if first > 0 else letters(before)
        following = letters(parts[first + count][1]) if first + count < len(parts) else ""
        # A run that starts or ends with a function word ("a safety plan", "to the") is
        # almost always right as heard; allow it only where a name is expected.
        edge_function_word = count > 1 and any(
            w in STOPWORDS or w in TITLES for w in (span_words[0], span_words[-1])
        )
        unsure = min(w.probability for w in words[first:first + count]) < UNSURE_PROBABILITY
        pool = {
            index
            for choices in (
                process.extract(key, self._keys, scorer=fuzz.ratio, limit=8, score_cutoff=55),
                process.extract(sound_key(key), self._sounds, scorer=fuzz.ratio, limit=8,
                                score_cutoff=70),
            )
            for _, _, index in choices
        }
        best: _Candidate | None = None
        for index in pool:
            target = self.targets[index]
            term = target.term
            if not 0.6 <= len(key) / len(target.key) <= 1.7:
                continue
            term_words = [letters(w) for w in term.words]
            if exact and (len(term_words) != count or any(
                    w in self.known_words and w != t for w, t in zip(span_words, term_words,
                                                                     strict=True))):
                continue  # "saw Tyler" is not a mishearing of "Tyler", nor "if Kavita" of
                # "Kavita Shah": a case word stays in its place
            if len(term_words) > 1 and len(term_words) != count:
                continue  # phrases match word for word, not by swallowing neighbours
            expected = bool(exact and term.kind == "name") or self._expected(
                term, previous, following)
            if edge_function_word and not expected:
                continue
            pairs = [(h, t) for h, t in zip(span_words, term_words, strict=True) if h != t] \
                if len(term_words) == count else [(key, target.key)]
            # Judge by the words that differ: "mental health service" is not "mental health
            # issues" just because two of three words agree.
            heard = "".join(h for h, _ in pairs)
            meant = "".join(t for _, t in pairs)
            if not heard or not meant:
                continue
            # Whisper's own language model is usually right about ordinary English words: a
            # real word becomes a risk or kinship word only if Whisper was unsure of it, and
            # becomes a name only on close evidence.
            if any(_inflection(h, t) for h, t in pairs):
                continue  # "smells" for "smell" is grammar, not a mishearing
            heard_known = all(is_english(core) for core in cores)
            threshold = BASE_THRESHOLD
            notes = []
            if heard_known:
                threshold += KNOWN_WORD_PENALTY
                if term.kind != "name" and not unsure:
                    # Two patterns where real words are still a mishearing: a rare word
                    # heard as several ordinary ones ("meth alone" for methadone), and one
                    # word wrong in a risk phrase whose other words agree ("county lions").
                    split_word = (count > 1 and len(term_words) == 1 and not is_common(meant)
                                  and term.text.isalpha()  # "cot asleep" is not co-sleep
                                  and not any(w in STOPWORDS for w in span_words))
                    one_off = len(term_words) == count > 1 and len(pairs) == 1
                    if not (split_word or one_off) or term.kind != "risk":
                        continue
                    threshold = SPLIT_WORD_THRESHOLD
                    notes.append("an unlikely run of words")
                elif all(is_common(w) for w in span_words) and (
                        not any(c[:1].isupper() for c in cores)
                        or all(is_common(w, VERY_COMMON) for w in span_words)):
                    # "seen" is not Sean, nor "March" Marsh; but "Thomas" may be Tomasz
                    threshold += KNOWN_WORD_PENALTY
            if expected:
                threshold -= CONTEXT_BONUS
                notes.append("where the name was expected")
            if unsure:
                threshold -= UNSURE_BONUS
                notes.append("a word the recogniser was unsure of")
            if term.kind == "kinship":
                threshold += KINSHIP_PENALTY  # short everyday words: "grumpy" is not grampa
            sound = _sound_similarity(heard, meant)
            differing = [h for h, _ in pairs] if len(term_words) == count else span_words
            if all(h in STOPWORDS for h in differing):
                # Function words become a name only if they sound exactly like it, where the
                # name is expected: "Imran has in" -> Hussain, but "Lacey was" stays.
                if not (expected and sound == 1.0):
                    continue
                threshold = BASE_THRESHOLD - CONTEXT_BONUS
            score = 0.4 * fuzz.ratio(heard, meant) / 100 + 0.6 * sound
            if score >= threshold and (best is None or score > best.score):
                reason = f"sounds like {term.text!r} ({_describe(term)})"
                if notes:
                    reason += "; " + ", ".join(notes)
                best = _Candidate(first, count, target, score, reason)
        return best

    def _expected(self, term: Term, previous: str, following: str) -> bool:
        """The context calls for this term: a member's surname after their first name or a
        title ("Imran ...", "Mr ..."), or a first name before that member's surname."""
        if term.kind != "name":
            return False
        if term.part == "surname":
            member = self.first_names.get(previous)
            return previous in TITLES or (member is not None and member.id == term.person)
        if term.part in ("first", "nickname"):
            member = self.surname_of.get(following)
            return member is not None and member.id == term.person
        return False


def _inflection(heard: str, meant: str) -> bool:
    """Two English words, one inside the other: an ending ("smells"/"smell") or a prefix that
    turns the meaning round ("appropriately"/"inappropriately"). Grammar, not a mishearing
    (unlike "Asreen" for Nasreen, where the heard word is no word at all)."""
    short, long = sorted((heard, meant), key=len)
    return (len(short) >= 3 and short in long and is_known_word(short)
            and is_known_word(long))


def _describe(term: Term) -> str:
    if term.kind == "name":
        return f"{term.part} name on the case record: {term.source}"
    if term.kind == "kinship":
        return term.source
    return term.source


__all__ = ["Applied", "Correction", "Corrector", "Word", "sound_key"]
