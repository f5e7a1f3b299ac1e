"""Chronologies: proposed risk indicators, marking, summaries, dates, filters, exports."""

from __future__ import annotations

import csv
import io
import sqlite3
from typing import Any

import pypdf
import pytest
from sqlite_utils import Database

from service import chronology
from service.accounts import get_user_by_name
from service.errors import Forbidden, Invalid, NotFound
from service.storage import entries as entry_rows
from service.storage.access_log import access_rows
from service.storage.db import transaction
from service.storage.facts import insert_fact
from tests.conftest import bundled_taxonomy, case_id
from tests.dashboard.conftest import person


def _jones(db: Database, username: str = "worker", **kwargs: Any) -> chronology.Chronology:
    return chronology.chronology(db, get_user_by_name(db, username), case_id(db, "RFS-1042"),
                                 **kwargs, taxonomy=bundled_taxonomy())


def _fact_id(db: Database, entry_id: int, kind: str, label: str | None = None) -> int:
    return next(db.query("SELECT id FROM facts WHERE entry_id = ? AND kind = ?"
                         " AND coalesce(label, '') = coalesce(?, '') ORDER BY id DESC",
                         [entry_id, kind, label]))["id"]


def test_confirmed_risks_are_proposed(demo_db: Database, confirmed: dict[str, Any]) -> None:
    chron = _jones(demo_db)
    assert [(e.label, e.status) for e in chron.events] == [
        ("Domestic abuse", "proposed"), ("Neglect", "proposed"), ("Substance misuse", "proposed")]
    first = chron.events[0]
    assert first.entry_id == confirmed["jones"][1]["id"]
    assert first.date == confirmed["jones"][1]["occurred_at"][:10]
    assert first.date_source == "entry date"
    assert first.recorded_by == "Alex Morgan" and first.children == ["Jack Jones"]
    assert "Mum and Mark shout" in first.summary and first.evidence == "shout"
    # The negated injury and the never-confirmed suggestions are not there.
    assert all("injury" not in e.label.lower() and "sexual" not in e.label.lower()
               for e in chron.events)


def test_mark_unmark_and_summaries(demo_db: Database, confirmed: dict[str, Any]) -> None:
    worker = get_user_by_name(demo_db, "worker")
    jones = case_id(demo_db, "RFS-1042")
    meeting = confirmed["jones"][4]
    chronology.mark(demo_db, worker, jones, meeting["id"])
    chronology.mark(demo_db, worker, jones, confirmed["jones"][3]["id"],
                    fact_id=confirmed["jones_cannabis"], significant=False)
    chronology.mark(demo_db, worker, jones, confirmed["jones"][1]["id"],
                    fact_id=confirmed["jones_da"], summary="Jack says Mum and Mark shout")
    events = {e.entry_id: e for e in _jones(demo_db).events}
    assert confirmed["jones"][3]["id"] not in events  # unmarked: out of the chronology
    assert events[meeting["id"]].status == "significant"
    assert events[meeting["id"]].marked_by == "Alex Morgan"
    assert events[meeting["id"]].summary.startswith("Meeting: Core group meeting")
    kept = events[confirmed["jones"][1]["id"]]
    assert (kept.status, kept.summary) == ("significant", "Jack says Mum and Mark shout")
    # Marking again without a summary keeps the summary; a new summary replaces it.
    chronology.mark(demo_db, worker, jones, confirmed["jones"][1]["id"],
                    fact_id=confirmed["jones_da"])
    chronology.mark(demo_db, worker, jones, confirmed["jones"][3]["id"],
                    fact_id=confirmed["jones_cannabis"], summary="Flat smelt of cannabis")
    events = {e.entry_id: e for e in _jones(demo_db).events}
    assert events[confirmed["jones"][1]["id"]].summary == "Jack says Mum and Mark shout"
    assert events[confirmed["jones"][3]["id"]].summary == "Flat smelt of cannabis"
    history = chronology.history(demo_db, worker, jones, confirmed["jones"][1]["id"],
                                 confirmed["jones_da"])
    assert [(h["significant"], h["summary"]) for h in history] == [
        (1, "Jack says Mum and Mark shout"), (1, "Jack says Mum and Mark shout")]
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        demo_db.execute("UPDATE significance_marks SET summary = 'x'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        demo_db.execute("DELETE FROM significance_marks")
    assert {r["action"] for r in access_rows(demo_db)} >= {"chronology.mark", "chronology.unmark"}


def test_event_dates(demo_db: Database, confirmed: dict[str, Any]) -> None:
    worker = get_user_by_name(demo_db, "worker")
    jones = case_id(demo_db, "RFS-1042")
    call = confirmed["jones"][2]
    chronology.mark(demo_db, worker, jones, call["id"], fact_id=confirmed["jones_date"])
    # The health theme sits in the same sentence as the confirmed date "next week".
    chronology.mark(demo_db, worker, jones, call["id"],
                    fact_id=_fact_id(demo_db, call["id"], "tag", "health"))
    events = _jones(demo_db).events
    dated = [e for e in events if e.date_source == "event date"]
    # Same day, same entry: in the order the words come in the text.
    assert [(e.kind, e.date, e.precision) for e in dated] == [
        ("tag", "2020-01-15", "week"), ("date", "2020-01-15", "week")]
    assert events[:2] == dated  # ordered by when it happened, not when recorded
    neglect = next(e for e in events if e.label == "Neglect")
    assert (neglect.date, neglect.date_source) == (call["occurred_at"][:10], "entry date")
    # Date range: only the two dated events fall in 2020.
    only_2020 = _jones(demo_db, date_from="2020-01-01", date_to="2020-12-31").events
    assert [e.kind for e in only_2020] == ["tag", "date"]
    with pytest.raises(Invalid):
        _jones(demo_db, date_from="15/01/2020")


def test_child_chronology(demo_db: Database, confirmed: dict[str, Any]) -> None:
    amy = person(demo_db, "Amy Jones")
    chron = _jones(demo_db, child_id=amy)
    assert chron.subject == "Amy Jones"
    assert [e.label for e in chron.events] == ["Neglect", "Substance misuse"]
    with pytest.raises(NotFound):
        _jones(demo_db, child_id=person(demo_db, "Zara Khan"))


def test_marks_follow_an_amendment(demo_db: Database, confirmed: dict[str, Any]) -> None:
    worker = get_user_by_name(demo_db, "worker")
    jones = case_id(demo_db, "RFS-1042")
    entry = confirmed["jones"][3]
    chronology.mark(demo_db, worker, jones, entry["id"], fact_id=confirmed["jones_cannabis"],
                    summary="Cannabis smelt in the flat")
    text = "Unannounced visit. The flat smelt strongly of cannabis, which Sarah denied."
    with transaction(demo_db):
        entry_rows.insert_revision(demo_db, entry["id"], entry["kind"], entry["occurred_at"],
                                   text, [], entry["author_id"])
        start = text.index("cannabis")
        insert_fact(demo_db, {"entry_id": entry["id"], "case_id": jones, "revision": 2,
                              "kind": "risk", "label": "substance_misuse", "assertion": "present",
                              "start": start, "end": start + 8, "text": "cannabis",
                              "confirmed_by": worker.id})
    event = next(e for e in _jones(demo_db).events if e.entry_id == entry["id"])
    assert (event.status, event.summary) == ("significant", "Cannabis smelt in the flat")
    assert event.fact_id != confirmed["jones_cannabis"]  # the re-anchored copy


def test_mark_checks(demo_db: Database, confirmed: dict[str, Any]) -> None:
    worker = get_user_by_name(demo_db, "worker")
    jones = case_id(demo_db, "RFS-1042")
    with pytest.raises(NotFound):  # an entry of another case
        chronology.mark(demo_db, worker, jones, confirmed["baptiste"][0]["id"])
    with pytest.raises(NotFound):  # a fact of another entry
        chronology.mark(demo_db, worker, jones, confirmed["jones"][0]["id"],
                        fact_id=confirmed["jones_da"])
    with pytest.raises(Invalid):
        chronology.mark(demo_db, worker, jones, confirmed["jones"][0]["id"], summary="x" * 201)
    for username in ("worker2", "admin"):
        with pytest.raises(Forbidden):
            chronology.mark(demo_db, get_user_by_name(demo_db, username), jones,
                            confirmed["jones"][0]["id"])
        with pytest.raises(Forbidden):
            _jones(demo_db, username)
    for username in ("reviewer", "manager"):
        assert len(_jones(demo_db, username).events) == 3


def test_csv(demo_db: Database, confirmed: dict[str, Any]) -> None:
    worker = get_user_by_name(demo_db, "worker")
    chronology.mark(demo_db, worker, case_id(demo_db, "RFS-1042"), confirmed["jones"][0]["id"],
                    summary="=HYPERLINK(\"http://example.com\")")
    rows = list(csv.DictReader(io.StringIO(chronology.to_csv(_jones(demo_db)))))
    assert len(rows) == 4
    assert rows[0]["summary"].startswith("'=HYPERLINK")  # never a live formula
    assert [r["status"] for r in rows] == ["significant", "proposed", "proposed", "proposed"]
    assert rows[1]["label"] == "Domestic abuse" and rows[1]["children"] == "Jack Jones"
    assert rows[1]["recorded_by"] == "Alex Morgan"


def test_pdf_text(demo_db: Database, confirmed: dict[str, Any], settings: Any) -> None:
    from jinja2 import Environment, FileSystemLoader

    from service.web import template_globals

    env = Environment(loader=FileSystemLoader(str(settings.web_dir / "templates")),
                      autoescape=True)
    env.globals.update(template_globals())
    chron = _jones(demo_db, child_id=person(demo_db, "Amy Jones"))
    html = env.get_template("chronology/print.html").render(
        chron=chron, exported_by="Priya Nair", exported_at="Sun 22 Nov 2026, 10:00")
    reader = pypdf.PdfReader(io.BytesIO(chronology.to_pdf(html)))
    text = " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)
    assert "Chronology: Amy Jones" in text
    assert "Exported by Priya Nair, Sun 22 Nov 2026, 10:00" in text
    assert "Page 1 of 1" in text
    assert "Amy's weight has dropped" in text and "cannabis" in text
    assert "Mum and Mark shout" not in text  # Jack's event, not Amy's
