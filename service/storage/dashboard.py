"""Queries for the manager view: confirmed facts across a team's caseload.

Everything here reads only the facts table (confirmed facts) and decisions (the audit of what
workers did with suggestions); the suggestions table is never read. Counts are of distinct
entries, so every number equals the length of the entry list it links to. Each entry has one
month, one case and one author, so counts grouped at that grain add up correctly to any
coarser grouping (by month, by case, by worker).
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from service.storage.db import one_row

# Risk indicators confirmed as absent ("no bruises") or only imagined ("if he hit her") are
# recorded, but they are not risks to count.
COUNTED_ASSERTIONS = ("present", "possible", "reported", "historical")
_COUNTED = "(facts.kind != 'risk' OR coalesce(facts.assertion, 'present') IN ({}))".format(
    ", ".join(f"'{a}'" for a in COUNTED_ASSERTIONS))

# The current facts of final entries of one team, with the entry's month, case and author.
_TEAM_FACTS = (
    " FROM cases JOIN entries ON entries.case_id = cases.id AND entries.status = 'final'"
    " JOIN facts ON facts.entry_id = entries.id AND facts.revision = entries.revision_count"
    " WHERE cases.team_id = ? AND entries.occurred_at >= ?"
)


def team_label_counts(db: Database, team_id: int, since: str) -> list[dict[str, Any]]:
    """Distinct entries per (month, case, author, kind, label) for risk and tag facts."""
    return list(db.query(
        "SELECT substr(entries.occurred_at, 1, 7) AS month, entries.case_id,"
        " entries.author_id, facts.kind, facts.label, count(DISTINCT entries.id) AS n"
        f"{_TEAM_FACTS} AND facts.kind IN ('risk', 'tag') AND {_COUNTED}"
        " GROUP BY month, entries.case_id, entries.author_id, facts.kind, facts.label",
        [team_id, since],
    ))


def team_kind_counts(db: Database, team_id: int, since: str) -> list[dict[str, Any]]:
    """Distinct entries per (month, case, author, kind) with any risk / any tag."""
    return list(db.query(
        "SELECT substr(entries.occurred_at, 1, 7) AS month, entries.case_id,"
        " entries.author_id, facts.kind, count(DISTINCT entries.id) AS n"
        f"{_TEAM_FACTS} AND facts.kind IN ('risk', 'tag') AND {_COUNTED}"
        " GROUP BY month, entries.case_id, entries.author_id, facts.kind",
        [team_id, since],
    ))


def team_recent_risks(db: Database, team_id: int, since: str) -> list[dict[str, Any]]:
    """Per case and risk indicator: entries since `since` with it confirmed, and the latest."""
    return list(db.query(
        "SELECT entries.case_id, facts.label, count(DISTINCT entries.id) AS n,"
        " max(entries.occurred_at) AS latest"
        f"{_TEAM_FACTS} AND facts.kind = 'risk' AND {_COUNTED}"
        " GROUP BY entries.case_id, facts.label ORDER BY latest DESC",
        [team_id, since],
    ))


def team_decision_counts(db: Database, team_id: int, since: str) -> list[dict[str, Any]]:
    """Decisions on suggestions, per kind, rule and decision, on the team's entries."""
    return list(db.query(
        "SELECT decisions.kind, coalesce(decisions.rule, '') AS rule, decisions.decision,"
        " count(*) AS n, count(DISTINCT entries.id) AS entries"
        " FROM cases JOIN entries ON entries.case_id = cases.id"
        " JOIN decisions ON decisions.entry_id = entries.id"
        " WHERE cases.team_id = ? AND entries.occurred_at >= ?"
        " GROUP BY decisions.kind, rule, decisions.decision",
        [team_id, since],
    ))


def team_cases(db: Database, team_id: int) -> list[dict[str, Any]]:
    return list(db.query(
        "SELECT id, reference, family_name FROM cases WHERE team_id = ?"
        " ORDER BY family_name, id", [team_id]))


def team_children(db: Database, team_id: int) -> list[dict[str, Any]]:
    return list(db.query(
        "SELECT people.id, people.name, people.dob, people.case_id, cases.reference,"
        " cases.family_name FROM people JOIN cases ON cases.id = people.case_id"
        " WHERE cases.team_id = ? AND people.category = 'child'"
        " ORDER BY cases.family_name, cases.id, people.dob, people.name", [team_id]))


def users_by_id(db: Database, user_ids: list[int]) -> dict[int, dict[str, Any]]:
    if not user_ids:
        return {}
    marks = ",".join("?" * len(user_ids))
    return {row["id"]: row for row in db.query(
        f"SELECT id, username, display_name FROM users WHERE id IN ({marks})", user_ids)}


def team(db: Database, team_id: int) -> dict[str, Any] | None:
    return one_row(db, "SELECT * FROM teams WHERE id = ?", [team_id])


# --- the entries behind a number -----------------------------------------------------------

def _entry_filter(team_id: int, since: str, filters: dict[str, Any]) -> tuple[str, list[Any]]:
    """WHERE clause (over entries joined to cases) for the entries behind one number."""
    where = ["cases.team_id = ?", "entries.status = 'final'", "entries.occurred_at >= ?"]
    params: list[Any] = [team_id, filters.get("since") or since]
    if filters.get("month"):
        where.append("substr(entries.occurred_at, 1, 7) = ?")
        params.append(filters["month"])
    for column in ("case_id", "author_id"):
        if filters.get(column) is not None:
            where.append(f"entries.{column} = ?")
            params.append(filters[column])
    fact = []
    if filters.get("kind") in ("risk", "tag"):
        fact += ["facts.kind = ?", _COUNTED]
        params_fact: list[Any] = [filters["kind"]]
        if filters.get("label"):
            fact.append("facts.label = ?")
            params_fact.append(filters["label"])
    elif filters.get("person_id") is not None:
        fact += ["facts.kind = 'child_seen'", "facts.person_id = ?"]
        params_fact = [filters["person_id"]]
        if filters.get("alone"):
            fact.append("facts.alone = 1")
    else:
        params_fact = []
    if fact:
        where.append("EXISTS (SELECT 1 FROM facts WHERE facts.entry_id = entries.id"
                     " AND facts.revision = entries.revision_count AND "
                     + " AND ".join(fact) + ")")
        params += params_fact
    if filters.get("decision_kind"):
        clause = ("EXISTS (SELECT 1 FROM decisions WHERE decisions.entry_id = entries.id"
                  " AND decisions.kind = ? AND coalesce(decisions.rule, '') = ?")
        params += [filters["decision_kind"], filters.get("rule") or ""]
        if filters.get("decision"):
            clause += " AND decisions.decision = ?"
            params.append(filters["decision"])
        where.append(clause + ")")
    return " AND ".join(where), params


def entries_behind(db: Database, team_id: int, since: str, filters: dict[str, Any],
                   limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    """The final entries one dashboard number counts, newest first, one page, and the total."""
    where, params = _entry_filter(team_id, since, filters)
    base = (" FROM entries JOIN cases ON cases.id = entries.case_id"
            " JOIN users ON users.id = entries.author_id"
            " JOIN entry_revisions AS latest ON latest.entry_id = entries.id"
            "  AND latest.number = entries.revision_count")
    rows = list(db.query(
        "SELECT entries.id, entries.case_id, entries.kind, entries.occurred_at,"
        " entries.author_id, users.display_name AS author_name, cases.reference,"
        " cases.family_name, substr(latest.text, 1, 300) AS excerpt"
        f"{base} WHERE {where} ORDER BY entries.occurred_at DESC, entries.id DESC"
        " LIMIT ? OFFSET ?", [*params, limit, offset]))
    total = one_row(db, f"SELECT count(*) AS n FROM entries JOIN cases ON cases.id ="
                        f" entries.case_id WHERE {where}", params)
    return rows, int(total["n"]) if total else 0
