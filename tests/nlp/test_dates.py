"""Dates resolved relative to the visit (Wednesday 18 March 2026), UK day-month order."""

from __future__ import annotations

import pytest

from service.nlp import CaseRecord
from tests.nlp.conftest import VISIT, kinds

EMPTY = CaseRecord(None, ())


def dates(suggester, text):
    return {s["text"]: s for s in kinds(suggester.suggest(text, EMPTY, VISIT), "date")}


@pytest.mark.parametrize(
    ("text", "phrase", "value"),
    [
        ("Mum rang yesterday.", "yesterday", "2026-03-17"),
        ("I will visit tomorrow.", "tomorrow", "2026-03-19"),
        ("The police came last night.", "last night", "2026-03-17"),
        ("He fell on Friday.", "Friday", "2026-03-13"),
        ("The GP will see him on Friday.", "Friday", "2026-03-20"),
        ("Next visit next Thursday.", "next Thursday", "2026-03-26"),
        ("She moved out last Monday.", "last Monday", "2026-03-16"),
        ("Review on the 21st.", "the 21st", "2026-03-21"),
        ("The check was on the 3rd.", "the 3rd", "2026-03-03"),
        ("Conference on 14th March.", "14th March", "2026-03-14"),
        ("Appointment 14/04 at ten.", "14/04", "2026-04-14"),
        ("Review on Monday 23rd March.", "Monday 23rd March", "2026-03-23"),
        ("appointment is on the twenty first", "twenty first", "2026-03-21"),
        ("next visit Tuesday the fourteenth of April", "Tuesday the fourteenth of April",
         "2026-04-14"),
        ("Baby due on the second of February.", "second of February", "2027-02-02"),
        ("Seen 02/03/2026.", "02/03/2026", "2026-03-02"),
        ("visit tmrw", "tmrw", "2026-03-19"),
    ],
)
def test_day_expressions(suggester, text, phrase, value):
    found = dates(suggester, text)
    match = [d for t, d in found.items() if phrase in t]
    assert match, f"{phrase!r} not found in {found}"
    assert match[0]["value"] == value
    assert match[0]["precision"] == "day"


def test_ambiguous_last_weekday_is_flagged(suggester):
    # Said on a Wednesday, "last Tuesday" may be yesterday or the week before.
    found = dates(suggester, "They argued last Tuesday.")
    assert found["last Tuesday"]["ambiguous"] is True


def test_week_month_year_precision(suggester):
    found = dates(suggester, "He was excluded last week, moved in May 2025 and was in care "
                             "in 2019.")
    assert found["last week"]["precision"] == "week"
    assert found["May 2025"]["precision"] == "month"
    assert found["2019"]["precision"] == "year"


@pytest.mark.parametrize("text", ["Jack (7) is well.", "She is aged four.", "He is in Year 5.",
                                  "Weight on the 25th centile.", "Visit at 16:30.",
                                  "She may go to the park.", "every other Saturday",
                                  "for the first few minutes"])
def test_ages_counts_and_routines_are_not_dates(suggester, text):
    assert not [d for d in dates(suggester, text).values() if d["precision"] == "day"]
