"""The full-text index over final entry revisions, and every search query (one home).

`entry_search` is an FTS5 table with external content: it stores only the index, and reads
text (for snippets) from the `entry_search_content` view over entry_revisions. Every final
revision is indexed (rowid = entry_revisions.id); searches take the latest revision of each
entry unless asked for all. Triggers keep the index current for every writer: a new revision
(finalise or amend) is indexed as it is inserted, and a case that moves team is re-indexed.

Besides the text, each row carries a `scope` column with two tokens, "c<case id>" and
"t<team id>". A search ANDs the user's words with the scopes the user may see, so FTS5 only
ever ranks rows the user may read. The scope is a pre-filter for speed; the authoritative
access filter is the plain SQL `case_id IN (visible cases)` that every query also applies.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from service.storage.db import one_row

migrations = Migrations("casenotes-search")

TOKENIZER = "porter unicode61 remove_diacritics 2"
# Match markers for snippets: private-use characters, split out and escaped by the page.
MARK_START, MARK_END = "\ue000", "\ue001"
SNIPPET_TOKENS = 40
_SCOPE_SQL = "'c' || {case} || ' t' || coalesce({team}, 0)"


@migrations()
def m001_entry_search(db: Database) -> None:
    scope = _SCOPE_SQL.format(case="entries.case_id", team="cases.team_id")
    old_scope = _SCOPE_SQL.format(case="OLD.id", team="OLD.team_id")
    db.executescript(
        f"""
        CREATE VIEW entry_search_content AS
            SELECT entry_revisions.id AS id, entry_revisions.text AS text, {scope} AS scope,
                   entries.case_id AS case_id
            FROM entry_revisions JOIN entries ON entries.id = entry_revisions.entry_id
            JOIN cases ON cases.id = entries.case_id;
        CREATE VIRTUAL TABLE entry_search USING fts5(
            text, scope, content='entry_search_content', content_rowid='id',
            tokenize='{TOKENIZER}'
        );
        -- The scope column must not weigh in the ranking.
        INSERT INTO entry_search (entry_search, rank) VALUES ('rank', 'bm25(1.0, 0.0)');
        CREATE TRIGGER entry_revisions_search AFTER INSERT ON entry_revisions
        BEGIN
            INSERT INTO entry_search (rowid, text, scope)
                SELECT id, text, scope FROM entry_search_content WHERE id = NEW.id;
        END;
        CREATE TRIGGER cases_team_search AFTER UPDATE OF team_id ON cases
        WHEN OLD.team_id IS NOT NEW.team_id
        BEGIN
            INSERT INTO entry_search (entry_search, rowid, text, scope)
                SELECT 'delete', id, text, {old_scope} FROM entry_search_content
                WHERE case_id = OLD.id;
            INSERT INTO entry_search (rowid, text, scope)
                SELECT id, text, scope FROM entry_search_content WHERE case_id = NEW.id;
        END;
        INSERT INTO entry_search (entry_search) VALUES ('rebuild');
        """
    )


# --- the index ---------------------------------------------------------------------------

def rebuild(db: Database, *, optimize: bool = True) -> int:
    """Rebuild the whole index from the entry revisions; returns how many were indexed."""
    db.execute("INSERT INTO entry_search (entry_search) VALUES ('rebuild')")
    if optimize:
        db.execute("INSERT INTO entry_search (entry_search) VALUES ('optimize')")
    return indexed_count(db)


def indexed_count(db: Database) -> int:
    row = one_row(db, "SELECT count(*) AS n FROM entry_search_docsize")
    return int(row["n"]) if row else 0


def revision_count(db: Database) -> int:
    row = one_row(db, "SELECT count(*) AS n FROM entry_revisions")
    return int(row["n"]) if row else 0


def index_agrees(db: Database) -> bool:
    """FTS5's own check that the index holds exactly the tokens of the stored text."""
    try:
        db.execute("INSERT INTO entry_search (entry_search, rank) VALUES ('integrity-check', 1)")
    except sqlite3.DatabaseError:
        return False
    return True


# --- searching -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Filters:
    """What to search, already checked by the domain. Dates are ISO strings; `*_before` are
    exclusive upper bounds."""

    visible_case_ids: tuple[int, ...]
    match: str | None = None  # full FTS5 expression, scope included; None: filters only
    case_id: int | None = None
    person_id: int | None = None
    seen: str = ""  # "", "seen" or "alone": a confirmed child-seen fact
    tag: str | None = None
    risk: str | None = None
    assertion: str | None = None
    occurred_from: str | None = None
    occurred_before: str | None = None
    recorded_from: str | None = None
    recorded_before: str | None = None
    author_id: int | None = None
    kind: str | None = None
    all_revisions: bool = False


def _hits(filters: Filters, columns: str) -> tuple[str, list[Any]]:
    """SELECT {columns} FROM the matching revisions, with every filter applied."""
    params: list[Any] = []
    if filters.match:
        sql = (f"SELECT {columns} FROM entry_search"
               " JOIN entry_revisions AS r ON r.id = entry_search.rowid"
               " JOIN entries AS e ON e.id = r.entry_id WHERE entry_search MATCH ?")
        params.append(filters.match)
    else:
        sql = (f"SELECT {columns} FROM entries AS e"
               " JOIN entry_revisions AS r ON r.entry_id = e.id WHERE e.status = 'final'")
    # The authoritative access rule: only cases the user may see.
    sql += " AND e.case_id IN (SELECT value FROM json_each(?))"
    params.append(json.dumps(list(filters.visible_case_ids)))
    if not filters.all_revisions:
        sql += " AND r.number = e.revision_count"
    for clause, value in (("e.case_id = ?", filters.case_id), ("r.kind = ?", filters.kind),
                          ("e.author_id = ?", filters.author_id),
                          ("r.occurred_at >= ?", filters.occurred_from),
                          ("r.occurred_at < ?", filters.occurred_before),
                          ("e.finalised_at >= ?", filters.recorded_from),
                          ("e.finalised_at < ?", filters.recorded_before)):
        if value is not None:
            sql += f" AND {clause}"
            params.append(value)
    for clause, values in _fact_filters(filters):
        # Current facts only: those of the entry's latest revision.
        sql += (" AND EXISTS (SELECT 1 FROM facts AS f WHERE f.entry_id = e.id"
                f" AND f.revision = e.revision_count AND {clause})")
        params.extend(values)
    return sql, params


def _fact_filters(filters: Filters) -> list[tuple[str, list[Any]]]:
    found: list[tuple[str, list[Any]]] = []
    if filters.seen:
        clause, values = "f.kind = 'child_seen'", []
        if filters.seen == "alone":
            clause += " AND f.alone = 1"
        if filters.person_id is not None:
            clause += " AND f.person_id = ?"
            values.append(filters.person_id)
        found.append((clause, values))
    elif filters.person_id is not None:
        found.append(("f.kind IN ('person', 'child_seen') AND f.person_id = ?",
                      [filters.person_id]))
    if filters.tag:
        found.append(("f.kind = 'tag' AND f.label = ?", [filters.tag]))
    if filters.risk or filters.assertion:
        clause, values = "f.kind = 'risk'", []
        if filters.risk:
            clause += " AND f.label = ?"
            values.append(filters.risk)
        if filters.assertion:
            clause += " AND f.assertion = ?"
            values.append(filters.assertion)
        found.append((clause, values))
    return found


_HIT_COLUMNS = ("r.id AS revision_id, r.entry_id, r.number, r.kind, r.occurred_at,"
                " r.created_at AS revised_at, e.case_id, e.author_id, e.revision_count,"
                " e.finalised_at")


def page_of_hits(db: Database, filters: Filters, order: str, limit: int, offset: int
                 ) -> list[dict[str, Any]]:
    """One page of matching revisions, best first (`relevance`) or by when they happened."""
    if order == "relevance" and filters.match:
        # ORDER BY rank alone lets FTS5 hand rows over already ranked, so SQLite joins only
        # as many as the page needs.
        order_by = "entry_search.rank"
    elif order == "oldest":
        order_by = "r.occurred_at ASC, r.id ASC"
    else:
        order_by = "r.occurred_at DESC, r.id DESC"
    sql, params = _hits(filters, _HIT_COLUMNS)
    return list(db.query(f"{sql} ORDER BY {order_by} LIMIT ? OFFSET ?", [*params, limit, offset]))


def counts(db: Database, filters: Filters) -> tuple[int, int, list[dict[str, Any]]]:
    """How many revisions and entries match, and the facet counts, in one pass.

    Facets count entries (not revisions); people, themes and risks come only from confirmed
    facts of each entry's latest revision.
    """
    sql, params = _hits(filters, "r.entry_id, r.kind, r.occurred_at, e.case_id, e.author_id,"
                                 " e.revision_count")
    facet_sql = f"""
        WITH hits AS MATERIALIZED ({sql})
        SELECT 'total' AS facet, NULL AS value, NULL AS detail, count(*) AS n,
               count(DISTINCT entry_id) AS entries FROM hits
        UNION ALL SELECT 'case', case_id, NULL, count(DISTINCT entry_id), NULL
            FROM hits GROUP BY case_id
        UNION ALL SELECT 'kind', kind, NULL, count(DISTINCT entry_id), NULL
            FROM hits GROUP BY kind
        UNION ALL SELECT 'author', author_id, NULL, count(DISTINCT entry_id), NULL
            FROM hits GROUP BY author_id
        UNION ALL SELECT 'year', substr(occurred_at, 1, 4), NULL, count(DISTINCT entry_id), NULL
            FROM hits GROUP BY 2
        UNION ALL SELECT CASE f.kind WHEN 'child_seen' THEN 'person' ELSE f.kind END,
               CASE WHEN f.kind IN ('person', 'child_seen') THEN f.person_id ELSE f.label END,
               CASE f.kind WHEN 'risk' THEN f.assertion END,
               count(DISTINCT h.entry_id), NULL
            FROM (SELECT DISTINCT entry_id, revision_count FROM hits) AS h
            JOIN facts AS f ON f.entry_id = h.entry_id AND f.revision = h.revision_count
            WHERE f.kind IN ('person', 'child_seen', 'tag', 'risk')
              AND (f.person_id IS NOT NULL OR f.kind IN ('tag', 'risk'))
            GROUP BY 1, 2, 3
    """
    rows = list(db.query(facet_sql, params))
    total = next(r for r in rows if r["facet"] == "total")
    return int(total["n"]), int(total["entries"]), [r for r in rows if r["facet"] != "total"]


def snippets(db: Database, match: str, revision_ids: list[int]) -> dict[int, str]:
    """The best passage of each revision, with the matching words between MARK_START/END."""
    if not revision_ids:
        return {}
    marks = ",".join("?" * len(revision_ids))
    rows = db.query(
        f"SELECT rowid, snippet(entry_search, 0, ?, ?, '…', {SNIPPET_TOKENS}) AS snippet"
        f" FROM entry_search WHERE entry_search MATCH ? AND rowid IN ({marks})",
        [MARK_START, MARK_END, match, *revision_ids],
    )
    return {row["rowid"]: row["snippet"] for row in rows}


def openings(db: Database, revision_ids: list[int], chars: int = 240) -> dict[int, str]:
    """The start of each revision's text, for results found by filters alone."""
    if not revision_ids:
        return {}
    marks = ",".join("?" * len(revision_ids))
    rows = db.query(f"SELECT id, substr(text, 1, ?) AS opening, length(text) AS size"
                    f" FROM entry_revisions WHERE id IN ({marks})", [chars, *revision_ids])
    return {row["id"]: row["opening"] + ("…" if row["size"] > chars else "") for row in rows}


def narrative_positions(db: Database, entry_ids: list[int]) -> dict[int, int]:
    """How many final entries of its case come before each entry in the family narrative
    (newest first), so a result can link to the right page of it."""
    if not entry_ids:
        return {}
    marks = ",".join("?" * len(entry_ids))
    rows = db.query(
        "SELECT e.id, (SELECT count(*) FROM entries AS x WHERE x.case_id = e.case_id"
        "  AND x.status = 'final' AND (x.occurred_at > e.occurred_at"
        "   OR (x.occurred_at = e.occurred_at AND x.id > e.id))) AS position"
        f" FROM entries AS e WHERE e.id IN ({marks})", entry_ids)
    return {row["id"]: int(row["position"]) for row in rows}


def labels(db: Database, case_ids: list[int], person_ids: list[int], user_ids: list[int]
           ) -> dict[str, dict[int, dict[str, Any]]]:
    """Names for facet values and results: cases, people and authors."""
    def rows(sql: str, ids: list[int]) -> dict[int, dict[str, Any]]:
        if not ids:
            return {}
        return {row["id"]: row for row in db.query(
            sql + " WHERE id IN (SELECT value FROM json_each(?))", [json.dumps(ids)])}

    return {
        "case": rows("SELECT id, reference, family_name FROM cases", case_ids),
        "person": rows("SELECT id, name, case_id, category FROM people", person_ids),
        "author": rows("SELECT id, display_name, username FROM users", user_ids),
    }
