"""Suggestion-engine benchmark: latency, throughput, and a baseline of off-the-shelf parts.

Run:  .venv/bin/python bench/bench_suggest.py [--runs 30] [--batch 500]

1. A 1,000-word note (annotated fixtures joined and cut to 1,000 words): warm suggestion
   time p50/p95, beside the bare spaCy pipeline on the same text in the same run (the
   floor: what parsing alone costs).
2. Throughput in words per second for a batch of notes through Suggester.suggest_many.
3. Scores on the annotated held-out, fresh and dev notes (same matching as `casenotes eval`) for
   ours and for a baseline built from off-the-shelf parts: spaCy's own PERSON/DATE entities
   (dates resolved by dateparser), negspacy's Negex over an EntityRuler keyword list, and
   no children-seen or tags (those parts have no off-the-shelf equivalent).
Prints figures; asserts nothing. Timings depend on what else the machine is doing.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import dateparser  # noqa: E402
import negspacy.negation  # noqa: E402,F401  (registers the "negex" factory)
import spacy  # noqa: E402

from bench.common import percentile  # noqa: E402
from service.nlp import CaseRecord, Suggester  # noqa: E402
from service.nlp.evaluation import Tally, figures, load_notes, score_note  # noqa: E402
from service.nlp.suggester import spacy_packages  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "annotated"

# The keyword list a team might write by hand before building anything.
BASELINE_KEYWORDS = {
    "physical_injury": ["bruise", "bruises", "bruising", "burn", "injury", "injuries", "marks",
                        "fracture", "hit", "cut"],
    "domestic_abuse": ["domestic violence", "domestic abuse", "DV", "assault", "violence",
                       "shouting", "slapped", "punched"],
    "substance_misuse": ["drunk", "alcohol", "drinking", "drugs", "cannabis", "drink"],
    "parental_mental_health": ["depression", "anxiety", "mental health", "bipolar", "low mood"],
    "neglect": ["neglect", "hungry", "head lice", "dirty", "no food"],
    "missing_from_home": ["missing", "ran away", "run away"],
    "exploitation": ["exploitation", "CSE", "county lines", "grooming", "older men"],
    "self_harm": ["self-harm", "self harm", "self-harming", "cutting", "suicide", "overdose"],
    "sexual_abuse": ["sexual abuse", "sexual", "rape"],
    "unsafe_adult": ["conviction", "risk to children", "sex offender"],
}


def thousand_words() -> str:
    words: list[str] = []
    for note in load_notes(FIXTURES):
        words.extend(note["text"].split())
        if len(words) >= 1000:
            break
    return " ".join(words[:1000])


def full_spacy(models_dir: Path):
    """The stock small English pipeline with every component (NER included)."""
    for package in spacy_packages(models_dir):
        try:
            return spacy.load(package)
        except OSError:
            continue
    raise SystemExit("no spaCy English model installed")


def timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


class Baseline:
    """spaCy entities + negspacy + a keyword list, shaped like our suggestions."""

    def __init__(self, models_dir: Path) -> None:
        from negspacy.termsets import termset

        self.nlp = full_spacy(models_dir)
        ruler = self.nlp.add_pipe("entity_ruler", before="ner",
                                  config={"phrase_matcher_attr": "LOWER"})
        ruler.add_patterns([{"label": label.upper(), "pattern": kw}
                            for label, kws in BASELINE_KEYWORDS.items() for kw in kws])
        self.nlp.add_pipe("negex", config={
            "neg_termset": termset("en_clinical").get_patterns(),
            "ent_types": [k.upper() for k in BASELINE_KEYWORDS]})

    def suggest(self, text: str, record: CaseRecord, visit: datetime.date) -> list[dict]:
        doc = self.nlp(text)
        out: list[dict[str, Any]] = []
        base = datetime.datetime(visit.year, visit.month, visit.day)
        for ent in doc.ents:
            item: dict[str, Any] = {"start": ent.start_char, "end": ent.end_char,
                                    "text": ent.text}
            if ent.label_ == "PERSON":
                ids = [m.id for m in record.members
                       if ent.text in (m.name, m.first_name)]
                item.update(kind="person", person=ids[0] if len(ids) == 1 else None,
                            candidates=[])
            elif ent.label_ == "DATE":
                parsed = dateparser.parse(ent.text, settings={
                    "DATE_ORDER": "DMY", "RELATIVE_BASE": base})
                if parsed is None:
                    continue
                item.update(kind="date", value=parsed.date().isoformat(), precision="day")
            elif ent.label_.lower() in BASELINE_KEYWORDS:
                item.update(kind="risk", label=ent.label_.lower(),
                            assertion="negated" if ent._.negex else "present", source=None)
            else:
                continue
            out.append(item)
        return out


def score(notes: list[dict], suggest) -> dict[str, Any]:
    tally = Tally()
    for note in notes:
        record = CaseRecord.from_note(note)
        visit = datetime.date.fromisoformat(note["visit_date"])
        score_note(note, suggest(note["text"], record, visit), tally)
    return figures(tally, len(notes))


ROWS = ["person.mention_recall", "person.link_accuracy", "date.mention_recall",
        "date.value_accuracy", "risk.label_recall", "risk.label_precision",
        "risk.assertion_accuracy", "risk.present_returned_as_negated", "child_seen.f1",
        "tag.f1"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--models-dir", type=Path, default=ROOT / "models")
    args = parser.parse_args()

    print(f"command: .venv/bin/python bench/bench_suggest.py --runs {args.runs} "
          f"--batch {args.batch}")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    start = time.perf_counter()
    suggester = Suggester.load(args.models_dir)
    print(f"load (spaCy + rules + warm-up): {(time.perf_counter() - start) * 1000:.0f} ms; "
          f"pipeline {suggester.pipeline_version}")

    text = thousand_words()
    record = CaseRecord.from_note(load_notes(FIXTURES / "dev")[0])
    visit = datetime.date(2026, 3, 18)
    for _ in range(3):
        suggester.suggest(text, record, visit)
        suggester.nlp(text)
    stock = full_spacy(args.models_dir)
    for _ in range(3):
        stock(text)
    ours = timed(lambda: suggester.suggest(text, record, visit), args.runs)
    bare = timed(lambda: suggester.nlp(text), args.runs)
    stock_times = timed(lambda: stock(text), args.runs)
    print(f"\n1,000-word note, warm, {args.runs} runs (target p50 < 150 ms on 2 cores)")
    print(f"  suggester          p50 {percentile(ours, 50):7.1f} ms   "
          f"p95 {percentile(ours, 95):7.1f} ms")
    print(f"  bare spaCy (floor) p50 {percentile(bare, 50):7.1f} ms   "
          f"p95 {percentile(bare, 95):7.1f} ms   (the pipeline as the suggester loads it: "
          f"{', '.join(suggester.nlp.pipe_names)})")
    print(f"  stock spaCy sm     p50 {percentile(stock_times, 50):7.1f} ms   "
          f"p95 {percentile(stock_times, 95):7.1f} ms   (all components: "
          f"{', '.join(stock.pipe_names)})")

    notes = load_notes(FIXTURES)
    batch = [notes[i % len(notes)] for i in range(args.batch)]
    items = [(n["text"], CaseRecord.from_note(n), datetime.date.fromisoformat(n["visit_date"]))
             for n in batch]
    words = sum(len(n["text"].split()) for n in batch)
    start = time.perf_counter()
    suggester.suggest_many(items)
    elapsed = time.perf_counter() - start
    print(f"\nbatch of {args.batch} notes ({words} words): {elapsed:.1f} s, "
          f"{words / elapsed:,.0f} words/s")

    baseline = Baseline(args.models_dir)
    print("\nscores (spans overlap = match; see `casenotes eval`)")
    for split in ("heldout", "fresh", "dev"):
        split_notes = load_notes(FIXTURES / split)
        ours_fig = score(split_notes, suggester.suggest)
        base_fig = score(split_notes, baseline.suggest)
        print(f"  {split} ({len(split_notes)} notes)      {'ours':>8} {'baseline':>9}")
        for row in ROWS:
            a, b = ours_fig.get(row), base_fig.get(row)
            print(f"    {row:<34} {'-' if a is None else a:>8} {'-' if b is None else b:>9}")
    print("\nbaseline: spaCy PERSON/DATE entities (+dateparser), EntityRuler keyword list + "
          "negspacy Negex (en_clinical); no children seen, no tags.")
    print(json.dumps({"suggest_p50_ms": round(percentile(ours, 50), 1),
                      "bare_p50_ms": round(percentile(bare, 50), 1),
                      "words_per_s": round(words / elapsed)}))


if __name__ == "__main__":
    main()
