"""What templates may call: labels and date formatting. Templates only format."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from service.entries import KIND_LABELS


def when(value: str | None, with_time: bool = True) -> str:
    """'Sat 14 Mar 2026, 10:30' from stored ISO text."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    text = moment.strftime("%a %-d %b %Y")
    return text + moment.strftime(", %H:%M") if with_time and len(value) > 10 else text


def age(dob: str | None) -> str:
    if not dob:
        return ""
    try:
        born = date.fromisoformat(dob)
    except ValueError:
        return ""
    today = date.today()
    years = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    if years >= 2:
        return f"{years}"
    months = (today.year - born.year) * 12 + today.month - born.month - (today.day < born.day)
    return f"{max(months, 0)} months"


def template_globals() -> dict[str, Any]:
    return {"kind_labels": KIND_LABELS, "when": when, "age": age}
