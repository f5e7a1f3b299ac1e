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
from collections import defaultdict
from collections.abc import Iterable
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


# m002: a compact row per indexed revision (filters and facets read it instead of the
# text-heavy entry_revisions), scope tokens for kind and author, and a covering index on facts.
# Scope tokens are letters and digits only: unicode61 splits on underscores.
_SCOPE_M2 = ("'c' || {case} || ' t' || coalesce({team}, 0) || ' k' || replace({kind}, '_', '')"
             " || ' a' || {author}")


@migrations()
def m002_search_rows(db: Database) -> None:
    scope = _SCOPE_M2.format(case="entries.case_id", team="cases.team_id",
                             kind="entry_revisions.kind", author="entries.author_id")
    new_scope = _SCOPE_M2.format(case="e.case_id", team="c.team_id", kind="NEW.kind",
                                 author="e.author_id")
    moved_old = _SCOPE_M2.format(case="OLD.id", team="OLD.team_id", kind="r.kind",
                                 author="r.author_id")
    db.executescript(
        f"""
        DROP TRIGGER entry_revisions_search;
        DROP TRIGGER cases_team_search;
        DROP VIEW entry_search_content;
        CREATE VIEW entry_search_content AS
            SELECT entry_revisions.id AS id, entry_revisions.text AS text, {scope} AS scope,
                   entries.case_id AS case_id, entries.author_id AS author_id,
                   entry_revisions.kind AS kind
            FROM entry_revisions JOIN entries ON entries.id = entry_revisions.entry_id
            JOIN cases ON cases.id = entries.case_id;
        CREATE TABLE entry_search_rows (
            id INTEGER PRIMARY KEY,  -- entry_revisions.id
            entry_id INTEGER NOT NULL,
            case_id INTEGER NOT NULL,
            number INTEGER NOT NULL,
            latest INTEGER NOT NULL,
            kind TEXT NOT NULL,
            occurred_at TEXT NOT NULL,
            author_id INTEGER NOT NULL,
            recorded_at TEXT NOT NULL
        );
        CREATE INDEX entry_search_rows_entry ON entry_search_rows (entry_id);
        CREATE INDEX entry_search_rows_case ON entry_search_rows (case_id, latest, occurred_at);
        INSERT INTO entry_search_rows
            SELECT r.id, r.entry_id, e.case_id, r.number, r.number = e.revision_count, r.kind,
                   r.occurred_at, e.author_id, coalesce(e.finalised_at, r.created_at)
            FROM entry_revisions AS r JOIN entries AS e ON e.id = r.entry_id;
        CREATE INDEX IF NOT EXISTS facts_search
            ON facts (entry_id, revision, kind, label, person_id, assertion, alone);
        CREATE TRIGGER entry_revisions_search AFTER INSERT ON entry_revisions
        BEGIN
            UPDATE entry_search_rows SET latest = 0
                WHERE entry_id = NEW.entry_id AND latest = 1 AND number < NEW.number;
            INSERT INTO entry_search_rows
                SELECT NEW.id, NEW.entry_id, e.case_id, NEW.number, 1, NEW.kind, NEW.occurred_at,
                       e.author_id, coalesce(e.finalised_at, NEW.created_at)
                FROM entries AS e WHERE e.id = NEW.entry_id;
            INSERT INTO entry_search (rowid, text, scope)
                SELECT NEW.id, NEW.text, {new_scope}
                FROM entries AS e JOIN cases AS c ON c.id = e.case_id WHERE e.id = NEW.entry_id;
        END;
        CREATE TRIGGER cases_team_search AFTER UPDATE OF team_id ON cases
        WHEN OLD.team_id IS NOT NEW.team_id
        BEGIN
            INSERT INTO entry_search (entry_search, rowid, text, scope)
                SELECT 'delete', r.id, r.text, {moved_old} FROM entry_search_content AS r
                WHERE r.case_id = OLD.id;
            INSERT INTO entry_search (rowid, text, scope)
                SELECT id, text, scope FROM entry_search_content WHERE case_id = NEW.id;
        END;
        INSERT INTO entry_search (entry_search) VALUES ('rebuild');
        """
    )


# m003: prefix indexes, so a prefix* query reads one prefix doclist instead of merging the
# doclists of every word that starts with it across the whole authority (a whole-team feed*
# went from ~500 ms to ~75 ms at 1M entries), for about twice the index size (381 to 820
# bytes per entry). FTS5 uses a prefix index only for a prefix of exactly its length: a
# longer one (school*) still merges the doclists of its words, ~230 ms over a whole team.
PREFIXES = "3 4 5"


@migrations()
def m003_prefix_index(db: Database) -> None:
    # External content: dropping the index loses no text; the triggers name the table and
    # keep working once it is back.
    db.executescript(
        f"""
        DROP TABLE entry_search;
        CREATE VIRTUAL TABLE entry_search USING fts5(
            text, scope, content='entry_search_content', content_rowid='id',
            tokenize='{TOKENIZER}', prefix='{PREFIXES}'
        );
        INSERT INTO entry_search (entry_search, rank) VALUES ('rank', 'bm25(1.0, 0.0)');
        INSERT INTO entry_search (entry_search) VALUES ('rebuild');
        INSERT INTO entry_search (entry_search) VALUES ('optimize');
        """
    )


# --- the index ---------------------------------------------------------------------------

def rebuild(db: Database, *, optimize: bool = True) -> int:
    """Rebuild the index (and its compact rows) from the entry revisions; returns how many
    revisions were indexed."""
    db.execute("DELETE FROM entry_search_rows")
    db.execute(
        "INSERT INTO entry_search_rows SELECT r.id, r.entry_id, e.case_id, r.number,"
        " r.number = e.revision_count, r.kind, r.occurred_at, e.author_id,"
        " coalesce(e.finalised_at, r.created_at)"
        " FROM entry_revisions AS r JOIN entries AS e ON e.id = r.entry_id")
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
    """FTS5's own check that the index holds exactly the tokens of the stored text (and its
    scope), and that the compact rows match the revisions and which one is latest."""
    try:
        db.execute("INSERT INTO entry_search (entry_search, rank) VALUES ('integrity-check', 1)")
    except sqlite3.DatabaseError:
        return False
    wrong = one_row(
        db,
        "SELECT (SELECT count(*) FROM entry_revisions AS r LEFT JOIN entry_search_rows AS m"
        "  ON m.id = r.id JOIN entries AS e ON e.id = r.entry_id"
        "  WHERE m.id IS NULL OR m.entry_id != r.entry_id OR m.case_id != e.case_id"
        "   OR m.number != r.number OR m.latest != (r.number = e.revision_count)"
        "   OR m.kind != r.kind OR m.occurred_at != r.occurred_at OR m.author_id != e.author_id)"
        " + (SELECT count(*) FROM entry_search_rows WHERE id NOT IN"
        "  (SELECT id FROM entry_revisions)) AS n")
    return bool(wrong) and wrong["n"] == 0


# --- searching -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Filters:
    """What to search, already checked by the domain. Dates are ISO strings; `*_before` are
    exclusive upper bounds. `match` already carries the scope tokens for the visible cases,
    case, kind and author; the same conditions are applied again here in plain SQL."""

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

    @property
    def only_scope_filters(self) -> bool:
        """True when every filter is also in the FTS5 expression (ranking can stop early)."""
        return not (self.person_id or self.seen or self.tag or self.risk or self.assertion
                    or self.occurred_from or self.occurred_before or self.recorded_from
                    or self.recorded_before)


def scope_tokens(*, case_id: int | None = None, team_id: int | None = None,
                 kind: str | None = None, author_id: int | None = None) -> str:
    """A scope token as the index spells it (see _SCOPE_M2)."""
    if case_id is not None:
        return f"c{case_id}"
    if team_id is not None:
        return f"t{team_id}"
    if kind is not None:
        return "k" + kind.replace("_", "")
    return f"a{author_id}"


# The revision whose facts are current: the latest one of the entry.
_CURRENT = ("(CASE WHEN m.latest THEN m.number"
            " ELSE (SELECT revision_count FROM entries WHERE id = m.entry_id) END)")


def _where(filters: Filters, check_access: bool = True) -> tuple[str, list[Any]]:
    """Conditions on the compact rows `m`, every filter in plain SQL. Without `check_access`
    the caller must check the case of every row it returns or counts (see _visible)."""
    sql, params = "1", []
    if check_access or not filters.match:
        # The authoritative access rule: only cases the user may see.
        sql = "m.case_id IN (SELECT value FROM json_each(?))"
        params.append(json.dumps(list(filters.visible_case_ids)))
    if not filters.all_revisions:
        sql += " AND m.latest = 1"
    for clause, value in (("m.case_id = ?", filters.case_id), ("m.kind = ?", filters.kind),
                          ("m.author_id = ?", filters.author_id),
                          ("m.occurred_at >= ?", filters.occurred_from),
                          ("m.occurred_at < ?", filters.occurred_before),
                          ("m.recorded_at >= ?", filters.recorded_from),
                          ("m.recorded_at < ?", filters.recorded_before)):
        if value is not None:
            sql += f" AND {clause}"
            params.append(value)
    for clause, values in _fact_filters(filters):
        # Current facts only: those of the entry's latest revision.
        sql += (" AND EXISTS (SELECT 1 FROM facts AS f WHERE f.entry_id = m.entry_id"
                f" AND f.revision = {_CURRENT} AND {clause})")
        params.extend(values)
    return sql, params


def _hits(filters: Filters, columns: str, *, check_access: bool = True, join: str = ""
          ) -> tuple[str, list[Any]]:
    """SELECT {columns} FROM the matching revisions (`m`) {join}, with every filter applied."""
    where, params = _where(filters, check_access)
    if filters.match:
        return (f"SELECT {columns} FROM entry_search JOIN entry_search_rows AS m"
                f" ON m.id = entry_search.rowid {join} WHERE entry_search MATCH ? AND {where}",
                [filters.match, *params])
    return f"SELECT {columns} FROM entry_search_rows AS m {join} WHERE {where}", params


def _visible(filters: Filters, case_ids: Iterable[int]) -> bool:
    """The check that stands in for the SQL access rule when the scope tokens did the work:
    a stale token (it should never be) makes the caller re-run with the rule in SQL."""
    return set(case_ids) <= set(filters.visible_case_ids)


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


_HIT_COLUMNS = ("m.id AS revision_id, m.entry_id, m.number, m.kind, m.occurred_at, m.case_id,"
                " m.author_id, m.recorded_at")
_SCORE = "bm25(entry_search, 1.0, 0.0)"  # the scope column must not weigh in


def page_of_hits(db: Database, filters: Filters, order: str, limit: int, offset: int
                 ) -> list[dict[str, Any]]:
    """One page of matching revisions, best first (`relevance`) or by when they happened."""
    if order == "relevance" and filters.match:
        if filters.only_scope_filters:
            found = _ranked_early(db, filters, limit, offset)
            if found is not None:
                return _with_details(db, found)
        order_by = _SCORE
    elif order == "oldest":
        order_by = "m.occurred_at ASC, m.id ASC"
    else:
        order_by = "m.occurred_at DESC, m.id DESC"
    for check_access in (False, True):
        sql, params = _hits(filters, _HIT_COLUMNS, check_access=check_access)
        rows = list(db.query(f"{sql} ORDER BY {order_by} LIMIT ? OFFSET ?",
                             [*params, limit, offset]))
        if check_access or _visible(filters, (r["case_id"] for r in rows)):
            break
    return _with_details(db, rows)


def _ranked_early(db: Database, filters: Filters, limit: int, offset: int
                  ) -> list[dict[str, Any]] | None:
    """The page by relevance when the FTS5 expression alone decides what matches: FTS5 ranks
    with a LIMIT (much faster than ranking inside a join), then the rows are checked in SQL.
    None when too many were turned away to be sure of the page (then rank in the join)."""
    wanted = offset + limit
    fetch = wanted + wanted // 4 + 20  # room for earlier versions of amended entries
    ranked = [(row["rowid"], row["score"]) for row in db.query(
        f"SELECT rowid, {_SCORE} AS score FROM entry_search WHERE entry_search MATCH ?"
        " ORDER BY score LIMIT ?", [filters.match, fetch])]
    where, params = _where(filters)
    kept = {row["revision_id"]: row for row in db.query(
        f"SELECT {_HIT_COLUMNS} FROM entry_search_rows AS m"
        f" WHERE m.id IN (SELECT value FROM json_each(?)) AND {where}",
        [json.dumps([rowid for rowid, _ in ranked]), *params])}
    rows = [kept[rowid] for rowid, _ in ranked if rowid in kept]
    if len(rows) < wanted and len(ranked) == fetch:
        return None
    return rows[offset:offset + limit]


def _with_details(db: Database, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add what a result shows but no filter needs: revision count and when revised."""
    if not rows:
        return rows
    details = {row["id"]: row for row in db.query(
        "SELECT r.id, r.created_at AS revised_at, e.revision_count"
        " FROM json_each(?) AS j JOIN entry_revisions AS r ON r.id = j.value"
        " JOIN entries AS e ON e.id = r.entry_id",
        [json.dumps([row["revision_id"] for row in rows])])}
    return [dict(row, revised_at=details[row["revision_id"]]["revised_at"],
                 revision_count=details[row["revision_id"]]["revision_count"],
                 finalised_at=row["recorded_at"]) for row in rows]


def counts(db: Database, filters: Filters, limit: int | None = None
           ) -> tuple[int, int, dict[str, dict[tuple[Any, Any], int]], int | None]:
    """How many match, and the facet counts.

    Returns (results, entries, {facet: {(value, detail): count}}, counted). Counts are of
    results: entries, or versions when all versions are searched. People, themes and risks
    come only from confirmed facts of each entry's latest revision, and count entries.
    `counted` is None when the facets count every result. When more than `limit` match, it
    is `limit`: the facets then count only the newest `limit` results (highest revision ids,
    the most recently recorded), while the two totals stay exact.

    The hits (at most limit + 1 of them, newest first: FTS5 reads its index in that order
    and stops there) are fetched once; each facet query then groups them by id in SQL.
    """
    # FTS5 gives its rows in rowid order; without words, "+" keeps the planner on the
    # filters' indexes rather than walking every row backwards by id.
    order = "entry_search.rowid DESC" if filters.match else "+m.id DESC"
    for check_access in (False, True):
        sql, params = _hits(filters, "m.id, m.case_id, m.entry_id", check_access=check_access)
        sql += f" ORDER BY {order}"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit + 1)
        found = db.conn.execute(sql, params).fetchall()
        if check_access or _visible(filters, (row[1] for row in found)):
            break
    counted = None
    if limit is not None and len(found) > limit:
        counted, found = limit, found[:limit]
        total, entries = count(db, filters)
    else:
        total, entries = len(found), len({row[2] for row in found})
    facets: dict[str, dict[tuple[Any, Any], int]] = {
        name: {} for name in ("case", "kind", "author", "year", "person", "tag", "risk")}
    if not found:
        return total, entries, facets, counted
    hits = ("FROM json_each(?) AS j JOIN entry_search_rows AS m ON m.id = j.value",
            [json.dumps([row[0] for row in found])])
    # Plain tuples: there can be thousands of groups, and dict rows cost more than SQL.
    groups = db.conn.execute(
        "SELECT m.case_id, m.kind, m.author_id, substr(m.occurred_at, 1, 4) AS year,"
        f" count(*) AS n {hits[0]} GROUP BY 1, 2, 3, 4", hits[1]).fetchall()
    for column, name in enumerate(("case", "kind", "author", "year")):
        tally: dict[Any, int] = defaultdict(int)
        for group in groups:
            tally[group[column]] += group[4]
        facets[name] = {(value, None): n for value, n in tally.items()}
    for facet, value, detail, n in db.conn.execute(
            "SELECT CASE f.kind WHEN 'child_seen' THEN 'person' ELSE f.kind END AS facet,"
            " CASE WHEN f.kind IN ('person', 'child_seen') THEN f.person_id ELSE f.label END"
            " AS value, CASE f.kind WHEN 'risk' THEN f.assertion END AS detail,"
            f" count(DISTINCT m.entry_id) AS n {hits[0]}"
            f" JOIN facts AS f ON f.entry_id = m.entry_id AND f.revision = {_CURRENT}"
            " WHERE f.kind IN ('person', 'child_seen', 'tag', 'risk')"
            " AND (f.person_id IS NOT NULL OR f.kind IN ('tag', 'risk'))"
            " GROUP BY 1, 2, 3", hits[1]):
        facets[facet][value, detail] = n
    return total, entries, facets, counted


def count(db: Database, filters: Filters) -> tuple[int, int]:
    """How many results and entries match, without facets."""
    if not filters.all_revisions:
        # One result per entry; with the access rule in SQL one plain count does (cheaper
        # than grouping by case to check the cases afterwards).
        sql, params = _hits(filters, "count(*)")
        total = int(db.conn.execute(sql, params).fetchone()[0])
        return total, total
    for check_access in (False, True):
        sql, params = _hits(filters, "m.case_id, count(*), count(DISTINCT m.entry_id)",
                            check_access=check_access)
        groups = db.conn.execute(f"{sql} GROUP BY 1", params).fetchall()
        if check_access or _visible(filters, (g[0] for g in groups)):
            break
    return sum(g[1] for g in groups), sum(g[2] for g in groups)


def snippets(db: Database, match: str, revision_ids: list[int]) -> dict[int, str]:
    """The best passage of each revision, with the matching words between MARK_START/END."""
    if not revision_ids:
        return {}
    marks = ",".join("?" * len(revision_ids))
    # `rowid IN (...)` runs the MATCH once per rowid: cheap for words (FTS5 seeks in each
    # word's list), but a prefix* longer than the prefix indexes merges the lists of all the
    # words it starts anew each time (20 times 35 ms for school*). With a prefix, one pass
    # over the rowid range is cheaper ("+" keeps the IN out of FTS5's hands, and snippets
    # are made only for the rows kept).
    wanted = "+rowid" if '" *' in match else "rowid"
    bounds = " AND rowid BETWEEN ? AND ?" if wanted != "rowid" else ""
    rows = db.query(
        f"SELECT rowid, snippet(entry_search, 0, ?, ?, '…', {SNIPPET_TOKENS}) AS snippet"
        f" FROM entry_search WHERE entry_search MATCH ?{bounds} AND {wanted} IN ({marks})",
        [MARK_START, MARK_END, match,
         *([min(revision_ids), max(revision_ids)] if bounds else []), *revision_ids],
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
    def rows(columns: str, table: str, ids: list[int]) -> dict[int, dict[str, Any]]:
        if not ids:
            return {}
        return {row["id"]: row for row in db.query(
            f"SELECT t.id, {columns} FROM json_each(?) AS j JOIN {table} AS t ON t.id = j.value",
            [json.dumps(sorted(set(ids)))])}

    return {
        "case": rows("t.reference, t.family_name", "cases", case_ids),
        "person": rows("t.name, t.case_id, t.category", "people", person_ids),
        "author": rows("t.display_name, t.username", "users", user_ids),
    }
