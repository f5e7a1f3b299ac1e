"""Confirmed facts as short readable chips for the narrative and the entry page."""

from __future__ import annotations

from datetime import date
from typing import Any

from service.nlp.taxonomy import Taxonomy

KIND_ORDER = {"risk": 0, "child_seen": 1, "person": 2, "date": 3, "tag": 4}


def chip(fact: dict[str, Any], names: dict[int, str], taxonomy: Taxonomy) -> dict[str, Any]:
    kind = fact["kind"]
    if kind == "person":
        text = names.get(fact["person_id"], f"{fact['text']} (not on the record)")
    elif kind == "child_seen":
        text = f"{names.get(fact['person_id'], 'child')} seen" + (" alone" if fact["alone"]
                                                                  else "")
    elif kind == "date":
        text = date.fromisoformat(fact["value"]).strftime("%-d %b %Y") if fact["value"] else ""
        text = f"{fact['text']}: {text}"
    elif kind == "risk":
        text = f"{taxonomy.label(fact['label'])} ({fact['assertion']})"
    else:
        text = taxonomy.label(fact["label"])
    return {"kind": kind, "text": text, "words": fact["text"], "fact_id": fact["id"],
            "label": fact["label"], "person_id": fact["person_id"]}


def describe(facts: list[dict[str, Any]], people: list[dict[str, Any]],
             taxonomy: Taxonomy) -> list[dict[str, Any]]:
    """One chip per distinct fact, risks first; repeated mentions of a person shown once."""
    names = {p["id"]: p["name"] for p in people}
    seen: set[tuple[Any, ...]] = set()
    shown = []
    for fact in sorted(facts, key=lambda f: (KIND_ORDER[f["kind"]], f["start"] or 0)):
        made = chip(fact, names, taxonomy)
        key = (made["kind"], made["text"])
        if key not in seen:
            seen.add(key)
            shown.append(made)
    return shown
