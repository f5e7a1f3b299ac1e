"""Queries for the manager view: confirmed facts across a team's caseload.

Only confirmed facts (the facts table) and workers' decisions feed it; the suggestions table
is never read. Counts are of distinct entries, so every number equals the length of the
entry list it links to.

Counting a team's facts at request time grows with the caseload (200,000 entries is seconds),
so the counts are kept as they change, by triggers: `dash_entry_labels` holds one row per
current final entry per counted risk indicator or theme (label '' = "any of this kind"), and
three count tables add it up by team and month, by case and month, and by author and month.
Children's last sightings and decisions by rule are kept the same way. The triggers recompute
an entry whenever its facts or its current revision change, so amendments, re-anchored facts
and a case moving team are all followed; the tests recount from the raw tables.
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from service.storage.db import one_row

# Risk indicators confirmed as absent ("no bruises") or only imagined ("if he hit her") are
# recorded, but they are not risks to count.
COUNTED_ASSERTIONS = ("present", "possible", "reported", "historical")
_COUNTED = "(f.kind = 'tag' OR (f.kind = 'risk' AND coalesce(f.assertion, 'present') IN ({})))".format(
    ", ".join(f"'{a}'" for a in COUNTED_ASSERTIONS))


def _entry_labels_sql(where: str) -> str:
    """Insert the label rows (and the '' "any" rows) of the final entries matching `where`."""
    select = (
        "SELECT e.id, f.kind, {label}, c.team_id, e.case_id, e.author_id,"
        " substr(e.occurred_at, 1, 7), e.occurred_at"
        " FROM entries AS e JOIN cases AS c ON c.id = e.case_id"
        " JOIN facts AS f ON f.entry_id = e.id AND f.revision = e.revision_count"
        f" WHERE {where} AND e.status = 'final' AND c.team_id IS NOT NULL AND {_COUNTED}"
    )
    insert = ("INSERT OR IGNORE INTO dash_entry_labels (entry_id, kind, label, team_id, case_id,"
              " author_id, month, occurred_at) ")
    return (insert + select.format(label="f.label") + " AND f.label IS NOT NULL;\n"
            + insert + select.format(label="''") + ";\n")


def _child_seen_sql(persons: str) -> str:
    """Recompute the last sighting of each person id the subquery `persons` yields."""
    current = ("FROM facts AS f JOIN entries AS e ON e.id = f.entry_id"
               " AND f.revision = e.revision_count AND e.status = 'final'"
               " WHERE f.person_id = p.person_id AND f.kind = 'child_seen'")
    return (
        "INSERT OR REPLACE INTO dash_child_seen (person_id, seen, seen_alone)"
        f" SELECT p.person_id, (SELECT max(e.occurred_at) {current}),"
        f" (SELECT max(e.occurred_at) {current} AND f.alone = 1)"
        f" FROM ({persons}) AS p;\n"
    )


def _recompute_entry(entry: str) -> str:
    return (f"DELETE FROM dash_entry_labels WHERE entry_id = {entry};\n"
            + _entry_labels_sql(f"e.id = {entry}")
            + _child_seen_sql("SELECT DISTINCT person_id FROM facts WHERE entry_id = "
                              f"{entry} AND kind = 'child_seen' AND person_id IS NOT NULL"))


def _count_upserts(sign: str, row: str) -> str:
    sql = ""
    for table, keys in (("dash_team_month", "team_id, month, kind, label"),
                        ("dash_case_month", "team_id, case_id, month, kind, label"),
                        ("dash_author_month", "team_id, author_id, month, kind, label")):
        values = ", ".join(f"{row}.{k.strip()}" for k in keys.split(","))
        sql += (f"INSERT INTO {table} ({keys}, n) VALUES ({values}, {sign}1)"
                f" ON CONFLICT ({keys}) DO UPDATE SET n = n {sign} 1;\n")
    return sql


_DECISION_COUNT = (
    "INSERT INTO dash_decisions (team_id, month, kind, rule, decision, n)"
    " SELECT {team}, substr(d.decided_at, 1, 7), d.kind, coalesce(d.rule, ''), d.decision,"
    " {sign}count(*) FROM decisions AS d JOIN entries AS e ON e.id = d.entry_id"
    " WHERE {where} AND {team} IS NOT NULL GROUP BY 1, 2, 3, 4, 5"
    " ON CONFLICT (team_id, month, kind, rule, decision) DO UPDATE SET n = n + excluded.n;\n"
)


def create_kept_counts(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE dash_entry_labels (
            entry_id INTEGER NOT NULL, kind TEXT NOT NULL, label TEXT NOT NULL,
            team_id INTEGER NOT NULL, case_id INTEGER NOT NULL, author_id INTEGER NOT NULL,
            month TEXT NOT NULL, occurred_at TEXT NOT NULL,
            PRIMARY KEY (entry_id, kind, label)
        );
        CREATE INDEX dash_entry_labels_list ON dash_entry_labels (team_id, kind, label, occurred_at);
        CREATE INDEX dash_entry_labels_case ON dash_entry_labels (case_id);
        CREATE TABLE dash_team_month (team_id INTEGER, month TEXT, kind TEXT, label TEXT,
            n INTEGER NOT NULL, PRIMARY KEY (team_id, month, kind, label));
        CREATE TABLE dash_case_month (team_id INTEGER, case_id INTEGER, month TEXT, kind TEXT,
            label TEXT, n INTEGER NOT NULL, PRIMARY KEY (team_id, case_id, month, kind, label));
        CREATE INDEX dash_case_month_totals ON dash_case_month (team_id, label, month);
        CREATE TABLE dash_author_month (team_id INTEGER, author_id INTEGER, month TEXT,
            kind TEXT, label TEXT, n INTEGER NOT NULL,
            PRIMARY KEY (team_id, author_id, month, kind, label));
        CREATE TABLE dash_child_seen (person_id INTEGER PRIMARY KEY, seen TEXT, seen_alone TEXT);
        CREATE TABLE dash_decisions (team_id INTEGER, month TEXT, kind TEXT, rule TEXT,
            decision TEXT, n INTEGER NOT NULL, PRIMARY KEY (team_id, month, kind, rule, decision));
        CREATE INDEX dash_decisions_list ON decisions (kind, rule, decided_at);
        """
    )
    db.executescript(
        "CREATE TRIGGER dash_label_added AFTER INSERT ON dash_entry_labels BEGIN\n"
        + _count_upserts("+", "NEW") + "END;\n"
        "CREATE TRIGGER dash_label_removed AFTER DELETE ON dash_entry_labels BEGIN\n"
        + _count_upserts("-", "OLD") + "END;\n"
        "CREATE TRIGGER dash_fact_added AFTER INSERT ON facts"
        " WHEN NEW.kind IN ('risk', 'tag', 'child_seen') BEGIN\n"
        + _recompute_entry("NEW.entry_id") + "END;\n"
        "CREATE TRIGGER dash_fact_removed AFTER DELETE ON facts"
        " WHEN OLD.kind IN ('risk', 'tag', 'child_seen') BEGIN\n"
        + _recompute_entry("OLD.entry_id")
        + _child_seen_sql("SELECT OLD.person_id AS person_id WHERE OLD.person_id IS NOT NULL")
        + "END;\n"
        # A new revision (or finalising) changes which facts are current, and maybe the date.
        "CREATE TRIGGER dash_entry_changed AFTER UPDATE OF status, revision_count, occurred_at,"
        " case_id, author_id ON entries WHEN NEW.status IS NOT OLD.status"
        " OR NEW.revision_count IS NOT OLD.revision_count"
        " OR NEW.occurred_at IS NOT OLD.occurred_at OR NEW.case_id IS NOT OLD.case_id"
        " OR NEW.author_id IS NOT OLD.author_id BEGIN\n"
        + _recompute_entry("NEW.id") + "END;\n"
        "CREATE TRIGGER dash_decision_added AFTER INSERT ON decisions BEGIN\n"
        + _DECISION_COUNT.format(team="(SELECT team_id FROM cases WHERE id = e.case_id)",
                                 sign="", where="d.id = NEW.id")
        + "END;\n"
        "CREATE TRIGGER dash_case_moved AFTER UPDATE OF team_id ON cases"
        " WHEN NEW.team_id IS NOT OLD.team_id BEGIN\n"
        "DELETE FROM dash_entry_labels WHERE case_id = NEW.id;\n"
        + _entry_labels_sql("e.case_id = NEW.id")
        + _DECISION_COUNT.format(team="OLD.team_id", sign="-", where="e.case_id = NEW.id")
        + _DECISION_COUNT.format(team="NEW.team_id", sign="", where="e.case_id = NEW.id")
        + "END;\n"
    )
    # What is already there.
    db.executescript(
        _entry_labels_sql("1")
        + _child_seen_sql("SELECT DISTINCT person_id FROM facts WHERE kind = 'child_seen'"
                          " AND person_id IS NOT NULL")
        + _DECISION_COUNT.format(team="(SELECT team_id FROM cases WHERE id = e.case_id)",
                                 sign="", where="1")
    )


def create_recent_index(db: Database) -> None:
    db.execute("CREATE INDEX dash_entry_labels_recent ON dash_entry_labels"
                " (team_id, kind, occurred_at)")


def create_covering_indexes(db: Database) -> None:
    # Each view query reads only its index (measured: 52 ms to 6 ms for case totals at 600 cases).
    db.executescript(
        """
        DROP INDEX dash_case_month_totals;
        CREATE INDEX dash_case_month_any ON dash_case_month (team_id, label, month, case_id, kind, n);
        DROP INDEX dash_entry_labels_recent;
        CREATE INDEX dash_entry_labels_recent ON dash_entry_labels
            (team_id, kind, occurred_at, case_id, label);
        CREATE INDEX dash_author_month_period ON dash_author_month
            (team_id, month, author_id, kind, label, n);
        """
    )


# --- the manager view ---------------------------------------------------------------------

# Periods are whole months, `since` to `until` (an entry may be dated up to a day ahead).

def team_month_counts(db: Database, team_id: int, since: str, until: str
                      ) -> list[dict[str, Any]]:
    """Entries per (month, kind, label) across the team; label '' is "any of this kind"."""
    return list(db.query(
        "SELECT month, kind, label, n FROM dash_team_month"
        " WHERE team_id = ? AND month BETWEEN ? AND ? AND n > 0", [team_id, since, until]))


def _paged(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """Rows of a query with `count(*) OVER () AS total`, and that total."""
    return rows, int(rows[0]["total"]) if rows else 0


def case_totals(db: Database, team_id: int, since: str, until: str, limit: int, offset: int
                ) -> tuple[list[dict[str, Any]], int]:
    """One page of the cases with any risk / any theme in the period (by family name):
    their entries with each, and how many such cases there are."""
    return _paged(list(db.query(
        "SELECT cases.id AS case_id, cases.family_name, cases.reference,"
        " sum(CASE WHEN kind = 'risk' THEN n ELSE 0 END) AS risk,"
        " sum(CASE WHEN kind = 'tag' THEN n ELSE 0 END) AS tag, count(*) OVER () AS total"
        " FROM dash_case_month JOIN cases ON cases.id = dash_case_month.case_id"
        " WHERE dash_case_month.team_id = ? AND label = '' AND month BETWEEN ? AND ?"
        " GROUP BY cases.id HAVING sum(n) > 0 ORDER BY cases.family_name, cases.id"
        " LIMIT ? OFFSET ?", [team_id, since, until, limit, offset])))


def case_label_counts(db: Database, team_id: int, case_ids: list[int], since: str, until: str
                      ) -> list[dict[str, Any]]:
    """Entries per (case, kind, label) over the period, for some of the team's cases."""
    if not case_ids:
        return []
    marks = ",".join("?" * len(case_ids))
    return list(db.query(
        "SELECT case_id, kind, label, sum(n) AS n FROM dash_case_month"
        f" WHERE team_id = ? AND case_id IN ({marks}) AND month BETWEEN ? AND ? AND label != ''"
        " GROUP BY case_id, kind, label HAVING sum(n) > 0", [team_id, *case_ids, since, until]))


def author_counts(db: Database, team_id: int, since: str, until: str) -> list[dict[str, Any]]:
    """Entries per (author, kind, label) over the period; label '' is "any"."""
    return list(db.query(
        "SELECT author_id, kind, label, sum(n) AS n FROM dash_author_month"
        " WHERE team_id = ? AND month BETWEEN ? AND ? GROUP BY author_id, kind, label"
        " HAVING sum(n) > 0", [team_id, since, until]))


def recent_risk_cases(db: Database, team_id: int, since: str, limit: int, offset: int
                      ) -> tuple[list[dict[str, Any]], int]:
    """One page of the cases with a risk indicator in entries since `since`, latest first."""
    return _paged(list(db.query(
        "SELECT case_id, cases.family_name, cases.reference, max(occurred_at) AS latest,"
        " count(*) OVER () AS total FROM dash_entry_labels"
        " JOIN cases ON cases.id = dash_entry_labels.case_id"
        " WHERE dash_entry_labels.team_id = ? AND kind = 'risk' AND label = ''"
        " AND occurred_at >= ? GROUP BY case_id ORDER BY latest DESC, case_id LIMIT ? OFFSET ?",
        [team_id, since, limit, offset])))


def recent_risks(db: Database, team_id: int, since: str, case_ids: list[int]
                 ) -> list[dict[str, Any]]:
    """Per case and risk indicator: entries since `since` with it confirmed, and the latest."""
    if not case_ids:
        return []
    marks = ",".join("?" * len(case_ids))
    return list(db.query(
        "SELECT case_id, label, count(*) AS n, max(occurred_at) AS latest FROM dash_entry_labels"
        " WHERE team_id = ? AND kind = 'risk' AND label != '' AND occurred_at >= ?"
        f" AND case_id IN ({marks}) GROUP BY case_id, label ORDER BY latest DESC, label",
        [team_id, since, *case_ids]))


def decision_counts(db: Database, team_id: int, since: str, until: str
                    ) -> list[dict[str, Any]]:
    """Decisions on suggestions per kind, rule and decision, made in the period."""
    return list(db.query(
        "SELECT kind, rule, decision, sum(n) AS n FROM dash_decisions"
        " WHERE team_id = ? AND month BETWEEN ? AND ? GROUP BY kind, rule, decision"
        " HAVING sum(n) > 0", [team_id, since, until]))


def team_children(db: Database, team_id: int, limit: int = -1, offset: int = 0
                  ) -> tuple[list[dict[str, Any]], int]:
    """One page of the team's children, with when each was last seen and last seen alone."""
    return _paged(list(db.query(
        "SELECT people.id, people.name, people.dob, people.case_id, cases.reference,"
        " cases.family_name, dash_child_seen.seen, dash_child_seen.seen_alone,"
        " count(*) OVER () AS total"
        " FROM people JOIN cases ON cases.id = people.case_id"
        " LEFT JOIN dash_child_seen ON dash_child_seen.person_id = people.id"
        " WHERE cases.team_id = ? AND people.category = 'child'"
        " ORDER BY cases.family_name, cases.id, people.dob, people.name LIMIT ? OFFSET ?",
        [team_id, limit, offset])))


def team_case(db: Database, team_id: int, case_id: int) -> dict[str, Any] | None:
    return one_row(db, "SELECT id, reference, family_name FROM cases WHERE team_id = ? AND id = ?",
                   [team_id, case_id])


def team_person(db: Database, team_id: int, person_id: int) -> dict[str, Any] | None:
    return one_row(db, "SELECT people.id, people.name FROM people JOIN cases ON cases.id ="
                       " people.case_id WHERE cases.team_id = ? AND people.id = ?",
                   [team_id, person_id])


def users_by_id(db: Database, user_ids: list[int]) -> dict[int, dict[str, Any]]:
    if not user_ids:
        return {}
    marks = ",".join("?" * len(user_ids))
    return {row["id"]: row for row in db.query(
        f"SELECT id, username, display_name FROM users WHERE id IN ({marks})", user_ids)}


def team(db: Database, team_id: int) -> dict[str, Any] | None:
    return one_row(db, "SELECT * FROM teams WHERE id = ?", [team_id])


# --- the entries behind a number -----------------------------------------------------------

_LISTED = (
    "SELECT entries.id, entries.case_id, entries.kind, entries.occurred_at, entries.author_id,"
    " users.display_name AS author_name, cases.reference, cases.family_name,"
    " substr(latest.text, 1, 300) AS excerpt"
    " FROM entries JOIN cases ON cases.id = entries.case_id"
    " JOIN users ON users.id = entries.author_id"
    " JOIN entry_revisions AS latest ON latest.entry_id = entries.id"
    "  AND latest.number = entries.revision_count"
)


def _entry_ids(team_id: int, since: str, until: str, filters: dict[str, Any]
               ) -> tuple[str, list[Any]]:
    """A query for the ids of the entries behind one number (newest first)."""
    if filters.get("kind"):
        # The same rows the counts were made from, so the list always matches the number.
        where = ["team_id = ?", "kind = ?", "label = ?", "occurred_at >= ?", "month <= ?"]
        params: list[Any] = [team_id, filters["kind"], filters.get("label") or "", since, until]
        for key in ("month", "case_id", "author_id"):
            if filters.get(key) is not None:
                where.append(f"{key} = ?")
                params.append(filters[key])
        return (f"SELECT entry_id AS id, occurred_at FROM dash_entry_labels"
                f" WHERE {' AND '.join(where)}"), params
    if filters.get("person_id") is not None:
        alone = " AND facts.alone = 1" if filters.get("alone") else ""
        return ("SELECT DISTINCT entries.id, entries.occurred_at FROM facts"
                " JOIN entries ON entries.id = facts.entry_id"
                "  AND facts.revision = entries.revision_count AND entries.status = 'final'"
                " JOIN cases ON cases.id = entries.case_id"
                " WHERE facts.person_id = ? AND facts.kind = 'child_seen' AND cases.team_id = ?"
                f" AND entries.occurred_at >= ?{alone}"), [filters["person_id"], team_id, since]
    if filters.get("decision_kind"):
        where = ["decisions.kind = ?", "coalesce(decisions.rule, '') = ?",
                 "decisions.decided_at >= ?", "cases.team_id = ?"]
        params = [filters["decision_kind"], filters.get("rule") or "", since, team_id]
        if filters.get("decision"):
            where.append("decisions.decision = ?")
            params.append(filters["decision"])
        return ("SELECT DISTINCT entries.id, entries.occurred_at FROM decisions"
                " JOIN entries ON entries.id = decisions.entry_id"
                " JOIN cases ON cases.id = entries.case_id"
                f" WHERE {' AND '.join(where)}"), params
    return ("SELECT entries.id, entries.occurred_at FROM entries"
            " JOIN cases ON cases.id = entries.case_id"
            " WHERE cases.team_id = ? AND entries.status = 'final' AND entries.occurred_at >= ?",
            [team_id, since])


def entries_behind(db: Database, team_id: int, since: str, until: str, filters: dict[str, Any],
                   limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    """The final entries one number counts, newest first, one page, and the total.
    `since` is a date; `until` the last month counted."""
    ids, params = _entry_ids(team_id, filters.get("since") or since, until, filters)
    total = one_row(db, f"SELECT count(*) AS n FROM ({ids})", params)
    rows = list(db.query(
        f"{_LISTED} WHERE entries.id IN (SELECT id FROM ({ids})"
        "  ORDER BY occurred_at DESC, id DESC LIMIT ? OFFSET ?)"
        " ORDER BY entries.occurred_at DESC, entries.id DESC", [*params, limit, offset]))
    return rows, int(total["n"]) if total else 0
