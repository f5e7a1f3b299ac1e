"""Load and validate the rule files in models/: taxonomy, context rules, kinship, nicknames.

Every problem is reported as a TaxonomyError naming the file, the entry and what is wrong,
so a local authority editing the YAML can fix it without reading Python.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from spacy.tokenizer import Tokenizer

from service.nlp.phrases import PhraseSyntaxError, compile_phrase

RULE_FILES = ("taxonomy.yaml", "context_rules.yaml", "kinship.yaml", "nicknames.yaml")
ASSERTIONS = ("negated", "hypothetical", "possible", "historical", "reported")
DIRECTIONS = ("forward", "backward", "bidirectional")
ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class TaxonomyError(ValueError):
    """A rule file in models/ is missing or malformed: file, entry and problem."""

    def __init__(self, file: str, entry: str, problem: str) -> None:
        super().__init__(f"{file}: {entry}: {problem}")
        self.file, self.entry, self.problem = file, entry, problem


@dataclass(frozen=True)
class RiskIndicator:
    id: str
    label: str
    phrases: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    adult_label: str | None = None
    adult_label_by: str = "subject"


@dataclass(frozen=True)
class Tag:
    id: str
    label: str
    phrases: tuple[str, ...]
    min_score: int = 2
    from_risks: tuple[str, ...] = ()
    from_child_seen_alone: bool = False
    from_family_members: bool = False


@dataclass(frozen=True)
class Taxonomy:
    """The risk indicators and tags, with human labels (what the UI lists)."""

    version: str
    risk_indicators: tuple[RiskIndicator, ...]
    tags: tuple[Tag, ...]
    max_tags_per_note: int | None = None

    def labels(self) -> dict[str, dict[str, str]]:
        return {
            "risk_indicators": {r.id: r.label for r in self.risk_indicators},
            "tags": {t.id: t.label for t in self.tags},
        }


@dataclass(frozen=True)
class Trigger:
    phrase: str
    direction: str
    scope: int
    needs_subject: bool = False


@dataclass(frozen=True)
class AssertionRules:
    triggers: tuple[Trigger, ...]
    pseudo: tuple[str, ...]
    terminations: tuple[str, ...]


@dataclass(frozen=True)
class ContextRules:
    version: str
    priority: tuple[str, ...]
    terminations: tuple[str, ...]
    assertions: dict[str, AssertionRules]
    child_seen: dict[str, tuple[str, ...]]
    not_a_visit: tuple[str, ...] = ()
    not_a_visit_assertion: str | None = None
    not_a_visit_labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class KinTerm:
    words: tuple[str, ...]
    roles: tuple[str, ...]
    needs_determiner: bool = False


@dataclass(frozen=True)
class Kinship:
    version: str
    family: tuple[KinTerm, ...]
    professionals: tuple[KinTerm, ...]
    child_roles: tuple[str, ...]
    never_children: tuple[str, ...]
    female_roles: tuple[str, ...]
    male_roles: tuple[str, ...]
    titles: dict[str, str]
    relationships: tuple[str, ...]
    not_people: frozenset[str]


@dataclass(frozen=True)
class RuleSet:
    """Everything loaded from models/, plus the file times it was loaded at."""

    taxonomy: Taxonomy
    context: ContextRules
    kinship: Kinship
    nicknames: dict[str, tuple[str, ...]]
    mtimes: dict[str, float] = field(default_factory=dict)

    @property
    def version(self) -> str:
        return (
            f"tax-{self.taxonomy.version}+ctx-{self.context.version}"
            f"+kin-{self.kinship.version}"
        )


def rule_mtimes(models_dir: Path) -> dict[str, float]:
    out = {}
    for name in RULE_FILES:
        try:
            out[name] = (models_dir / name).stat().st_mtime
        except OSError:
            out[name] = -1.0
    return out


class _Reader:
    """Small helpers that raise TaxonomyError with file and entry filled in."""

    def __init__(self, file: str, tokenizer: Tokenizer) -> None:
        self.file, self.tokenizer = file, tokenizer

    def fail(self, entry: str, problem: str) -> TaxonomyError:
        return TaxonomyError(self.file, entry, problem)

    def mapping(self, value: Any, entry: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(entry, f"expected a mapping, got {type(value).__name__}")
        return value

    def strings(self, value: Any, entry: str, *, allow_empty: bool = True) -> tuple[str, ...]:
        if value is None and allow_empty:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
            raise self.fail(entry, "expected a list of words or phrases")
        if not value and not allow_empty:
            raise self.fail(entry, "the list is empty")
        return tuple(str(v) for v in value)

    def phrases(self, value: Any, entry: str, *, allow_empty: bool = False) -> tuple[str, ...]:
        items = self.strings(value, entry, allow_empty=allow_empty)
        for phrase in items:
            try:
                compile_phrase(phrase, self.tokenizer)
            except PhraseSyntaxError as exc:
                raise self.fail(entry, f"phrase {phrase!r}: {exc}") from None
        return items

    def version(self, data: dict[str, Any]) -> str:
        if not data.get("version"):
            raise self.fail("version", "missing: every rule file carries a version")
        return str(data["version"])


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TaxonomyError(path.name, "(file)", f"cannot read: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "(file)"
        raise TaxonomyError(path.name, where, f"not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise TaxonomyError(path.name, "(file)", "expected a mapping at the top level")
    return data


def load_taxonomy(path: Path, tokenizer: Tokenizer) -> Taxonomy:
    r = _Reader(path.name, tokenizer)
    data = _read_yaml(path)
    version = r.version(data)
    risks: list[RiskIndicator] = []
    seen: set[str] = set()
    for i, raw in enumerate(data.get("risk_indicators") or []):
        raw = r.mapping(raw, f"risk_indicators[{i}]")
        rid = raw.get("id")
        entry = f"risk_indicators[{i}] ({rid or 'no id'})"
        if not isinstance(rid, str) or not ID_RE.match(rid):
            raise r.fail(entry, "id must be lower_snake_case")
        if rid in seen:
            raise r.fail(entry, f"duplicate id {rid!r}")
        seen.add(rid)
        risks.append(
            RiskIndicator(
                id=rid,
                label=str(raw.get("label") or rid.replace("_", " ").capitalize()),
                phrases=r.phrases(raw.get("phrases"), f"{entry}.phrases"),
                exclude=r.phrases(raw.get("exclude"), f"{entry}.exclude", allow_empty=True),
                adult_label=raw.get("adult_label"),
                adult_label_by=str(raw.get("adult_label_by", "subject")),
            )
        )
        if risks[-1].adult_label_by not in ("subject", "possessor"):
            raise r.fail(entry, "adult_label_by must be subject or possessor")
    if not risks:
        raise r.fail("risk_indicators", "no risk indicators defined")
    for risk in risks:
        if risk.adult_label and risk.adult_label not in seen:
            raise r.fail(f"risk_indicators ({risk.id})", f"adult_label {risk.adult_label!r} "
                         "is not a risk indicator id")
    tags: list[Tag] = []
    tag_ids: set[str] = set()
    for i, raw in enumerate(data.get("tags") or []):
        raw = r.mapping(raw, f"tags[{i}]")
        tid = raw.get("id")
        entry = f"tags[{i}] ({tid or 'no id'})"
        if not isinstance(tid, str) or not ID_RE.match(tid):
            raise r.fail(entry, "id must be lower_snake_case")
        if tid in tag_ids:
            raise r.fail(entry, f"duplicate id {tid!r}")
        tag_ids.add(tid)
        min_score = raw.get("min_score", 2)
        if not isinstance(min_score, int) or min_score < 1:
            raise r.fail(entry, "min_score must be a whole number of at least 1")
        from_risks = r.strings(raw.get("from_risks"), f"{entry}.from_risks")
        for rid in from_risks:
            if rid not in seen:
                raise r.fail(f"{entry}.from_risks", f"{rid!r} is not a risk indicator id")
        tags.append(
            Tag(
                id=tid,
                label=str(raw.get("label") or tid.replace("_", " ").capitalize()),
                phrases=r.phrases(raw.get("phrases"), f"{entry}.phrases"),
                min_score=min_score,
                from_risks=from_risks,
                from_child_seen_alone=bool(raw.get("from_child_seen_alone", False)),
                from_family_members=bool(raw.get("from_family_members", False)),
            )
        )
    max_tags = data.get("max_tags_per_note")
    if max_tags is not None and (not isinstance(max_tags, int) or max_tags < 1):
        raise r.fail("max_tags_per_note", "must be a whole number of at least 1")
    return Taxonomy(version=version, risk_indicators=tuple(risks), tags=tuple(tags),
                    max_tags_per_note=max_tags)


def load_context(path: Path, tokenizer: Tokenizer) -> ContextRules:
    r = _Reader(path.name, tokenizer)
    data = _read_yaml(path)
    version = r.version(data)
    priority = r.strings(data.get("priority"), "priority", allow_empty=False)
    unknown = [p for p in priority if p not in ASSERTIONS]
    if unknown:
        raise r.fail("priority", f"unknown assertion(s) {unknown}; use {list(ASSERTIONS)}")
    raw_assertions = r.mapping(data.get("assertions"), "assertions")
    assertions: dict[str, AssertionRules] = {}
    for name, raw in raw_assertions.items():
        if name not in ASSERTIONS:
            raise r.fail(f"assertions.{name}", f"unknown assertion; use {list(ASSERTIONS)}")
        raw = r.mapping(raw, f"assertions.{name}")
        default_scope = raw.get("scope", 8)
        triggers = []
        for i, trig in enumerate(raw.get("triggers") or []):
            entry = f"assertions.{name}.triggers[{i}]"
            trig = r.mapping(trig, entry)
            phrase = trig.get("phrase")
            r.phrases([phrase] if isinstance(phrase, str) else phrase, entry)
            direction = trig.get("direction", "forward")
            if direction not in DIRECTIONS:
                raise r.fail(entry, f"direction {direction!r}; use {list(DIRECTIONS)}")
            scope = trig.get("scope", default_scope)
            if not isinstance(scope, int) or scope < 1:
                raise r.fail(entry, "scope must be a whole number of words, at least 1")
            triggers.append(Trigger(phrase, direction, scope, bool(trig.get("needs_subject"))))
        assertions[name] = AssertionRules(
            triggers=tuple(triggers),
            pseudo=r.phrases(raw.get("pseudo"), f"assertions.{name}.pseudo", allow_empty=True),
            terminations=r.phrases(
                raw.get("terminations"), f"assertions.{name}.terminations", allow_empty=True
            ),
        )
    missing = [p for p in priority if p not in assertions]
    if missing:
        raise r.fail("priority", f"no rules under assertions for {missing}")
    seen_raw = r.mapping(data.get("child_seen"), "child_seen")
    child_seen = {}
    for key in ("seen", "presence", "alone", "not_alone", "not_seen", "future"):
        child_seen[key] = r.phrases(seen_raw.get(key), f"child_seen.{key}", allow_empty=True)
    nav_assertion = data.get("not_a_visit_assertion")
    if nav_assertion is not None and nav_assertion not in ASSERTIONS:
        raise r.fail("not_a_visit_assertion", f"unknown assertion; use {list(ASSERTIONS)}")
    return ContextRules(
        not_a_visit=r.phrases(data.get("not_a_visit"), "not_a_visit", allow_empty=True),
        not_a_visit_assertion=nav_assertion,
        not_a_visit_labels=r.strings(data.get("not_a_visit_labels"), "not_a_visit_labels"),
        version=version,
        priority=priority,
        terminations=r.phrases(data.get("terminations"), "terminations", allow_empty=True),
        assertions=assertions,
        child_seen=child_seen,
    )


def _kin_terms(r: _Reader, raw: Any, entry: str) -> tuple[KinTerm, ...]:
    if not isinstance(raw, list):
        raise r.fail(entry, "expected a list of {words, roles} entries")
    terms = []
    for i, item in enumerate(raw):
        item = r.mapping(item, f"{entry}[{i}]")
        words = r.strings(item.get("words"), f"{entry}[{i}].words", allow_empty=False)
        roles = r.strings(item.get("roles"), f"{entry}[{i}].roles", allow_empty=False)
        terms.append(KinTerm(tuple(w.lower() for w in words), tuple(roles),
                             bool(item.get("needs_determiner"))))
    return tuple(terms)


def load_kinship(path: Path, tokenizer: Tokenizer) -> Kinship:
    r = _Reader(path.name, tokenizer)
    data = _read_yaml(path)
    titles = r.mapping(data.get("titles") or {}, "titles")
    for title, sex in titles.items():
        if sex not in ("male", "female", "any"):
            raise r.fail(f"titles.{title}", f"sex {sex!r}; use male, female or any")
    return Kinship(
        version=r.version(data),
        family=_kin_terms(r, data.get("family"), "family"),
        professionals=_kin_terms(r, data.get("professionals") or [], "professionals"),
        child_roles=r.strings(data.get("child_roles"), "child_roles"),
        never_children=r.strings(data.get("never_children"), "never_children"),
        female_roles=r.strings(data.get("female_roles"), "female_roles"),
        male_roles=r.strings(data.get("male_roles"), "male_roles"),
        titles={str(k).lower(): str(v) for k, v in titles.items()},
        relationships=r.strings(data.get("relationships"), "relationships"),
        not_people=frozenset(r.strings(data.get("not_people"), "not_people")),
    )


def load_nicknames(path: Path, tokenizer: Tokenizer) -> dict[str, tuple[str, ...]]:
    r = _Reader(path.name, tokenizer)
    data = _read_yaml(path)
    r.version(data)
    names = r.mapping(data.get("names"), "names")
    out = {}
    for formal, short in names.items():
        out[str(formal).lower()] = tuple(
            s.lower() for s in r.strings(short, f"names.{formal}", allow_empty=False)
        )
    return out


def load_rules(models_dir: Path, tokenizer: Tokenizer) -> RuleSet:
    """Read and validate all four rule files; raises TaxonomyError on the first problem."""
    models_dir = Path(models_dir)
    mtimes = rule_mtimes(models_dir)
    return RuleSet(
        taxonomy=load_taxonomy(models_dir / "taxonomy.yaml", tokenizer),
        context=load_context(models_dir / "context_rules.yaml", tokenizer),
        kinship=load_kinship(models_dir / "kinship.yaml", tokenizer),
        nicknames=load_nicknames(models_dir / "nicknames.yaml", tokenizer),
        mtimes=mtimes,
    )
