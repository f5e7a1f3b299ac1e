"""The fact-kind registry: the built-in kinds, and a toy kind registered here (only) that flows
suggestion -> decision -> fact -> chip -> search facet with no other edit to the service."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from datetime import date
from typing import Any, ClassVar

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import settings as settings_
from hypothesis import strategies as st
from sqlite_utils import Database

from service import accounts, fact_kinds
from service.app import create_app
from service.errors import Invalid
from service.nlp import Suggester
from service.nlp.record import CaseRecord
from service.settings import Settings
from service.storage import facts, migrations, open_db, search_index
from tests.conftest import case_id, sign_in


def test_built_in_kinds_in_panel_order() -> None:
    assert fact_kinds.names() == ("person", "date", "risk", "tag", "child_seen")
    assert fact_kinds.bulk_names() == ("person", "date")  # risks are confirmed one by one
    assert fact_kinds.counted_names() == ("risk", "tag")
    chips_first = sorted(fact_kinds.all_kinds(), key=lambda k: k.chip_order)
    assert [k.name for k in chips_first][:2] == ["risk", "child_seen"]
    letters = [k.search_letter for k in fact_kinds.all_kinds() if k.search_scheme]
    assert len(letters) == len(set(letters))


def test_an_unknown_kind_is_a_clear_error() -> None:
    with pytest.raises(Invalid, match="A fact is one of: person, date, risk, tag, child_seen"):
        fact_kinds.kind_of("relationship")


def test_panel_specs_name_every_field_a_kind_edits() -> None:
    specs = {s["name"]: s for s in fact_kinds.panel_specs()}
    assert [f["name"] for f in specs["risk"]["editor"]] == ["label", "assertion"]
    assert specs["person"]["new_person"] and not specs["child_seen"]["new_person"]
    assert not specs["tag"]["highlighted"]
    assert json.loads(json.dumps(specs)) == specs  # the page embeds them as JSON


def test_describe_and_chip_of_the_built_in_kinds() -> None:
    names, labels = {7: "Zara Khan"}, {"physical_injury": "Physical injury"}
    seen = fact_kinds.kind_of("child_seen")
    assert seen.describe({"person": 7, "alone": True}, names, labels) == "Zara Khan, seen alone"
    assert seen.chip_text({"person_id": 7, "alone": 0}, names, labels) == "Zara Khan seen"
    risk = fact_kinds.kind_of("risk")
    assert risk.describe({"label": "physical_injury", "assertion": "possible",
                          "source": "school"}, names, labels) == (
        "Physical injury · possible (reported by school)")
    when = fact_kinds.kind_of("date")
    assert when.chip_text({"text": "Friday", "value": "2026-03-13"}, names, labels) == (
        "Friday: 13 Mar 2026")
    assert when.describe({"value": "2026-03", "precision": "month"}, names, labels) == (
        "2026-03 (month)")


def test_registering_a_clashing_kind_is_refused() -> None:
    class Again(fact_kinds.LabelKind):
        name, label, plural, order, chip_order = "tag", "Again", "Agains", 9, 9
        what = "again"

    with pytest.raises(ValueError, match="clashes"):
        fact_kinds.register(Again)
    assert fact_kinds.kind_of("tag").label == "Theme"

    class SameLetter(Interpreter):
        name, search_letter = "same_letter", "g"  # the theme's

    with pytest.raises(ValueError, match="clashes with 'tag'"):
        fact_kinds.register(SameLetter)


# --- a toy kind, from one class ------------------------------------------------------------

class Interpreter(fact_kinds.LabelKind):
    """The language a family member needed an interpreter for, and whether one was booked."""

    name, label, plural, order, chip_order = "interpreter", "Interpreter", "Interpreters", 5, 5
    what = "interpreter language"
    search_scheme, search_letter, facet = "label", "i", "interpreter"
    editor = ({"name": "label", "label": "Language", "control": "choice",
               "choices": [["polish", "Polish"], ["urdu", "Urdu"]]},)
    LANGUAGES: ClassVar[dict[str, str]] = {"polish": "Polish", "urdu": "Urdu"}

    def known(self, taxonomy: fact_kinds.Vocabulary) -> dict[str, str]:
        return self.LANGUAGES

    def clean(self, db: Database, case_id: int, fields: dict[str, Any],
              taxonomy: fact_kinds.Vocabulary) -> dict[str, Any]:
        return {**super().clean(db, case_id, fields, taxonomy),
                "booked": bool(fields.get("booked"))}  # no column of its own: kept as JSON

    def chip_text(self, fact: dict[str, Any], names: dict[int, str],
                  labels: dict[str, str]) -> str:
        booked = facts.fact_value(fact).get("booked")  # from the fact's JSON fields
        return f"Interpreter: {self.LANGUAGES[fact['label']]}" + (" (booked)" if booked else "")

    def describe(self, fields: dict[str, Any], names: dict[int, str],
                 labels: dict[str, str]) -> str:
        return f"Interpreter: {self.LANGUAGES.get(fields.get('label', ''), '?')}"


class WithInterpreters:
    """The real suggester, plus the toy kind's own finder (a kind's suggestions come from
    whatever finds them; here, the words 'Polish interpreter')."""

    def __init__(self, suggester: Suggester) -> None:
        self.real = suggester

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def suggest(self, text: str, record: CaseRecord, visit_date: date) -> list[dict[str, Any]]:
        found = self.real.suggest(text, record, visit_date)
        for match in re.finditer(r"Polish interpreter", text):
            found.append({"kind": "interpreter", "start": match.start(), "end": match.end(),
                          "text": match.group(), "label": "polish", "booked": True,
                          "confidence": 0.9, "rule": "toy.interpreter",
                          "pipeline_version": self.real.pipeline_version})
        return found


TEXT = ("Visited Sarah and Jack. Jack was seen alone in his bedroom. Sarah asked for a Polish "
        "interpreter at the next review; one is booked.")


@pytest.fixture
def interpreter_kind() -> Iterator[None]:
    fact_kinds.register(Interpreter)
    try:
        yield
    finally:
        fact_kinds.unregister("interpreter")


@pytest.fixture
def toy_client(interpreter_kind: None, settings: Settings, demo_db: Database,
               suggester: Suggester) -> Iterator[TestClient]:
    app = create_app(settings)
    app.state.suggester = WithInterpreters(suggester)
    with TestClient(app) as client:
        yield client


def test_a_toy_kind_flows_from_suggestion_to_search_facet(toy_client: TestClient,
                                                          demo_db: Database) -> None:
    headers = {"Authorization": f"Bearer {accounts.create_token(demo_db, 'worker')}"}
    assert "interpreter" in [k["name"] for k in toy_client.get(
        "/api/v1/fact-kinds", headers=headers).json()]
    entry = toy_client.post(f"/api/v1/cases/{case_id(demo_db, 'RFS-1042')}/entries",
                            headers=headers, json={"kind": "home_visit",
                                                   "occurred_at": "2026-03-11T10:00",
                                                   "text": TEXT}).json()
    # Suggestion: stored with the rest, shown as its kind words it.
    state = toy_client.post(f"/api/v1/entries/{entry['id']}/suggestions", headers=headers).json()
    toy = next(s for s in state["suggestions"] if s["kind"] == "interpreter")
    assert toy["shown"] == "Interpreter: Polish" and toy["fields"]["booked"] is True
    # Decision: checked by the kind's own cleaning (an unknown language is refused).
    refused = toy_client.post(f"/api/v1/entries/{entry['id']}/decisions", headers=headers,
                              json={"suggestion_id": toy["id"], "decision": "edit",
                                    "fields": {"label": "klingon"}})
    assert refused.status_code == 422 and "interpreter language" in refused.json()["error"]
    decided = toy_client.post(f"/api/v1/entries/{entry['id']}/decisions", headers=headers,
                              json={"suggestion_id": toy["id"], "decision": "accept"})
    assert decided.status_code == 201, decided.text
    # Bulk acceptance does not apply to it.
    bulk = toy_client.post(f"/api/v1/entries/{entry['id']}/decisions/bulk", headers=headers,
                           json={"suggestion_ids": [toy["id"]]})
    assert bulk.status_code == 422
    # Fact: at finalising, its label in the label column and its own field as JSON.
    assert toy_client.post(f"/api/v1/entries/{entry['id']}/finalise",
                           headers=headers).status_code == 200
    fact = next(demo_db.query("SELECT label, fields FROM facts WHERE entry_id = ? AND kind = ?",
                              [entry["id"], "interpreter"]))
    assert fact["label"] == "polish" and json.loads(fact["fields"]) == {"booked": True}
    # Chip: on the entry page, beside the built-in kinds' chips.
    sign_in(toy_client, "worker")
    page = toy_client.get(f"/entries/{entry['id']}")
    assert "Interpreter: Polish (booked)" in page.text
    assert '"name": "interpreter"' in page.text  # the review panel's kinds come from here
    # Search facet: counted from the index's facet keys (latest revisions) and from the
    # facts themselves (all revisions), and shown on the search page.
    for extra in ("", "&revisions=all"):
        found = toy_client.get(f"/api/v1/search?q=interpreter{extra}", headers=headers).json()
        assert [(f["value"], f["count"]) for f in found["facets"]["interpreter"]] == [
            ("polish", 1)], extra
    html = toy_client.get("/search?q=interpreter").text
    assert 'data-testid="facet-interpreter"' in html and "Polish" in html


def test_the_index_follows_a_change_of_kinds(settings: Settings, demo_db: Database,
                                             interpreter_kind: None) -> None:
    """An index built before a kind existed is rebuilt for it when the database next opens,
    and once more when the kind is gone."""
    path = settings.database_path
    demo_db.execute("UPDATE search_kinds SET signature = '[]'")  # as if built for no kinds
    again = migrations.open_migrated(path)
    assert again.execute("SELECT signature FROM search_kinds").fetchone()[0] == (
        search_index.kinds_signature())
    assert "'interpreter'" in again.execute(
        "SELECT sql FROM sqlite_master WHERE name = 'facts_search_rows'").fetchone()[0]
    assert search_index.index_agrees(again)
    fact_kinds.unregister("interpreter")
    assert search_index.follow_kinds(again) and not search_index.follow_kinds(again)
    assert "'interpreter'" not in again.execute(
        "SELECT sql FROM sqlite_master WHERE name = 'facts_search_rows'").fetchone()[0]
    assert search_index.index_agrees(again)
    again.close()


# --- storage: a kind's fields in a fact, and the migration that freed the kinds ---------------

@settings_(max_examples=200, deadline=None)
@given(st.dictionaries(
    st.sampled_from(["person", "label", "assertion", "source", "value", "precision", "alone",
                     "booked", "level", "note"]),
    st.one_of(st.booleans(), st.integers(1, 10**6), st.text(max_size=20)), max_size=8))
def test_a_kinds_fields_round_trip_through_a_fact_row(value: dict[str, Any]) -> None:
    columns = facts.fact_columns(value)
    stored = {**columns, "fields": json.dumps(columns["fields"]) if columns["fields"] else None}
    if stored.get("alone") is not None:
        stored["alone"] = int(bool(stored["alone"]))  # as insert_fact stores it
    expected = {k: (bool(v) if k == "alone" else v) for k, v in value.items()}
    assert facts.fact_value(stored) == expected


def test_m017_drops_the_kind_checks_and_keeps_the_facts(tmp_path: Any) -> None:
    db = open_db(tmp_path / "old.db")
    migrations.migrations.apply(db, stop_before="m017_fact_kind_checks_dropped")
    db.execute("INSERT INTO teams (name, created_at) VALUES ('A', '2026-01-01')")
    team = db.execute("SELECT id FROM teams").fetchone()[0]
    db.execute("INSERT INTO users (username, display_name, password_hash, team_id, created_at)"
               " VALUES ('w', 'W', 'x', ?, '2026-01-01')", [team])
    db.execute("INSERT INTO cases (reference, family_name, team_id, created_at)"
               " VALUES ('R-1', 'Jones', ?, '2026-01-01')", [team])
    db.execute("INSERT INTO entries (case_id, author_id, status, kind, occurred_at, created_at)"
               " VALUES (1, 1, 'draft', 'home_visit', '2026-01-02T10:00', '2026-01-02')")
    # The schema as it was: no fields column yet, and the kinds listed in a CHECK.
    fact = {"entry_id": 1, "case_id": 1, "revision": 1, "kind": "tag", "label": "school",
            "confirmed_by": 1, "confirmed_at": "2026-01-02"}
    insert = f"INSERT INTO facts ({', '.join(fact)}) VALUES ({', '.join('?' * len(fact))})"
    db.execute(insert, list(fact.values()))
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        db.execute(insert, list({**fact, "kind": "interpreter"}.values()))
    migrations.migrate(db)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    for table in ("suggestions", "decisions", "facts"):
        sql = db.execute("SELECT sql FROM sqlite_master WHERE name = ?", [table]).fetchone()[0]
        assert "CHECK (kind" not in sql
    assert "CHECK (decision IN" in db.execute(
        "SELECT sql FROM sqlite_master WHERE name = 'decisions'").fetchone()[0]  # kept
    facts.insert_fact(db, {**fact, "kind": "interpreter", "label": "polish",
                           "fields": {"booked": True}})
    rows = list(db.query("SELECT kind, label, fields FROM facts ORDER BY id"))
    assert rows == [{"kind": "tag", "label": "school", "fields": None},
                    {"kind": "interpreter", "label": "polish", "fields": '{"booked": true}'}]
    db.close()


@pytest.mark.parametrize("letter", ["x", "c", "l", "Q", "ij", "1", ""])
def test_a_kind_cannot_take_a_search_letter_in_use(letter: str) -> None:
    class Clash(Interpreter):
        name, search_letter = "clash", letter

    fact_kinds.register(Clash)
    try:
        with pytest.raises(ValueError, match="search letter"):
            search_index.searched_kinds()
    finally:
        fact_kinds.unregister("clash")
