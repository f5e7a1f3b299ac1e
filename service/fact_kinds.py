"""The kinds of fact a worker can confirm: one small registered class per kind.

Each kind says, in one place, everything the rest of the service needs to know about it:
its name and label, where it sits in the review panel and among the chips, which field
matches a decision to its suggestion, how its fields are cleaned and checked, the text of its
chip, whether it may be accepted in bulk, how the search index tokenises it and which facet
it counts in, and whether the dashboard counts it. Storage, review, chips, the dashboard, the
API and the review panel (through `panel_spec`) read from here.

To add a kind: write a class here and list it in `register_fact_kinds` (as Datasette's
facets.py lists its facet classes). A kind whose fields are person, label, assertion,
source, value, precision or alone keeps them in those columns of `facts`; any other field is
kept in the fact's JSON `fields` column.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Any, ClassVar, Protocol

from sqlite_utils import Database

from service.errors import Invalid
from service.storage import cases as case_rows

ASSERTIONS = ("present", "negated", "possible", "hypothetical", "historical", "reported")
PRECISIONS = ("day", "week", "month", "year")


class Vocabulary(Protocol):
    """The taxonomy ids a decision may use (nlp.taxonomy.Taxonomy)."""

    @property
    def risk_labels(self) -> dict[str, str]: ...

    @property
    def tag_labels(self) -> dict[str, str]: ...


class FactKind:
    """One kind of confirmed fact. Subclasses set the class attributes and override `clean`
    and `chip_text`."""

    name: ClassVar[str]
    label: ClassVar[str]            # "Risk indicator"
    plural: ClassVar[str]           # the review panel's heading: "Risk indicators"
    order: ClassVar[int]            # review panel groups; suggestions at one offset
    chip_order: ClassVar[int]       # chips on an entry: risks first
    key_field: ClassVar[str]        # the field whose value makes two suggestions the same one
    positional: ClassVar[bool] = True   # which occurrence of the words counts (not for themes)
    highlighted: ClassVar[bool] = True  # its words are marked in the text
    bulk: ClassVar[bool] = False        # may be accepted with "accept all"
    new_person: ClassVar[bool] = False  # a mention of someone not on the record may become one
    # Search: the token scheme (storage/search_index.py), its letter, and its facet.
    search_scheme: ClassVar[str | None] = None
    search_letter: ClassVar[str] = ""
    facet: ClassVar[str | None] = None
    dashboard: ClassVar[bool] = False   # counted by label on the manager view
    # The edit form of the review panel: one control per field (review.js draws them).
    editor: ClassVar[tuple[dict[str, Any], ...]] = ()

    def clean(self, db: Database, case_id: int, fields: dict[str, Any],
              taxonomy: Vocabulary) -> dict[str, Any]:
        raise NotImplementedError

    def chip_text(self, fact: dict[str, Any], names: dict[int, str],
                  labels: dict[str, str]) -> str:
        """A confirmed fact (a facts row; storage.facts.fact_value gives its fields) as a chip
        shows it, given person id -> name and taxonomy id -> label."""
        raise NotImplementedError

    def describe(self, fields: dict[str, Any], names: dict[int, str],
                 labels: dict[str, str]) -> str:
        """The value of a suggestion or decision as the review panel shows it."""
        return self.chip_text({"text": "", "label": None, "alone": None, "value": None,
                               **_as_fact(fields)}, names, labels)

    def panel_spec(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.plural, "bulk": self.bulk,
                "highlighted": self.highlighted, "new_person": self.new_person,
                "editor": list(self.editor)}


def _as_fact(fields: dict[str, Any]) -> dict[str, Any]:
    return {**fields, "person_id": fields.get("person")}


def _case_person(db: Database, case_id: int, person_id: Any) -> dict[str, Any]:
    person = case_rows.person_by_id(db, int(person_id)) if str(person_id).lstrip(
        "-").isdigit() else None
    if person is None or person["case_id"] != case_id:
        raise Invalid("That person is not on this family's record.")
    return person


class Person(FactKind):
    name, label, plural, order, chip_order = "person", "Person", "People", 0, 2
    key_field, bulk, new_person = "person", True, True
    search_scheme, search_letter, facet = "person", "p", "person"
    editor = ({"name": "person", "label": "Who this is", "control": "person",
               "none": "Not on the record"},)

    def clean(self, db: Database, case_id: int, fields: dict[str, Any],
              taxonomy: Vocabulary) -> dict[str, Any]:
        person_id = fields.get("person")
        if person_id is not None:
            person_id = _case_person(db, case_id, person_id)["id"]
        return {"person": person_id}

    def chip_text(self, fact: dict[str, Any], names: dict[int, str],
                  labels: dict[str, str]) -> str:
        return names.get(fact["person_id"], f"{fact['text']} (not on the record)")

    def describe(self, fields: dict[str, Any], names: dict[int, str],
                 labels: dict[str, str]) -> str:
        return names.get(fields.get("person"), "Not on the record")  # type: ignore[arg-type]


class DateFact(FactKind):
    name, label, plural, order, chip_order = "date", "Date", "Dates", 1, 3
    key_field, bulk = "value", True
    editor = ({"name": "value", "label": "Date", "control": "date"},)

    def clean(self, db: Database, case_id: int, fields: dict[str, Any],
              taxonomy: Vocabulary) -> dict[str, Any]:
        try:
            value = date.fromisoformat(str(fields.get("value")))
        except ValueError as err:
            raise Invalid("A date looks like 2026-03-14.") from err
        precision = fields.get("precision") or "day"
        if precision not in PRECISIONS:
            raise Invalid(f"A date's precision is one of: {', '.join(PRECISIONS)}.")
        return {"value": value.isoformat(), "precision": precision}

    def chip_text(self, fact: dict[str, Any], names: dict[int, str],
                  labels: dict[str, str]) -> str:
        shown = date.fromisoformat(fact["value"]).strftime("%-d %b %Y") if fact["value"] else ""
        return f"{fact['text']}: {shown}"

    def describe(self, fields: dict[str, Any], names: dict[int, str],
                 labels: dict[str, str]) -> str:
        precision = fields.get("precision")
        return (f"{fields.get('value')}" + (f" ({precision})" if precision and precision != "day"
                                            else "")
                + (" — check: ambiguous" if fields.get("ambiguous") else ""))


class LabelKind(FactKind):
    """A kind whose value is one id from a list of labels (the taxonomy's, by default)."""

    key_field = "label"
    what: ClassVar[str]  # "risk indicator", in error messages

    def known(self, taxonomy: Vocabulary) -> dict[str, str]:
        raise NotImplementedError

    def clean(self, db: Database, case_id: int, fields: dict[str, Any],
              taxonomy: Vocabulary) -> dict[str, Any]:
        label, known = fields.get("label"), self.known(taxonomy)
        if label not in known:
            raise Invalid(f"Unknown {self.what} {label!r}: choose from {', '.join(sorted(known))}.")
        return {"label": label}

    def chip_text(self, fact: dict[str, Any], names: dict[int, str],
                  labels: dict[str, str]) -> str:
        return labels.get(fact["label"], fact["label"])

    def describe(self, fields: dict[str, Any], names: dict[int, str],
                 labels: dict[str, str]) -> str:
        label = str(fields.get("label"))
        return labels.get(label, label)


class Risk(LabelKind):
    name, label, plural, order, chip_order = "risk", "Risk indicator", "Risk indicators", 2, 0
    what, dashboard = "risk indicator", True
    search_scheme, search_letter, facet = "label_assertion", "r", "risk"
    editor = ({"name": "label", "label": "Risk indicator", "control": "choice",
               "choices": "risks"},
              {"name": "assertion", "label": "Assertion", "control": "choice",
               "choices": "assertions", "default": "present"})

    def known(self, taxonomy: Vocabulary) -> dict[str, str]:
        return taxonomy.risk_labels

    def clean(self, db: Database, case_id: int, fields: dict[str, Any],
              taxonomy: Vocabulary) -> dict[str, Any]:
        label = super().clean(db, case_id, fields, taxonomy)["label"]
        assertion = fields.get("assertion") or "present"
        if assertion not in ASSERTIONS:
            raise Invalid(f"An assertion is one of: {', '.join(ASSERTIONS)}.")
        source = str(fields.get("source") or "")[:200] or None
        return {"label": label, "assertion": assertion, "source": source}

    def chip_text(self, fact: dict[str, Any], names: dict[int, str],
                  labels: dict[str, str]) -> str:
        return f"{labels.get(fact['label'], fact['label'])} ({fact['assertion']})"

    def describe(self, fields: dict[str, Any], names: dict[int, str],
                 labels: dict[str, str]) -> str:
        source = fields.get("source")
        return (f"{labels.get(fields.get('label'), fields.get('label'))}"  # type: ignore[arg-type]
                f" · {fields.get('assertion')}" + (f" (reported by {source})" if source else ""))


class Tag(LabelKind):
    name, label, plural, order, chip_order = "tag", "Theme", "Themes", 3, 4
    what, dashboard, positional, highlighted = "theme", True, False, False
    search_scheme, search_letter, facet = "label", "g", "tag"
    editor = ({"name": "label", "label": "Theme", "control": "choice", "choices": "tags"},)

    def known(self, taxonomy: Vocabulary) -> dict[str, str]:
        return taxonomy.tag_labels


class ChildSeen(FactKind):
    name, label, plural, order, chip_order = "child_seen", "Child seen", "Children seen", 4, 1
    key_field, positional = "person", False
    search_scheme, search_letter, facet = "child_seen", "s", "person"
    editor = ({"name": "person", "label": "Which child", "control": "child"},
              {"name": "alone", "label": "Seen alone", "control": "yesno"})

    def clean(self, db: Database, case_id: int, fields: dict[str, Any],
              taxonomy: Vocabulary) -> dict[str, Any]:
        if fields.get("person") is None:
            raise Invalid("Say which child was seen.")
        person = _case_person(db, case_id, fields["person"])
        if person["category"] != "child":
            raise Invalid("Only a child on this case can be recorded as seen.")
        return {"person": person["id"], "alone": bool(fields.get("alone"))}

    def chip_text(self, fact: dict[str, Any], names: dict[int, str],
                  labels: dict[str, str]) -> str:
        return f"{names.get(fact['person_id'], 'child')} seen" + (" alone" if fact["alone"]
                                                                  else "")

    def describe(self, fields: dict[str, Any], names: dict[int, str],
                 labels: dict[str, str]) -> str:
        who = names.get(fields.get("person"), "Not on the record")  # type: ignore[arg-type]
        return who + (", seen alone" if fields.get("alone") else ", seen (not alone)")


# --- the registry -----------------------------------------------------------------------

def register_fact_kinds() -> list[type[FactKind]]:
    """The built-in kinds, in the order they were introduced."""
    return [Person, DateFact, Risk, Tag, ChildSeen]


_added: dict[str, FactKind] = {}


def register(kind: type[FactKind]) -> type[FactKind]:
    """Add a kind beyond the built-in ones (usable as a class decorator)."""
    instance = kind()
    clash = [k.name for k in all_kinds() if k.name == instance.name or (
        instance.search_letter and k.search_letter == instance.search_letter)]
    if clash:
        raise ValueError(f"fact kind {instance.name!r} clashes with {clash[0]!r}")
    _added[instance.name] = instance
    return kind


def unregister(name: str) -> None:
    _added.pop(name, None)


@cache
def _built_in() -> tuple[FactKind, ...]:
    return tuple(k() for k in register_fact_kinds())


def all_kinds() -> tuple[FactKind, ...]:
    """Every kind, in review-panel order."""
    return tuple(sorted((*_built_in(), *_added.values()), key=lambda k: (k.order, k.name)))


def names() -> tuple[str, ...]:
    return tuple(k.name for k in all_kinds())


def kind_of(name: str) -> FactKind:
    """The kind called `name`, or a clear error listing the kinds there are."""
    for kind in all_kinds():
        if kind.name == name:
            return kind
    raise Invalid(f"A fact is one of: {', '.join(names())}.")


def bulk_names() -> tuple[str, ...]:
    return tuple(k.name for k in all_kinds() if k.bulk)


def counted_names() -> tuple[str, ...]:
    """The kinds the manager view counts by label (storage/dashboard.py keeps the counts)."""
    return tuple(k.name for k in all_kinds() if k.dashboard)


def labels() -> dict[str, str]:
    """Kind name -> its label, e.g. for the dashboard's acceptance table."""
    return {k.name: k.label for k in all_kinds()}


def panel_specs() -> list[dict[str, Any]]:
    """What the review panel (review.js) needs to know of each kind."""
    return [k.panel_spec() for k in all_kinds()]
