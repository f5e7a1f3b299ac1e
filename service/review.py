"""Review: the worker confirms, edits or rejects each suggestion; confirmed ones become facts.

Nothing suggested becomes data until a person decides. Every decision is kept (who, when,
the suggestion and the rule that made it). A draft's confirmed decisions become facts when
the entry is finalised; on a final entry (after an amendment) they become facts at once.
Facts are anchored to a revision's words: when the words change, the fact is re-confirmed.
"""

from __future__ import annotations

import re
from datetime import date
from difflib import SequenceMatcher
from functools import partial
from typing import Any, Protocol

from sqlite_utils import Database

from service import access, cases, chips, dictation, entries
from service import fact_kinds as kinds
from service.accounts import User
from service.entries import entry_for
from service.errors import Conflict, Invalid, NotFound
from service.nlp.record import CaseRecord, Member
from service.nlp.taxonomy import Taxonomy
from service.storage import cases as case_rows
from service.storage import entries as entry_rows
from service.storage import facts as fact_rows
from service.storage.db import after_commit, transaction

ASSERTIONS = kinds.ASSERTIONS


class SuggesterLike(Protocol):
    pipeline_version: str

    @property
    def taxonomy(self) -> Taxonomy: ...

    def suggest(self, text: str, record: CaseRecord, visit_date: date) -> list[dict[str, Any]]: ...


# --- the case record as the suggester sees it --------------------------------------------

def case_record(db: Database, case_id: int) -> CaseRecord:
    people = [p for p in case_rows.people_on_case(db, case_id) if not p.get("merged_into")]
    members = tuple(Member(str(p["id"]), p["name"], p["relationship"] or p["category"], p["dob"])
                    for p in people)
    subjects = [p for p in people if p["is_subject"]] or [p for p in people
                                                           if p["category"] == "child"]
    return CaseRecord(str(subjects[0]["id"]) if subjects else None, members)


def entry_words(entry: dict[str, Any]) -> str:
    """The words under review: the draft's, or the latest revision's once final."""
    return (entry["draft_text"] or "") if entry["status"] == "draft" else (entry["text"] or "")


def _nth(text: str, start: int, words: str) -> int:
    """Which occurrence of `words` starts at `start` (1-based): stable under edits elsewhere."""
    return text.count(words, 0, start) + 1 if words else 1


def _locate(text: str, words: str, nth: int, near: int) -> int | None:
    """The start of the nth occurrence of `words`, or of the occurrence nearest `near`.

    A suggestion without words (a theme of the whole entry) stays where it is."""
    if not words:
        return min(max(near, 0), len(text))
    starts = [m.start() for m in re.finditer(re.escape(words), text)]
    if not starts:
        return None
    if 0 < nth <= len(starts):
        return starts[nth - 1]
    return min(starts, key=lambda s: abs(s - near))


def _key(kind: str, words: str, nth: int, fields: dict[str, Any]) -> tuple[Any, ...]:
    """What makes two suggestions the same one, across runs and small edits."""
    of = kinds.kind_of(kind)
    return (kind, words.lower(), nth if of.positional else 0, fields.get(of.key_field))


# --- running the suggester -------------------------------------------------------------

def _stored_fields(suggestion: dict[str, Any], people: set[int]) -> dict[str, Any]:
    """Member ids come back as strings; store them as our person ids."""
    fields = {k: v for k, v in suggestion.items() if k not in fact_rows.SPAN_KEYS}
    if fields.get("person") is not None:
        person = str(fields["person"])
        fields["person"] = int(person) if person.isdigit() and int(person) in people else None
    if "candidates" in fields:
        fields["candidates"] = [dict(c, id=int(c["id"])) for c in fields["candidates"]
                                if str(c.get("id", "")).isdigit() and int(c["id"]) in people]
    return fields


def suggest_entry(db: Database, user: User, suggester: SuggesterLike,
                  entry_id: int) -> dict[str, Any]:
    """Run the suggester over the entry's words and keep what it suggested."""
    entry = entry_for(db, user, entry_id, "entry.suggest")
    words = entry_words(entry)
    record = case_record(db, entry["case_id"])
    people = {int(m.id) for m in record.members}
    visit = date.fromisoformat(entry["occurred_at"][:10])
    suggestions = suggester.suggest(words, record, visit)
    with transaction(db):
        run = fact_rows.next_run(db, entry_id)
        for suggestion in suggestions:
            fields = _stored_fields(suggestion, people)
            fields["nth"] = _nth(words, suggestion["start"], suggestion["text"])
            fact_rows.insert_suggestion(db, entry_id, run, {**suggestion, **fields})
    return review_state(db, user, entry_id, log=False, labels=chips.labels_of(suggester.taxonomy))


def suggest_text(db: Database, user: User, suggester: SuggesterLike, case_id: int,
                 occurred_on: date, text: str) -> list[dict[str, Any]]:
    """Suggestions for text not yet saved (nothing stored), access-checked like the case."""
    access.case_for(db, user, case_id, "case.suggest")
    if len(text) > 200_000:
        raise Invalid("Suggestions work on up to 200,000 characters at a time.")
    record = case_record(db, case_id)
    people = {int(m.id) for m in record.members}
    return [{**{k: s[k] for k in fact_rows.SPAN_KEYS if k in s}, **_stored_fields(s, people)}
            for s in suggester.suggest(text, record, occurred_on)]


# --- the state of a review -------------------------------------------------------------

def _latest_decisions(decisions: list[dict[str, Any]]) -> dict[tuple[Any, ...], dict[str, Any]]:
    latest: dict[tuple[Any, ...], dict[str, Any]] = {}
    for decision in decisions:
        fields = decision["fields"]
        key = _key(decision["kind"], decision["text"] or "", fields.get("nth", 1),
                   fields.get("suggested", fields))
        latest[key] = decision
    return latest


def review_state(db: Database, user: User, entry_id: int, log: bool = True,
                 labels: dict[str, str] | None = None) -> dict[str, Any]:
    """The latest suggestions with the decision on each, hand-added facts, current facts.

    Each suggestion and decision carries `shown`, its value as its kind words it (taxonomy
    ids stand for themselves without `labels`)."""
    entry = entry_for(db, user, entry_id, "entry.review", log=log)
    names = {p["id"]: p["name"] for p in case_rows.people_on_case(db, entry["case_id"])}
    labels = labels or {}
    words = entry_words(entry)
    decided = _latest_decisions(fact_rows.decisions_of(db, entry_id))
    facts = fact_rows.current_facts_of_entry(db, entry_id) if entry["status"] == "final" else []
    confirmed = {_fact_key(words, f) for f in facts}
    items = []
    for row in fact_rows.latest_suggestions(db, entry_id):
        key = _key(row["kind"], row["text"], row["fields"].get("nth", 1), row["fields"])
        decision = decided.get(key)
        if decision is None and key in confirmed:
            continue  # already a confirmed fact of this revision
        start = _locate(words, row["text"], row["fields"].get("nth", 1), row["start"])
        items.append({**_public(row, names, labels),
                      "start": start if start is not None else row["start"],
                      "stale": start is None,
                      "state": decision["decision"] if decision else "pending",
                      "decision": _public_decision(decision, names, labels) if decision
                      else None})
    added = [_public_decision(d, names, labels) for d in decided.values()
             if d["decision"] == "added"]
    return {"entry_id": entry_id, "status": entry["status"], "draft_version":
            entry["draft_version"], "revision": entry["revision_count"], "suggestions": items,
            "added": added, "facts": facts}


def _fact_key(words: str, fact: dict[str, Any]) -> tuple[Any, ...]:
    text = fact["text"] or ""
    return _key(fact["kind"], text, _nth(words, fact["start"] or 0, text),
                fact_rows.fact_value(fact))


def _shown(kind: str, fields: dict[str, Any], names: dict[int, str],
           labels: dict[str, str]) -> str:
    return kinds.kind_of(kind).describe(fields, names, labels)


def _public(row: dict[str, Any], names: dict[int, str], labels: dict[str, str]
            ) -> dict[str, Any]:
    return {"id": row["id"], "kind": row["kind"], "start": row["start"], "end": row["end"],
            "text": row["text"], "fields": row["fields"], "confidence": row["confidence"],
            "rule": row["rule"], "pipeline_version": row["pipeline_version"],
            "shown": _shown(row["kind"], row["fields"], names, labels)}


def _public_decision(row: dict[str, Any], names: dict[int, str], labels: dict[str, str]
                     ) -> dict[str, Any]:
    return {"id": row["id"], "decision": row["decision"], "kind": row["kind"],
            "start": row["start"], "end": row["end"], "text": row["text"],
            "fields": row["fields"], "decided_by": row["decided_by"],
            "decided_at": row["decided_at"], "suggestion_id": row["suggestion_id"],
            # A rejection keeps no value: it shows what was suggested.
            "shown": _shown(row["kind"], row["fields"].get("suggested", {})
                            if row["decision"] == "rejected" else row["fields"], names, labels)}


# --- deciding ---------------------------------------------------------------------------

def clean_fields(db: Database, case_id: int, kind: str, fields: dict[str, Any],
                 taxonomy: Taxonomy) -> dict[str, Any]:
    """The final value of a fact, checked by its kind: people of this case, known labels,
    real dates."""
    return kinds.kind_of(kind).clean(db, case_id, fields, taxonomy)


def decide(db: Database, user: User, taxonomy: Taxonomy, entry_id: int, suggestion_id: int,
           decision: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    """Accept, edit or reject one suggestion of this entry."""
    if decision not in ("accept", "edit", "reject"):
        raise Invalid("A decision is accept, edit or reject.")
    with transaction(db):
        entry = entry_for(db, user, entry_id, "entry.decide")
        suggestion = fact_rows.suggestion_by_id(db, suggestion_id)
        if suggestion is None or suggestion["entry_id"] != entry_id:
            raise NotFound("That suggestion does not belong to this entry.")
        words = entry_words(entry)
        nth = suggestion["fields"].get("nth", 1)
        start = _locate(words, suggestion["text"], nth, suggestion["start"])
        if start is None:
            raise Conflict("The words of that suggestion have changed since it was made. "
                           "Ask for suggestions again.")
        suggested = {k: v for k, v in suggestion["fields"].items() if k != "nth"}
        if decision == "reject":
            value: dict[str, Any] = {}
        else:
            proposed = {**suggested, **(fields or {})} if decision == "edit" else suggested
            value = clean_fields(db, entry["case_id"], suggestion["kind"], proposed, taxonomy)
            if decision == "edit" and value == clean_fields(
                    db, entry["case_id"], suggestion["kind"], suggested, taxonomy):
                decision = "accept"
        stored = {"accept": "accepted", "edit": "edited", "reject": "rejected"}[decision]
        decision_id = fact_rows.insert_decision(db, {
            "entry_id": entry_id, "suggestion_id": suggestion_id, "decision": stored,
            "kind": suggestion["kind"], "start": start,
            "end": start + len(suggestion["text"]), "text": suggestion["text"],
            "fields": {**value, "nth": nth, "suggested": suggested},
            "rule": suggestion["rule"], "pipeline_version": suggestion["pipeline_version"],
            "decided_by": user.id})
        if entry["status"] == "final" and stored != "rejected":
            _insert_fact(db, entry, suggestion["kind"], start, suggestion["text"], value,
                         decision_id, user.id)
    return {"decision_id": decision_id, "decision": stored, "fields": value}


def accept_many(db: Database, user: User, taxonomy: Taxonomy, entry_id: int,
                suggestion_ids: list[int]) -> list[dict[str, Any]]:
    """Accept several people and dates in one action (never risk indicators)."""
    rows = [fact_rows.suggestion_by_id(db, i) for i in suggestion_ids]
    if any(r is None or r["entry_id"] != entry_id for r in rows):
        raise NotFound("A suggestion in that list does not belong to this entry.")
    bulk = kinds.bulk_names()
    if any(r is not None and r["kind"] not in bulk for r in rows):
        one_by_one = [k.plural.lower() for k in kinds.all_kinds() if not k.bulk]
        together = [k.plural.lower() for k in kinds.all_kinds() if k.bulk]
        raise Invalid(f"Only {_listed(together)} can be accepted together; confirm "
                      f"{_listed(one_by_one)} one by one.")
    with transaction(db):
        return [decide(db, user, taxonomy, entry_id, i, "accept") for i in suggestion_ids]


def add_fact(db: Database, user: User, taxonomy: Taxonomy, entry_id: int, kind: str,
             start: int, end: int, fields: dict[str, Any]) -> dict[str, Any]:
    """A fact the engine missed, from words the worker selected."""
    with transaction(db):
        entry = entry_for(db, user, entry_id, "entry.add_fact")
        words = entry_words(entry)
        if not (0 <= start < end <= len(words)):
            raise Invalid(f"The selected words must lie within the text (0 to {len(words)}).")
        value = clean_fields(db, entry["case_id"], kind, fields, taxonomy)
        text = words[start:end]
        decision_id = fact_rows.insert_decision(db, {
            "entry_id": entry_id, "decision": "added", "kind": kind, "start": start,
            "end": end, "text": text, "fields": {**value, "nth": _nth(words, start, text)},
            "rule": "by hand", "pipeline_version": None, "decided_by": user.id})
        if entry["status"] == "final":
            _insert_fact(db, entry, kind, start, text, value, decision_id, user.id)
    return {"decision_id": decision_id, "decision": "added", "fields": value}


def _listed(words: list[str]) -> str:
    return " and ".join([", ".join(words[:-1]), words[-1]]) if len(words) > 1 else "".join(words)


# --- facts ------------------------------------------------------------------------------

def _insert_fact(db: Database, entry: dict[str, Any], kind: str, start: int, text: str,
                 value: dict[str, Any], decision_id: int | None, confirmed_by: int,
                 revision: int | None = None, confirmed_at: str | None = None) -> int:
    return fact_rows.insert_fact(db, {
        "entry_id": entry["id"], "case_id": entry["case_id"],
        "revision": revision or entry["revision_count"], "kind": kind, "start": start,
        "end": start + len(text), "text": text, **fact_rows.fact_columns(value),
        "decision_id": decision_id,
        "confirmed_by": confirmed_by, "confirmed_at": confirmed_at})


def store_confirmed(db: Database, entry: dict[str, Any], final_text: str) -> tuple[int, int]:
    """At finalising: the draft's confirmed decisions become facts of revision 1.

    Returns (facts stored, confirmed decisions whose words are no longer in the text)."""
    stored = lost = 0
    for decision in _latest_decisions(fact_rows.decisions_of(db, entry["id"])).values():
        if decision["decision"] == "rejected":
            continue
        fields = decision["fields"]
        start = _locate(final_text, decision["text"] or "", fields.get("nth", 1),
                        decision["start"] or 0)
        if start is None:
            lost += 1
            continue
        _insert_fact(db, entry, decision["kind"], start, decision["text"], fields,
                     decision["id"], decision["decided_by"])
        stored += 1
    return stored, lost


def reanchor(db: Database, entry: dict[str, Any], old_text: str, new_text: str,
             old_revision: int, new_revision: int) -> list[dict[str, Any]]:
    """After an amendment: facts on unchanged words move to the new revision; facts whose
    words changed come back as suggestions to re-confirm. Returns those."""
    matcher = SequenceMatcher(None, old_text, new_text, autojunk=False)
    blocks = [b for b in matcher.get_matching_blocks() if b.size]
    old_facts = fact_rows.facts_of_revision(db, entry["id"], old_revision)
    reconfirm = []
    run = fact_rows.next_run(db, entry["id"])
    for fact in old_facts:
        start, end = fact["start"] or 0, fact["end"] or 0
        moved = next((b.b + start - b.a for b in blocks
                      if b.a <= start and end <= b.a + b.size), None)
        if moved is not None:
            fact_rows.insert_fact(db, {**fact, "revision": new_revision, "start": moved,
                                       "end": moved + (end - start)})
            continue
        span = _changed_span(matcher, start, end, new_text)
        if span is None:
            continue
        fields = fact_rows.fact_value(fact)
        words = new_text[span[0]:span[1]]
        fields["nth"] = _nth(new_text, span[0], words)
        fields["was"] = fact["text"]
        fact_rows.insert_suggestion(db, entry["id"], run, {
            "kind": fact["kind"], "start": span[0], "end": span[1], "text": words,
            "confidence": 1.0, "rule": f"reconfirm (fact {fact['id']})",
            "pipeline_version": "amendment", **fields})
        reconfirm.append({"kind": fact["kind"], "was": fact["text"], "now": words})
    return reconfirm


def _changed_span(matcher: SequenceMatcher, start: int, end: int,
                  new_text: str) -> tuple[int, int] | None:
    """Where the words at old [start, end) went in the new text, widened to whole words."""
    j1 = j2 = None
    for tag, a1, a2, b1, b2 in matcher.get_opcodes():
        if a2 <= start or a1 >= end:
            continue
        if tag == "equal":
            lo, hi = b1 + max(start - a1, 0), b1 + min(end, a2) - a1
        else:
            lo, hi = b1, b2
        j1 = lo if j1 is None else min(j1, lo)
        j2 = hi if j2 is None else max(j2, hi)
    if j1 is None or j2 is None or j1 >= j2:
        return None
    while j1 > 0 and new_text[j1 - 1].isalnum():
        j1 -= 1
    while j2 < len(new_text) and new_text[j2].isalnum():
        j2 += 1
    words = new_text[j1:j2].strip()
    if not words:
        return None
    j1 += len(new_text[j1:j2]) - len(new_text[j1:j2].lstrip())
    return j1, j1 + len(words)


# --- finalising and amending (the only ones: both keep the facts right) -----------------

def finalise(db: Database, user: User, entry_id: int) -> dict[str, Any]:
    """The draft becomes revision 1, fixed from now on, and its confirmed decisions become
    its facts, all or nothing. Its dictations' audio goes once that has been committed."""
    with transaction(db):
        draft = entry_for(db, user, entry_id, "entry.finalise")
        if draft["status"] == "final":
            raise Conflict("This entry is already final; amend it to change it.")
        text = entries.check_text(draft["draft_text"] or "", final=True)
        entry_rows.insert_revision(db, entry_id, draft["kind"], draft["occurred_at"], text,
                                   draft["draft_children"], user.id)
        entry_rows.clear_draft(db, entry_id)
        entry = entry_rows.entry_by_id(db, entry_id)
        assert entry is not None
        stored, lost = store_confirmed(db, entry, entry["text"])
        # Not before the commit: a finalise that rolls back must leave the draft its audio.
        after_commit(db, partial(dictation.entry_finalised, db, entry_id))
    return {**entry, "facts_stored": stored, "facts_lost": lost}


def amend(db: Database, user: User, entry_id: int, text: str, *, kind: str | None = None,
          occurred_at: str | None = None, children: list[int] | None = None,
          based_on: int | None = None) -> dict[str, Any]:
    """A new revision of a final entry; every earlier revision stays as it was. Facts on
    unchanged words carry over, the rest come back as suggestions to re-confirm."""
    text = entries.check_text(text, final=True)
    with transaction(db):
        before = entry_for(db, user, entry_id, "entry.amend")
        if before["status"] != "final":
            raise Conflict("This entry is still a draft: finalise it, or edit the draft.")
        if based_on is not None and based_on != before["revision_count"]:
            raise Conflict(f"Someone amended this entry while you were editing (it is now at "
                           f"revision {before['revision_count']}). Your text is kept; "
                           "compare it with the latest revision and amend again.")
        entry_rows.insert_revision(
            db, entry_id, entries.check_kind(kind) if kind else before["kind"],
            entries.check_occurred_at(occurred_at) if occurred_at else before["occurred_at"],
            text, entries.check_children(db, before["case_id"], children)
            if children is not None else before["children"], user.id)
        entry_rows.clear_draft(db, entry_id)
        entry = entry_rows.entry_by_id(db, entry_id)
        assert entry is not None
        reconfirm = reanchor(db, entry, before["text"] or "", entry["text"],
                             before["revision_count"], entry["revision_count"])
    return {**entry, "reconfirm": reconfirm}


def add_person_from_mention(db: Database, user: User, taxonomy: Taxonomy, entry_id: int,
                            suggestion_id: int, details: dict[str, Any]) -> dict[str, Any]:
    """Someone not on the record becomes a person on the case, and the mention is linked.

    The caller shows likely existing people first (people.check_new_person)."""
    with transaction(db):
        entry = entry_for(db, user, entry_id, "entry.decide", log=False)
        suggestion = fact_rows.suggestion_by_id(db, suggestion_id)
        if suggestion is None or suggestion["entry_id"] != entry_id:
            raise NotFound("That suggestion does not belong to this entry.")
        if not kinds.kind_of(suggestion["kind"]).new_person:
            raise Invalid("Only a mention of a person can become a person on the record.")
        person_id = cases.add_person(db, user, entry["case_id"], details)
        decided = decide(db, user, taxonomy, entry_id, suggestion_id, "edit",
                         {"person": person_id})
    return {**decided, "person_id": person_id}
