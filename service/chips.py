"""Confirmed facts as short readable chips for the narrative and the entry page."""

from __future__ import annotations

from typing import Any

from service import fact_kinds


def labels_of(suggester: Any) -> dict[str, str]:
    """Taxonomy id -> label, or nothing when the engine is not loaded (ids are shown)."""
    if suggester is None:
        return {}
    taxonomy = suggester.taxonomy
    return {item.id: item.label for item in (*taxonomy.risk_indicators, *taxonomy.tags)}


def chip(fact: dict[str, Any], names: dict[int, str], labels: dict[str, str]) -> dict[str, Any]:
    kind = fact["kind"]
    text = fact_kinds.kind_of(kind).chip_text(fact, names, labels)
    return {"kind": kind, "text": text, "words": fact["text"], "fact_id": fact["id"],
            "label": fact["label"], "person_id": fact["person_id"]}


def describe(facts: list[dict[str, Any]], people: list[dict[str, Any]],
             suggester: Any) -> list[dict[str, Any]]:
    """One chip per distinct fact, risks first; repeated mentions of a person shown once."""
    names = {p["id"]: p["name"] for p in people}
    labels = labels_of(suggester)
    seen: set[tuple[Any, ...]] = set()
    shown = []
    order = {k.name: k.chip_order for k in fact_kinds.all_kinds()}
    for fact in sorted(facts, key=lambda f: (order[f["kind"]], f["start"] or 0)):
        made = chip(fact, names, labels)
        key = (made["kind"], made["text"])
        if key not in seen:
            seen.add(key)
            shown.append(made)
    return shown
