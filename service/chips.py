"""Confirmed facts as short readable chips for the narrative and the entry page."""

from __future__ import annotations

from typing import Any

from service import fact_kinds
from service.nlp.taxonomy import Taxonomy


def labels_of(taxonomy: Taxonomy) -> dict[str, str]:
    """Taxonomy id -> label, for the fact kinds' chip text."""
    return {**taxonomy.risk_labels, **taxonomy.tag_labels}


def chip(fact: dict[str, Any], names: dict[int, str], taxonomy: Taxonomy) -> dict[str, Any]:
    kind = fact["kind"]
    text = fact_kinds.kind_of(kind).chip_text(fact, names, labels_of(taxonomy))
    return {"kind": kind, "text": text, "words": fact["text"], "fact_id": fact["id"],
            "label": fact["label"], "person_id": fact["person_id"]}


def describe(facts: list[dict[str, Any]], people: list[dict[str, Any]],
             taxonomy: Taxonomy) -> list[dict[str, Any]]:
    """One chip per distinct fact, risks first; repeated mentions of a person shown once."""
    names = {p["id"]: p["name"] for p in people}
    seen: set[tuple[Any, ...]] = set()
    shown = []
    order = {k.name: k.chip_order for k in fact_kinds.all_kinds()}
    for fact in sorted(facts, key=lambda f: (order[f["kind"]], f["start"] or 0)):
        made = chip(fact, names, taxonomy)
        key = (made["kind"], made["text"])
        if key not in seen:
            seen.add(key)
            shown.append(made)
    return shown
