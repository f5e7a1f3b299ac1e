"""Every search query (one home). The index itself (team shards, triggers, rebuild) is in
storage/search_index.py.

A search with words reads the shards of the teams whose cases the user may see, ANDing the
words with scope tokens (see search_index). The scope is a pre-filter; the authoritative
access rule and filters are plain SQL on the compact rows, applied to every row a search
returns (in SQL, or checked on the returned rows before they are used). Only a count past the
candidates is left to FTS5 alone, when the expression decides it exactly: a shard holds
exactly its team's cases, and the tokens name the visible ones.

One pass finds the candidates: the newest matching revisions, at most `cap` + 1 of them,
with every filter applied and (for relevance) their bm25 scores. When no more than `cap`
match they are all of it: the count, the facets, and the page in any order come from them.
When more match, the total is counted exactly, but relevance and the facets are worked out
over the newest `cap` (the page says so): ranking and grouping every one of tens of
thousands of matches was what made a search slow.
"""

from __future__ import annotations

import heapq
import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, NamedTuple

from sqlite_utils import Database

from service.storage import search_index
from service.storage.search_index import OLD_VERSION, shard_table

# Match markers for snippets: private-use characters, split out and escaped by the page.
MARK_START, MARK_END = "\ue000", "\ue001"
SNIPPET_TOKENS = 40


@dataclass(frozen=True)
class Shard:
    """One team's index and the FTS5 expression to run on it (scope tokens included)."""

    table: str
    match: str


@dataclass(frozen=True)
class Filters:
    """What to search, already checked by the domain. Dates are ISO strings; `*_before` are
    exclusive upper bounds. Each shard's `match` already carries the scope tokens for the
    visible cases, case, kind and author; the same conditions are applied again in SQL."""

    visible_case_ids: tuple[int, ...]
    shards: tuple[Shard, ...] = ()  # empty: no words, filters only
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
    # The date range is whole years the FTS5 expressions already apply (see dates_in_scope).
    dates_in_scope: bool = False

    @property
    def words(self) -> bool:
        return bool(self.shards)

    @property
    def only_scope_filters(self) -> bool:
        """True when every filter is also in the FTS5 expressions (FTS5 alone can count)."""
        dated = (self.occurred_from or self.occurred_before) and not self.dates_in_scope
        return not (self.person_id or self.seen or self.tag or self.risk or self.assertion
                    or dated or self.recorded_from or self.recorded_before
                    or self.all_revisions)


def shards_for(visible: Iterable[tuple[int, int | None]], whole_teams: set[int],
               expression: str, filters: Filters, present_years: Iterable[int] = ()
               ) -> tuple[Shard, ...]:
    """The shards to search and each one's FTS5 expression. `visible` is (case id, team id)
    for every case the user may see; a team in `whole_teams` is searched whole (the user sees
    all its cases), any other team through its visible cases' tokens."""
    case_id, kind, author_id = filters.case_id, filters.kind, filters.author_id
    all_revisions = filters.all_revisions
    by_team: dict[int, list[int]] = defaultdict(list)
    for case, team in visible:
        if case_id is None or case == case_id:
            by_team[int(team or 0)].append(case)
    extra = [f"scope : (k{kind.replace('_', '')})"] if kind else []
    extra += [f"scope : (a{author_id})"] if author_id is not None else []
    if not all_revisions:  # an earlier version's tokens are its own facts, not the current
        extra += [f'scope : ("{token}")' for token in _fact_scope(filters)]
    years = _year_scope(filters.occurred_from, filters.occurred_before, present_years)
    shards = []
    for team, cases in sorted(by_team.items()):
        scope = [] if team in whole_teams and case_id is None else [
            "scope : (" + " OR ".join(f"c{case}" for case in cases) + ")"]
        match = " AND ".join([*scope, *extra, f"({expression})"])
        if years:
            match = f"({match}) {years}"
        if not all_revisions:
            match = f"({match}) NOT scope : {OLD_VERSION}"
        shards.append(Shard(shard_table(team), match))
    return tuple(shards)


MAX_YEAR_TOKENS = 12


def _year_scope(start: str | None, before: str | None, present: Iterable[int]) -> str:
    """The year tokens of a range of when entries happened, as a clause to append: AND the
    years in it, or NOT those outside it, whichever names fewer of the years `present` in
    the index (every year an indexed revision happened in). Like every scope token it only
    narrows what FTS5 reads; partial years are left to the SQL."""
    first = int(start[:4]) if start else None
    last = None
    if before:  # exclusive: a range up to 1 January ends the year before
        last = int(before[:4]) - (1 if before[4:10] == "-01-01" else 0)
    inside, outside = [], []
    for year in sorted(set(present)):
        within = (first is None or year >= first) and (last is None or year <= last)
        (inside if within else outside).append(f"y{year}")
    if not outside:
        return ""  # every year is in range
    if not inside:
        return "AND scope : (y0)"  # no entry happened then: a token no row has
    if len(inside) <= len(outside) and len(inside) <= MAX_YEAR_TOKENS:
        return "AND scope : (" + " OR ".join(inside) + ")"
    if len(outside) <= MAX_YEAR_TOKENS:
        return "NOT scope : (" + " OR ".join(outside) + ")"
    return ""


def dates_in_scope(start: str | None, before: str | None, present: Iterable[int]) -> bool:
    """True when the range is whole years (from 1 January, up to 1 January) and its year
    tokens decide it exactly, so FTS5 can count without the SQL date filter."""
    whole = all(day is None or day[4:10] == "-01-01" for day in (start, before))
    if not whole or not (start or before):
        return False
    first = int(start[:4]) if start else None
    last = int(before[:4]) - 1 if before else None
    outside = [y for y in present if (first is not None and y < first)
               or (last is not None and y > last)]
    return not outside or bool(_year_scope(start, before, present))


def _fact_scope(filters: Filters) -> list[str]:
    """The index tokens of the fact filters (see search_index._fact_token). A token can only
    widen what FTS5 lets through (the filters are applied again in SQL), so an odd value
    that tokenizes oddly loses nothing."""
    def bare(value: str) -> str:
        return value.replace("_", "").replace('"', "")

    person = "" if filters.person_id is None else str(filters.person_id)
    tokens = []
    if filters.seen:
        tokens.append(("l" if filters.seen == "alone" else "s") + person)
    elif person:
        tokens.append("p" + person)
    if filters.tag:
        tokens.append("g" + bare(filters.tag))
    if filters.risk:
        tokens.append("r" + bare(filters.risk) + ("x" + bare(filters.assertion)
                                                  if filters.assertion else ""))
    elif filters.assertion:
        tokens.append("x" + bare(filters.assertion))
    return tokens


class Candidate(NamedTuple):
    """A matching revision. Searches handle thousands of these as plain tuples (the SQL
    returns them so); the names document the positions."""

    revision_id: int
    entry_id: int
    case_id: int
    kind: str
    author_id: int
    occurred_at: str
    shard: int  # index into Filters.shards (0 without words)
    facet_keys: str  # see search_index._facet_keys
    score: float | None  # bm25 (lower is better) when ranked by relevance
    year: str  # when it happened


Row = tuple[Any, ...]  # a Candidate's fields, as SQL returns them


@dataclass
class Found:
    """What a search found: the page, the totals, and the facet counts."""

    rows: list[dict[str, Any]]
    total: int
    entries: int
    facets: dict[str, dict[tuple[Any, Any], int]]
    # None when everything matching was ranked and counted; else how many (the newest) were.
    considered: int | None


_CANDIDATE_COLUMNS = ("m.id, m.entry_id, m.case_id, m.kind, m.author_id, m.occurred_at,"
                      " {shard}, m.facet_keys, {score}, substr(m.occurred_at, 1, 4)")
ID, ENTRY, CASE, KIND, AUTHOR, OCCURRED, SHARD, KEYS, SCORE, YEAR = range(10)  # positions
_WHEN = itemgetter(OCCURRED, ID)  # by when it happened, then as recorded
# The revision whose facts are current: the latest one of the entry.
_CURRENT = ("(CASE WHEN m.latest THEN m.number"
            " ELSE (SELECT revision_count FROM entries WHERE id = m.entry_id) END)")
ROW_FACETS = ("case", "kind", "author", "year")


def facet_names() -> tuple[str, ...]:
    """The facets a search counts: the rows' own, then each searched kind's (person, ...)."""
    kinds = dict.fromkeys(k.facet for k in search_index.searched_kinds() if k.facet)
    return (*ROW_FACETS, *kinds)


def find(db: Database, filters: Filters, order: str, limit: int, offset: int, cap: int,
         *, facets: bool = True) -> Found:
    """One page of matching revisions (best first for `relevance`, else by when they
    happened), how many match, and (with `facets`) the facet counts."""
    relevance = order == "relevance" and filters.words
    found, index_trusted = candidates(db, filters, cap, scored=relevance)
    exact = len(found) <= cap
    found = found[:cap]
    if exact:
        total, entries = len(found), len({c[ENTRY] for c in found})
    else:
        total, entries = count(db, filters, trust_index=index_trusted)
    if relevance:
        page = _ranked(found, limit, offset)
    elif exact:
        page = sorted(found, key=_WHEN, reverse=order != "oldest")[offset:offset + limit]
    else:
        page = _by_date(db, filters, order, limit, offset)
    counted = (facet_counts(db, found, filters.all_revisions) if facets
               else {name: {} for name in facet_names()})
    considered = None if exact else cap
    return Found(_with_details(db, page), total, entries, counted, considered)


def _where(filters: Filters, check_access: bool = True) -> tuple[str, list[Any]]:
    """Conditions on the compact rows `m`, every filter in plain SQL. Without `check_access`
    the caller must check the case of every row it returns or counts (see _visible)."""
    sql, params = "1", []
    if check_access or not filters.words:
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


def _select(filters: Filters, shard: Shard | None, columns: str, check_access: bool
            ) -> tuple[str, list[Any]]:
    """SELECT {columns} FROM the matching revisions (`m`) of one shard (or, without words,
    of the compact rows), with every filter applied."""
    where, params = _where(filters, check_access)
    if shard is None:
        return f"SELECT {columns} FROM entry_search_rows AS m WHERE {where}", params
    return (f"SELECT {columns} FROM {shard.table} JOIN entry_search_rows AS m"
            f" ON m.id = {shard.table}.rowid WHERE {shard.table} MATCH ? AND {where}",
            [shard.match, *params])


def _visible(filters: Filters, case_ids: Iterable[int]) -> bool:
    """The check that stands in for the SQL access rule when the scope tokens did the work:
    a stale token (it should never be) makes the caller re-run with the rule in SQL."""
    return set(case_ids) <= set(filters.visible_case_ids)


def candidates(db: Database, filters: Filters, cap: int, *, scored: bool = False
               ) -> tuple[list[Row], bool]:
    """The newest (highest revision id: most recently recorded) matching revisions, at most
    cap + 1, in that order (FTS5 reads its lists in rowid order, so it stops there), with
    their bm25 scores if `scored` (FTS5 scores the rows as it reads them: one pass), and
    whether the scope tokens held: False when a row of a case the user may not see came back
    (then the rows are fetched again with the access rule in SQL)."""
    for check_access in (False, True):
        found: list[Row] = []
        if not filters.words:
            # "+" keeps the planner on the filters' indexes, not walking every row by id.
            sql, params = _select(filters, None,
                                  _CANDIDATE_COLUMNS.format(shard=0, score="NULL"), check_access)
            found = db.conn.execute(f"{sql} ORDER BY +m.id DESC LIMIT ?",
                                    [*params, cap + 1]).fetchall()
        for index, shard in enumerate(filters.shards):
            score = f"bm25({shard.table}, 1.0, 0.0)" if scored else "NULL"
            sql, params = _select(filters, shard,
                                  _CANDIDATE_COLUMNS.format(shard=index, score=score), check_access)
            found += db.conn.execute(f"{sql} ORDER BY {shard.table}.rowid DESC LIMIT ?",
                                     [*params, cap + 1]).fetchall()
        if len(filters.shards) > 1:
            found.sort(key=itemgetter(ID), reverse=True)
            found = found[:cap + 1]
        if check_access or _visible(filters, (c[CASE] for c in found)):
            return found, not check_access
    return [], False  # not reached: the second pass checks access in SQL


def count(db: Database, filters: Filters, *, trust_index: bool = True) -> tuple[int, int]:
    """How many results and entries match (results are entries, or versions when all
    versions are searched). Without `trust_index` (a stale scope token was seen) every row
    counted is checked against the access rule in SQL."""
    if filters.words and filters.only_scope_filters and trust_index:
        # A shard holds exactly its team's cases, and the expression names the visible
        # ones (or the whole team for those who see all of it), so FTS5 can count alone.
        total = sum(int(db.conn.execute(f"SELECT count(*) FROM {s.table} WHERE {s.table}"
                                        " MATCH ?", [s.match]).fetchone()[0])
                    for s in filters.shards)
        return total, total
    results = entries = 0
    for shard in filters.shards or (None,):
        columns = "count(*), count(DISTINCT m.entry_id)" if filters.all_revisions else "count(*)"
        sql, params = _select(filters, shard, columns, check_access=True)
        row = db.conn.execute(sql, params).fetchone()
        results += int(row[0])
        entries += int(row[1]) if filters.all_revisions else int(row[0])
    return results, entries


def _ranked(found: list[Row], limit: int, offset: int) -> list[Row]:
    """The page of `found`, best (lowest bm25) first; ties newest first (`found` is newest
    first, and nsmallest keeps the order of equals)."""
    return heapq.nsmallest(offset + limit, found, key=itemgetter(SCORE))[offset:]


def _by_date(db: Database, filters: Filters, order: str, limit: int, offset: int
             ) -> list[Row]:
    """A page by when entries happened, when there are more matches than candidates."""
    direction = "ASC" if order == "oldest" else "DESC"
    found: list[Row] = []
    for index, shard in enumerate(filters.shards or (None,)):
        sql, params = _select(filters, shard,
                              _CANDIDATE_COLUMNS.format(shard=index, score="NULL"),
                              check_access=True)
        found += db.conn.execute(
            f"{sql} ORDER BY m.occurred_at {direction}, m.id {direction} LIMIT ?",
            [*params, offset + limit]).fetchall()
    found.sort(key=_WHEN, reverse=order != "oldest")
    return found[offset:offset + limit]


def facet_counts(db: Database, found: list[Row], all_revisions: bool
                 ) -> dict[str, dict[tuple[Any, Any], int]]:
    """Facet counts over `found`: case, kind, author and year from the rows themselves;
    people, themes and risks from the confirmed facts of each entry's latest revision
    (counting entries): the rows' own facet keys when only latest revisions were searched,
    else the facts themselves."""
    facets: dict[str, dict[tuple[Any, Any], int]] = {name: {} for name in facet_names()}
    if not found:
        return facets
    for name, position in (("case", CASE), ("kind", KIND), ("author", AUTHOR), ("year", YEAR)):
        facets[name] = {(value, None): n for value, n in Counter(map(itemgetter(position),
                                                                      found)).items()}
    if not all_revisions:  # one row per entry, and its facet keys are its current facts
        keys = Counter("\n".join(filter(None, map(itemgetter(KEYS), found))).split("\n"))
        keys.pop("", None)
        for key, n in keys.items():
            facet, value, detail = key.split("|")
            facets[facet][int(value) if facet == "person" else value or None,
                          detail or None] = n
        return facets
    # Plain tuples: there can be thousands of groups, and dict rows cost more than SQL.
    name_sql, value_sql, detail_sql, counted = search_index.facet_sql("f")
    for facet, value, detail, n in db.conn.execute(
            f"SELECT {name_sql} AS facet, {value_sql} AS value,"
            f" nullif({detail_sql}, '') AS detail,"
            " count(DISTINCT m.entry_id) AS n"
            " FROM json_each(?) AS j JOIN entry_search_rows AS m ON m.id = j.value"
            f" JOIN facts AS f ON f.entry_id = m.entry_id AND f.revision = {_CURRENT}"
            # "+": one index range per entry, not one seek per kind
            f" WHERE +f.kind IN {search_index.searched_in()} AND {counted}"
            " GROUP BY 1, 2, 3", [json.dumps([c[ID] for c in found])]):
        facets[facet][value or None, detail] = n
    return facets


def _with_details(db: Database, page: list[Row]) -> list[dict[str, Any]]:
    """The page as dicts, with what a result shows but no filter needs: revision count and
    when revised."""
    if not page:
        return []
    details = {row[0]: row[1:] for row in db.conn.execute(
        "SELECT m.id, m.number, m.recorded_at, r.created_at, e.revision_count"
        " FROM json_each(?) AS j JOIN entry_search_rows AS m ON m.id = j.value"
        " JOIN entry_revisions AS r ON r.id = m.id JOIN entries AS e ON e.id = m.entry_id",
        [json.dumps([c[ID] for c in page])])}
    return [{**Candidate(*c)._asdict(), "number": details[c[ID]][0],
             "finalised_at": details[c[ID]][1], "revised_at": details[c[ID]][2],
             "revision_count": details[c[ID]][3]} for c in page]


def snippets(db: Database, filters: Filters, rows: list[dict[str, Any]]) -> dict[int, str]:
    """The best passage of each result, with the matching words between MARK_START/END."""
    passages: dict[int, str] = {}
    for index, shard in enumerate(filters.shards):
        ids = [row["revision_id"] for row in rows if row["shard"] == index]
        if not ids:
            continue
        marks = ",".join("?" * len(ids))
        # `rowid IN (...)` runs the MATCH once per rowid: cheap for words (FTS5 seeks in each
        # word's list), but a prefix* longer than the prefix indexes merges the lists of all
        # the words it starts anew each time. With a prefix, one pass over the rowid range is
        # cheaper ("+" keeps the IN out of FTS5's hands; snippets are made only for the rows
        # kept).
        prefix = '" *' in shard.match
        wanted = "+rowid" if prefix else "rowid"
        bounds = " AND rowid BETWEEN ? AND ?" if prefix else ""
        passages.update(db.conn.execute(
            f"SELECT rowid, snippet({shard.table}, 0, ?, ?, '…', {SNIPPET_TOKENS})"
            f" FROM {shard.table} WHERE {shard.table} MATCH ?{bounds} AND {wanted} IN ({marks})",
            [MARK_START, MARK_END, shard.match, *([min(ids), max(ids)] if prefix else []),
             *ids]).fetchall())
    return passages


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
