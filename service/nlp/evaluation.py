"""Score the suggester against annotated notes (shared/annotation-format.md).

Matching: a suggestion matches a gold mention when their character spans overlap; each
suggestion matches at most one gold mention (greedy, in text order, largest overlap
first). Risk labels must also agree for label recall/precision; assertion accuracy is
over label-matched risks. Dates: gold lists day-specific expressions only, so date
precision counts only suggestions with day precision.
"""

from __future__ import annotations

import datetime
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service.nlp.record import CaseRecord

TARGETS = {
    "risk.label_recall": 0.95,
    "risk.label_precision": 0.85,
    "risk.assertion_accuracy": 0.90,
    "person.mention_recall": 0.95,
    "person.link_accuracy": 0.95,
    "date.value_accuracy": 0.95,
    "child_seen.f1": 0.90,
    "tag.f1": 0.80,
}
MAX_PRESENT_AS_NEGATED = 0


def load_notes(directory: Path) -> list[dict[str, Any]]:
    paths = sorted(Path(directory).rglob("*.json"))
    notes = []
    for path in paths:
        note = json.loads(path.read_text(encoding="utf-8"))
        note["_path"] = str(path)
        notes.append(note)
    return notes


def gold_span(text: str, item: dict[str, Any]) -> tuple[int, int]:
    """Character span of a gold mention: the nth occurrence of its text."""
    needle, nth = item["text"], int(item.get("nth", 1))
    pos = -1
    for _ in range(nth):
        pos = text.find(needle, pos + 1)
        if pos < 0:
            raise ValueError(f"{needle!r} (nth={nth}) not found in note text")
    return pos, pos + len(needle)


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def match(gold: list[tuple[int, int]], pred: list[tuple[int, int]],
          ok=lambda g, p: True) -> list[tuple[int, int]]:
    """One-to-one (gold index, pred index) pairs by overlap, gold in text order."""
    used: set[int] = set()
    pairs = []
    for gi, g in enumerate(gold):
        best, best_ov = None, 0
        for pi, p in enumerate(pred):
            if pi in used or not ok(gi, pi):
                continue
            ov = _overlap(g, p)
            if ov > best_ov:
                best, best_ov = pi, ov
        if best is not None:
            used.add(best)
            pairs.append((gi, best))
    return pairs


@dataclass
class Tally:
    counts: Counter = field(default_factory=Counter)
    per_assertion: Counter = field(default_factory=Counter)
    per_assertion_ok: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if b else None


def _f1(p: float | None, r: float | None) -> float | None:
    if not p or not r:
        return 0.0 if p is not None and r is not None else None
    return round(2 * p * r / (p + r), 3)


def score_note(note: dict[str, Any], suggestions: list[dict[str, Any]], t: Tally) -> None:
    text, c, nid = note["text"], t.counts, note.get("id", "?")
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for s in suggestions:
        by_kind.setdefault(s["kind"], []).append(s)

    # People
    gold = note.get("people", [])
    gspans = [gold_span(text, g) for g in gold]
    preds = by_kind.get("person", [])
    pairs = match(gspans, [(p["start"], p["end"]) for p in preds])
    c["person.gold"] += len(gold)
    c["person.pred"] += len(preds)
    c["person.matched"] += len(pairs)
    for gi, pi in pairs:
        g, p = gold[gi], preds[pi]
        if p["person"] == g["person"]:
            c["person.linked_ok"] += 1
        else:
            if p["person"] is None and any(x["id"] == g["person"] for x in p["candidates"]):
                c["person.deferred"] += 1
            t.errors.append(f"{nid} person {g['text']!r}: gold {g['person']} got {p['person']}")
    for gi in set(range(len(gold))) - {g for g, _ in pairs}:
        t.errors.append(f"{nid} person missed {gold[gi]['text']!r}")

    # Dates (gold: day-specific only)
    gold = note.get("dates", [])
    gspans = [gold_span(text, g) for g in gold]
    preds = [d for d in by_kind.get("date", []) if d["precision"] == "day"]
    pairs = match(gspans, [(p["start"], p["end"]) for p in preds])
    c["date.gold"] += len(gold)
    c["date.pred"] += len(preds)
    c["date.matched"] += len(pairs)
    for gi, pi in pairs:
        if preds[pi]["value"] == gold[gi]["value"]:
            c["date.value_ok"] += 1
        else:
            t.errors.append(f"{nid} date {gold[gi]['text']!r}: gold {gold[gi]['value']} "
                            f"got {preds[pi]['value']}")
    for gi in set(range(len(gold))) - {g for g, _ in pairs}:
        t.errors.append(f"{nid} date missed {gold[gi]['text']!r}")

    # Risks
    gold = note.get("risks", [])
    gspans = [gold_span(text, g) for g in gold]
    preds = by_kind.get("risk", [])
    pspans = [(p["start"], p["end"]) for p in preds]
    any_pairs = match(gspans, pspans)
    label_pairs = match(gspans, pspans, lambda g, p: gold[g]["label"] == preds[p]["label"])
    c["risk.gold"] += len(gold)
    c["risk.pred"] += len(preds)
    c["risk.matched"] += len(any_pairs)
    c["risk.label_matched"] += len(label_pairs)
    for gi, pi in any_pairs:
        if gold[gi]["assertion"] == "present" and preds[pi]["assertion"] == "negated":
            c["risk.present_as_negated"] += 1
            t.errors.append(f"{nid} PRESENT RISK RETURNED AS NEGATED {gold[gi]['text']!r}")
    for gi, pi in label_pairs:
        want, got = gold[gi]["assertion"], preds[pi]["assertion"]
        t.per_assertion[want] += 1
        if want == got:
            t.per_assertion_ok[want] += 1
            c["risk.assertion_ok"] += 1
        else:
            t.errors.append(f"{nid} risk {gold[gi]['text']!r}: assertion {want} got {got}")
    matched_g = {g for g, _ in label_pairs}
    for gi in set(range(len(gold))) - matched_g:
        t.errors.append(f"{nid} risk missed {gold[gi]['text']!r} ({gold[gi]['label']})")
    for pi in set(range(len(preds))) - {p for _, p in label_pairs}:
        t.errors.append(f"{nid} risk extra {preds[pi]['text']!r} ({preds[pi]['label']})")

    # Children seen
    gold_seen = {g["person"]: bool(g.get("alone")) for g in note.get("child_seen", [])}
    pred_seen = {s["person"]: bool(s.get("alone")) for s in by_kind.get("child_seen", [])}
    both = set(gold_seen) & set(pred_seen)
    c["seen.gold"] += len(gold_seen)
    c["seen.pred"] += len(pred_seen)
    c["seen.tp"] += len(both)
    c["seen.alone_ok"] += sum(gold_seen[p] == pred_seen[p] for p in both)
    for p in set(gold_seen) ^ set(pred_seen):
        t.errors.append(f"{nid} child_seen {'missed' if p in gold_seen else 'extra'} {p}")
    for p in both:
        if gold_seen[p] != pred_seen[p]:
            t.errors.append(f"{nid} child_seen {p} alone: gold {gold_seen[p]}")

    # Tags
    gold_tags = set(note.get("tags", []))
    pred_tags = {s["label"] for s in by_kind.get("tag", [])}
    c["tag.gold"] += len(gold_tags)
    c["tag.pred"] += len(pred_tags)
    c["tag.tp"] += len(gold_tags & pred_tags)
    for tag in gold_tags ^ pred_tags:
        t.errors.append(f"{nid} tag {'missed' if tag in gold_tags else 'extra'} {tag}")


def figures(t: Tally, notes: int) -> dict[str, Any]:
    c = t.counts
    out: dict[str, Any] = {"notes": notes}
    out["person.mention_recall"] = _ratio(c["person.matched"], c["person.gold"])
    out["person.mention_precision"] = _ratio(c["person.matched"], c["person.pred"])
    out["person.link_accuracy"] = _ratio(c["person.linked_ok"], c["person.matched"])
    out["person.deferred_with_gold_candidate"] = c["person.deferred"]
    out["date.mention_recall"] = _ratio(c["date.matched"], c["date.gold"])
    out["date.mention_precision"] = _ratio(c["date.matched"], c["date.pred"])
    out["date.value_accuracy"] = _ratio(c["date.value_ok"], c["date.matched"])
    out["risk.mention_recall"] = _ratio(c["risk.matched"], c["risk.gold"])
    out["risk.mention_precision"] = _ratio(c["risk.matched"], c["risk.pred"])
    out["risk.label_recall"] = _ratio(c["risk.label_matched"], c["risk.gold"])
    out["risk.label_precision"] = _ratio(c["risk.label_matched"], c["risk.pred"])
    out["risk.assertion_accuracy"] = _ratio(c["risk.assertion_ok"], c["risk.label_matched"])
    out["risk.assertion_accuracy_by_assertion"] = {
        a: _ratio(t.per_assertion_ok[a], n) for a, n in sorted(t.per_assertion.items())
    }
    out["risk.assertion_count_by_assertion"] = dict(sorted(t.per_assertion.items()))
    out["risk.present_returned_as_negated"] = c["risk.present_as_negated"]
    p, r = _ratio(c["seen.tp"], c["seen.pred"]), _ratio(c["seen.tp"], c["seen.gold"])
    out["child_seen.precision"], out["child_seen.recall"] = p, r
    out["child_seen.f1"] = _f1(p, r)
    out["child_seen.alone_accuracy"] = _ratio(c["seen.alone_ok"], c["seen.tp"])
    p, r = _ratio(c["tag.tp"], c["tag.pred"]), _ratio(c["tag.tp"], c["tag.gold"])
    out["tag.precision"], out["tag.recall"] = p, r
    out["tag.f1"] = _f1(p, r)
    out["counts"] = dict(sorted(c.items()))
    return out


def evaluate_notes(suggester, notes: list[dict[str, Any]]) -> tuple[dict[str, Any], Tally]:
    items = [
        (n["text"], CaseRecord.from_note(n), datetime.date.fromisoformat(n["visit_date"]))
        for n in notes
    ]
    tally = Tally()
    for note, suggestions in zip(notes, suggester.suggest_many(items), strict=True):
        score_note(note, suggestions, tally)
    return figures(tally, len(notes)), tally


def target_failures(fig: dict[str, Any]) -> list[str]:
    fails = [f"{k} {fig.get(k)} < {v}" for k, v in TARGETS.items()
             if fig.get(k) is None or fig[k] < v]
    if fig["risk.present_returned_as_negated"] > MAX_PRESENT_AS_NEGATED:
        fails.append(f"risk.present_returned_as_negated {fig['risk.present_returned_as_negated']}")
    return fails


def report(fig: dict[str, Any], directory: str, version: str) -> str:
    def f(key: str) -> str:
        v = fig.get(key)
        mark = ""
        if key in TARGETS and v is not None:
            mark = f"   (target >= {TARGETS[key]}: {'ok' if v >= TARGETS[key] else 'MISSED'})"
        return f"  {key:<40} {'-' if v is None else v}{mark}"
    lines = [
        f"casenotes eval {directory}: {fig['notes']} notes, pipeline {version}",
        "matching: a suggestion matches a gold mention when their character spans overlap",
        "(one-to-one); risk label must agree for label recall/precision; assertion accuracy",
        "is over label-matched risks; date precision counts day-precision suggestions only.",
        "",
        "people", f("person.mention_recall"), f("person.mention_precision"),
        f("person.link_accuracy"), f("person.deferred_with_gold_candidate"),
        "dates", f("date.mention_recall"), f("date.mention_precision"),
        f("date.value_accuracy"),
        "risks", f("risk.mention_recall"), f("risk.mention_precision"),
        f("risk.label_recall"), f("risk.label_precision"), f("risk.assertion_accuracy"),
    ]
    for a, v in fig["risk.assertion_accuracy_by_assertion"].items():
        n = fig["risk.assertion_count_by_assertion"].get(a, 0)
        lines.append(f"    assertion {a:<30} {v}   (n={n})")
    n = fig["risk.present_returned_as_negated"]
    lines += [
        f"  {'risk.present_returned_as_negated':<40} {n}   (target 0: {'ok' if n == 0 else 'MISSED'})",
        "children seen", f("child_seen.precision"), f("child_seen.recall"), f("child_seen.f1"),
        f("child_seen.alone_accuracy"),
        "tags", f("tag.precision"), f("tag.recall"), f("tag.f1"),
    ]
    return "\n".join(lines)
