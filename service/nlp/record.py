"""The case record a note is read against: the subject child and the people on the case."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Member:
    """Someone on the family's case record: family member or professional."""

    id: str
    name: str
    role: str
    dob: str | None = None

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.split() else ""

    @property
    def surname(self) -> str:
        parts = self.name.split()
        return parts[-1] if len(parts) > 1 else ""

    def age_on(self, day: datetime.date) -> float | None:
        """Age in years on `day`, or None without a usable date of birth."""
        if not self.dob:
            return None
        try:
            born = datetime.date.fromisoformat(self.dob)
        except ValueError:
            return None
        return (day - born).days / 365.25


@dataclass(frozen=True)
class CaseRecord:
    """The subject child (a member id) and the members the note may mention."""

    subject: str | None
    members: tuple[Member, ...]

    @classmethod
    def from_note(cls, note: dict[str, Any]) -> CaseRecord:
        """Read the `subject` and `members` of an annotated note (other fields ignored)."""
        if not isinstance(note, dict):
            raise ValueError("a note must be a JSON object")
        raw_members = note.get("members") or []
        if not isinstance(raw_members, list):
            raise ValueError("members must be a list")
        members = []
        for i, raw in enumerate(raw_members):
            if not isinstance(raw, dict) or not raw.get("id") or not raw.get("name"):
                raise ValueError(f"members[{i}] needs an id and a name")
            members.append(
                Member(
                    id=str(raw["id"]),
                    name=str(raw["name"]).strip(),
                    role=str(raw.get("role") or "").strip(),
                    dob=str(raw["dob"]) if raw.get("dob") else None,
                )
            )
        subject = note.get("subject")
        return cls(subject=str(subject) if subject else None, members=tuple(members))

    def member(self, member_id: str | None) -> Member | None:
        return next((m for m in self.members if m.id == member_id), None)
