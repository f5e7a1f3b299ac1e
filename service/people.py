"""People across the authority: likely duplicates before a new record is made, and merging.

Duplicate files for the same child gave practitioners a partial picture (DESIGN.md), so
every new person is checked against everyone on every record: phonetic and fuzzy name
similarity, date of birth and address. Nothing is linked or merged without a person deciding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jellyfish
from rapidfuzz import fuzz
from sqlite_utils import Database

from service import access, cases
from service.accounts import User
from service.errors import Conflict, Invalid, NotFound
from service.storage import cases as case_rows
from service.storage.db import transaction

LIKELY = 0.75  # a candidate scoring at or above this is shown


@dataclass(frozen=True)
class Candidate:
    person: dict[str, Any]
    score: float
    reasons: tuple[str, ...]


def _parts(name: str) -> tuple[str, str]:
    words = [w for w in name.replace("-", " ").split() if w]
    if not words:
        return "", ""
    return words[0].lower(), words[-1].lower()


def _name_score(a: str, b: str) -> tuple[float, list[str]]:
    first_a, last_a = _parts(a)
    first_b, last_b = _parts(b)
    if not first_a or not first_b:
        return 0.0, []
    reasons = []
    first = jellyfish.jaro_winkler_similarity(first_a, first_b)
    last = jellyfish.jaro_winkler_similarity(last_a, last_b)
    if jellyfish.metaphone(first_a) == jellyfish.metaphone(first_b):
        first = max(first, 0.95)
        reasons.append("first name sounds the same")
    if jellyfish.metaphone(last_a) == jellyfish.metaphone(last_b):
        last = max(last, 0.95)
        reasons.append("surname sounds the same")
    whole = fuzz.token_sort_ratio(a.lower(), b.lower()) / 100
    if whole >= 0.9:
        reasons.append("similar name")
    value = max(0.5 * first + 0.5 * last, whole)
    if first < 0.85:
        # Same surname, different first name: most often a relative, not a duplicate.
        value = min(value, 0.6)
    return value, reasons


def score(a: dict[str, Any], b: dict[str, Any]) -> Candidate:
    """How likely two person records are the same person, and why."""
    name, reasons = _name_score(a.get("name") or "", b.get("name") or "")
    value = name
    if a.get("dob") and b.get("dob"):
        if a["dob"] == b["dob"]:
            value = min(1.0, value + 0.2)
            reasons.append("same date of birth")
        else:
            value -= 0.3  # a different birth date is strong evidence of a different person
    if a.get("address") and b.get("address") and fuzz.token_set_ratio(
            a["address"].lower(), b["address"].lower()) >= 90:
        value = min(1.0, value + 0.1)
        reasons.append("same address")
    return Candidate(b, round(value, 3), tuple(reasons))


def likely_duplicates(db: Database, details: dict[str, Any],
                      exclude: tuple[int, ...] = ()) -> list[Candidate]:
    """Existing people across every record who may be the person described."""
    found = [score(details, person) for person in case_rows.all_people(db)
             if person["id"] not in exclude and not person["merged_into"]]
    return sorted((c for c in found if c.score >= LIKELY), key=lambda c: -c.score)[:10]


def check_new_person(db: Database, user: User, case_id: int,
                     details: dict[str, Any]) -> list[dict[str, Any]]:
    """For the page and API: who this new person might already be, shown before creating.

    People on cases the user cannot read are shown by name, birth date and case reference
    only, so a duplicate file is not made without revealing that case's record."""
    if not str(details.get("name") or "").strip():
        raise Invalid("Give the person's name to check for an existing record.")
    cases.editable_case(db, user, case_id, "person.duplicate_check")
    readable: dict[int, bool] = {}
    shown = []
    for candidate in likely_duplicates(db, details):
        person = candidate.person
        if person["case_id"] not in readable:
            case = case_rows.case_by_id(db, person["case_id"])
            readable[person["case_id"]] = case is not None and access.can_read_case(db, user,
                                                                                  case)
        visible = readable[person["case_id"]]
        shown.append({"id": person["id"], "name": person["name"], "dob": person["dob"],
                      "case_id": person["case_id"], "case_reference": person["case_reference"],
                      "same_case": person["case_id"] == case_id,
                      "relationship": person["relationship"] if visible else None,
                      "address": person["address"] if visible else None,
                      "score": candidate.score, "reasons": list(candidate.reasons)})
    access.record(db, user, "person.duplicate_check", case_id=case_id,
                  detail=f"{len(shown)} candidates")
    return shown


def duplicate_pairs(db: Database) -> list[tuple[dict[str, Any], dict[str, Any], Candidate]]:
    """Likely duplicate pairs across the authority, for an admin to review."""
    people = [p for p in case_rows.all_people(db) if not p["merged_into"]]
    # Block on the start of the surname's sound, not to compare everyone with everyone.
    blocks: dict[str, list[dict[str, Any]]] = {}
    for person in people:
        blocks.setdefault(jellyfish.metaphone(_parts(person["name"])[1] or "?")[:2], []
                          ).append(person)
    pairs = []
    for block in blocks.values():
        for i, a in enumerate(block):
            for b in block[i + 1:]:
                candidate = score(a, b)
                if candidate.score >= LIKELY:
                    pairs.append((a, b, candidate))
    return sorted(pairs, key=lambda pair: -pair[2].score)


def merge(db: Database, user: User, keep_id: int, duplicate_id: int) -> None:
    """Mark `duplicate_id` as the same person as `keep_id`. Both records and everything
    linked to them stay; the duplicate points at the kept record. Admins only; audited."""
    access.require_admin(db, user, "person.merge")
    if keep_id == duplicate_id:
        raise Invalid("A person cannot be merged into themselves.")
    with transaction(db):
        keep, duplicate = case_rows.person_by_id(db, keep_id), case_rows.person_by_id(
            db, duplicate_id)
        if keep is None or duplicate is None:
            raise NotFound("There is no such person.")
        if duplicate["merged_into"] or keep["merged_into"]:
            raise Conflict("One of these records has already been merged.")
        case_rows.mark_merged(db, duplicate_id, keep_id, user.id)
        for person in (keep, duplicate):
            access.record(db, user, "person.merge", case_id=person["case_id"],
                          person_id=person["id"], detail=f"{duplicate_id} into {keep_id}")
