"""Find date expressions with our own patterns and resolve them against the visit date.

Absolute dates ("14th March", "19/12", "Tuesday the fifteenth of December") are resolved by
dateparser in day-month order; the year is then chosen relative to the visit. Relative
words ("yesterday", "last Tuesday", "on Friday") are resolved here, because which Friday
is meant depends on the tense of the sentence ("went on Friday" vs "will go on Friday"),
which dateparser cannot see. Ages and counts ("Jack (7)", "aged four") never match.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

import dateparser
from spacy.tokens import Doc

from service.nlp.sentences import sentence

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WD_ABBR = {"mon": 0, "tue": 1, "tues": 1, "wed": 2, "weds": 2, "thu": 3, "thur": 3,
           "thurs": 3, "fri": 4, "sat": 5, "sun": 6}
MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december"]
MONTH_ABBR = {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8,
              "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12}
UNITS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth"]
TEENS = ["tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth",
         "sixteenth", "seventeenth", "eighteenth", "nineteenth"]
ORDINAL_WORDS: dict[str, int] = {w: i + 1 for i, w in enumerate(UNITS)}
ORDINAL_WORDS.update({w: i + 10 for i, w in enumerate(TEENS)})
ORDINAL_WORDS.update({"twentieth": 20, "thirtieth": 30})
for tens, base in (("twenty", 20), ("thirty", 30)):
    for i, w in enumerate(UNITS):
        if base + i + 1 <= 31:
            ORDINAL_WORDS[f"{tens} {w}"] = ORDINAL_WORDS[f"{tens}-{w}"] = base + i + 1
NUMBER_WORDS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
                "seven": 7, "eight": 8, "nine": 9, "ten": 10}
PARTS = r"(?:\s+(?:morning|afternoon|evening|night|lunchtime|teatime))?"

_wd_full = "|".join(WEEKDAYS)
_wd_abbr = "|".join(sorted((a.capitalize() for a in WD_ABBR), key=len, reverse=True))
WD = rf"(?:(?i:{_wd_full})|(?:{_wd_abbr})\.?)"
_month_full = "|".join(m for m in MONTHS if m != "may")
_month_abbr = "|".join(sorted((a.capitalize() for a in MONTH_ABBR), key=len, reverse=True))
MONTH = rf"(?:(?i:{_month_full})|May|(?:{_month_abbr})\.?)"
_ord_words = "|".join(sorted((re.escape(w) for w in ORDINAL_WORDS), key=len, reverse=True))
DAYNUM = rf"(?:(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?|(?i:{_ord_words}))"
DAYORD = rf"(?:(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)|(?i:{_ord_words}))"
YEAR = r"(?:19|20)\d\d"
NOT_AFTER_ORDINAL = (r"(?!\s*(?:centile|percentile|birthday|time|times|floor|week|weeks|"
                     r"year|years|month|months|century|anniversary|place|grade|hour|minute|few|thing|one|"
                     r"person|child|baby|visit|meeting|session|day|night|stage|step))")

PATTERNS: list[tuple[str, str]] = [
    ("dmy", rf"(?:{WD},?\s+)?(?:(?i:the)\s+)?{DAYNUM}(?:\s+(?i:of))?\s+{MONTH}(?:,?\s+{YEAR})?"),
    ("mdy", rf"(?:{WD},?\s+)?{MONTH}\s+(?:(?i:the)\s+)?{DAYNUM}(?:,?\s+{YEAR})?"),
    ("numeric", rf"(?:{WD}\.?\s+)?(?:[12]\d|3[01]|0?[1-9])[/.](?:1[0-2]|0?[1-9])"
                rf"(?:[/.](?:{YEAR}|\d\d))?(?![\d/:]|\.\d)"),
    ("wd_day", rf"{WD}\s+(?:(?i:the)\s+)?{DAYORD}{NOT_AFTER_ORDINAL}"),
    ("day_only", rf"(?:(?i:on|by|until|from|for|before|after|is)\s+)?(?i:the)\s+{DAYORD}"
                 rf"{NOT_AFTER_ORDINAL}"),
    ("holiday", r"(?i:christmas\s+day|christmas\s+eve|boxing\s+day|new\s+year'?s\s+day|"
                r"new\s+year'?s\s+eve)"),
    ("relative", r"(?i:the\s+day\s+before\s+yesterday|the\s+day\s+after\s+tomorrow|"
                 r"yesterday|today|tonight|tomorrow|tmrw|tmw|tmro|last\s+night|"
                 r"this\s+(?:morning|afternoon|evening))" + "(?i:" + PARTS + ")"),
    ("days_ago", r"(?i:(?:a|one|two|three|four|five|six|\d)\s+days?\s+ago)"),
    ("weekday", rf"(?:(?i:last|next|this|coming|this\s+coming|on)\s+)?{WD}(?i:{PARTS})"
                r"(?!s\b|\w)(?!\s+(?i:mornings|afternoons|evenings|nights))"),
    ("week", r"(?i:(?:last|this|next)\s+week|(?:a|one|two|three|\d)\s+weeks?\s+ago)"),
    ("month", rf"(?:(?i:in|since|during|until|by|from|last|early|late|mid|end\s+of)\s+)"
              rf"{MONTH}(?:\s+{YEAR})?|{MONTH}\s+{YEAR}|(?i:(?:last|this|next)\s+month)"),
    ("year", rf"(?i:in|since|during|from|until)\s+{YEAR}|(?i:(?:last|next)\s+year)"),
]
COMPILED = [(kind, re.compile(rf"(?<![\w/]){p}(?![\w])")) for kind, p in PATTERNS]
FUTURE_WORDS = {"will", "'ll", "shall", "going", "next", "plan", "planned", "due", "arranged"}
# "Next visit the 28th", "review Friday": a date right after these is ahead of the visit.
FUTURE_CUES = {"visit", "review", "appointment", "meeting", "due", "contact", "date", "next",
               "conference", "group", "panel", "hearing", "court"}


@dataclass
class DateMention:
    start_char: int
    end_char: int
    text: str
    value: str | None
    precision: str
    ambiguous: bool
    rule: str
    confidence: float


def _weekday(text: str) -> int | None:
    for word in re.findall(r"[a-z]+", text.lower()):
        if word in WEEKDAYS:
            return WEEKDAYS.index(word)
        if word in WD_ABBR:
            return WD_ABBR[word]
    return None


def _ordinal_to_digits(text: str) -> str:
    def repl(m: re.Match) -> str:
        return str(ORDINAL_WORDS[m.group(0).lower()])
    pattern = "|".join(sorted((re.escape(w) for w in ORDINAL_WORDS), key=len, reverse=True))
    return re.sub(rf"\b(?:{pattern})\b", repl, text, flags=re.I)


def _tense(doc: Doc, start: int, end: int) -> str:
    """'past', 'future' or 'unknown' for the clause holding the date phrase."""
    span = doc.char_span(start, end, alignment_mode="expand")
    if span is None:
        return "unknown"
    tok = span.root
    prep = tok.head if tok.dep_ == "pobj" else None
    if prep is not None and prep.lower_ in ("for", "until", "by", "before"):
        return "future"
    for _ in range(6):
        if tok.pos_ in ("VERB", "AUX") or tok.head.i == tok.i:
            break
        tok = tok.head
    # A bare participle ("went fishing on Saturday") takes its tense from its head.
    for _ in range(3):
        if tok.tag_ in ("VBG", "VBN") and not any(
            c.dep_ in ("aux", "auxpass") for c in tok.children
        ) and tok.head.i != tok.i and tok.head.pos_ in ("VERB", "AUX"):
            tok = tok.head
    if tok.pos_ in ("VERB", "AUX"):
        auxes = [c.lower_ for c in tok.children if c.dep_ in ("aux", "auxpass")]
        if any(a in ("will", "'ll", "shall", "to", "going", "gon") for a in auxes):
            return "future"
        if tok.tag_ == "VBN" and "to" in auxes:
            return "future"
        if tok.tag_ in ("VBD",) or any(a in ("did", "had", "was", "were") for a in auxes):
            return "past"
        if tok.tag_ == "VBN" and any(a in ("has", "have", "'ve", "'s") for a in auxes):
            return "past"
        if tok.tag_ in ("VBZ", "VBP") or (tok.tag_ in ("VBG", "VB") and auxes):
            return "future"
    sent = {t.lower_ for t in sentence(doc, span.start)}
    if sent & FUTURE_WORDS:
        return "future"
    return "unknown"


def _closest_year(day: int, month: int, visit: datetime.date, tense: str,
                  weekday: int | None) -> datetime.date | None:
    options = []
    for year in (visit.year - 1, visit.year, visit.year + 1):
        try:
            options.append(datetime.date(year, month, day))
        except ValueError:
            continue
    if not options:
        return None
    if weekday is not None and any(o.weekday() == weekday for o in options):
        options = [o for o in options if o.weekday() == weekday]

    def cost(d: datetime.date) -> float:
        delta = (d - visit).days
        if tense == "past" and delta > 14:
            return abs(delta) + 400
        if tense == "future" and delta < -14:
            return abs(delta) + 400
        return abs(delta)
    return min(options, key=cost)


def _day_of_month(day: int, visit: datetime.date, tense: str,
                  weekday: int | None) -> datetime.date | None:
    options = []
    for shift in (-2, -1, 0, 1, 2):
        month = visit.month + shift
        year = visit.year + (month - 1) // 12
        month = (month - 1) % 12 + 1
        try:
            options.append(datetime.date(year, month, day))
        except ValueError:
            continue
    if weekday is not None:
        options = [o for o in options if o.weekday() == weekday] or options
    if tense == "past":
        past = [o for o in options if o <= visit]
        return max(past) if past else None
    future = [o for o in options if o > visit]
    return min(future) if future else None


def _parse_absolute(text: str, visit: datetime.date) -> tuple[int, int, int | None] | None:
    """Day, month and (if written) year of an absolute date, via dateparser."""
    clean = _ordinal_to_digits(text)
    clean = re.sub(r"\b(?:the|of)\b", " ", clean, flags=re.I)
    clean = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", clean)
    for wd in sorted(list(WEEKDAYS) + list(WD_ABBR), key=len, reverse=True):
        clean = re.sub(rf"\b{wd}\b\.?,?", " ", clean, flags=re.I)
    clean = " ".join(clean.split())
    has_year = bool(re.search(r"\b(?:19|20)\d\d\b|[/.]\d\d$", clean))
    settings = {
        "DATE_ORDER": "DMY",
        "PREFER_DAY_OF_MONTH": "first",
        "RELATIVE_BASE": datetime.datetime(visit.year, visit.month, visit.day),
        "REQUIRE_PARTS": ["day", "month"],
    }
    parsed = dateparser.parse(clean, languages=["en"], settings=settings)
    if parsed is None:
        return None
    return parsed.day, parsed.month, parsed.year if has_year else None


def resolve(kind: str, text: str, visit: datetime.date,
            tense: str) -> tuple[datetime.date | None, str, bool]:
    """(date, precision, ambiguous) for one matched expression."""
    low = " ".join(text.lower().split())
    weekday = _weekday(text)
    if kind in ("dmy", "mdy", "numeric"):
        parts = _parse_absolute(text, visit)
        if parts is None:
            return None, "day", False
        day, month, year = parts
        if year is not None:
            try:
                return datetime.date(year, month, day), "day", False
            except ValueError:
                return None, "day", False
        return _closest_year(day, month, visit, tense, weekday), "day", False
    if kind in ("wd_day", "day_only"):
        digits = re.findall(r"\d+", _ordinal_to_digits(text))
        if not digits:
            return None, "day", False
        return _day_of_month(int(digits[-1]), visit, tense, weekday), "day", False
    if kind == "relative":
        offsets = {"the day before yesterday": -2, "the day after tomorrow": 2,
                   "yesterday": -1, "last night": -1, "tomorrow": 1, "tmrw": 1, "tmw": 1,
                   "tmro": 1}
        for word, shift in offsets.items():
            if low.startswith(word):
                return visit + datetime.timedelta(days=shift), "day", False
        return visit, "day", False
    if kind == "holiday":
        month, day = {"christmas day": (12, 25), "christmas eve": (12, 24),
                      "boxing day": (12, 26)}.get(low, (1, 1))
        if "eve" in low and "new" in low:
            month, day = 12, 31
        return _closest_year(day, month, visit, tense, None), "day", False
    if kind == "days_ago":
        first = low.split()[0]
        n = NUMBER_WORDS.get(first) or int(first)
        return visit - datetime.timedelta(days=n), "day", False
    if kind == "weekday" and weekday is not None:
        back = (visit.weekday() - weekday) % 7 or 7
        ahead = (weekday - visit.weekday()) % 7 or 7
        # "last Tuesday" said on a Wednesday: had they meant yesterday they would say so,
        # so it is the week before; either way the worker is asked to check.
        if low.startswith("last"):
            back = back + 7 if back == 1 else back
            return visit - datetime.timedelta(days=back), "day", back in (2, 8)
        if low.startswith("next"):
            ahead = ahead + 7 if ahead == 1 else ahead
            return visit + datetime.timedelta(days=ahead), "day", ahead in (2, 8)
        if low.startswith(("this", "coming")):
            ahead = (weekday - visit.weekday()) % 7
            return visit + datetime.timedelta(days=ahead), "day", False
        if tense == "future":
            return visit + datetime.timedelta(days=ahead), "day", False
        if tense == "past":
            return visit - datetime.timedelta(days=back), "day", back == 7
        nearer = -back if back <= ahead else ahead
        return visit + datetime.timedelta(days=nearer), "day", True
    if kind == "week":
        monday = visit - datetime.timedelta(days=visit.weekday())
        if "ago" in low:
            n = NUMBER_WORDS.get(low.split()[0]) or int(low.split()[0])
            return monday - datetime.timedelta(weeks=n), "week", False
        shift = {"last": -1, "this": 0, "next": 1}[low.split()[0]]
        return monday + datetime.timedelta(weeks=shift), "week", False
    if kind == "month":
        if low.endswith("month"):
            shift = {"last": -1, "this": 0, "next": 1}[low.split()[0]]
            m = visit.month - 1 + shift
            return datetime.date(visit.year + m // 12, m % 12 + 1, 1), "month", False
        month = next((i + 1 for i, m in enumerate(MONTHS) if m in low.split()), None)
        if month is None:
            month = next((v for k, v in MONTH_ABBR.items() if k in re.findall(r"[a-z]+", low)),
                         None)
        if month is None:
            return None, "month", False
        years = re.findall(r"(?:19|20)\d\d", low)
        if years:
            return datetime.date(int(years[0]), month, 1), "month", False
        year = visit.year if month <= visit.month or tense == "future" else visit.year - 1
        return datetime.date(year, month, 1), "month", False
    if kind == "year":
        years = re.findall(r"(?:19|20)\d\d", low)
        if years:
            return datetime.date(int(years[0]), 1, 1), "year", False
        shift = -1 if low.startswith("last") else 1
        return datetime.date(visit.year + shift, 1, 1), "year", False
    return None, "day", False


def find_dates(doc: Doc, visit: datetime.date) -> list[DateMention]:
    text = doc.text
    taken: list[tuple[int, int]] = []
    out: list[DateMention] = []
    for kind, rx in COMPILED:
        for m in rx.finditer(text):
            s, e = m.span()
            raw = m.group(0)
            # "on Friday": the date is "Friday"; keep the preposition out of the span.
            lead = re.match(r"(?i)(on|in|since|during|until|by|from|for|before|after|is)\s+",
                            raw)
            if lead and kind in ("weekday", "month", "year", "day_only"):
                s += lead.end()
            before = text[max(0, s - 12) : s].lower().split()
            cue = bool(before) and before[-1] in FUTURE_CUES
            if kind == "day_only" and not lead and not cue and not re.search(r"\d", raw):
                continue  # "the first few minutes": a spoken ordinal needs "on the ..."
            if kind == "day_only" and "centile" in text[e : e + 40].lower():
                continue
            if kind == "weekday" and re.search(r"(?i)\bevery\s+(?:other\s+)?$", text[:s]):
                continue  # "every other Saturday" is a routine, not a day
            if text[s:e].endswith(".") and kind == "weekday":
                e -= 1
            if any(s < te and ts < e for ts, te in taken):
                continue
            if kind == "weekday" and raw[:1].islower() and not lead and \
                    raw.split()[0].lower() in WD_ABBR:
                continue
            prev_words = re.findall(r"[a-z]+", text[max(0, s - 15) : s].lower())
            tense = "future" if prev_words and prev_words[-1] in FUTURE_CUES else _tense(doc, s, e)
            value, precision, ambiguous = resolve(kind, text[s:e], visit, tense)
            if value is None:
                continue
            taken.append((s, e))
            conf = {"day": 0.9, "week": 0.7, "month": 0.7, "year": 0.7}[precision]
            if ambiguous:
                conf = 0.5
            out.append(DateMention(s, e, text[s:e], value.isoformat(), precision, ambiguous,
                                   f"date.{kind}", conf))
    return sorted(out, key=lambda d: d.start_char)
