"""The suggestion engine: (text, case record, visit date) -> suggestions for a worker.

Load once with `Suggester.load(models_dir)`; `suggest` is pure apart from a cheap check
that the rule files in models/ have not changed (if they have, they are reloaded; if the
new files are invalid the last good rules stay in use and `taxonomy_error` says why). The
rules come from the process's one RuleFiles for that directory, which the pages read too.
"""

from __future__ import annotations

import datetime
import itertools
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import spacy
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc

from service import fact_kinds
from service.nlp.child_seen import ChildSeenFinder
from service.nlp.context import Assertion, ContextComponent
from service.nlp.dates import find_dates
from service.nlp.people import PeopleFinder, PersonMention, build_index
from service.nlp.record import CaseRecord
from service.nlp.risks import RiskFinder, ensure_extensions, mark_people
from service.nlp.rule_files import RuleFiles, shared_rule_files
from service.nlp.sentences import sentence
from service.nlp.tags import TagFinder
from service.nlp.taxonomy import RuleSet, Taxonomy, load_manifest

ENGINE_VERSION = "casenotes-nlp-1"
CHUNK_CHARS = 20_000
# Control characters (not tab/newline) become spaces: offsets stay true to the input.
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u2028\u2029]")


@dataclass(frozen=True)
class _Compiled:
    rules: RuleSet
    people: PeopleFinder
    context: ContextComponent
    risks: RiskFinder
    tags: TagFinder
    child_seen: ChildSeenFinder
    matcher: RuleMatcher  # every component's patterns: one pass over each doc


class RuleMatcher:
    """All rule patterns in one pass. Plain word sequences, including `word*` prefixes, go to
    a PhraseMatcher (a hash lookup, far faster than spaCy's Matcher over ~1,000 patterns):
    each token's NORM is set to its lower-case text, or to `prefix*` for the longest
    wildcard prefix it starts with. Gaps and placeholders stay in spaCy's Matcher."""

    def __init__(self, vocab) -> None:
        self.vocab = vocab
        self.matcher = Matcher(vocab)
        self.phrases = PhraseMatcher(vocab, attr="NORM")
        self.pending: list[tuple[str, list[list[dict]]]] = []
        self.prefixes: set[str] = set()
        self.exact: set[str] = set()  # words some pattern names exactly keep their own NORM
        self.by_start: dict[str, list[str]] = {}

    @staticmethod
    def _prefix(value: Any) -> str | None:
        if isinstance(value, dict) and set(value) == {"REGEX"} and value["REGEX"].startswith("^"):
            body = value["REGEX"][1:]
            plain = re.sub(r"\\(.)", r"\1", body)
            if re.escape(plain) == body:
                return plain
        return None

    def add(self, key: str, patterns: list[list[dict]]) -> None:
        for pattern in patterns:
            for tok in pattern:
                value = tok.get("LOWER")
                prefix = self._prefix(value) if set(tok) == {"LOWER"} else None
                if prefix:
                    self.prefixes.add(prefix)
                elif isinstance(value, str):
                    self.exact.add(value)
                elif isinstance(value, dict) and "IN" in value:
                    self.exact.update(value["IN"])
        self.pending.append((key, patterns))

    def norm(self, lower: str) -> str:
        if lower in self.exact:
            return lower
        best = None
        for prefix in self.by_start.get(lower[:2], ()):
            if lower.startswith(prefix) and (best is None or len(prefix) > len(best)):
                best = prefix
        return f"{best}*" if best else lower

    def _slots(self, pattern: list[dict]) -> list[list[str]] | None:
        slots = []
        for tok in pattern:
            if set(tok) != {"LOWER"}:
                return None
            value = tok["LOWER"]
            prefix = self._prefix(value)
            if isinstance(value, str):
                slots.append([self.norm(value)])
            elif prefix:
                slots.append([f"{prefix}*", *sorted(w for w in self.exact if w.startswith(prefix))])
            elif isinstance(value, dict) and set(value) == {"IN"}:
                slots.append([self.norm(v) for v in value["IN"]])
            else:
                return None
        return slots

    def build(self) -> RuleMatcher:
        for prefix in self.prefixes:
            self.by_start.setdefault(prefix[:2], []).append(prefix)
        for key, patterns in self.pending:
            complex_patterns, docs = [], []
            for pattern in patterns:
                slots = self._slots(pattern)
                combos = 1
                for slot in slots or []:
                    combos *= len(slot)
                if slots is None or combos > 200:
                    complex_patterns.append(pattern)
                    continue
                for words in itertools.product(*slots):
                    pdoc = Doc(self.vocab, words=list(words))
                    for tok, word in zip(pdoc, words, strict=True):
                        tok.norm_ = word
                    docs.append(pdoc)
            if complex_patterns:
                self.matcher.add(key, complex_patterns)
            if docs:
                self.phrases.add(key, docs)
        self.pending = []
        return self

    def __call__(self, doc: Doc) -> list[tuple[int, int, int]]:
        for tok in doc:
            tok.norm_ = self.norm(tok.lower_)
        found = list(self.phrases(doc)) if len(self.phrases) else []
        if len(self.matcher):
            found.extend(self.matcher(doc))
        return sorted(found, key=lambda m: (m[1], m[2]))


def spacy_packages(models_dir: Path) -> tuple[str, ...]:
    return load_manifest(models_dir).spacy_packages


def load_spacy(models_dir: Path) -> Language:
    """The first installed package the manifest lists (official first, then re-upload)."""
    errors = []
    manifest = load_manifest(models_dir)
    for package in manifest.spacy_packages:
        try:
            # See the manifest: lemmatizer and NER are left out (unused / slow); the parser
            # and tagger are needed for sentences, tense and proper nouns.
            return spacy.load(package, exclude=list(manifest.spacy_exclude))
        except OSError as exc:
            errors.append(f"{package}: {exc}")
    raise RuntimeError("no spaCy English model installed: " + "; ".join(errors))


def _chunks(text: str) -> list[tuple[int, str]]:
    """Split long text at line or sentence ends so no single doc gets huge."""
    if len(text) <= CHUNK_CHARS:
        return [(0, text)]
    out, pos = [], 0
    while pos < len(text):
        end = min(pos + CHUNK_CHARS, len(text))
        if end < len(text):
            cut = max(text.rfind("\n", pos, end), text.rfind(". ", pos, end))
            if cut <= pos:
                cut = text.rfind(" ", pos, end)
            end = cut + 1 if cut > pos else end
        out.append((pos, text[pos:end]))
        pos = end
    return out


class Suggester:
    """spaCy loaded once plus the compiled rules from models/."""

    def __init__(self, nlp: Language, rule_files: RuleFiles) -> None:
        ensure_extensions()
        self.nlp = nlp
        self.rule_files = rule_files
        self._lock = threading.Lock()
        self._compiled = self._compile(rule_files.current())
        meta = nlp.meta
        self.model_name = f"{meta.get('lang', 'en')}_{meta.get('name', '?')}-{meta.get('version')}"

    @classmethod
    def load(cls, models_dir: Path) -> Suggester:
        models_dir = Path(models_dir)
        nlp = load_spacy(models_dir)
        suggester = cls(nlp, shared_rule_files(models_dir))
        # Warm up dateparser and the pipeline so the first real note is not slow.
        suggester.suggest("Saw Mum on Tuesday 3rd March.", CaseRecord(None, ()),
                          datetime.date(2026, 3, 4))
        return suggester

    def _compile(self, rules: RuleSet) -> _Compiled:
        vocab, tok = self.nlp.vocab, self.nlp.tokenizer
        context = ContextComponent(rules.context, vocab, tok)
        risks = RiskFinder(rules.taxonomy, vocab, tok)
        tags = TagFinder(rules.taxonomy, vocab, tok)
        child_seen = ChildSeenFinder(rules.context, vocab, tok)
        matcher = RuleMatcher(vocab)
        for part in (context, risks, tags, child_seen):
            for key, patterns in part.patterns:
                matcher.add(key, patterns)
        return _Compiled(rules, PeopleFinder(rules.kinship, rules.nicknames), context, risks,
                         tags, child_seen, matcher.build())

    # -- public properties -----------------------------------------------------------------
    @property
    def models_dir(self) -> Path:
        return self.rule_files.models_dir

    @property
    def taxonomy(self) -> Taxonomy:
        return self._compiled.rules.taxonomy

    @property
    def taxonomy_error(self) -> str | None:
        """Why the rule files on disk are not the rules in use (None when they are)."""
        return self.rule_files.error

    @property
    def pipeline_version(self) -> str:
        return f"{ENGINE_VERSION}+{self.model_name}+{self._compiled.rules.version}"

    # -- hot reload ------------------------------------------------------------------------
    def reload_if_changed(self) -> bool:
        """Use the rule files' current rules if they changed on disk. True if new rules are
        in use; rules the matchers cannot be built from are handed back (the last good stay)."""
        rules = self.rule_files.current()
        if rules is self._compiled.rules:
            return False
        with self._lock:
            if rules is self._compiled.rules:
                return False
            try:
                compiled = self._compile(rules)
            except ValueError as exc:
                self.rule_files.reject(rules, str(exc))
                return False
            self._compiled = compiled
            return True

    # -- suggestions -----------------------------------------------------------------------
    def suggest(self, text: str, record: CaseRecord,
                visit_date: datetime.date) -> list[dict[str, Any]]:
        return self.suggest_many([(text, record, visit_date)])[0]

    def suggest_many(
        self, items: Iterable[tuple[str, CaseRecord, datetime.date]]
    ) -> list[list[dict[str, Any]]]:
        """Several notes at once through nlp.pipe (faster for batches)."""
        self.reload_if_changed()
        compiled = self._compiled
        items = list(items)
        jobs: list[tuple[int, int, str]] = []  # (note index, char offset, chunk text)
        for n, (text, record, visit) in enumerate(items):
            if not isinstance(text, str):
                raise TypeError("text must be a string")
            if not isinstance(record, CaseRecord):
                raise TypeError("record must be a CaseRecord")
            if not isinstance(visit, datetime.date):
                raise TypeError("visit_date must be a datetime.date")
            clean = CONTROL_RE.sub(" ", text)
            if clean.strip():
                jobs.extend((n, off, chunk) for off, chunk in _chunks(clean))
        docs: dict[int, list[tuple[int, Doc]]] = {n: [] for n in range(len(items))}
        for (n, off, _), doc in zip(jobs, self.nlp.pipe(c for _, _, c in jobs), strict=True):
            docs[n].append((off, doc))
        results = [self._note(compiled, docs[n], *items[n][1:]) for n in range(len(items))]
        for (text, _, _), suggestions in zip(items, results, strict=True):
            # Quote the worker's own text, control characters and all (offsets are equal).
            for item in suggestions:
                item["text"] = text[item["start"] : item["end"]]
                for ev in item.get("evidence", ()):
                    ev["text"] = text[ev["start"] : ev["end"]]
        return results

    def _note(self, c: _Compiled, docs: list[tuple[int, Doc]], record: CaseRecord,
              visit: datetime.date) -> list[dict[str, Any]]:
        if not docs:
            return []
        version = self.pipeline_version
        index = build_index(record, c.rules.kinship, c.rules.nicknames)
        out: list[dict[str, Any]] = []
        people: list[tuple[int, PersonMention]] = []
        risks_for_tags: list[tuple[str, str, int, int]] = []
        not_a_visit = c.context.is_not_a_visit(docs[0][1])
        fallback = c.rules.context.not_a_visit_assertion if not_a_visit else None
        matches: dict[int, list[tuple[int, int, int]]] = {}
        for off, doc in docs:
            mentions = c.people.find(doc, record)
            people.extend((off, m) for m in mentions)
            mark_people(doc, mentions)
            matches[off] = c.matcher(doc)
            for m in mentions:
                item = {"kind": "person", "start": off + m.start_char, "end": off + m.end_char,
                        "text": m.text, "person": m.person, "candidates": m.candidates}
                if m.relationship:
                    item["relationship"] = m.relationship
                out.append(self._finish(item, m.confidence, m.rule, version))
            for d in find_dates(doc, visit):
                item = {"kind": "date", "start": off + d.start_char, "end": off + d.end_char,
                        "text": d.text, "value": d.value, "precision": d.precision}
                if d.ambiguous:
                    item["ambiguous"] = True
                out.append(self._finish(item, d.confidence, d.rule, version))
            hits = c.context.scan(doc, matches[off])
            found = c.risks.find(doc, mentions, index, set(index.family), matches[off])
            spans = [(r.start, r.end) for r in found]
            for r in found:
                a = c.context.assert_span(doc, r.start, r.end, hits, spans)
                if a.assertion == "present" and fallback and (
                    r.label in c.rules.context.not_a_visit_labels
                ):
                    a = Assertion(fallback, "(not a visit)", None)
                span = doc[r.start : r.end]
                item = {"kind": "risk", "start": off + span.start_char,
                        "end": off + span.end_char, "text": span.text, "label": r.label,
                        "assertion": a.assertion, "source": a.source}
                if a.trigger:
                    item["trigger"] = a.trigger
                rule = r.rule + (f"; context.{a.assertion}" if a.trigger else "")
                conf = 0.8 if a.assertion == "present" else 0.7
                out.append(self._finish(item, conf, rule, version))
                sent = sentence(doc, r.start)
                risks_for_tags.append((r.label, a.assertion, off + sent.start_char,
                                       off + sent.end_char))
        seen = c.child_seen.find(docs, people, index, visit, not_a_visit, matches)
        for s in seen:
            item = {"kind": "child_seen", "start": s.start_char, "end": s.end_char,
                    "text": s.text, "person": s.person, "alone": s.alone}
            out.append(self._finish(item, s.confidence, s.rule, version))
        full_text = "".join(doc.text for _, doc in docs) if len(docs) > 1 else docs[0][1].text
        family = len({m.person for _, m in people if m.person in index.family})
        for t in c.tags.find(docs, risks_for_tags, any(s.alone for s in seen), family,
                             matches):
            start, end = t.evidence[0] if t.evidence else (0, 0)
            item = {"kind": "tag", "start": start, "end": end,
                    "text": full_text[start:end], "label": t.label,
                    "evidence": [{"start": s, "end": e, "text": full_text[s:e]}
                                 for s, e in t.evidence]}
            conf = round(min(0.95, 0.3 + 0.25 * t.score), 2)
            item["score"] = t.score
            out.append(self._finish(item, conf, f"taxonomy.tag.{t.label}", version))
        order = {k.name: k.order for k in fact_kinds.all_kinds()}
        out.sort(key=lambda s: (s["start"], order[s["kind"]]))
        return out

    @staticmethod
    def _finish(item: dict[str, Any], confidence: float, rule: str,
                version: str) -> dict[str, Any]:
        item["confidence"] = round(float(confidence), 2)
        item["rule"] = rule
        item["pipeline_version"] = version
        return item
