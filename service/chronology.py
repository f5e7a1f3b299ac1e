"""Chronologies: a case's or a child's significant events in the order they happened.

An event is an entry, or a confirmed fact in one, that a worker marked significant. Confirmed
risk indicators are *proposed* as significant by default: they appear in the chronology (and
its exports) flagged "proposed" until someone keeps them (mark) or removes them (unmark). We
chose that over hiding them until marked because a chronology that silently leaves out a
confirmed risk is the more dangerous failure; the flag keeps the human judgement visible.

When it happened: a date fact's own value; for any other fact, a confirmed date in the same
sentence; otherwise (and for a whole entry) the entry's own date.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from sqlite_utils import Database

from service import access
from service.accounts import User
from service.entries import KIND_LABELS
from service.errors import Invalid, NotFound
from service.nlp.taxonomy import Taxonomy
from service.storage import cases as case_rows
from service.storage import chronology as rows
from service.storage import entries as entry_rows
from service.storage import facts as fact_rows
from service.storage.dashboard import COUNTED_ASSERTIONS
from service.storage.db import transaction

MAX_SUMMARY = 200
CANDIDATE_PAGE = 25
SUMMARY_DEFAULT_LENGTH = 160
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


@dataclass
class Event:
    key: str                      # stable within a case: "12" (entry) or "12/risk:..." (fact)
    entry_id: int
    fact_key: str
    fact_id: int | None
    kind: str                     # "entry", or the fact's kind
    label: str                    # taxonomy label name, for risk and tag facts
    date: str                     # ISO date of the event
    date_source: str              # "event date" (a confirmed date) or "entry date"
    precision: str
    summary: str
    status: str                   # "significant" or "proposed"
    evidence: str                 # the words of the fact in the entry
    entry_kind: str
    entry_occurred_at: str
    recorded_by: str
    recorded_at: str
    children: list[str]
    marked_by: str | None = None
    marked_at: str | None = None
    sort_key: tuple = field(default=(), repr=False)


@dataclass
class Chronology:
    case: dict[str, Any]
    child: dict[str, Any] | None
    children: list[dict[str, Any]]
    date_from: str | None
    date_to: str | None
    events: list[Event]
    # On the page only: entries (newest first, one page) and their facts, to add as events.
    candidates: list[dict[str, Any]] = field(default_factory=list)
    candidates_page: int = 1
    candidates_pages: int = 1

    @property
    def subject(self) -> str:
        return self.child["name"] if self.child else f"{self.case['family_name']} family"

    @property
    def first(self) -> str | None:
        return self.events[0].date if self.events else None

    @property
    def last(self) -> str | None:
        return self.events[-1].date if self.events else None

    def as_json(self) -> dict[str, Any]:
        return {"case_id": self.case["id"], "reference": self.case["reference"],
                "subject": self.subject, "child_id": self.child["id"] if self.child else None,
                "from": self.date_from, "to": self.date_to,
                "events": [{k: v for k, v in asdict(e).items() if k != "sort_key"}
                           for e in self.events]}


def fact_key(fact: dict[str, Any]) -> str:
    """What a fact is, independent of its row: it survives re-anchoring on amendment."""
    return ":".join(str(fact.get(k) or "") for k in ("kind", "label", "person_id", "value",
                                                     "assertion"))


def _check_date(value: str | None, what: str) -> str | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError as err:
        raise Invalid(f"The {what} date looks like 2026-03-14.") from err


def chronology(db: Database, user: User, case_id: int, *, taxonomy: Taxonomy,
               child_id: int | None = None,
               date_from: str | None = None, date_to: str | None = None,
               action: str = "chronology.view", candidates_page: int | None = None
               ) -> Chronology:
    """The significant events of a case (or one child in it); access-checked and logged."""
    date_from, date_to = _check_date(date_from, "from"), _check_date(date_to, "to")
    case = access.case_for(db, user, case_id, action)
    people = case_rows.people_on_case(db, case_id)
    children = [p for p in people if p["category"] == "child"]
    child = None
    if child_id is not None:
        child = next((c for c in children if c["id"] == child_id), None)
        if child is None:
            raise NotFound("That child is not on this case.")
    events = _events(db, case_id, {p["id"]: p["name"] for p in people}, child_id, taxonomy)
    events = [e for e in events if (not date_from or e.date >= date_from)
              and (not date_to or e.date[:10] <= date_to)]
    chron = Chronology(case, child, children, date_from, date_to, events)
    if candidates_page is not None:
        _add_candidates(db, chron, child_id, max(candidates_page, 1), taxonomy)
    return chron


def _add_candidates(db: Database, chron: Chronology, child_id: int | None, page: int,
                    taxonomy: Taxonomy) -> None:
    """Entries and their confirmed facts, each saying whether it is already an event."""
    entries, total = entry_rows.narrative(db, chron.case["id"], newest_first=True,
                                          child_id=child_id, limit=CANDIDATE_PAGE,
                                          offset=(page - 1) * CANDIDATE_PAGE)
    facts = fact_rows.current_facts_of_entries(db, [e["id"] for e in entries])
    in_chronology = {e.key for e in chron.events}
    for entry in entries:
        chron.candidates.append({
            **entry, "key": str(entry["id"]), "in_chronology": str(entry["id"]) in in_chronology,
            "facts": [dict(f, key=f"{entry['id']}/{fact_key(f)}",
                           label_name=taxonomy.label(f["label"]) if f["kind"] in ("risk", "tag")
                           else "",
                           in_chronology=f"{entry['id']}/{fact_key(f)}" in in_chronology)
                      for f in facts.get(entry["id"], [])]})
    chron.candidates_page, chron.candidates_pages = page, max(1, -(-total // CANDIDATE_PAGE))


def _events(db: Database, case_id: int, names: dict[int, str], child_id: int | None,
            taxonomy: Taxonomy) -> list[Event]:
    marks = rows.latest_marks(db, case_id)
    facts = rows.current_facts(db, case_id)
    chosen: list[tuple[dict[str, Any] | None, int, dict[str, Any] | None]] = []  # fact, entry, mark
    for (entry_id, key), mark in marks.items():
        if key == "" and mark["significant"]:
            chosen.append((None, entry_id, mark))
    for fact in facts:
        mark = marks.get((fact["entry_id"], fact_key(fact)))
        if mark is not None:
            if mark["significant"]:
                chosen.append((fact, fact["entry_id"], mark))
        elif fact["kind"] == "risk" and (fact["assertion"] or "present") in COUNTED_ASSERTIONS:
            chosen.append((fact, fact["entry_id"], None))
    entries = rows.case_entries(db, case_id, sorted({entry_id for _, entry_id, _ in chosen}))
    dates_by_entry: dict[int, list[dict[str, Any]]] = {}
    for fact in facts:
        if fact["kind"] == "date" and fact["value"]:
            dates_by_entry.setdefault(fact["entry_id"], []).append(fact)
    events = []
    seen: set[str] = set()
    for fact, entry_id, mark in chosen:
        entry = entries.get(entry_id)
        if entry is None:
            continue  # a mark on an entry that is not (or no longer) final in this case
        entry_children = _children_of(entry)
        if child_id is not None and child_id not in entry_children and not (
                fact and fact["person_id"] == child_id):
            continue
        event = _event(fact, entry, mark, dates_by_entry.get(entry_id, []),
                       [names.get(i, "?") for i in entry_children], taxonomy)
        if event.key not in seen:  # the same fact twice in one entry is one event
            seen.add(event.key)
            events.append(event)
    events.sort(key=lambda e: e.sort_key)
    return events


def _children_of(entry: dict[str, Any]) -> list[int]:
    return [int(i) for i in json.loads(entry["children"] or "[]")]


def _sentence(text: str, start: int | None, end: int | None) -> tuple[int, int]:
    """The bounds of the sentence holding text[start:end] (the first sentence if no span)."""
    start = start or 0
    end = end if end is not None else start
    begin = 0
    for match in _SENTENCE_END.finditer(text):
        if match.end() <= start:
            begin = match.end()
        elif match.start() >= end:
            return begin, match.start()
    return begin, len(text)


def _one_line(text: str, limit: int = SUMMARY_DEFAULT_LENGTH) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def _event(fact: dict[str, Any] | None, entry: dict[str, Any], mark: dict[str, Any] | None,
           dates: list[dict[str, Any]], children: list[str], taxonomy: Taxonomy) -> Event:
    text = entry["text"] or ""
    day, source, precision = entry["occurred_at"][:10], "entry date", "day"
    if fact is None:
        begin, finish = _sentence(text, 0, 0)
        summary = f"{KIND_LABELS.get(entry['kind'], entry['kind'])}: {text[begin:finish]}"
        key, kind, label, evidence = str(entry["id"]), "entry", "", ""
    else:
        begin, finish = _sentence(text, fact["start"], fact["end"])
        if fact["kind"] == "date":
            day, source, precision = fact["value"][:10], "event date", fact["precision"] or "day"
        else:
            same_sentence = [d for d in dates if d["start"] is not None
                             and begin <= d["start"] < finish]
            if same_sentence:
                day, source = same_sentence[0]["value"][:10], "event date"
                precision = same_sentence[0]["precision"] or "day"
        label = taxonomy.label(fact["label"]) if fact["kind"] in ("risk", "tag") else ""
        if fact["kind"] == "child_seen" and fact["person_id"]:
            label = "Seen alone" if fact["alone"] else "Seen"
        sentence = text[begin:finish]
        summary = f"{label}: {sentence}" if label else sentence
        key, kind, evidence = f"{entry['id']}/{fact_key(fact)}", fact["kind"], fact["text"] or ""
    if mark is not None and mark["summary"]:
        summary = mark["summary"]
    return Event(
        key=key, entry_id=entry["id"], fact_key="" if fact is None else fact_key(fact),
        fact_id=None if fact is None else fact["id"], kind=kind, label=label, date=day,
        date_source=source, precision=precision, summary=_one_line(summary, MAX_SUMMARY),
        status="significant" if mark is not None else "proposed", evidence=evidence,
        entry_kind=KIND_LABELS.get(entry["kind"], entry["kind"]),
        entry_occurred_at=entry["occurred_at"], recorded_by=entry["author_name"],
        recorded_at=entry["finalised_at"] or entry["created_at"], children=children,
        marked_by=mark["marked_by_name"] if mark else None,
        marked_at=mark["marked_at"] if mark else None,
        sort_key=(day, entry["occurred_at"], entry["id"], -1 if fact is None else fact["start"] or 0),
    )


def mark(db: Database, user: User, case_id: int, entry_id: int, *, fact_id: int | None = None,
         significant: bool = True, summary: str | None = None) -> None:
    """Mark (or unmark) an entry or a confirmed fact as significant, or edit its summary.

    A summary of None keeps the one already written (or the default).
    """
    if summary is not None:
        summary = " ".join(summary.split())
        if len(summary) > MAX_SUMMARY:
            raise Invalid(f"Keep the summary to one line of up to {MAX_SUMMARY} characters.")
    with transaction(db):
        access.case_for(db, user, case_id, "chronology.mark")
        if not rows.entry_in_case(db, case_id, entry_id):
            raise NotFound("There is no such final entry on this case.")
        key = _mark_key(db, entry_id, fact_id)
        if summary is None:
            previous = rows.latest_marks(db, case_id).get((entry_id, key))
            summary = previous["summary"] if previous else ""
        rows.insert_mark(db, case_id, entry_id, key, fact_id, significant, summary, user.id)
        access.record(db, user, "chronology.mark" if significant else "chronology.unmark",
                      case_id=case_id, entry_id=entry_id,
                      detail=f"fact {fact_id}" if fact_id else "entry")


def history(db: Database, user: User, case_id: int, entry_id: int,
            fact_id: int | None = None) -> list[dict[str, Any]]:
    """Every mark on one entry or fact, oldest first: who judged it significant, and when."""
    access.case_for(db, user, case_id, "chronology.history")
    return rows.mark_history(db, case_id, entry_id, _mark_key(db, entry_id, fact_id))


def _mark_key(db: Database, entry_id: int, fact_id: int | None) -> str:
    """What a mark is on: the entry itself (""), or one of its confirmed facts."""
    if fact_id is None:
        return ""
    fact = rows.fact_by_id(db, fact_id)
    if fact is None or fact["entry_id"] != entry_id:
        raise NotFound("There is no such confirmed fact in this entry.")
    return fact_key(fact)


# --- exports -------------------------------------------------------------------------

CSV_COLUMNS = ("date", "date_source", "precision", "status", "summary", "kind", "label",
               "evidence", "children", "entry_id", "entry_kind", "entry_occurred_at",
               "recorded_by", "recorded_at", "marked_by", "marked_at")


def _cell(value: Any) -> str:
    text = ", ".join(value) if isinstance(value, list) else "" if value is None else str(value)
    # A cell starting with = + - @ is a formula to a spreadsheet: make it plain text.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def to_csv(chron: Chronology) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for event in chron.events:
        values = asdict(event)
        writer.writerow([_cell(values[c]) for c in CSV_COLUMNS])
    return out.getvalue()


def to_pdf(html: str, base_url: str | None = None) -> bytes:
    """The printable page as PDF. WeasyPrint loads on first use: it is slow to import."""
    from weasyprint import HTML

    return HTML(string=html, base_url=base_url).write_pdf()


def export_name(chron: Chronology, extension: str) -> str:
    subject = re.sub(r"[^A-Za-z0-9]+", "-", chron.subject).strip("-").lower()
    return f"chronology-{chron.case['reference']}-{subject}-{date.today().isoformat()}.{extension}"
